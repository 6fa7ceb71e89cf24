"""The manifest's api_budget, as the CDK's factory builds it, against Harvest's documented limits (decision 3).

Harvest allows 100 requests per 15 seconds, and 100 per 15 minutes on /v2/reports/... A greedy client is simulated
on a frozen clock: it asks the budget for a call, and when refused waits exactly as long as the budget says. The
properties are checked on the times of the calls the budget let through, as Harvest would count them:
- never more than 100 calls in any 15 s window, nor 100 report calls in any 15 min window;
- report calls are matched on the real path (/v2/reports/...), on Harvest's host and on a sandbox host alike, and
  do not use up the general budget;
- the budget is not needlessly slow: a long run gets at least 90 % of what Harvest would allow;
- no FixedWindow policy (without a reset header the CDK's fixed window waits ~10 days).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import deque
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HTTPAPIBudget as HTTPAPIBudgetModel
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.call_rate import (
    CallRateLimitHit,
    FixedWindowCallRatePolicy,
    HttpAPIBudget,
    MovingWindowCallRatePolicy,
)
from airbyte_cdk.utils.yaml_loader import safe_load_yaml  # type: ignore[attr-defined]
from freezegun import freeze_time

_MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yaml"
_A_CONFIG = {
    "credentials": {"auth_type": "Token", "api_token": "a-token"},
    "account_id": "1234567",
    "replication_start_date": "2021-01-01T00:00:00Z",
}
_HARVEST_LIMIT = 100
_HARVEST_WINDOW = dt.timedelta(seconds=15)
_HARVEST_REPORTS_LIMIT = 100
_HARVEST_REPORTS_WINDOW = dt.timedelta(minutes=15)

_A_GENERAL_URL = "https://api.harvestapp.com/v2/time_entries?per_page=2000&updated_since=2021-01-01T00:00:00Z"
_A_REPORTS_URL = "https://api.harvestapp.com/v2/reports/time/clients?from=20210101&per_page=2000&to=20211231"
_A_SANDBOX_REPORTS_URL = "http://127.0.0.1:8765/v2/reports/expenses/team?from=20210101&per_page=2000&to=20211231"
_NOT_A_REPORT_URL = "https://api.harvestapp.com/v2/users/1/project_assignments?per_page=2000&report=1"


@cache
def _api_budget_definition() -> dict[str, Any]:
    with _MANIFEST.open() as manifest_file:
        manifest = safe_load_yaml(manifest_file)
    resolved = ManifestReferenceResolver().preprocess_manifest(manifest)
    propagated = ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})
    return propagated["api_budget"]  # type: ignore[no-any-return]


def _budget() -> HttpAPIBudget:
    """A fresh budget, built by the CDK's factory from the manifest's api_budget."""
    definition = copy.deepcopy(_api_budget_definition())
    budget = ModelToComponentFactory().create_component(HTTPAPIBudgetModel, definition, _A_CONFIG)
    assert isinstance(budget, HttpAPIBudget)
    return budget


def _request(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    with freeze_time("2026-11-27T12:00:00Z") as frozen:
        yield frozen


def _greedy_client(budget: HttpAPIBudget, urls: list[str], frozen_clock: Any) -> list[tuple[dt.datetime, str]]:
    """Sends the urls in order as fast as the budget allows; returns (time, url) of every call made."""
    calls = []
    for url in urls:
        while True:
            try:
                budget.acquire_call(_request(url), block=False)
                break
            except CallRateLimitHit as refused:
                frozen_clock.tick(max(refused.time_to_wait, dt.timedelta(milliseconds=1)))
        calls.append((dt.datetime.now(dt.UTC), url))
        frozen_clock.tick(dt.timedelta(milliseconds=5))  # a fast network
    return calls


def _max_in_any_window(times: list[dt.datetime], window: dt.timedelta) -> int:
    """The largest number of calls that fall inside any window of this length, as Harvest counts them."""
    in_window: deque[dt.datetime] = deque()
    most = 0
    for time in sorted(times):
        in_window.append(time)
        while time - in_window[0] >= window:
            in_window.popleft()
        most = max(most, len(in_window))
    return most


@pytest.mark.parametrize(
    "url", [_A_GENERAL_URL, _A_REPORTS_URL, _A_SANDBOX_REPORTS_URL], ids=["general", "reports", "sandbox-reports"]
)
def test_given_the_manifest_when_building_the_budget_then_every_request_falls_under_a_moving_window(url: str) -> None:
    policy = _budget().get_matching_policy(_request(url))

    assert isinstance(policy, MovingWindowCallRatePolicy)
    assert not isinstance(policy, FixedWindowCallRatePolicy)


def test_given_a_greedy_client_on_general_endpoints_when_calls_are_let_through_then_never_more_than_100_calls_in_any_15_seconds(
    frozen_clock: Any,
) -> None:
    calls = _greedy_client(_budget(), [_A_GENERAL_URL] * 500, frozen_clock)

    assert _max_in_any_window([time for time, _ in calls], _HARVEST_WINDOW) <= _HARVEST_LIMIT


@pytest.mark.parametrize("reports_url", [_A_REPORTS_URL, _A_SANDBOX_REPORTS_URL], ids=["harvest-host", "sandbox-host"])
def test_given_a_greedy_client_on_reports_when_calls_are_let_through_then_never_more_than_100_report_calls_in_any_15_minutes(
    reports_url: str, frozen_clock: Any
) -> None:
    calls = _greedy_client(_budget(), [reports_url] * 250, frozen_clock)

    assert _max_in_any_window([time for time, _ in calls], _HARVEST_REPORTS_WINDOW) <= _HARVEST_REPORTS_LIMIT


def test_given_reports_and_general_calls_when_interleaved_then_each_limit_holds_and_reports_leave_the_general_budget_alone(
    frozen_clock: Any,
) -> None:
    budget = _budget()
    report_calls = _greedy_client(budget, [_A_REPORTS_URL] * 100, frozen_clock)
    started = dt.datetime.now(dt.UTC)
    general_calls = _greedy_client(budget, [_A_GENERAL_URL] * 90, frozen_clock)

    # 100 report calls used up the reports budget, yet 90 general calls still go straight through
    assert general_calls[-1][0] - started < dt.timedelta(seconds=2)
    mixed = _greedy_client(budget, [_A_REPORTS_URL, _A_GENERAL_URL] * 120, frozen_clock)
    all_calls = report_calls + general_calls + mixed
    reports = [time for time, url in all_calls if "/v2/reports/" in url]
    general = [time for time, url in all_calls if "/v2/reports/" not in url]
    assert _max_in_any_window(reports, _HARVEST_REPORTS_WINDOW) <= _HARVEST_REPORTS_LIMIT
    assert _max_in_any_window(general, _HARVEST_WINDOW) <= _HARVEST_LIMIT


def test_given_a_path_that_only_mentions_report_when_budgeted_then_it_is_budgeted_as_a_general_endpoint(
    frozen_clock: Any,
) -> None:
    budget = _budget()
    _greedy_client(budget, [_A_REPORTS_URL] * 100, frozen_clock)
    started = dt.datetime.now(dt.UTC)

    calls = _greedy_client(budget, [_NOT_A_REPORT_URL] * 50, frozen_clock)

    assert calls[-1][0] - started < dt.timedelta(seconds=2)


def test_given_a_long_run_on_general_endpoints_when_measured_then_the_budget_lets_through_at_least_90_percent_of_harvest_limit(
    frozen_clock: Any,
) -> None:
    # long enough that the last, partly filled window does not decide the ratio
    calls = _greedy_client(_budget(), [_A_GENERAL_URL] * 5000, frozen_clock)

    elapsed = calls[-1][0] - calls[0][0]
    harvest_allows = _HARVEST_LIMIT * (elapsed / _HARVEST_WINDOW + 1)
    assert len(calls) >= 0.9 * harvest_allows, (len(calls), elapsed)


def test_given_a_long_run_on_reports_when_measured_then_the_budget_lets_through_at_least_90_percent_of_harvest_limit(
    frozen_clock: Any,
) -> None:
    calls = _greedy_client(_budget(), [_A_REPORTS_URL] * 400, frozen_clock)

    elapsed = calls[-1][0] - calls[0][0]
    harvest_allows = _HARVEST_REPORTS_LIMIT * (elapsed / _HARVEST_REPORTS_WINDOW + 1)
    assert len(calls) >= 0.9 * harvest_allows, (len(calls), elapsed)


@pytest.mark.parametrize("url", [_A_GENERAL_URL, _A_REPORTS_URL], ids=["general", "reports"])
def test_given_a_429_with_retry_after_when_the_budget_sees_it_then_the_next_call_is_not_held_for_a_whole_window(
    url: str, frozen_clock: Any
) -> None:
    budget = _budget()
    _greedy_client(budget, [url] * 10, frozen_clock)
    rate_limited = requests.Response()
    rate_limited.status_code = 429
    rate_limited.headers["Retry-After"] = "15"
    rate_limited.request = _request(url)
    budget.update_from_response(_request(url), rate_limited)
    frozen_clock.tick(dt.timedelta(seconds=16))  # the error handler's own wait: Retry-After + 1 s
    retried_at = dt.datetime.now(dt.UTC)

    (call,) = _greedy_client(budget, [url], frozen_clock)

    assert call[0] - retried_at < dt.timedelta(seconds=1)
