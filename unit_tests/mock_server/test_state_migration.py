"""State saved by Airbyte's source-harvest 1.2.x continues incrementally (design decision 11, shapes in peers.md):
the next requests start from it (no full re-read) and nothing after it is skipped."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from components import HarvestKnownIds

from .config import ConfigBuilder
from .helpers import given_children, given_parents, given_scope_read, given_users, records_of, sent_requests
from .request_builder import HarvestRequest
from .response_builder import HarvestRecord, HarvestResponse
from .source import read_streams, state_for

_A_LEGACY_CURSOR = "2024-01-02T10:00:00Z"
_LEGACY_CURSOR_MINUS_LOOKBACK = "2024-01-02T09:59:00Z"


# ---- entity streams: {"updated_at": ...} ----------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["clients", "time_entries", "invoices", "users"])
def test_given_a_1_2_x_entity_state_when_read_then_updated_since_continues_from_it(
    stream: str, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK).build(),
        HarvestResponse.of(stream).with_records(records_of(stream, [1], updated_at="2024-02-01T00:00:00Z")).build(),
    )
    # no `known_ids` yet: this first sync after the upgrade lists the stream once, to record its ids (time entries:
    # their whole history, spent since the start date's day)
    spent_since = "2021-01-01" if stream == "time_entries" else None
    given_scope_read(http_mocker, stream, [1, 2], spent_since=spent_since, spent_date="2024-12-02")

    with freeze_time("2025-01-10T12:00:00Z"):
        output = read_streams(
            ConfigBuilder().build(), stream, state=state_for(stream, {"updated_at": _A_LEGACY_CURSOR})
        )

    assert len(output.records) == 1
    assert not output.errors
    state = output.most_recent_state.stream_state.__dict__
    assert state["updated_at"] == "2024-02-01T00:00:00Z"
    assert state["known_ids"]["count"] == 2


# ---- reports: {"to": "YYYYMMDD"} ------------------------------------------------------------------------------------
_EVERY_WINDOW_SINCE_2021_03_15 = [
    ("20210315", "20220314"),
    ("20220315", "20230314"),
    ("20230315", "20240314"),
    ("20240315", "20250314"),
]


@pytest.mark.parametrize(
    "legacy_to, migrated_from",
    [
        pytest.param("20241230", "20240315", id="to-inside-the-current-window"),
        pytest.param("20240101", "20230315", id="to-inside-the-previous-window"),
        pytest.param("20240315", "20240315", id="to-on-a-window-start"),
    ],
)
def test_given_a_1_2_x_report_state_when_read_then_every_window_is_read_and_the_state_ends_on_the_last_window(
    legacy_to: str, migrated_from: str, http_mocker: HttpMocker
) -> None:
    # every incremental sync re-reads every window; the migrated `from` (`migrated_from`) only has to be readable
    for from_, to in _EVERY_WINDOW_SINCE_2021_03_15:
        http_mocker.get(
            HarvestRequest.report("time/clients").with_window(from_, to).with_include_fixed_fee(True).build(),
            HarvestResponse.of("time_clients").with_record(HarvestRecord.of("time_clients")).build(),
        )

    with freeze_time("2025-01-10T12:00:00Z"):
        output = read_streams(
            ConfigBuilder().with_start_date("2021-03-15T00:00:00Z").build(),
            "time_clients",
            state=state_for("time_clients", {"to": legacy_to}),
        )

    assert (
        sorted((r.record.data["from"], r.record.data["to"]) for r in output.records) == _EVERY_WINDOW_SINCE_2021_03_15
    )
    assert not output.errors
    state = output.most_recent_state.stream_state.__dict__
    assert state["from"] == "20240315"
    assert sorted(state["known_rows"]) == [from_ for from_, _ in _EVERY_WINDOW_SINCE_2021_03_15]


# ---- substreams: the CDK's per-partition state -----------------------------------------------------------------------
def _per_partition_state(parent_ids_and_cursors: dict[int, str], **extra: Any) -> dict[str, Any]:
    return {
        "states": [
            {"partition": {"id": parent_id, "parent_slice": {}}, "cursor": {"updated_at": cursor}}
            for parent_id, cursor in parent_ids_and_cursors.items()
        ],
        "state": {"updated_at": max(parent_ids_and_cursors.values())},
        **extra,
    }


_LEGACY_CHILD_STATES = [
    pytest.param(_per_partition_state({100: "2023-11-01T00:00:00Z", 200: _A_LEGACY_CURSOR}), id="states-and-state"),
    pytest.param(
        _per_partition_state(
            {100: "2023-11-01T00:00:00Z", 200: _A_LEGACY_CURSOR}, lookback_window=0, use_global_cursor=False
        ),
        id="with-lookback-and-use_global_cursor",
    ),
    pytest.param(
        {"use_global_cursor": True, "state": {"updated_at": _A_LEGACY_CURSOR}, "lookback_window": 0},
        id="global-past-10000-parents",
    ),
]


@pytest.mark.parametrize("legacy", _LEGACY_CHILD_STATES)
@pytest.mark.parametrize(
    "stream, parent, child_request",
    [
        pytest.param("invoice_messages", "invoices", HarvestRequest.invoice_messages, id="invoice_messages"),
        pytest.param("invoice_payments", "invoices", HarvestRequest.invoice_payments, id="invoice_payments"),
        pytest.param("estimate_messages", "estimates", HarvestRequest.estimate_messages, id="estimate_messages"),
        pytest.param("project_assignments", "users", HarvestRequest.project_assignments, id="project_assignments"),
        pytest.param("billable_rates", "users", HarvestRequest.billable_rates, id="billable_rates"),
        pytest.param("cost_rates", "users", HarvestRequest.cost_rates, id="cost_rates"),
    ],
)
def test_given_a_1_2_x_child_state_when_read_then_every_parent_is_read_once_its_children_become_known_and_kept(
    stream: str, parent: str, child_request: Any, legacy: dict[str, Any], http_mocker: HttpMocker
) -> None:
    # 1.2.x saved no children, so which children each parent has is learnt from every parent, as on a first sync;
    # the child cursor goes on from the legacy one and nothing is tombstoned
    if parent == "users":
        given_users(http_mocker, [100, 200])
    else:
        given_parents(http_mocker, parent, [100, 200], updated_at="2023-06-01T00:00:00Z", state="paid")
    for parent_id in (100, 200):
        given_children(
            http_mocker, stream, child_request(parent_id), [parent_id + 1], updated_at="2023-06-01T00:00:00Z"
        )

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, legacy))

    assert sorted(record.record.data["id"] for record in output.records) == [101, 201]
    assert not output.errors
    assert not [r for r in sent_requests(http_mocker) if "updated_since" in r.qs or r.path == "/v2/user_assignments"]
    state = output.most_recent_state.stream_state.__dict__
    assert state["state"] == {"updated_at": _A_LEGACY_CURSOR}
    assert HarvestKnownIds.from_state(state["parent_state"]["known_ids"]) == HarvestKnownIds({101: 100, 201: 200})


def test_given_a_1_2_x_report_state_older_than_the_start_date_when_read_then_every_window_from_the_start_is_read(
    http_mocker: HttpMocker,
) -> None:
    windows = [("20230315", "20240314"), ("20240315", "20250314")]
    for from_, to in windows:
        http_mocker.get(
            HarvestRequest.report("expenses/clients").with_window(from_, to).build(),
            HarvestResponse.of("expenses_clients").with_record(HarvestRecord.of("expenses_clients")).build(),
        )

    with freeze_time("2025-01-10T12:00:00Z"):
        output = read_streams(
            ConfigBuilder().with_start_date("2023-03-15T00:00:00Z").build(),
            "expenses_clients",
            state=state_for("expenses_clients", {"to": "20211231"}),
        )

    assert sorted((r.record.data["from"], r.record.data["to"]) for r in output.records) == windows
