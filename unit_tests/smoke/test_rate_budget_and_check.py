"""The rate budget against Harvest's documented limits, and `check` for each kind of credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from airbyte_cdk.models import Level, Status
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, make_file
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.conftest import A_TOKEN, AN_ACCOUNT_ID, API_URL, a_config, get_source

_HARVEST_LIMITS = {"/v2/reports/time/clients": (100, 15 * 60), "/v2/users": (100, 15)}  # (requests, seconds)


def _budget():  # type: ignore[no-untyped-def]
    source = get_source(a_config())
    source.streams(a_config())
    return source._constructor._api_budget  # the one budget the factory hands to every requester


@pytest.mark.parametrize("path", sorted(_HARVEST_LIMITS))
def test_given_the_budget_then_no_policy_lets_more_than_harvests_limit_through_in_its_window(path: str) -> None:
    limit, window_seconds = _HARVEST_LIMITS[path]
    request = requests.Request("GET", f"{API_URL}{path}?per_page=2000").prepare()
    policy = _budget().get_matching_policy(request)
    assert policy is not None
    acquired = 0
    with pytest.raises(CallRateLimitHit) as hit:
        for _ in range(limit + 1):
            policy.try_acquire(request, weight=1)
            acquired += 1
    assert acquired <= limit
    # The next call must wait (almost) a whole Harvest window: the budget's window is at least Harvest's.
    assert hit.value.time_to_wait.total_seconds() >= window_seconds - 1


def test_given_a_general_request_then_it_is_not_counted_against_the_reports_budget() -> None:
    budget = _budget()
    reports = budget.get_matching_policy(requests.Request("GET", f"{API_URL}/v2/reports/uninvoiced").prepare())
    users = budget.get_matching_policy(requests.Request("GET", f"{API_URL}/v2/users").prepare())
    assert reports is not users


def _check(config: dict[str, object], tmp_path: Path) -> EntrypointOutput:
    """`check` through the entrypoint, as the platform runs it: the config is validated against the spec first."""
    config_file = make_file(tmp_path / "config.json", config)
    return _run_command(get_source(config), ["check", "--config", config_file])


def _company(status: int, body: dict[str, object]) -> tuple[HttpRequest, HttpResponse]:
    request = HttpRequest(
        f"{API_URL}/v2/company", headers={"Authorization": f"Bearer {A_TOKEN}", "Harvest-Account-Id": AN_ACCOUNT_ID}
    )
    return request, HttpResponse(json.dumps(body), status)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"base_uri": "https://acme.harvestapp.com"}, Status.SUCCEEDED),
        (403, {"message": "forbidden"}, Status.SUCCEEDED),  # a role without company access is still a valid login
        (401, {"error": "invalid_token"}, Status.FAILED),
    ],
    ids=["administrator", "restricted-role", "bad-token-or-account"],
)
def test_given_credentials_when_checked_then_only_rejected_credentials_fail(
    status: int, body: dict[str, object], expected: Status, tmp_path: Path
) -> None:
    with HttpMocker() as http:
        http.get(*_company(status, body))
        output = _check(a_config(), tmp_path)
    (message,) = output.connection_status_messages
    assert message.connectionStatus.status == expected
    if expected == Status.FAILED:
        assert f"account id {AN_ACCOUNT_ID}" in message.connectionStatus.message


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"account_id": "12a45"}, "'12a45' does not match"),
        ({"replication_start_date": "2024-01-01"}, "'2024-01-01' does not match"),
        ({"num_workers": 11}, "11 is greater than the maximum of 10"),
        ({"replication_end_date": "2023-01-01T00:00:00Z"}, "is before replication_start_date"),
    ],
    ids=["account-id-not-digits", "start-date-without-time", "too-many-workers", "end-before-start"],
)
def test_given_a_bad_config_when_checked_then_it_fails_with_a_clear_message(
    overrides: dict[str, object], complaint: str, tmp_path: Path
) -> None:
    output = _check(a_config(**overrides), tmp_path)
    (message,) = output.connection_status_messages
    assert message.connectionStatus.status == Status.FAILED
    assert complaint in message.connectionStatus.message
    # Refused by the spec check before any stream is built: no ERROR log, no traceback, just the status.
    assert not [log for log in output.logs if log.log.level == Level.ERROR], [log.log.message for log in output.logs]
