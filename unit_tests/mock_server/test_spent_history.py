"""Time entries and expenses (HarvestSpentHistoryRetriever): their whole history by `spent_date`, counted each sync.

An incremental sync runs the stream's own `updated_since` read, applies what it read to the history the state keeps
(`known_ids`: each record spent since the start date's day, with its month and approval status), then, for an
Administrator's token, counts the history per approval status (`per_page=1`, the envelope's `total_entries`). Where
a count differs it halves the range of months with more counts, re-lists the months that differ (and emits their
records: an approval reaches the destination even when Harvest does not move `updated_at`), and looks up each known
record they no longer list: Harvest's JSON 404 makes a tombstone.

Here the start date is 2024-01-01 and today 2024-04-30, so the counted range is January to April plus every later
month (the last bucket, May on, has no `to`): halving it takes two more counts per differing status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import RecordBuilder
from freezegun import freeze_time

from components import APPROVAL_CODES, HarvestKnownIds, HarvestSpentHistory, _month

from .config import ConfigBuilder
from .helpers import given_administrator, given_current_user, records_of, sent_requests
from .request_builder import HarvestRequest
from .response_builder import ErrorResponse, HarvestResponse, json_response
from .source import read_streams, state_for

_NOW = "2024-04-30T12:00:00Z"
_START_DATE = "2024-01-01T00:00:00Z"
_START_DAY = "2024-01-01"
_CURSOR = "2024-03-01T10:00:00Z"
_SINCE_CURSOR = "2024-03-01T09:59:00Z"  # the cursor minus the default 60 s lookback
_LONG_AGO = "2024-01-10T10:00:00Z"  # updated before the cursor, after the start date
_RECENTLY = "2024-04-29T08:00:00Z"

SPENT_STREAMS = [pytest.param("time_entries", id="time_entries"), pytest.param("expenses", id="expenses")]


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with freeze_time(_NOW):
        yield


def _config() -> dict[str, Any]:
    return ConfigBuilder().with_start_date(_START_DATE).build()


def _entry(
    stream: str, record_id: int, spent_date: str, approval: str = "unsubmitted", updated_at: str = _LONG_AGO
) -> RecordBuilder:
    return records_of(stream, [record_id], updated_at, spent_date=spent_date, approval_status=approval)[0]


def _history(entries: dict[int, tuple[str, str]], since: str = _START_DAY) -> dict[str, Any]:
    """id -> (spent_date, approval status), in the form the state keeps (`known_ids`)."""
    return HarvestSpentHistory(
        {record_id: (_month(day), APPROVAL_CODES[approval]) for record_id, (day, approval) in entries.items()}, since
    ).to_state()


def _state(stream: str, entries: dict[int, tuple[str, str]]) -> Any:
    return state_for(stream, {"updated_at": _CURSOR, "known_ids": _history(entries)})


def _given_own_read(http_mocker: HttpMocker, stream: str, records: list[RecordBuilder] | None = None) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream).with_updated_since(_SINCE_CURSOR).build(),
        HarvestResponse.of(stream).with_records(records or []).build(),
    )


def _count_request(stream: str, from_: str, to: str | None = None, approval: str | None = None) -> HarvestRequest:
    request = HarvestRequest.endpoint(stream).with_per_page(1).with_query_param("from", from_)
    if to is not None:
        request = request.with_query_param("to", to)
    if approval is not None:
        request = request.with_query_param("approval_status", approval)
    return request


def _given_count(
    http_mocker: HttpMocker, stream: str, total: int, from_: str, to: str | None = None, approval: str | None = None
) -> None:
    response = HarvestResponse.of(stream).with_total_entries(total).build()
    http_mocker.get(_count_request(stream, from_, to, approval).build(), response)


def _given_top_counts(http_mocker: HttpMocker, stream: str, total: int, submitted: int = 0, approved: int = 0) -> None:
    """The three counts of the whole history (from the start day, no `to`): in all, submitted, approved."""
    _given_count(http_mocker, stream, total, _START_DAY)
    _given_count(http_mocker, stream, submitted, _START_DAY, approval="submitted")
    _given_count(http_mocker, stream, approved, _START_DAY, approval="approved")


def _given_month_listed(http_mocker: HttpMocker, stream: str, first: str, last: str, records: list[Any]) -> None:
    request = HarvestRequest.endpoint(stream).with_query_param("from", first).with_query_param("to", last)
    http_mocker.get(request.build(), HarvestResponse.of(stream).with_records(records).build())


def _tombstones(output: Any) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]


def _records(output: Any) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if "_ab_cdc_deleted_at" not in r.record.data]


def _known(output: Any) -> dict[int, tuple[int, int]]:
    history = HarvestSpentHistory.from_state(output.most_recent_state.stream_state.__dict__["known_ids"])
    assert history is not None and history.since == _START_DAY
    return dict(history.entries)


def _place(day: str, approval: str = "unsubmitted") -> tuple[int, int]:
    return _month(day), APPROVAL_CODES[approval]


def _warnings(output: Any) -> list[str]:
    return [m.log.message for m in output.logs if m.log.level.name == "WARN"]


def _paths(http_mocker: HttpMocker) -> list[str]:
    return [request.path for request in sent_requests(http_mocker)]


_FOUR_ENTRIES = {
    1: ("2024-01-15", "unsubmitted"),
    2: ("2024-03-10", "unsubmitted"),
    3: ("2024-03-20", "unsubmitted"),
    4: ("2024-04-02", "unsubmitted"),
}


def _given_first_quarter_found_by_halving_the_totals(http_mocker: HttpMocker, stream: str) -> None:
    """One of the March records is gone: 3 in all (4 known); January-March 2 (3 known), so that half differs, and
    its records fit one page: it is re-listed whole, not halved again; April on is 3 - 2 = 1, as known."""
    _given_top_counts(http_mocker, stream, total=3)
    _given_count(http_mocker, stream, 2, _START_DAY, "2024-03-31")


@pytest.mark.parametrize("stream", SPENT_STREAMS)
def test_given_a_month_whose_total_dropped_when_read_then_it_is_found_relisted_and_the_vanished_id_tombstoned(
    stream: str, http_mocker: HttpMocker
) -> None:
    _given_own_read(http_mocker, stream)
    given_administrator(http_mocker)
    _given_first_quarter_found_by_halving_the_totals(http_mocker, stream)
    listed = [_entry(stream, 1, "2024-01-15"), _entry(stream, 2, "2024-03-10")]
    _given_month_listed(http_mocker, stream, "2024-01-01", "2024-03-31", listed)
    http_mocker.get(HarvestRequest.one(f"{stream}/3").build(), ErrorResponse.with_status(404))

    output = read_streams(_config(), stream, state=_state(stream, _FOUR_ENTRIES))

    assert [record["id"] for record in _records(output)] == [1, 2]  # the quarter's records, emitted again
    assert _tombstones(output) == [{"id": 3, "updated_at": _CURSOR, "_ab_cdc_deleted_at": _NOW}]
    assert not output.errors
    assert _known(output) == {1: _place("2024-01-15"), 2: _place("2024-03-10"), 4: _place("2024-04-02")}


def test_given_an_approval_that_did_not_move_updated_at_when_read_then_its_month_is_relisted_and_the_record_emitted(
    http_mocker: HttpMocker,
) -> None:
    # entry 4 was approved and Harvest left its updated_at alone: only the approved count shows it
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=4, approved=1)
    _given_count(http_mocker, "time_entries", 0, _START_DAY, "2024-03-31", approval="approved")
    _given_count(http_mocker, "time_entries", 1, "2024-04-01", "2024-04-30", approval="approved")
    approved = _entry("time_entries", 4, "2024-04-02", "approved")
    _given_month_listed(http_mocker, "time_entries", "2024-04-01", "2024-04-30", [approved])

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert [(record["id"], record["approval_status"]) for record in _records(output)] == [(4, "approved")]
    assert _tombstones(output) == []
    assert not output.errors
    assert _known(output)[4] == _place("2024-04-02", "approved")


def test_given_an_approval_that_moved_updated_at_when_read_then_the_counts_match_and_no_month_is_relisted(
    http_mocker: HttpMocker,
) -> None:
    approved = _entry("time_entries", 4, "2024-04-02", "approved", updated_at=_RECENTLY)
    _given_own_read(http_mocker, "time_entries", [approved])
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=4, approved=1)

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert [(record["id"], record["approval_status"]) for record in _records(output)] == [(4, "approved")]
    assert _tombstones(output) == []
    assert not output.errors
    assert _known(output)[4] == _place("2024-04-02", "approved")
    assert len([path for path in _paths(http_mocker) if path == "/v2/time_entries"]) == 4  # own read and 3 counts


def test_given_harvest_ignores_the_approval_filter_when_read_then_only_the_totals_are_compared_with_a_warning(
    http_mocker: HttpMocker,
) -> None:
    # an account without approvals answers every approval_status count with the total
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=4, submitted=4, approved=4)

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert output.records == []
    assert not output.errors
    assert any("ignores the approval_status filter" in warning for warning in _warnings(output)), _warnings(output)
    assert sorted(_known(output)) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(ErrorResponse.with_status(422), id="422-refused"),
        pytest.param(json_response({"time_entries": []}), id="no-total_entries"),
    ],
)
def test_given_a_count_that_fails_when_read_then_a_warning_no_tombstone_and_the_own_reads_changes_are_kept(
    answer: HttpResponse, http_mocker: HttpMocker
) -> None:
    new_entry = _entry("time_entries", 5, "2024-04-20", updated_at=_RECENTLY)
    _given_own_read(http_mocker, "time_entries", [new_entry])
    given_administrator(http_mocker)
    http_mocker.get(_count_request("time_entries", _START_DAY).build(), answer)

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert [record["id"] for record in _records(output)] == [5]
    assert _tombstones(output) == []
    assert not output.errors
    assert any("count" in warning and "what was known is kept" in warning for warning in _warnings(output))
    assert sorted(_known(output)) == [1, 2, 3, 4, 5]


def test_given_a_relisted_month_without_the_envelope_when_read_then_a_warning_no_lookup_and_the_history_kept(
    http_mocker: HttpMocker,
) -> None:
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_first_quarter_found_by_halving_the_totals(http_mocker, "time_entries")
    quarter = HarvestRequest.endpoint("time_entries").with_query_param("from", "2024-01-01")
    http_mocker.get(quarter.with_query_param("to", "2024-03-31").build(), json_response({"message": "maintenance"}))

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert _tombstones(output) == []
    assert not output.errors
    assert "/v2/time_entries/3" not in _paths(http_mocker)
    assert any("a list of its history failed" in warning for warning in _warnings(output))
    assert sorted(_known(output)) == [1, 2, 3, 4]


def test_given_more_records_vanish_from_a_month_than_people_delete_when_read_then_refused_and_the_history_kept(
    http_mocker: HttpMocker,
) -> None:
    known = {1: ("2024-01-15", "unsubmitted"), **{100 + n: ("2024-03-10", "unsubmitted") for n in range(1, 31)}}
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=6)  # 31 known: 25 of March's 30 are not listed
    _given_count(http_mocker, "time_entries", 6, _START_DAY, "2024-03-31")
    still_listed = [
        _entry("time_entries", n, day)
        for n, day in [(1, "2024-01-15")] + [(100 + n, "2024-03-10") for n in range(1, 6)]
    ]
    _given_month_listed(http_mocker, "time_entries", "2024-01-01", "2024-03-31", still_listed)

    output = read_streams(_config(), "time_entries", state=_state("time_entries", known))

    assert _tombstones(output) == []
    assert not output.errors
    assert not [path for path in _paths(http_mocker) if path.startswith("/v2/time_entries/")]
    warnings = [warning for warning in _warnings(output) if "25 of the 31" in warning and "full refresh" in warning]
    assert len(warnings) == 1, _warnings(output)
    assert sorted(_known(output)) == sorted(known)


def test_given_a_token_that_is_not_an_administrator_when_read_then_no_count_a_warning_and_the_history_kept(
    http_mocker: HttpMocker,
) -> None:
    new_entry = _entry("expenses", 5, "2024-04-20", updated_at=_RECENTLY)
    _given_own_read(http_mocker, "expenses", [new_entry])
    given_current_user(http_mocker, 7)  # the template's access_roles: ["member"]

    output = read_streams(_config(), "expenses", state=_state("expenses", _FOUR_ENTRIES))

    assert [record["id"] for record in _records(output)] == [5]
    assert _tombstones(output) == []
    assert _paths(http_mocker) == ["/v2/expenses", "/v2/users/me"]
    assert any("only an Administrator" in warning for warning in _warnings(output)), _warnings(output)
    assert sorted(_known(output)) == [1, 2, 3, 4, 5]


def test_given_a_record_moved_before_the_start_date_when_read_then_it_is_a_change_not_a_deletion(
    http_mocker: HttpMocker,
) -> None:
    moved = _entry("time_entries", 2, "2023-12-20", updated_at=_RECENTLY)  # a new spent_date, out of the history
    _given_own_read(http_mocker, "time_entries", [moved])
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=3)

    output = read_streams(_config(), "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert [record["id"] for record in _records(output)] == [2]
    assert _tombstones(output) == []
    assert sorted(_known(output)) == [1, 3, 4]


def test_given_no_state_when_read_then_no_extra_request_and_the_history_is_built_from_the_own_read(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint("time_entries").with_updated_since(_START_DATE).build(),
        HarvestResponse.of("time_entries")
        .with_records([_entry("time_entries", 1, "2024-04-29"), _entry("time_entries", 2, "2023-06-01")])
        .build(),
    )

    output = read_streams(_config(), "time_entries", sync_mode=SyncMode.incremental)

    assert [record["id"] for record in _records(output)] == [1, 2]
    assert _paths(http_mocker) == ["/v2/time_entries"]
    assert _known(output) == {1: _place("2024-04-29")}  # 2 was spent before the start date


@pytest.mark.parametrize(
    "saved_known_ids",
    [
        pytest.param(
            {**HarvestKnownIds(dict.fromkeys([1, 2, 9])).to_state(), "spent_since": "2024-01-31"},
            id="2.1.0-90-day-window",
        ),
        pytest.param(None, id="1.2.x-or-2.0.0-cursor-only"),
        pytest.param(_history({9: ("2023-02-01", "unsubmitted")}, since="2023-01-01"), id="another-start-date"),
    ],
)
def test_given_a_state_without_a_history_of_this_start_date_when_read_then_one_full_listing_and_no_tombstone(
    saved_known_ids: dict[str, Any] | None, http_mocker: HttpMocker
) -> None:
    _given_own_read(http_mocker, "time_entries")
    whole_history = HarvestRequest.endpoint("time_entries").with_query_param("from", _START_DAY)
    http_mocker.get(
        whole_history.build(),
        HarvestResponse.of("time_entries")
        .with_records([_entry("time_entries", 1, "2024-01-15"), _entry("time_entries", 2, "2024-03-10", "approved")])
        .build(),
    )
    saved: dict[str, Any] = {"updated_at": _CURSOR}
    if saved_known_ids is not None:
        saved["known_ids"] = saved_known_ids

    output = read_streams(_config(), "time_entries", state=state_for("time_entries", saved))

    assert output.records == []  # the listing only records the history; nothing is looked up or counted
    assert not output.errors
    assert _paths(http_mocker) == ["/v2/time_entries", "/v2/time_entries"]
    assert _known(output) == {1: _place("2024-01-15"), 2: _place("2024-03-10", "approved")}


def test_given_emit_deletions_off_when_read_then_only_the_own_read_and_no_history(http_mocker: HttpMocker) -> None:
    _given_own_read(http_mocker, "time_entries", [_entry("time_entries", 5, "2024-04-20", updated_at=_RECENTLY)])
    config = {**_config(), "emit_deletions": False}

    output = read_streams(config, "time_entries", state=_state("time_entries", _FOUR_ENTRIES))

    assert [record["id"] for record in _records(output)] == [5]
    assert _paths(http_mocker) == ["/v2/time_entries"]
    assert "known_ids" not in output.most_recent_state.stream_state.__dict__


def test_given_a_month_the_state_only_counts_when_its_count_differs_then_it_is_relisted_without_lookups(
    http_mocker: HttpMocker,
) -> None:
    # A large account's state keeps the ids of its newest months only (MAX_HISTORY_BYTES): January is counted, 2
    # records, 1 approved. Its approved count went to 2 and one record is gone: the re-list emits what January holds
    # and its new counts are kept; no id of January is known, so nothing is looked up or tombstoned.
    tracked = {2: (_month("2024-03-10"), 0), 3: (_month("2024-03-20"), 0), 4: (_month("2024-04-02"), 0)}
    counted = HarvestSpentHistory(tracked, _START_DAY, {_month("2024-01-15"): (2, 0, 1)}, _month("2024-02-01"))
    state = state_for("time_entries", {"updated_at": _CURSOR, "known_ids": counted.to_state()})
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=4, approved=1)  # January: 1 record left, approved
    _given_count(http_mocker, "time_entries", 3, _START_DAY, "2024-03-31")  # 4 known: January's 2, March's 2
    listed = [_entry("time_entries", 1, "2024-01-15", "approved")] + [
        _entry("time_entries", n, day) for n, day in [(2, "2024-03-10"), (3, "2024-03-20")]
    ]
    _given_month_listed(http_mocker, "time_entries", "2024-01-01", "2024-03-31", listed)

    output = read_streams(_config(), "time_entries", state=state)

    assert [(r["id"], r["approval_status"]) for r in _records(output)] == [
        (1, "approved"),
        (2, "unsubmitted"),
        (3, "unsubmitted"),
    ]
    assert _tombstones(output) == []
    assert not output.errors
    history = HarvestSpentHistory.from_state(output.most_recent_state.stream_state.__dict__["known_ids"])
    assert history is not None and dict(history.counted) == {_month("2024-01-15"): (1, 0, 1)}
    assert dict(history.entries) == tracked and history.tracked_from == _month("2024-02-01")


def test_given_months_of_more_than_a_page_when_one_lost_a_record_then_the_halving_goes_down_to_that_month(
    http_mocker: HttpMocker,
) -> None:
    # 1,600 records in each of January to April: no half fits one page, so halving goes on down to March alone
    # (January-March differs; January-February does not, so March is the rest).
    months = ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10"]
    known = {m * 10_000 + n: (day, "unsubmitted") for m, day in enumerate(months, 1) for n in range(1600)}
    _given_own_read(http_mocker, "time_entries")
    given_administrator(http_mocker)
    _given_top_counts(http_mocker, "time_entries", total=6399)
    _given_count(http_mocker, "time_entries", 4799, _START_DAY, "2024-03-31")
    _given_count(http_mocker, "time_entries", 3200, _START_DAY, "2024-02-29")
    march = [_entry("time_entries", 30_000 + n, "2024-03-10") for n in range(1, 1600)]
    _given_month_listed(http_mocker, "time_entries", "2024-03-01", "2024-03-31", march)
    http_mocker.get(HarvestRequest.one("time_entries/30000").build(), ErrorResponse.with_status(404))

    output = read_streams(_config(), "time_entries", state=_state("time_entries", known))

    assert [t["id"] for t in _tombstones(output)] == [30_000]
    assert not output.errors
    assert len(_known(output)) == 6399
