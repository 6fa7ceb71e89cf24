"""State saved by Airbyte's source-harvest 1.2.x continues incrementally (design decision 11, shapes in peers.md):
the next requests start from it (no full re-read) and nothing after it is skipped."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from .config import ConfigBuilder
from .helpers import (
    given_children,
    given_invoices,
    given_invoices_in_state,
    given_scope_read,
    given_users,
    records_of,
)
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
    # no `known_ids` yet: this first sync after the upgrade lists the deletion scope once, to record its ids
    # (time entries: those spent since 2025-01-10 minus the 90 days of deletions_lookback_days)
    spent_since = "2024-10-12" if stream == "time_entries" else None
    given_scope_read(http_mocker, stream, [1, 2], spent_since=spent_since, spent_date="2024-12-02")

    with freeze_time("2025-01-10T12:00:00Z"):
        output = read_streams(
            ConfigBuilder().build(), stream, state=state_for(stream, {"updated_at": _A_LEGACY_CURSOR})
        )

    assert len(output.records) == 1
    state = output.most_recent_state.stream_state.__dict__
    assert state["updated_at"] == "2024-02-01T00:00:00Z"
    assert state["known_ids"]["count"] == 2


# ---- reports: {"to": "YYYYMMDD"} ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "legacy_to, first_window",
    [
        pytest.param("20241230", ("20240315", "20250314"), id="to-inside-the-current-window"),
        pytest.param("20240101", ("20230315", "20240314"), id="to-inside-the-previous-window"),
        pytest.param("20240315", ("20240315", "20250314"), id="to-on-a-window-start"),
    ],
)
def test_given_a_1_2_x_report_state_when_read_then_the_window_containing_its_to_is_read_and_every_later_one(
    legacy_to: str, first_window: tuple[str, str], http_mocker: HttpMocker
) -> None:
    windows = [first_window] if first_window[0] == "20240315" else [first_window, ("20240315", "20250314")]
    for from_, to in windows:
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

    assert sorted((r.record.data["from"], r.record.data["to"]) for r in output.records) == windows
    assert output.most_recent_state.stream_state.__dict__ == {"from": "20240315"}


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


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="states-and-state"),
        pytest.param({"lookback_window": 0, "use_global_cursor": False}, id="with-lookback-and-use_global_cursor"),
    ],
)
@pytest.mark.parametrize(
    "stream, child_request",
    [
        pytest.param("invoice_messages", HarvestRequest.invoice_messages, id="invoice_messages"),
        pytest.param("invoice_payments", HarvestRequest.invoice_payments, id="invoice_payments"),
    ],
)
def test_given_a_1_2_x_per_partition_invoice_child_state_when_read_then_only_changed_and_open_invoices_are_read(
    stream: str, child_request: Any, extra: dict[str, Any], http_mocker: HttpMocker
) -> None:
    legacy = _per_partition_state({100: "2023-11-01T00:00:00Z", 200: _A_LEGACY_CURSOR}, **extra)
    given_invoices(http_mocker, [300], updated_since=_LEGACY_CURSOR_MINUS_LOOKBACK)
    given_children(http_mocker, stream, child_request(300).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK), [31])
    if stream == "invoice_messages":  # open invoices can get a reminder without changing; payments move them
        given_invoices_in_state(http_mocker, "open", [200])
        given_children(http_mocker, stream, child_request(200).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK), [21])

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, legacy))

    expected = [21, 31] if stream == "invoice_messages" else [31]
    assert sorted(record.record.data["id"] for record in output.records) == expected
    assert not output.errors


def test_given_a_1_2_x_per_partition_estimate_messages_state_when_read_then_it_continues_from_its_newest_cursor(
    http_mocker: HttpMocker,
) -> None:
    legacy = _per_partition_state({100: "2023-11-01T00:00:00Z", 200: _A_LEGACY_CURSOR})
    http_mocker.get(
        HarvestRequest.estimates().with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK).build(),
        HarvestResponse.of("estimates").with_records(records_of("estimates", [300])).build(),
    )
    http_mocker.get(HarvestRequest.estimates().with_state("sent").build(), HarvestResponse.of("estimates").build())
    given_children(
        http_mocker,
        "estimate_messages",
        HarvestRequest.estimate_messages(300).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK),
        [31],
    )

    output = read_streams(ConfigBuilder().build(), "estimate_messages", state=state_for("estimate_messages", legacy))

    assert [record.record.data["id"] for record in output.records] == [31]


@pytest.mark.parametrize(
    "stream, child_request, server_side_filter",
    [
        pytest.param("project_assignments", HarvestRequest.project_assignments, True, id="project_assignments"),
        pytest.param("billable_rates", HarvestRequest.billable_rates, False, id="billable_rates"),
        pytest.param("cost_rates", HarvestRequest.cost_rates, False, id="cost_rates"),
    ],
)
def test_given_a_1_2_x_per_partition_user_child_state_when_read_then_children_since_its_newest_cursor_are_kept(
    stream: str, child_request: Any, server_side_filter: bool, http_mocker: HttpMocker
) -> None:
    legacy = _per_partition_state({100: "2023-11-01T00:00:00Z", 200: _A_LEGACY_CURSOR})
    if server_side_filter:  # project assignments: the users whose user assignments changed since the cursor
        _given_changed_user_assignments(http_mocker, [100, 200])
    else:
        given_users(http_mocker, [100, 200])
    for user_id in (100, 200):
        request = child_request(user_id)
        if server_side_filter:
            request = request.with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK)
        http_mocker.get(
            request.build(),
            HarvestResponse.of(stream)
            .with_records(records_of(stream, [user_id + 1], updated_at="2024-03-01T00:00:00Z"))
            .with_records(records_of(stream, [user_id + 2], updated_at="2023-06-01T00:00:00Z"))
            .build(),
        )

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, legacy))

    emitted = sorted(record.record.data["id"] for record in output.records)
    if server_side_filter:  # the server filtered; whatever it returns is kept
        assert emitted == [101, 102, 201, 202]
    else:  # read everything, keep what changed since the newest legacy cursor
        assert emitted == [101, 201]


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


def test_given_a_1_2_x_global_child_state_past_10000_parents_when_read_then_only_changed_and_open_invoices_are_read(
    http_mocker: HttpMocker,
) -> None:
    legacy = {"use_global_cursor": True, "state": {"updated_at": _A_LEGACY_CURSOR}, "lookback_window": 0}
    given_invoices(http_mocker, [300], updated_since=_LEGACY_CURSOR_MINUS_LOOKBACK)
    given_invoices_in_state(http_mocker, "open", [400])
    for invoice_id in (300, 400):
        given_children(
            http_mocker,
            "invoice_messages",
            HarvestRequest.invoice_messages(invoice_id).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK),
            [invoice_id + 1],
        )

    output = read_streams(ConfigBuilder().build(), "invoice_messages", state=state_for("invoice_messages", legacy))

    assert sorted(record.record.data["id"] for record in output.records) == [301, 401]


def _given_changed_user_assignments(http_mocker: HttpMocker, user_ids: list[int]) -> None:
    response = HarvestResponse.of("user_assignments")
    for user_id in user_ids:
        response = response.with_records(records_of("user_assignments", [user_id + 50], user={"id": user_id}))
    request = HarvestRequest.user_assignments().with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK)
    http_mocker.get(request.build(), response.build())


def test_given_a_1_2_x_global_user_child_state_when_read_then_users_with_changed_assignments_are_read_since_it(
    http_mocker: HttpMocker,
) -> None:
    legacy = {"use_global_cursor": True, "state": {"updated_at": _A_LEGACY_CURSOR}, "lookback_window": 0}
    _given_changed_user_assignments(http_mocker, [100, 200])
    for user_id in (100, 200):
        given_children(
            http_mocker,
            "project_assignments",
            HarvestRequest.project_assignments(user_id).with_updated_since(_LEGACY_CURSOR_MINUS_LOOKBACK),
            [user_id + 1],
        )

    output = read_streams(
        ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", legacy)
    )

    assert sorted(record.record.data["id"] for record in output.records) == [101, 201]
