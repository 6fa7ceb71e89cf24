"""invoice_messages and invoice_payments: children of invoices (design decision 8).

First sync: the children of EVERY invoice, including invoices last updated before the start date.
Later syncs: the payments of invoices updated since the last sync (a payment moves its invoice's `updated_at`), and
the messages of those plus open invoices (a reminder or a thank-you leaves the invoice as it was; sending a draft
stamps it); no draft list; each invoice's children once; `parent_id` on each record.
"""

from __future__ import annotations

from collections import Counter

import pytest
from airbyte_cdk.test.mock_http import HttpMocker

from .config import _A_START_DATE, ConfigBuilder
from .helpers import (
    assert_harvest_headers_on_every_request,
    given_children,
    given_invoices,
    given_invoices_in_state,
    records_of,
    sent_requests,
)
from .request_builder import HarvestRequest
from .response_builder import HarvestResponse
from .source import read_streams, state_for

INVOICE_CHILDREN = [
    pytest.param("invoice_messages", HarvestRequest.invoice_messages, id="invoice_messages"),
    pytest.param("invoice_payments", HarvestRequest.invoice_payments, id="invoice_payments"),
]

_AN_INVOICE_ID = 13150403
_AN_OLD_INVOICE_ID = 13150378  # last updated before the start date
_AN_OPEN_INVOICE_ID = 13150500
_A_CHILD_CURSOR = "2024-02-01T00:00:00Z"
_A_PARENT_CURSOR = "2024-01-15T00:00:00Z"
_THE_EPOCH = "1970-01-01T00:00:00Z"


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def _later_sync_state(stream: str, lookback_window: int = 0) -> list:  # type: ignore[type-arg]
    return state_for(
        stream,
        {
            "use_global_cursor": True,
            "state": {"updated_at": _A_CHILD_CURSOR},
            "lookback_window": lookback_window,
            "parent_state": {"invoices": {"updated_at": _A_PARENT_CURSOR}},
        },
    )


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_first_sync_when_read_then_children_of_every_invoice_are_read_even_those_updated_before_start_date(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_OLD_INVOICE_ID], updated_since=_THE_EPOCH, updated_at="2015-06-01T00:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID).with_updated_since(_A_START_DATE), [11])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_OLD_INVOICE_ID}
    assert not output.errors


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_two_invoices_when_first_sync_then_each_child_carries_its_invoice_id_and_open_or_draft_lists_are_not_read(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID], updated_since=_THE_EPOCH)
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID).with_updated_since(_A_START_DATE), [11, 12])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID).with_updated_since(_A_START_DATE), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 12: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}
    assert not output.errors


_PARENT_SINCE = "2024-01-14T23:59:00Z"  # parent cursor minus the 60 s lookback
_CHILD_SINCE = "2024-01-31T23:59:00Z"  # child cursor minus the 60 s lookback


def _invoice_lists_sent(http_mocker: HttpMocker) -> list[str]:
    return sorted(request.query for request in sent_requests(http_mocker) if request.path == "/v2/invoices")


def test_given_state_when_later_sync_then_messages_of_updated_and_open_invoices_are_read_once_each_and_no_drafts(
    http_mocker: HttpMocker,
) -> None:
    # the open list also returns the updated invoice: its messages must still be read only once
    given_invoices(http_mocker, [_AN_INVOICE_ID], updated_since=_PARENT_SINCE)
    given_invoices_in_state(http_mocker, "open", [_AN_INVOICE_ID, _AN_OPEN_INVOICE_ID])
    messages = HarvestRequest.invoice_messages
    given_children(http_mocker, "invoice_messages", messages(_AN_INVOICE_ID).with_updated_since(_CHILD_SINCE), [11])
    given_children(
        http_mocker, "invoice_messages", messages(_AN_OPEN_INVOICE_ID).with_updated_since(_CHILD_SINCE), [31]
    )

    output = read_streams(ConfigBuilder().build(), "invoice_messages", state=_later_sync_state("invoice_messages"))

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 31: _AN_OPEN_INVOICE_ID}
    assert not output.errors
    assert _invoice_lists_sent(http_mocker) == [
        "per_page=2000&state=open",
        "per_page=2000&updated_since=2024-01-14t23%3a59%3a00z",
    ]
    child_paths = Counter(request.path for request in sent_requests(http_mocker) if request.path.count("/") == 4)
    assert child_paths == {
        f"/v2/invoices/{_AN_INVOICE_ID}/messages": 1,
        f"/v2/invoices/{_AN_OPEN_INVOICE_ID}/messages": 1,
    }


