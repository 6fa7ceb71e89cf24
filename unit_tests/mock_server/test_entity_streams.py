"""Behaviour shared by every entity stream, tested once over the stream table (design decisions 1, 2 and 6)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from .config import _A_START_DATE, ConfigBuilder
from .helpers import assert_harvest_headers_on_every_request, given_scope_read, records_of
from .request_builder import HarvestRequest
from .response_builder import HarvestResponse, company_response
from .source import discovered_stream, read_streams, state_for


@dataclass(frozen=True)
class EntityStream:
    name: str
    path: str
    data_key: str
    primary_key: str = "id"
    cursor: str = "updated_at"
    # a history by `spent_date` (time entries, expenses): listed from the start date's day, not as a whole list
    spent_history: bool = False


ENTITY_STREAMS = [
    EntityStream("clients", "clients", "clients"),
    EntityStream("contacts", "contacts", "contacts"),
    EntityStream("estimate_item_categories", "estimate_item_categories", "estimate_item_categories"),
    EntityStream("estimates", "estimates", "estimates"),
    EntityStream("expense_categories", "expense_categories", "expense_categories"),
    EntityStream("expenses", "expenses", "expenses", spent_history=True),
    EntityStream("invoice_item_categories", "invoice_item_categories", "invoice_item_categories"),
    EntityStream("invoices", "invoices", "invoices"),
    EntityStream("projects", "projects", "projects"),
    EntityStream("task_assignments", "task_assignments", "task_assignments"),
    EntityStream("tasks", "tasks", "tasks"),
    EntityStream("time_entries", "time_entries", "time_entries", spent_history=True),
    EntityStream("user_assignments", "user_assignments", "user_assignments"),
    EntityStream("users", "users", "users"),
]
_IDS = [stream.name for stream in ENTITY_STREAMS]

_A_STATE_CURSOR = "2024-03-01T10:00:00Z"
_STATE_MINUS_DEFAULT_LOOKBACK = "2024-03-01T09:59:00Z"  # lookback_window_seconds defaults to 60
_AN_ID = 1001
_ANOTHER_ID = 1002
_A_THIRD_ID = 1003
_A_CURSOR_TOKEN = "eyJhZnRlciI6eyJpZCI6MTAwMn19"  # {"after":{"id":1002}}, as Harvest encodes it


def _ids(output: object) -> list[int]:
    return sorted(record.record.data["id"] for record in output.records)  # type: ignore[attr-defined]


_NOW = "2024-04-30T12:00:00Z"


def _given_reconciliation_read(http_mocker: HttpMocker, stream: EntityStream) -> None:
    """A state saved without `known_ids` (before deletion detection) makes the sync list the stream once (time
    entries and expenses: their history, from the start date's day)."""
    given_scope_read(http_mocker, stream.path, [], spent_since=_A_START_DATE[:10] if stream.spent_history else None)


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_no_state_when_read_then_request_per_page_2000_updated_since_start_date_and_return_records(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of(stream.name).with_records(records_of(stream.name, [_AN_ID, _ANOTHER_ID])).build(),
    )

    output = read_streams(ConfigBuilder().build(), stream.name)

    assert _ids(output) == [_AN_ID, _ANOTHER_ID]
    assert not output.errors


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_any_request_when_read_then_send_account_id_descriptive_user_agent_and_bearer_token(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    second_page = HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).with_cursor(_A_CURSOR_TOKEN)
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID]))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(second_page.build(), HarvestResponse.of(stream.name).build())

    read_streams(ConfigBuilder().build(), stream.name)

    assert_harvest_headers_on_every_request(http_mocker)


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_state_when_read_incremental_then_request_updated_since_state_minus_lookback_and_advance_state(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_STATE_MINUS_DEFAULT_LOOKBACK).build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID], updated_at="2024-03-05T08:00:00Z"))
        .with_records(records_of(stream.name, [_ANOTHER_ID], updated_at="2024-03-04T08:00:00Z"))
        .build(),
    )
    _given_reconciliation_read(http_mocker, stream)

    with freeze_time(_NOW):
        output = read_streams(
            ConfigBuilder().build(), stream.name, state=state_for(stream.name, {stream.cursor: _A_STATE_CURSOR})
        )

    assert _ids(output) == [_AN_ID, _ANOTHER_ID]
    assert output.most_recent_state.stream_state.__dict__[stream.cursor] == "2024-03-05T08:00:00Z"


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_only_records_inside_the_lookback_when_read_incremental_then_state_does_not_go_backwards(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_STATE_MINUS_DEFAULT_LOOKBACK).build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID], updated_at="2024-03-01T09:59:30Z"))
        .build(),
    )
    _given_reconciliation_read(http_mocker, stream)

    with freeze_time(_NOW):
        output = read_streams(
            ConfigBuilder().build(), stream.name, state=state_for(stream.name, {stream.cursor: _A_STATE_CURSOR})
        )

    assert _ids(output) == [_AN_ID]
    assert output.most_recent_state.stream_state.__dict__[stream.cursor] == _A_STATE_CURSOR


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_a_lookback_window_setting_when_read_incremental_then_updated_since_is_state_minus_that_many_seconds(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since("2024-03-01T09:58:20Z").build(),
        HarvestResponse.of(stream.name).with_records(records_of(stream.name, [_AN_ID])).build(),
    )
    _given_reconciliation_read(http_mocker, stream)

    with freeze_time(_NOW):
        read_streams(
            ConfigBuilder().with_lookback_window_seconds(100).build(),
            stream.name,
            state=state_for(stream.name, {stream.cursor: _A_STATE_CURSOR}),
        )


