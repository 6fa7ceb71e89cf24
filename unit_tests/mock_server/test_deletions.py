"""Tombstones for records Harvest deleted from the entity lists (HarvestTombstoneRetriever): exact requests and
records per situation.

An incremental sync of an entity stream re-lists it without `updated_since` (the reconciliation read), runs its own
`updated_since` read, and looks up each id known from the previous sync that neither read saw; only Harvest's JSON
404, for an Administrator's token, makes a tombstone. Time entries and expenses: test_spent_history.py; children:
test_child_deletions.py; report rows: test_reports.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from freezegun import freeze_time

from components import HarvestKnownIds, unpack_ids

from .config import ConfigBuilder
from .helpers import given_administrator, given_scope_read, records_of, sent_requests
from .request_builder import HarvestRequest
from .response_builder import ErrorResponse, HarvestRecord, HarvestResponse, json_response
from .source import discovered_stream, read_streams, state_for

_NOW = "2024-04-30T12:00:00Z"
_CURSOR = "2024-03-01T10:00:00Z"
_SINCE_CURSOR = "2024-03-01T09:59:00Z"  # the cursor minus the default 60 s lookback
_A_USER_ID = 7


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with freeze_time(_NOW):
        yield


def _state(stream: str, known: dict[int, int | None] | list[int]) -> Any:
    ids = known if isinstance(known, dict) else dict.fromkeys(known)
    return state_for(stream, {"updated_at": _CURSOR, "known_ids": HarvestKnownIds(ids).to_state()})


def _given_own_read(http_mocker: HttpMocker, stream: str, ids: list[int], **fields: Any) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream).with_updated_since(_SINCE_CURSOR).build(),
        HarvestResponse.of(stream).with_records(records_of(stream, ids, "2024-04-01T08:00:00Z", **fields)).build(),
    )


def _given_lookup(http_mocker: HttpMocker, path: str, response: HttpResponse) -> None:
    http_mocker.get(HarvestRequest.one(path).build(), response)


def _tombstones(output: Any) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]


def _records(output: Any) -> list[int]:
    return [r.record.data["id"] for r in output.records if "_ab_cdc_deleted_at" not in r.record.data]


def _known_ids(output: Any) -> list[int]:
    return unpack_ids(output.most_recent_state.stream_state.__dict__["known_ids"]["ids"])


def _lookups(http_mocker: HttpMocker, path_prefix: str) -> list[str]:
    return [r.path for r in sent_requests(http_mocker) if r.path.startswith(path_prefix) and r.path.count("/") >= 3]


def test_given_a_known_id_missing_from_both_reads_and_a_404_when_read_then_one_tombstone_at_the_start_cursor(
    http_mocker: HttpMocker,
) -> None:
    given_scope_read(http_mocker, "clients", [1001, 1003])
    _given_own_read(http_mocker, "clients", [1003])
    given_administrator(http_mocker)
    _given_lookup(http_mocker, "clients/1002", ErrorResponse.with_status(404))

    output = read_streams(ConfigBuilder().build(), "clients", state=_state("clients", [1001, 1002, 1003]))

    assert _records(output) == [1003]
    assert _tombstones(output) == [{"id": 1002, "updated_at": _CURSOR, "_ab_cdc_deleted_at": _NOW}]
    assert _known_ids(output) == [1001, 1003]
    assert output.most_recent_state.stream_state.__dict__["updated_at"] == "2024-04-01T08:00:00Z"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            json_response(HarvestRecord.of("clients").with_id(1002).with_cursor("2024-01-10T10:00:00Z").build()),
            id="200-it-exists",
        ),
        pytest.param(ErrorResponse.with_status(403), id="403-forbidden"),
        pytest.param(HttpResponse("<html>HARVEST: Can't find page</html>", 404), id="html-404-not-harvest's"),
    ],
)
def test_given_the_lookup_does_not_answer_harvest_json_404_when_read_then_no_tombstone_and_the_id_stays_known(
    answer: HttpResponse, http_mocker: HttpMocker
) -> None:
    given_scope_read(http_mocker, "clients", [1001])
    _given_own_read(http_mocker, "clients", [])
    given_administrator(http_mocker)
    _given_lookup(http_mocker, "clients/1002", answer)

    output = read_streams(ConfigBuilder().build(), "clients", state=_state("clients", [1001, 1002]))

    assert _tombstones(output) == []
    assert _known_ids(output) == [1001, 1002]


def _scope_page_two(http_mocker: HttpMocker, second_page: HttpResponse) -> None:
    page_two = HarvestRequest.endpoint("clients").with_cursor("eyJhZnRlciI6eyJpZCI6MTAwMX19")
    http_mocker.get(
        HarvestRequest.endpoint("clients").build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1001]))
        .with_next_link(page_two.url())
        .build(),
    )
    http_mocker.get(page_two.build(), second_page)


@pytest.mark.parametrize(
    "second_page",
    [
        pytest.param(ErrorResponse.with_status(403), id="forbidden"),
        pytest.param(json_response({"message": "maintenance"}), id="no-envelope"),
        pytest.param(ErrorResponse.with_status(422), id="refused"),
    ],
)
def test_given_a_reconciliation_page_that_fails_when_read_then_no_lookup_no_tombstone_and_the_previous_ids_kept(
    second_page: HttpResponse, http_mocker: HttpMocker
) -> None:
    _scope_page_two(http_mocker, second_page)
    _given_own_read(http_mocker, "clients", [1001])

    output = read_streams(ConfigBuilder().build(), "clients", state=_state("clients", [1001, 1002, 1003]))

    assert _records(output) == [1001]
    assert _tombstones(output) == []
    assert _lookups(http_mocker, "/v2/clients/") == []
    assert _known_ids(output) == [1001, 1002, 1003]
    assert any("deletion scope" in log.log.message for log in output.logs if log.log.level.name == "WARN")


def test_given_more_ids_vanish_than_people_delete_when_read_then_no_lookup_no_tombstone_one_warning_ids_kept(
    http_mocker: HttpMocker,
) -> None:
    known = list(range(1001, 1101))  # 100 known; 21 vanish: more than max(20, 10%)
    given_scope_read(http_mocker, "clients", known[21:])
    _given_own_read(http_mocker, "clients", [])

    output = read_streams(ConfigBuilder().build(), "clients", state=_state("clients", known))

    assert _tombstones(output) == []
    assert _lookups(http_mocker, "/v2/clients/") == []
    assert _known_ids(output) == known
    warnings = [log.log.message for log in output.logs if log.log.level.name == "WARN"]
    assert len([w for w in warnings if "21 of the 100" in w and "full refresh" in w]) == 1, warnings


def test_given_two_of_nine_expense_categories_deleted_when_read_then_both_are_tombstoned(
    http_mocker: HttpMocker,
) -> None:
    # the mass-deletion guard's floor: 2 of 9 is more than 10%, but not more than 20
    known = list(range(2001, 2010))
    given_scope_read(http_mocker, "expense_categories", known[2:])
    _given_own_read(http_mocker, "expense_categories", [])
    given_administrator(http_mocker)
    for deleted in known[:2]:
        _given_lookup(http_mocker, f"expense_categories/{deleted}", ErrorResponse.with_status(404))

    output = read_streams(ConfigBuilder().build(), "expense_categories", state=_state("expense_categories", known))

    assert [t["id"] for t in _tombstones(output)] == known[:2]
    assert _known_ids(output) == known[2:]


def test_given_a_scope_that_lists_nothing_when_read_then_it_is_refused_as_a_mass_deletion(
    http_mocker: HttpMocker,
) -> None:
    given_scope_read(http_mocker, "tasks", [])
    _given_own_read(http_mocker, "tasks", [])

    output = read_streams(ConfigBuilder().build(), "tasks", state=_state("tasks", [1, 2, 3]))

    assert _tombstones(output) == []
    assert _known_ids(output) == [1, 2, 3]


def test_given_a_token_that_is_not_an_administrator_when_ids_vanish_then_no_lookup_and_no_tombstone(
    http_mocker: HttpMocker,
) -> None:
    given_scope_read(http_mocker, "projects", [1, 2])
    _given_own_read(http_mocker, "projects", [])
    member = HarvestRecord.of("users").with_id(_A_USER_ID).build()  # the template's access_roles: ["member"]
    http_mocker.get(HarvestRequest.users_me().build(), json_response(member))

    output = read_streams(ConfigBuilder().build(), "projects", state=_state("projects", [1, 2, 3]))

    assert _tombstones(output) == []
    assert _lookups(http_mocker, "/v2/projects/") == []
    assert _known_ids(output) == [1, 2, 3]


def test_given_a_vanished_assignment_when_read_then_it_is_looked_up_under_its_project(http_mocker: HttpMocker) -> None:
    a_project, another_project = 50, 60
    given_scope_read(http_mocker, "user_assignments", [11], project={"id": a_project, "name": "P"})
    _given_own_read(http_mocker, "user_assignments", [])
    given_administrator(http_mocker)
    _given_lookup(http_mocker, f"projects/{another_project}/user_assignments/12", ErrorResponse.with_status(404))

    output = read_streams(
        ConfigBuilder().build(),
        "user_assignments",
        state=_state("user_assignments", {11: a_project, 12: another_project}),
    )

    assert [t["id"] for t in _tombstones(output)] == [12]
    known = HarvestKnownIds.from_state(output.most_recent_state.stream_state.__dict__["known_ids"])
    assert known is not None and dict(known.ids) == {11: a_project}


def test_given_no_state_when_read_then_no_extra_request_and_the_ids_of_the_own_read_are_recorded(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint("clients").with_updated_since("2021-01-01T00:00:00Z").build(),
        HarvestResponse.of("clients").with_records(records_of("clients", [1, 2])).build(),
    )

    output = read_streams(ConfigBuilder().build(), "clients", sync_mode=SyncMode.incremental)

    assert _records(output) == [1, 2] and _tombstones(output) == []
    assert len(sent_requests(http_mocker)) == 1
    assert _known_ids(output) == [1, 2]


@pytest.mark.parametrize(
    "saved",
    [
        pytest.param({"updated_at": _CURSOR}, id="a-cursor-only-2.0.0-or-1.2.x"),
        pytest.param({"updated_at": _CURSOR, "known_ids": {"ids": "not base64 zlib"}}, id="unreadable-known-ids"),
    ],
)
def test_given_a_state_without_readable_known_ids_when_read_then_the_scope_is_recorded_without_tombstones(
    saved: dict[str, Any], http_mocker: HttpMocker
) -> None:
    given_scope_read(http_mocker, "clients", [1001, 1002])
    _given_own_read(http_mocker, "clients", [1003])

    output = read_streams(ConfigBuilder().build(), "clients", state=state_for("clients", saved))

    assert _records(output) == [1003] and _tombstones(output) == []
    assert _known_ids(output) == [1001, 1002, 1003]


def test_given_the_state_a_sync_emitted_when_the_next_sync_reads_it_then_its_known_ids_come_back(
    http_mocker: HttpMocker,
) -> None:
    given_scope_read(http_mocker, "clients", [1001, 1002])
    _given_own_read(http_mocker, "clients", [])
    first = read_streams(ConfigBuilder().build(), "clients", state=state_for("clients", {"updated_at": _CURSOR}))
    emitted = first.most_recent_state.stream_state.__dict__

    known = HarvestKnownIds.from_state(emitted["known_ids"])

    assert known is not None and sorted(known.ids) == [1001, 1002]
    assert emitted["known_ids"]["count"] == 2


def test_given_emit_deletions_off_when_read_then_only_the_own_read_no_known_ids_and_no_tombstone_column(
    http_mocker: HttpMocker,
) -> None:
    _given_own_read(http_mocker, "clients", [1003])
    config = ConfigBuilder().with_field("emit_deletions", False).build()

    output = read_streams(config, "clients", state=_state("clients", [1001, 1002, 1003]))

    assert _records(output) == [1003] and _tombstones(output) == []
    assert len(sent_requests(http_mocker)) == 1
    assert "known_ids" not in output.most_recent_state.stream_state.__dict__


@pytest.mark.parametrize(
    "stream",
    [
        "clients",
        "roles",
        "time_entries",
        "expenses",
        "user_assignments",
        "invoice_messages",
        "project_assignments",
        "billable_rates",
        "time_clients",
        "uninvoiced",
    ],
)
def test_given_emit_deletions_on_by_default_when_discovered_then_incremental_schemas_declare_the_deleted_at_column(
    stream: str,
) -> None:
    deleted_at = discovered_stream(stream).json_schema["properties"]["_ab_cdc_deleted_at"]

    assert deleted_at["type"] == ["null", "string"] and deleted_at["format"] == "date-time"


@pytest.mark.parametrize("stream", ["company", "project_budget"])
def test_given_a_full_refresh_snapshot_when_discovered_then_it_has_no_deleted_at_column(stream: str) -> None:
    assert "_ab_cdc_deleted_at" not in discovered_stream(stream).json_schema["properties"]
