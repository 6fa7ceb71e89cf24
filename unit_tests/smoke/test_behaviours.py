"""Smoke tests, one per behaviour of design.md, against HttpMocker (exact URLs, every mock must be used).

They prove the connector's behaviours while it is built; the full per-stream suite lives in unit_tests/mock_server.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, FailureType, Level, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from components import report_window_anchor, report_window_start
from unit_tests.conftest import A_START_DATE, A_TOKEN, AN_ACCOUNT_ID, API_URL, a_config, read_streams

_HEADERS = {"Authorization": f"Bearer {A_TOKEN}", "Harvest-Account-Id": AN_ACCOUNT_ID}
_EPOCH = "1970-01-01T00:00:00Z"


def _request(path: str, **query: str) -> HttpRequest:
    return HttpRequest(f"{API_URL}/v2/{path}", query_params=query or None, headers=_HEADERS)


def _list(key: str, records: list[dict[str, Any]], next_link: str | None = None, status: int = 200) -> HttpResponse:
    body = {
        key: records, "per_page": 2000, "total_pages": 1, "total_entries": len(records), "next_page": None,
        "previous_page": None, "page": 1, "links": {"first": "x", "next": next_link, "previous": None, "last": "x"},
    }  # fmt: skip
    return HttpResponse(json.dumps(body), status)


def _error(status: int, body: dict[str, Any] | None = None) -> HttpResponse:
    return HttpResponse(json.dumps(body or {"message": "error"}), status)


def _record(record_id: int, updated_at: str = "2024-02-01T00:00:00Z", **fields: Any) -> dict[str, Any]:
    return {"id": record_id, "updated_at": updated_at, **fields}


def _state(stream: str, value: dict[str, Any]) -> list[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(stream, value).build()


def _ids(output: Any, stream: str) -> list[int]:
    return sorted(record.record.data["id"] for record in output.records if record.record.stream == stream)


# ---- entity streams -------------------------------------------------------------------------------------------------
def test_given_two_pages_when_read_then_per_page_2000_headers_and_links_next_are_used() -> None:
    next_link = f"{API_URL}/v2/clients?cursor=abc&per_page=2000&ref=next_cursor&updated_since={A_START_DATE}"
    with HttpMocker() as http:
        http.get(
            _request("clients", per_page="2000", updated_since=A_START_DATE),
            _list("clients", [_record(1, "2024-01-05T00:00:00Z")], next_link),
        )
        http.get(
            HttpRequest(
                f"{API_URL}/v2/clients",
                query_params={"cursor": "abc", "per_page": "2000", "ref": "next_cursor", "updated_since": A_START_DATE},
                headers={
                    **_HEADERS,
                    "User-Agent": "airbyte-source-harvest/2.0.0 (+https://docs.airbyte.com/integrations/sources/harvest)",
                },
            ),
            _list("clients", [_record(2, "2024-01-03T00:00:00Z")]),
        )
        output = read_streams(a_config(), "clients")
    assert _ids(output, "clients") == [1, 2]
    assert output.most_recent_state.stream_state.__dict__ == {"updated_at": "2024-01-05T00:00:00Z"}


def test_given_saved_state_when_read_then_updated_since_is_state_minus_lookback() -> None:
    with HttpMocker() as http:
        http.get(
            _request("tasks", per_page="2000", updated_since="2024-03-01T09:58:00Z"),
            _list("tasks", [_record(7, "2024-03-02T00:00:00Z")]),
        )
        output = read_streams(
            a_config(lookback_window_seconds=120),
            "tasks",
            state=_state("tasks", {"updated_at": "2024-03-01T10:00:00Z"}),
        )
    assert _ids(output, "tasks") == [7]


def test_given_an_end_date_when_read_then_records_updated_after_it_are_dropped() -> None:
    with HttpMocker() as http:
        http.get(
            _request("projects", per_page="2000", updated_since=A_START_DATE),
            _list("projects", [_record(1, "2024-01-10T00:00:00Z"), _record(2, "2024-03-10T00:00:00Z")]),
        )
        output = read_streams(a_config(replication_end_date="2024-02-01T00:00:00Z"), "projects")
    assert _ids(output, "projects") == [1]


def test_given_roles_when_read_incrementally_then_all_are_requested_and_filtered_on_the_client() -> None:
    with HttpMocker() as http:
        http.get(
            _request("roles", per_page="2000"),
            _list("roles", [_record(1, "2023-06-01T00:00:00Z"), _record(2, "2024-06-01T00:00:00Z")]),
        )
        output = read_streams(a_config(), "roles", state=_state("roles", {"updated_at": "2024-01-01T00:00:00Z"}))
    assert _ids(output, "roles") == [2]


def test_given_company_when_read_then_the_bare_object_is_one_record() -> None:
    with HttpMocker() as http:
        http.get(
            HttpRequest(f"{API_URL}/v2/company", headers=_HEADERS),
            HttpResponse(json.dumps({"base_uri": "https://acme.harvestapp.com", "name": "Acme"})),
        )
        output = read_streams(a_config(), "company", sync_mode=SyncMode.full_refresh)
    assert [r.record.data["base_uri"] for r in output.records] == ["https://acme.harvestapp.com"]


# ---- errors ---------------------------------------------------------------------------------------------------------
def test_given_401_when_read_then_config_error_names_the_account_id() -> None:
    with HttpMocker() as http:
        http.get(
            _request("users", per_page="2000", updated_since=A_START_DATE), _error(401, {"error": "invalid_token"})
        )
        output = read_streams(a_config(), "users", expecting_exception=True)
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.config_error
    assert f"account id {AN_ACCOUNT_ID}" in error.message


def test_given_403_on_one_stream_when_read_then_it_is_skipped_with_a_warning_and_the_others_complete() -> None:
    with HttpMocker() as http:
        http.get(_request("users", per_page="2000", updated_since=A_START_DATE), _error(403))
        http.get(_request("tasks", per_page="2000", updated_since=A_START_DATE), _list("tasks", [_record(1)]))
        output = read_streams(a_config(), "users", "tasks")
    assert not output.errors
    assert _ids(output, "users") == [] and _ids(output, "tasks") == [1]
    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN]
    assert any(w.startswith("users: Harvest answered 403 Forbidden") and "Administrator" in w for w in warnings)


def test_given_a_next_link_to_another_host_when_read_then_the_stream_fails_without_following_it() -> None:
    with HttpMocker() as http:
        http.get(
            _request("tasks", per_page="2000", updated_since=A_START_DATE),
            _list("tasks", [_record(1)], "https://evil.example/v2/tasks?page=2"),
        )
        output = read_streams(a_config(), "tasks", expecting_exception=True)
    assert output.errors and "not to the configured API host" in output.errors[0].trace.error.message


def test_given_a_response_without_the_envelope_key_when_read_then_the_stream_fails() -> None:
    with HttpMocker() as http:
        http.get(_request("tasks", per_page="2000", updated_since=A_START_DATE), HttpResponse(json.dumps({"x": []})))
        output = read_streams(a_config(), "tasks", expecting_exception=True)
    assert output.errors and "has no `tasks` key" in output.errors[0].trace.error.message


def test_given_a_500_then_a_200_when_read_then_the_request_is_retried() -> None:
    with HttpMocker() as http:
        http.get(
            _request("tasks", per_page="2000", updated_since=A_START_DATE),
            [_error(500), _list("tasks", [_record(1)])],
        )
        output = read_streams(a_config(), "tasks")
    assert _ids(output, "tasks") == [1] and not output.errors


# ---- children -------------------------------------------------------------------------------------------------------
def test_given_no_state_when_invoice_children_read_then_every_parent_is_read_once_and_404_is_skipped() -> None:
    with HttpMocker() as http:
        http.get(
            _request("invoices", per_page="2000", updated_since=_EPOCH),
            _list("invoices", [_record(1, "2010-01-01T00:00:00Z"), _record(2), _record(3)]),
        )
        http.get(
            _request("invoices/1/messages", per_page="2000", updated_since=A_START_DATE),
            _list("invoice_messages", [_record(11)]),
        )
        http.get(
            _request("invoices/2/messages", per_page="2000", updated_since=A_START_DATE),
            _list("invoice_messages", [_record(21)]),
        )
        http.get(
            _request("invoices/3/messages", per_page="2000", updated_since=A_START_DATE),
            _error(404, {"status": 404, "error": "Not Found"}),
        )
        output = read_streams(a_config(), "invoice_messages")
    records = {r.record.data["id"]: r.record.data["parent_id"] for r in output.records}
    assert records == {11: 1, 21: 2}
    state = output.most_recent_state.stream_state.__dict__
    assert state["use_global_cursor"] is True and state["state"] == {"updated_at": "2024-02-01T00:00:00Z"}
    assert state["parent_state"] == {"invoices": {"updated_at": "2024-02-01T00:00:00Z"}}


def test_given_state_when_invoice_children_read_then_updated_and_open_and_draft_parents_are_read_once_each() -> None:
    state = _state(
        "invoice_payments",
        {
            "use_global_cursor": True,
            "state": {"updated_at": "2024-02-01T00:00:00Z"},
            "lookback_window": 0,
            "parent_state": {"invoices": {"updated_at": "2024-02-01T00:00:00Z"}},
        },
    )
    since = "2024-01-31T23:59:00Z"  # cursor minus the 60 s default lookback
    with HttpMocker() as http:
        http.get(_request("invoices", per_page="2000", updated_since=since), _list("invoices", [_record(5)]))
        http.get(_request("invoices", per_page="2000", state="open"), _list("invoices", [_record(5), _record(6)]))
        http.get(_request("invoices", per_page="2000", state="draft"), _list("invoices", [_record(7)]))
        for invoice_id in (5, 6, 7):
            http.get(
                _request(f"invoices/{invoice_id}/payments", per_page="2000", updated_since=since),
                _list("invoice_payments", [_record(invoice_id * 10, "2024-03-01T00:00:00Z")]),
            )
        output = read_streams(a_config(), "invoice_payments", state=state)
    assert _ids(output, "invoice_payments") == [50, 60, 70]


def test_given_users_when_rates_read_then_children_of_all_users_are_read_and_filtered_by_the_cursor() -> None:
    with HttpMocker() as http:
        # /v2/users listed users: /v2/users/me (the Member fallback) is not requested.
        http.get(_request("users", per_page="2000"), _list("users", [_record(1, "2001-01-01T00:00:00Z"), _record(2)]))
        http.get(
            _request("users/1/billable_rates", per_page="2000"),
            _list("billable_rates", [_record(11, "2023-01-01T00:00:00Z"), _record(12, "2024-05-01T00:00:00Z")]),
        )
        http.get(_request("users/2/billable_rates", per_page="2000"), _list("billable_rates", [_record(21)]))
        output = read_streams(a_config(), "billable_rates")
    assert {r.record.data["id"]: r.record.data["parent_id"] for r in output.records} == {12: 1, 21: 2}


def test_given_a_1_2_x_child_state_when_read_then_it_continues_from_the_newest_cursor() -> None:
    legacy = {
        "states": [
            {"partition": {"id": 1, "parent_slice": {}}, "cursor": {"updated_at": "2024-01-01T00:00:00Z"}},
            {"partition": {"id": 2, "parent_slice": {}}, "cursor": {"updated_at": "2024-03-01T00:00:00Z"}},
        ],
        "state": {"updated_at": "2024-03-01T00:00:00Z"},
    }
    since = "2024-02-29T23:59:00Z"
    with HttpMocker() as http:
        http.get(_request("estimates", per_page="2000", updated_since=since), _list("estimates", [_record(2)]))
        http.get(_request("estimates", per_page="2000", state="sent"), _list("estimates", []))
        http.get(_request("estimates", per_page="2000", state="draft"), _list("estimates", []))
        http.get(
            _request("estimates/2/messages", per_page="2000", updated_since=since),
            _list("estimate_messages", [_record(20, "2024-04-01T00:00:00Z")]),
        )
        output = read_streams(a_config(), "estimate_messages", state=_state("estimate_messages", legacy))
    assert _ids(output, "estimate_messages") == [20]


# ---- reports --------------------------------------------------------------------------------------------------------
def _windows(start: dt.date, end: dt.date) -> list[tuple[str, str]]:
    windows, current = [], start
    while current <= end:
        following = current.replace(year=current.year + 1)
        windows.append((current.strftime("%Y%m%d"), (following - dt.timedelta(days=1)).strftime("%Y%m%d")))
        current = following
    return windows


def test_given_no_state_when_a_time_report_is_read_then_yearly_windows_cover_start_to_the_current_window() -> None:
    today = dt.datetime.now(dt.UTC).date()
    anchor = report_window_anchor("2023-03-15T00:00:00Z")
    windows = _windows(anchor, report_window_start(anchor, today))
    with HttpMocker() as http:
        for window_from, window_to in windows:
            http.get(
                _request(
                    "reports/time/clients",
                    per_page="2000",
                    include_fixed_fee="false",
                    **{"from": window_from, "to": window_to},
                ),
                _list("results", [{"client_id": 1, "currency": "EUR", "total_hours": 2.0}]),
            )
        output = read_streams(
            a_config(replication_start_date="2023-03-15T00:00:00Z", include_fixed_fee=False), "time_clients"
        )
    rows = [(r.record.data["from"], r.record.data["to"]) for r in output.records]
    assert sorted(rows) == windows
    assert all((dt.datetime.strptime(t, "%Y%m%d") - dt.datetime.strptime(f, "%Y%m%d")).days <= 365 for f, t in rows)
    assert output.most_recent_state.stream_state.__dict__ == {"from": windows[-1][0]}


def test_given_a_1_2_x_report_state_when_read_then_the_window_containing_its_to_is_reread() -> None:
    today = dt.datetime.now(dt.UTC).date()
    anchor = report_window_anchor(A_START_DATE)
    legacy_to = today - dt.timedelta(days=40)
    first = report_window_start(anchor, legacy_to)
    lookback_start = report_window_start(anchor, today)
    if (today - lookback_start).days < 30:  # early in a window, the previous one is re-read too
        lookback_start = lookback_start.replace(year=lookback_start.year - 1)
    windows = _windows(min(first, lookback_start), report_window_start(anchor, today))
    with HttpMocker() as http:
        for window_from, window_to in windows:
            http.get(
                _request("reports/expenses/team", per_page="2000", **{"from": window_from, "to": window_to}),
                _list("results", [{"user_id": 3, "currency": "USD", "total_amount": 1.5}]),
            )
        output = read_streams(
            a_config(), "expenses_team", state=_state("expenses_team", {"to": legacy_to.strftime("%Y%m%d")})
        )
    assert sorted((r.record.data["from"], r.record.data["to"]) for r in output.records) == windows


# ---- OAuth ----------------------------------------------------------------------------------------------------------
_TOKEN_URL = "https://id.getharvest.com/api/v2/oauth2/token"


def test_given_oauth_credentials_when_two_streams_read_then_the_token_is_refreshed_once_and_a_rotated_refresh_token_is_handed_back(
    capsys: Any,
) -> None:
    config = a_config(
        credentials={
            "auth_type": "Client",
            "client_id": "a-client-id",
            "client_secret": "a-client-secret",
            "refresh_token": "a-refresh-token",
        }
    )
    refresh = HttpRequest(
        _TOKEN_URL,
        body="grant_type=refresh_token&client_id=a-client-id&client_secret=a-client-secret&refresh_token=a-refresh-token",
    )
    oauth_headers = {"Authorization": "Bearer an-access-token", "Harvest-Account-Id": AN_ACCOUNT_ID}
    with HttpMocker() as http:
        http.post(
            refresh,
            HttpResponse(
                json.dumps(
                    {
                        "access_token": "an-access-token",
                        "refresh_token": "a-rotated-refresh-token",
                        "expires_in": 1209600,
                    }
                )
            ),
        )
        for endpoint in ("tasks", "clients"):
            http.get(
                HttpRequest(
                    f"{API_URL}/v2/{endpoint}",
                    query_params={"per_page": "2000", "updated_since": A_START_DATE},
                    headers=oauth_headers,
                ),
                _list(endpoint, [_record(1)]),
            )
        output = read_streams(config, "tasks", "clients")
        http.assert_number_of_calls(refresh, 1)
    assert _ids(output, "tasks") == [1] and _ids(output, "clients") == [1]
    control_messages = [line for line in capsys.readouterr().out.splitlines() if '"CONTROL"' in line] + [
        json.dumps(m.control.connectorConfig.config) for m in output.get_message_iterator() if m.control is not None
    ]
    assert any("a-rotated-refresh-token" in message for message in control_messages)


def test_given_a_spent_refresh_token_when_read_then_the_sync_fails_with_a_config_error() -> None:
    config = a_config(
        credentials={"auth_type": "Client", "client_id": "a", "client_secret": "b", "refresh_token": "spent"}
    )
    with HttpMocker() as http:
        http.post(
            HttpRequest(_TOKEN_URL, body="grant_type=refresh_token&client_id=a&client_secret=b&refresh_token=spent"),
            HttpResponse(json.dumps({"error": "invalid_grant", "error_description": "revoked"}), 400),
        )
        output = read_streams(config, "tasks", expecting_exception=True)
    assert output.errors and output.errors[0].trace.error.failure_type == FailureType.config_error


def test_given_a_member_when_rates_read_then_the_current_users_rates_are_synced_with_one_warning() -> None:
    with HttpMocker() as http:
        http.get(_request("users", per_page="2000"), _error(403, {"message": "Forbidden"}))
        http.get(HttpRequest(f"{API_URL}/v2/users/me", headers=_HEADERS), HttpResponse(json.dumps(_record(9))))
        http.get(_request("users/9/cost_rates", per_page="2000"), _list("cost_rates", [_record(91)]))
        output = read_streams(a_config(), "cost_rates")
    assert {r.record.data["id"]: r.record.data["parent_id"] for r in output.records} == {91: 9}
    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN]
    assert len(warnings) == 1 and warnings[0].startswith("cost_rates: Harvest answered 403 Forbidden")


def test_given_a_429_on_a_report_when_read_then_it_is_retried_after_retry_after_not_after_the_budget_window() -> None:
    import time

    today = dt.datetime.now(dt.UTC).date()
    anchor = report_window_anchor(A_START_DATE)
    windows = _windows(anchor, report_window_start(anchor, today))
    with HttpMocker() as http:
        for index, (window_from, window_to) in enumerate(windows):
            rows = _list("results", [{"task_id": 1, "currency": "USD", "total_hours": 1.0}])
            http.get(
                _request(
                    "reports/time/tasks",
                    per_page="2000",
                    include_fixed_fee="true",
                    **{"from": window_from, "to": window_to},
                ),
                [HttpResponse("<html>Too Many Requests</html>", 429, {"Retry-After": "1"}), rows]
                if index == 0
                else rows,
            )
        started = time.monotonic()
        output = read_streams(a_config(), "time_tasks")
        elapsed = time.monotonic() - started
    assert len(output.records) == len(windows) and not output.errors
    assert elapsed < 30, f"a 429 with Retry-After: 1 held the sync {elapsed:.0f} s"
