"""Report streams (design decision 9): yearly `from`/`to` windows, checked as properties of the requests sent.

- no window exceeds Harvest's limit (`to - from <= 365` days), windows are contiguous and non-overlapping, start on
  the start date and reach today;
- boundaries do not move between syncs made on different days, so (from, to, subject, currency) identifies a row;
- rows carry `from`/`to` and every primary-key field;
- `include_fixed_fee` is sent explicitly on the time and uninvoiced reports, never on the expense reports;
- every incremental sync re-reads every window, and the state keeps each window's row keys (`known_rows`);
- a row known from the previous sync that a re-read window no longer has gets a tombstone (an Administrator's token
  only; never on a window's first read; refused when too many rows, or all, are gone at once);
- `replication_end_date` bounds the windows; `project_budget` is a full-refresh snapshot.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import FieldPath
from freezegun import freeze_time

from components import pack_rows, unpack_rows

from .config import ConfigBuilder
from .helpers import assert_harvest_headers_on_every_request, given_administrator, given_current_user, sent_requests
from .request_builder import HarvestRequest
from .response_builder import HarvestRecord, HarvestResponse
from .source import discovered_stream, read_streams, state_for

_HARVEST_MAX_WINDOW_DAYS = 365
_A_START_DATE = "2022-03-15T00:00:00Z"
_A_DAY_IN_THE_THIRD_WINDOW = "2024-07-01T12:00:00Z"
_WINDOWS_SINCE_START = [("20220315", "20230314"), ("20230315", "20240314"), ("20240315", "20250314")]


@dataclass(frozen=True)
class ReportStream:
    name: str
    report_path: str
    subject: str
    sends_include_fixed_fee: bool


REPORT_STREAMS = [
    ReportStream("time_clients", "time/clients", "client_id", True),
    ReportStream("time_projects", "time/projects", "project_id", True),
    ReportStream("time_tasks", "time/tasks", "task_id", True),
    ReportStream("time_team", "time/team", "user_id", True),
    ReportStream("uninvoiced", "uninvoiced", "project_id", True),
    ReportStream("expenses_categories", "expenses/categories", "expense_category_id", False),
    ReportStream("expenses_clients", "expenses/clients", "client_id", False),
    ReportStream("expenses_projects", "expenses/projects", "project_id", False),
    ReportStream("expenses_team", "expenses/team", "user_id", False),
]
_IDS = [stream.name for stream in REPORT_STREAMS]
_TIME_CLIENTS = REPORT_STREAMS[0]


def _window_request(stream: ReportStream, from_: str, to: str) -> HarvestRequest:
    request = HarvestRequest.report(stream.report_path).with_window(from_, to)
    return request.with_include_fixed_fee(True) if stream.sends_include_fixed_fee else request


def _rows(stream: ReportStream, subject_ids: list[int], currency: str = "EUR") -> HarvestResponse:
    response = HarvestResponse.of(stream.name)
    for subject_id in subject_ids:
        row = HarvestRecord.of(stream.name)
        row.with_field(_field(stream.subject), subject_id).with_field(_field("currency"), currency)
        response = response.with_record(row)
    return response


def _field(name: str) -> FieldPath:
    return FieldPath(name)


def _windows_sent(http_mocker: HttpMocker) -> list[tuple[dt.date, dt.date]]:
    windows = []
    for request in sent_requests(http_mocker):
        query = request.qs
        windows.append((_day(query["from"][0]), _day(query["to"][0])))
    return sorted(windows)


def _day(compact: str) -> dt.date:
    return dt.datetime.strptime(compact, "%Y%m%d").date()


def _given_any_window_answers_a_row(http_mocker: HttpMocker, stream: ReportStream = _TIME_CLIENTS) -> None:
    # Any window is accepted here: these tests assert on the windows actually requested, read from the request log.
    http_mocker.get(HarvestRequest.report(stream.report_path).build_with_any_query(), _rows(stream, [1]).build())


# ---- windows as properties ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "start_date, today",
    [
        pytest.param("2022-03-15T00:00:00Z", "2024-07-01T12:00:00Z", id="mid-year-start"),
        pytest.param("2020-02-29T10:00:00Z", "2024-03-10T08:00:00Z", id="start-on-29-february"),
        pytest.param("2017-01-01T00:00:00Z", "2026-11-27T20:00:00Z", id="ten-years-from-1-january"),
        pytest.param("2019-12-31T23:59:59Z", "2024-02-29T00:00:00Z", id="start-on-31-december-today-29-february"),
        pytest.param("2024-06-01T00:00:00Z", "2024-06-01T00:00:01Z", id="start-is-today"),
    ],
)
def test_given_a_start_date_when_full_refresh_then_windows_are_at_most_365_days_contiguous_from_start_to_today(
    start_date: str, today: str, http_mocker: HttpMocker
) -> None:
    _given_any_window_answers_a_row(http_mocker)

    with freeze_time(today):
        read_streams(ConfigBuilder().with_start_date(start_date).build(), _TIME_CLIENTS.name)

    windows = _windows_sent(http_mocker)
    start_day = dt.date.fromisoformat(start_date[:10].replace("-02-29", "-03-01"))
    assert windows[0][0] == start_day
    assert windows[-1][1] >= dt.date.fromisoformat(today[:10])
    for from_, to in windows:
        assert 0 <= (to - from_).days <= _HARVEST_MAX_WINDOW_DAYS, (from_, to)
    for (_, previous_to), (next_from, _) in itertools.pairwise(windows):
        assert next_from == previous_to + dt.timedelta(days=1), windows
    assert len(set(windows)) == len(windows)


@pytest.mark.parametrize(
    "first_sync_day, second_sync_day",
    [
        pytest.param("2024-04-20T09:00:00Z", "2024-06-03T17:00:00Z", id="same-window"),
        pytest.param("2024-07-01T09:00:00Z", "2025-04-02T17:00:00Z", id="after-a-new-window-opened"),
    ],
)
def test_given_two_full_syncs_on_different_days_when_read_then_window_boundaries_do_not_move(
    first_sync_day: str, second_sync_day: str, http_mocker: HttpMocker
) -> None:
    _given_any_window_answers_a_row(http_mocker)
    config = ConfigBuilder().with_start_date(_A_START_DATE).build()

    with freeze_time(first_sync_day):
        first = read_streams(config, _TIME_CLIENTS.name)
    first_windows = _windows_sent(http_mocker)
    http_mocker._mocker.reset_mock()  # forget the first sync's requests; the mocks stay
    with freeze_time(second_sync_day):
        second = read_streams(config, _TIME_CLIENTS.name)
    second_windows = _windows_sent(http_mocker)

    assert set(first_windows) <= set(second_windows)
    first_keys = {(r.record.data["from"], r.record.data["to"]) for r in first.records}
    second_keys = {(r.record.data["from"], r.record.data["to"]) for r in second.records}
    assert first_keys <= second_keys


# ---- exact requests and rows ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", REPORT_STREAMS, ids=_IDS)
def test_given_a_start_date_when_full_refresh_then_each_window_is_requested_and_rows_carry_from_to_and_primary_key(
    stream: ReportStream, http_mocker: HttpMocker
) -> None:
    for index, (from_, to) in enumerate(_WINDOWS_SINCE_START):
        http_mocker.get(_window_request(stream, from_, to).build(), _rows(stream, [100 + index]).build())

    with freeze_time(_A_DAY_IN_THE_THIRD_WINDOW):
        output = read_streams(ConfigBuilder().with_start_date(_A_START_DATE).build(), stream.name)

    rows = sorted((r.record.data["from"], r.record.data["to"], r.record.data[stream.subject]) for r in output.records)
    assert rows == [(from_, to, 100 + index) for index, (from_, to) in enumerate(_WINDOWS_SINCE_START)]
    primary_key = _primary_key(stream.name)
    assert {"from", "to", "currency", stream.subject} <= set(primary_key)
    for record in output.records:
        assert all(record.record.data.get(field) is not None for field in primary_key), record.record.data
    assert_harvest_headers_on_every_request(http_mocker)


@pytest.mark.parametrize("stream", REPORT_STREAMS, ids=_IDS)
def test_given_one_subject_in_two_currencies_when_read_then_primary_keys_of_the_rows_are_distinct(
    stream: ReportStream, http_mocker: HttpMocker
) -> None:
    from_, to = _WINDOWS_SINCE_START[0]
    response = _rows(stream, [7], currency="EUR").with_records(_rows_list(stream, 7, "USD"))
    http_mocker.get(_window_request(stream, from_, to).build(), response.build())

    with freeze_time("2022-05-01T00:00:00Z"):
        output = read_streams(ConfigBuilder().with_start_date(_A_START_DATE).build(), stream.name)

    primary_key = _primary_key(stream.name)
    keys = [tuple(record.record.data[field] for field in primary_key) for record in output.records]
    assert len(keys) == 2 and len(set(keys)) == 2


def _rows_list(stream: ReportStream, subject_id: int, currency: str) -> list:  # type: ignore[type-arg]
    row = HarvestRecord.of(stream.name)
    row.with_field(_field(stream.subject), subject_id).with_field(_field("currency"), currency)
    return [row]


def _primary_key(stream_name: str) -> list[str]:
    """The primary key the connector declares in its catalog (discover)."""
    return [path[0] for path in discovered_stream(stream_name).source_defined_primary_key or []]


@pytest.mark.parametrize(
    "stream",
    [s for s in REPORT_STREAMS if s.sends_include_fixed_fee],
    ids=[s.name for s in REPORT_STREAMS if s.sends_include_fixed_fee],
)
def test_given_include_fixed_fee_false_when_read_time_or_uninvoiced_report_then_include_fixed_fee_false_is_sent(
    stream: ReportStream, http_mocker: HttpMocker
) -> None:
    from_, to = _WINDOWS_SINCE_START[0]
    http_mocker.get(
        HarvestRequest.report(stream.report_path).with_window(from_, to).with_include_fixed_fee(False).build(),
        _rows(stream, [1]).build(),
    )

    with freeze_time("2022-05-01T00:00:00Z"):
        output = read_streams(
            ConfigBuilder().with_start_date(_A_START_DATE).with_include_fixed_fee(False).build(), stream.name
        )

    assert len(output.records) == 1


# ---- incremental ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", REPORT_STREAMS, ids=_IDS)
def test_given_state_at_current_window_when_incremental_then_every_window_is_read_again_and_its_rows_are_kept(
    stream: ReportStream, http_mocker: HttpMocker
) -> None:
    for index, (from_, to) in enumerate(_WINDOWS_SINCE_START):
        http_mocker.get(_window_request(stream, from_, to).build(), _rows(stream, [100 + index]).build())

    with freeze_time(_A_DAY_IN_THE_THIRD_WINDOW):
        output = read_streams(
            ConfigBuilder().with_start_date(_A_START_DATE).build(),
            stream.name,
            state=state_for(stream.name, {"from": _WINDOWS_SINCE_START[-1][0]}),
        )

    assert sorted((r.record.data["from"], r.record.data["to"]) for r in output.records) == _WINDOWS_SINCE_START
    assert not output.errors
    assert output.most_recent_state.stream_state.__dict__ == {
        "from": "20240315",
        "known_rows": {
            from_: pack_rows([(100 + index, "EUR")]) for index, (from_, _) in enumerate(_WINDOWS_SINCE_START)
        },
    }


def test_given_an_end_date_when_read_report_then_the_last_window_ends_on_it_and_nothing_after_is_requested(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(_window_request(_TIME_CLIENTS, "20220315", "20230314").build(), _rows(_TIME_CLIENTS, [1]).build())
    http_mocker.get(_window_request(_TIME_CLIENTS, "20230315", "20230601").build(), _rows(_TIME_CLIENTS, [2]).build())

    with freeze_time(_A_DAY_IN_THE_THIRD_WINDOW):
        output = read_streams(
            ConfigBuilder().with_start_date(_A_START_DATE).with_end_date("2023-06-01T00:00:00Z").build(),
            _TIME_CLIENTS.name,
        )

    assert sorted(r.record.data["to"] for r in output.records) == ["20230314", "20230601"]


# ---- project_budget -------------------------------------------------------------------------------------------------
def test_given_project_budget_when_read_then_one_snapshot_request_without_window_and_rows_keyed_by_project(
    http_mocker: HttpMocker,
) -> None:
    budget = HarvestResponse.of("project_budget")
    for project_id in (14308069, 14307913):
        budget = budget.with_record(HarvestRecord.of("project_budget").with_field(_field("project_id"), project_id))
    http_mocker.get(HarvestRequest.report("project_budget").build(), budget.build())

    output = read_streams(ConfigBuilder().build(), "project_budget")

    assert sorted(r.record.data["project_id"] for r in output.records) == [14307913, 14308069]
    assert _primary_key("project_budget") == ["project_id"]


def test_given_a_window_on_two_pages_when_read_then_the_page_link_is_followed_and_rows_of_both_carry_the_window(
    http_mocker: HttpMocker,
) -> None:
    from_, to = _WINDOWS_SINCE_START[0]
    first_page = _window_request(_TIME_CLIENTS, from_, to)
    second_page = _window_request(_TIME_CLIENTS, from_, to).with_page(2)
    http_mocker.get(first_page.build(), _rows(_TIME_CLIENTS, [1, 2]).with_next_link(second_page.url()).build())
    http_mocker.get(second_page.build(), _rows(_TIME_CLIENTS, [3]).build())

    with freeze_time("2022-05-01T00:00:00Z"):
        output = read_streams(ConfigBuilder().with_start_date(_A_START_DATE).build(), _TIME_CLIENTS.name)

    rows = sorted((r.record.data["client_id"], r.record.data["from"], r.record.data["to"]) for r in output.records)
    assert rows == [(1, from_, to), (2, from_, to), (3, from_, to)]


@pytest.mark.parametrize("stream", REPORT_STREAMS, ids=_IDS)
def test_given_a_windowed_report_when_discovered_then_it_is_incremental_on_from(stream: ReportStream) -> None:
    discovered = discovered_stream(stream.name)

    assert SyncMode.incremental in discovered.supported_sync_modes
    assert discovered.default_cursor_field == ["from"]


def test_given_project_budget_when_discovered_then_it_is_a_full_refresh_snapshot() -> None:
    assert discovered_stream("project_budget").supported_sync_modes == [SyncMode.full_refresh]


# ---- rows gone from a window (HarvestReportTombstoneRetriever) --------------------------------------------------------
_LAST_WINDOW = _WINDOWS_SINCE_START[-1]
_EARLIER_WINDOWS = _WINDOWS_SINCE_START[:-1]
_A_CLIENT_ID, _ANOTHER_CLIENT_ID = 5735776, 5735774


def _known_rows_state(rows_of_the_last_window: list[tuple[int, str]]) -> list:  # type: ignore[type-arg]
    """The state of a previous sync: every window read, the earlier ones with client 1 in EUR."""
    known = {from_: pack_rows([(1, "EUR")]) for from_, _ in _EARLIER_WINDOWS}
    known[_LAST_WINDOW[0]] = pack_rows(rows_of_the_last_window)
    return state_for(_TIME_CLIENTS.name, {"from": _LAST_WINDOW[0], "known_rows": known})


def _given_earlier_windows_unchanged(http_mocker: HttpMocker) -> None:
    for from_, to in _EARLIER_WINDOWS:
        http_mocker.get(_window_request(_TIME_CLIENTS, from_, to).build(), _rows(_TIME_CLIENTS, [1]).build())


def _report_tombstones(output: object) -> list[dict[str, object]]:
    return [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]  # type: ignore[attr-defined]


def _read_incrementally(state: list) -> object:  # type: ignore[type-arg]
    with freeze_time(_A_DAY_IN_THE_THIRD_WINDOW):
        return read_streams(ConfigBuilder().with_start_date(_A_START_DATE).build(), _TIME_CLIENTS.name, state=state)


def test_given_a_row_gone_from_a_reread_window_when_read_then_a_tombstone_with_its_full_primary_key(
    http_mocker: HttpMocker,
) -> None:
    _given_earlier_windows_unchanged(http_mocker)
    http_mocker.get(_window_request(_TIME_CLIENTS, *_LAST_WINDOW).build(), _rows(_TIME_CLIENTS, [_A_CLIENT_ID]).build())
    given_administrator(http_mocker)

    output = _read_incrementally(_known_rows_state([(_A_CLIENT_ID, "EUR"), (_ANOTHER_CLIENT_ID, "USD")]))

    assert _report_tombstones(output) == [
        {
            "from": _LAST_WINDOW[0],
            "to": _LAST_WINDOW[1],
            "client_id": _ANOTHER_CLIENT_ID,
            "currency": "USD",
            "_ab_cdc_deleted_at": "2024-07-01T12:00:00Z",
        }
    ]
    assert set(_report_tombstones(output)[0]) == set(_primary_key(_TIME_CLIENTS.name)) | {"_ab_cdc_deleted_at"}
    assert not output.errors
    known_rows = output.most_recent_state.stream_state.__dict__["known_rows"]  # type: ignore[attr-defined]
    assert unpack_rows(known_rows[_LAST_WINDOW[0]]) == {(_A_CLIENT_ID, "EUR")}


def test_given_the_first_sync_when_read_then_the_rows_of_every_window_are_recorded_and_nothing_is_tombstoned(
    http_mocker: HttpMocker,
) -> None:
    _given_earlier_windows_unchanged(http_mocker)
    http_mocker.get(_window_request(_TIME_CLIENTS, *_LAST_WINDOW).build(), _rows(_TIME_CLIENTS, [_A_CLIENT_ID]).build())

    with freeze_time(_A_DAY_IN_THE_THIRD_WINDOW):
        output = read_streams(
            ConfigBuilder().with_start_date(_A_START_DATE).build(), _TIME_CLIENTS.name, sync_mode=SyncMode.incremental
        )

    assert _report_tombstones(output) == []
    assert not output.errors
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]
    known_rows = output.most_recent_state.stream_state.__dict__["known_rows"]
    assert {from_: unpack_rows(keys) for from_, keys in known_rows.items()} == {
        "20220315": {(1, "EUR")},
        "20230315": {(1, "EUR")},
        "20240315": {(_A_CLIENT_ID, "EUR")},
    }


def test_given_every_row_of_a_window_gone_when_read_then_it_is_refused_with_a_warning_and_the_rows_stay_known(
    http_mocker: HttpMocker,
) -> None:
    # a 403 (a role downgraded) reads as an empty window too
    _given_earlier_windows_unchanged(http_mocker)
    http_mocker.get(_window_request(_TIME_CLIENTS, *_LAST_WINDOW).build(), _rows(_TIME_CLIENTS, []).build())
    known = [(_A_CLIENT_ID, "EUR"), (_ANOTHER_CLIENT_ID, "USD")]

    output = _read_incrementally(_known_rows_state(known))

    assert _report_tombstones(output) == []
    assert not output.errors
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]  # type: ignore[attr-defined]
    assert any("none of the 2" in warning and "full refresh" in warning for warning in warnings), warnings
    known_rows = output.most_recent_state.stream_state.__dict__["known_rows"]  # type: ignore[attr-defined]
    assert unpack_rows(known_rows[_LAST_WINDOW[0]]) == set(known)


def test_given_a_token_that_is_not_an_administrator_when_a_row_is_gone_then_no_tombstone_and_it_stays_known(
    http_mocker: HttpMocker,
) -> None:
    _given_earlier_windows_unchanged(http_mocker)
    http_mocker.get(_window_request(_TIME_CLIENTS, *_LAST_WINDOW).build(), _rows(_TIME_CLIENTS, [_A_CLIENT_ID]).build())
    given_current_user(http_mocker, 7)  # the template's access_roles: ["member"]
    known = [(_A_CLIENT_ID, "EUR"), (_ANOTHER_CLIENT_ID, "USD")]

    output = _read_incrementally(_known_rows_state(known))

    assert _report_tombstones(output) == []
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]  # type: ignore[attr-defined]
    assert any("only an Administrator" in warning for warning in warnings), warnings
    known_rows = output.most_recent_state.stream_state.__dict__["known_rows"]  # type: ignore[attr-defined]
    assert unpack_rows(known_rows[_LAST_WINDOW[0]]) == set(known)