def test_given_state_when_later_sync_then_payments_of_updated_invoices_only_are_read_and_no_state_list(
    http_mocker: HttpMocker,
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID], updated_since=_PARENT_SINCE)
    payments = HarvestRequest.invoice_payments
    given_children(http_mocker, "invoice_payments", payments(_AN_INVOICE_ID).with_updated_since(_CHILD_SINCE), [11])
    given_children(http_mocker, "invoice_payments", payments(_AN_OLD_INVOICE_ID).with_updated_since(_CHILD_SINCE), [21])

    output = read_streams(ConfigBuilder().build(), "invoice_payments", state=_later_sync_state("invoice_payments"))

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}
    assert not output.errors
    assert _invoice_lists_sent(http_mocker) == ["per_page=2000&updated_since=2024-01-14t23%3a59%3a00z"]


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_state_when_later_sync_then_paid_invoices_not_updated_since_are_not_read_again(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [], updated_since=_PARENT_SINCE)
    if stream == "invoice_messages":
        given_invoices_in_state(http_mocker, "open", [])

    output = read_streams(ConfigBuilder().build(), stream, state=_later_sync_state(stream))

    assert output.records == []
    assert not output.errors
    assert [r.path for r in sent_requests(http_mocker) if r.path.count("/") == 4] == []


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_a_sync_when_it_ends_then_state_keeps_child_cursor_and_how_far_invoices_were_read(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(
        http_mocker, [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID], updated_since=_THE_EPOCH, updated_at="2024-03-10T00:00:00Z"
    )
    given_children(
        http_mocker,
        stream,
        child_request(_AN_INVOICE_ID).with_updated_since(_A_START_DATE),
        [11],
        updated_at="2024-03-09T12:00:00Z",
    )
    given_children(
        http_mocker,
        stream,
        child_request(_AN_OLD_INVOICE_ID).with_updated_since(_A_START_DATE),
        [21],
        updated_at="2024-03-08T12:00:00Z",
    )

    output = read_streams(ConfigBuilder().build(), stream)

    state = output.most_recent_state.stream_state.__dict__
    assert state["state"] == {"updated_at": "2024-03-09T12:00:00Z"}
    assert state["parent_state"] == {"invoices": {"updated_at": "2024-03-10T00:00:00Z"}}


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_an_end_date_when_read_then_children_updated_after_it_are_not_emitted(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID], updated_since=_THE_EPOCH)
    http_mocker.get(
        child_request(_AN_INVOICE_ID).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of(stream)
        .with_records(records_of(stream, [11], updated_at="2023-12-31T23:59:59Z"))
        .with_records(records_of(stream, [12], updated_at="2024-01-01T00:00:01Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().with_end_date("2024-01-01T00:00:00Z").build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID}


def _given_parent_invoices_on_two_pages(http_mocker: HttpMocker, first: list[int], second: list[int]) -> None:
    """The first sync's parent read (from the epoch), answered on two pages linked by `links.next`."""
    first_page = HarvestRequest.invoices().with_updated_since(_THE_EPOCH)
    second_page = HarvestRequest.invoices().with_updated_since(_THE_EPOCH).with_page(2)
    http_mocker.get(
        first_page.build(),
        HarvestResponse.of("invoices")
        .with_records(records_of("invoices", first))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(
        second_page.build(), HarvestResponse.of("invoices").with_records(records_of("invoices", second)).build()
    )


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_invoices_on_two_pages_when_first_sync_then_children_of_invoices_on_both_pages_are_read(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    _given_parent_invoices_on_two_pages(http_mocker, [_AN_INVOICE_ID], [_AN_OLD_INVOICE_ID])
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID).with_updated_since(_A_START_DATE), [11])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID).with_updated_since(_A_START_DATE), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}
    assert_harvest_headers_on_every_request(http_mocker)


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_an_invoice_listed_on_two_pages_when_first_sync_then_its_children_are_read_once(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    # an invoice updated while the list is paged can show up again on a later page
    _given_parent_invoices_on_two_pages(http_mocker, [_AN_INVOICE_ID], [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID])
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID).with_updated_since(_A_START_DATE), [11])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID).with_updated_since(_A_START_DATE), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert sorted(record.record.data["id"] for record in output.records) == [11, 21]
    child_paths = Counter(request.path for request in sent_requests(http_mocker) if request.path.count("/") == 4)
    assert set(child_paths.values()) == {1}, child_paths
