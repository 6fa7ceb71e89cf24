from __future__ import annotations

from typing import Any

import pytest
import requests
from airbyte_cdk.sources.streams.call_rate import APIBudget, CachedLimiterSession, LimiterSession

import components
from components import memoize_environment_settings

ORIGINAL = LimiterSession.merge_environment_settings.__wrapped__  # type: ignore[attr-defined]
API = "https://api.harvestapp.com/v2/invoices/12/messages"


@pytest.fixture
def environment_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts requests' environment scans (the call merge_environment_settings makes per request)."""
    scans: list[str] = []
    scan = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: Any = None) -> dict[str, str]:
        scans.append(url)
        return scan(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    return scans


def _session() -> LimiterSession:
    return LimiterSession(api_budget=APIBudget(policies=[]))


def test_given_components_imported_then_the_cdk_sessions_use_the_patched_method() -> None:
    assert getattr(LimiterSession.merge_environment_settings, components._PATCHED) is True
    assert CachedLimiterSession.merge_environment_settings is LimiterSession.merge_environment_settings
    assert requests.Session.merge_environment_settings is ORIGINAL  # requests itself is left alone


@pytest.mark.parametrize(
    "url",
    [
        API,
        "https://api.harvestapp.com/v2/users?page=2",
        "http://127.0.0.1:48765/v2/users",
        "https://internal.example/x",
    ],
)
def test_given_proxy_variables_when_settings_are_merged_then_they_equal_requests_own(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/custom.pem")
    session = _session()
    for _ in range(2):  # computed, then remembered
        assert session.merge_environment_settings(url, {}, None, None, None) == ORIGINAL(
            session, url, {}, None, None, None
        )


@pytest.mark.parametrize("cached", [False, True], ids=["session", "cached-parent-session"])
def test_given_many_requests_to_one_origin_when_merged_then_the_environment_is_scanned_once(
    environment_scans: list[str], cached: bool
) -> None:
    session = CachedLimiterSession(backend="memory", api_budget=APIBudget(policies=[])) if cached else _session()
    for parent_id in range(50):
        session.merge_environment_settings(
            f"https://api.harvestapp.com/v2/invoices/{parent_id}/messages", {}, None, None, None
        )
    session.merge_environment_settings("https://id.getharvest.com/api/v2/oauth2/token", {}, None, None, None)
    assert len(environment_scans) == 2


def test_given_different_arguments_when_merged_then_each_is_computed_on_its_own(environment_scans: list[str]) -> None:
    session = _session()
    assert session.merge_environment_settings(API, {}, None, "/a.pem", None)["verify"] == "/a.pem"
    assert session.merge_environment_settings(API, {}, None, "/b.pem", None)["verify"] == "/b.pem"
    assert len(environment_scans) == 2


def test_given_a_caller_that_changes_its_proxies_when_merged_again_then_the_remembered_ones_are_intact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = _session()
    session.merge_environment_settings(API, {}, None, None, None)["proxies"]["https"] = "http://elsewhere:1"
    assert (
        session.merge_environment_settings(API, {}, None, None, None)["proxies"]["https"] == "http://proxy.example:3128"
    )


def test_given_a_session_that_ignores_the_environment_then_nothing_is_scanned_or_kept(
    environment_scans: list[str],
) -> None:
    session = _session()
    session.trust_env = False
    session.merge_environment_settings(API, {}, None, None, None)
    assert environment_scans == [] and "_harvest_environment_settings" not in session.__dict__


def test_given_the_patch_applied_again_then_it_does_not_wrap_itself() -> None:
    patched = LimiterSession.merge_environment_settings
    memoize_environment_settings()
    assert LimiterSession.merge_environment_settings is patched