# Harvest's two next-link forms: page numbers (time entries, invoices, ...) and opaque cursors (clients, users, ...)
_NEXT_PAGE_FORMS = {
    "page": lambda request: request.with_page(2),
    "cursor": lambda request: request.with_cursor(_A_CURSOR_TOKEN),
}


@pytest.mark.parametrize("form", sorted(_NEXT_PAGE_FORMS))
@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_a_next_link_in_either_form_when_read_then_follow_it_exactly_and_return_records_of_both_pages(
    stream: EntityStream, form: str, http_mocker: HttpMocker
) -> None:
    first_page = HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE)
    second_page = _NEXT_PAGE_FORMS[form](HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE))
    http_mocker.get(
        first_page.build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID, _ANOTHER_ID]))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(
        second_page.build(),
        HarvestResponse.of(stream.name).with_records(records_of(stream.name, [_A_THIRD_ID])).build(),
    )

    output = read_streams(ConfigBuilder().build(), stream.name)

    assert _ids(output) == [_AN_ID, _ANOTHER_ID, _A_THIRD_ID]


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_a_documented_cursor_link_without_filters_when_read_then_the_next_page_keeps_updated_since(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    # Harvest's pagination docs show cursor links as `?cursor=<token>&per_page=N&ref=next_cursor`, without the filters
    documented_link = (
        f"https://api.harvestapp.com/v2/{stream.path}?cursor={_A_CURSOR_TOKEN}&per_page=2000&ref=next_cursor"
    )
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID]))
        .with_next_link(documented_link)
        .build(),
    )
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).with_cursor(_A_CURSOR_TOKEN).build(),
        HarvestResponse.of(stream.name).with_records(records_of(stream.name, [_ANOTHER_ID])).build(),
    )

    output = read_streams(ConfigBuilder().build(), stream.name)

    assert _ids(output) == [_AN_ID, _ANOTHER_ID]


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_an_end_date_when_read_then_records_updated_after_it_are_not_emitted(
    stream: EntityStream, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.endpoint(stream.path).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of(stream.name)
        .with_records(records_of(stream.name, [_AN_ID], updated_at="2024-05-31T23:59:59Z"))
        .with_records(records_of(stream.name, [_A_THIRD_ID], updated_at="2024-06-01T00:00:00Z"))
        .with_records(records_of(stream.name, [_ANOTHER_ID], updated_at="2024-06-01T00:00:01Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().with_end_date("2024-06-01T00:00:00Z").build(), stream.name)

    assert _ids(output) == [_AN_ID, _A_THIRD_ID]  # updated at the end date itself is still in


def test_given_company_when_read_then_one_bare_object_is_one_record_requested_without_paging_params(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(HarvestRequest.company().build(), company_response(name="A Company"))

    output = read_streams(ConfigBuilder().build(), "company")

    assert [record.record.data["name"] for record in output.records] == ["A Company"]
    assert output.records[0].record.data["base_uri"]


def test_given_company_when_read_then_send_account_id_user_agent_and_bearer_token(http_mocker: HttpMocker) -> None:
    http_mocker.get(HarvestRequest.company().build(), company_response())

    read_streams(ConfigBuilder().build(), "company", sync_mode=SyncMode.full_refresh)

    assert_harvest_headers_on_every_request(http_mocker)


@pytest.mark.parametrize("stream", ENTITY_STREAMS, ids=_IDS)
def test_given_an_entity_stream_when_discovered_then_it_is_incremental_with_its_primary_key_and_cursor(
    stream: EntityStream,
) -> None:
    discovered = discovered_stream(stream.name)

    assert discovered.supported_sync_modes == [SyncMode.full_refresh, SyncMode.incremental]
    assert discovered.source_defined_primary_key == [[stream.primary_key]]
    assert discovered.default_cursor_field == [stream.cursor]


def test_given_company_when_discovered_then_it_is_a_full_refresh_singleton_keyed_by_base_uri() -> None:
    discovered = discovered_stream("company")

    assert discovered.supported_sync_modes == [SyncMode.full_refresh]
    assert discovered.source_defined_primary_key == [["base_uri"]]
