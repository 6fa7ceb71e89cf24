"""invoice_messages and invoice_payments: children of invoices (design decision 8).

Every sync lists the invoices in full (no `updated_since`), and reads each picked invoice's children in full (no
`updated_since` either: a parent's child list read in full is complete for it). First sync (or a state that knows no
children yet): the children of EVERY invoice, including invoices last updated before the start date. Later syncs:
the payments of invoices updated since the last sync (a payment moves its invoice's `updated_at`), and the messages
of those plus the open invoices (a reminder or a thank-you leaves the invoice as it was; sending a draft stamps it);
no drafts; each invoice's children once; `parent_id` on each record. Every child of an invoice read is emitted,
whatever its `updated_at`. Tombstones: test_child_deletions.py.
"""

from __future__ import annotations

from collections import Counter

import pytest
from airbyte_cdk.test.mock_http import HttpMocker

from components import HarvestKnownIds

from .config import ConfigBuilder
from .helpers import (
    a_parent,
    assert_harvest_headers_on_every_request,
    child_state,
    given_children,
    given_invoices,
    given_parent_list,
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
_A_DRAFT_INVOICE_ID = 13150600
_A_CHILD_CURSOR = "2024-02-01T00:00:00Z"
_A_PARENT_CURSOR = "2024-01-15T00:00:00Z"  # invoices updated at or after 2024-01-14T23:59:00Z (60 s lookback) changed
_UPDATED_SINCE_THE_PARENT_CURSOR = "2024-01-20T00:00:00Z"
_NOT_UPDATED_SINCE = "2023-06-01T00:00:00Z"


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def _later_sync_state(stream: str, known: dict[int, int]) -> list:  # type: ignore[type-arg]
    return state_for(stream, child_state("invoices", _A_CHILD_CURSOR, known, _A_PARENT_CURSOR))


def _child_reads(http_mocker: HttpMocker) -> Counter[str]:
    return Counter(request.path for request in sent_requests(http_mocker) if request.path.count("/") == 4)


def _invoice_lists_sent(http_mocker: HttpMocker) -> list[str]:
    return [request.query for request in sent_requests(http_mocker) if request.path == "/v2/invoices"]


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_first_sync_when_read_then_children_of_every_invoice_are_read_even_those_updated_before_start_date(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_OLD_INVOICE_ID], updated_at="2015-06-01T00:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [11])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_OLD_INVOICE_ID}
    assert not output.errors


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_two_invoices_when_first_sync_then_each_child_carries_its_invoice_id_and_invoices_are_listed_once_in_full(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID])
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID), [11, 12])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 12: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}
    assert not output.errors
    assert _invoice_lists_sent(http_mocker) == ["per_page=2000"]


def test_given_both_invoice_children_when_read_together_then_the_invoice_list_is_requested_once(
    http_mocker: HttpMocker,
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID])
    given_children(http_mocker, "invoice_messages", HarvestRequest.invoice_messages(_AN_INVOICE_ID), [11])
    given_children(http_mocker, "invoice_payments", HarvestRequest.invoice_payments(_AN_INVOICE_ID), [21])

    output = read_streams(ConfigBuilder().build(), "invoice_messages", "invoice_payments")

    assert Counter(record.record.stream for record in output.records) == {"invoice_messages": 1, "invoice_payments": 1}
    assert not output.errors
    assert _invoice_lists_sent(http_mocker) == ["per_page=2000"]


def test_given_state_when_later_sync_then_messages_of_updated_and_open_invoices_are_read_once_each_and_no_drafts(
    http_mocker: HttpMocker,
) -> None:
    given_parent_list(
        http_mocker,
        "invoices",
        [
            a_parent("invoices", _AN_INVOICE_ID, _UPDATED_SINCE_THE_PARENT_CURSOR, "open"),  # updated AND open
            a_parent("invoices", _AN_OPEN_INVOICE_ID, _NOT_UPDATED_SINCE, "open"),
            a_parent("invoices", _A_DRAFT_INVOICE_ID, _NOT_UPDATED_SINCE, "draft"),
            a_parent("invoices", _AN_OLD_INVOICE_ID, _NOT_UPDATED_SINCE, "paid"),
        ],
    )
    messages = HarvestRequest.invoice_messages
    given_children(http_mocker, "invoice_messages", messages(_AN_INVOICE_ID), [11])
    given_children(http_mocker, "invoice_messages", messages(_AN_OPEN_INVOICE_ID), [31, 32])
    known = {11: _AN_INVOICE_ID, 31: _AN_OPEN_INVOICE_ID, 41: _AN_OLD_INVOICE_ID}

    output = read_streams(
        ConfigBuilder().build(), "invoice_messages", state=_later_sync_state("invoice_messages", known)
    )

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 31: _AN_OPEN_INVOICE_ID, 32: _AN_OPEN_INVOICE_ID}
    assert not output.errors
    assert _invoice_lists_sent(http_mocker) == ["per_page=2000"]
    assert _child_reads(http_mocker) == {
        f"/v2/invoices/{_AN_INVOICE_ID}/messages": 1,
        f"/v2/invoices/{_AN_OPEN_INVOICE_ID}/messages": 1,
    }


def test_given_state_when_later_sync_then_payments_of_updated_invoices_only_are_read(http_mocker: HttpMocker) -> None:
    given_parent_list(
        http_mocker,
        "invoices",
        [
            a_parent("invoices", _AN_INVOICE_ID, _UPDATED_SINCE_THE_PARENT_CURSOR, "paid"),
            a_parent("invoices", _AN_OPEN_INVOICE_ID, _NOT_UPDATED_SINCE, "open"),
        ],
    )
    given_children(http_mocker, "invoice_payments", HarvestRequest.invoice_payments(_AN_INVOICE_ID), [11, 12])
    known = {11: _AN_INVOICE_ID, 31: _AN_OPEN_INVOICE_ID}

    output = read_streams(
        ConfigBuilder().build(), "invoice_payments", state=_later_sync_state("invoice_payments", known)
    )

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 12: _AN_INVOICE_ID}
    assert not output.errors
    assert list(_child_reads(http_mocker)) == [f"/v2/invoices/{_AN_INVOICE_ID}/payments"]


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_state_when_later_sync_then_paid_invoices_not_updated_since_are_not_read_again(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_OLD_INVOICE_ID], updated_at=_NOT_UPDATED_SINCE, state="paid")

    output = read_streams(ConfigBuilder().build(), stream, state=_later_sync_state(stream, {21: _AN_OLD_INVOICE_ID}))

    assert output.records == []
    assert not output.errors
    assert _child_reads(http_mocker) == {}
    known = HarvestKnownIds.from_state(output.most_recent_state.stream_state.__dict__["parent_state"]["known_ids"])
    assert known == HarvestKnownIds({21: _AN_OLD_INVOICE_ID})


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_a_state_that_knows_no_children_when_read_then_every_invoice_is_read_as_on_a_first_sync(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    # the state 2.1.0 saved (a parent cursor, no known children): which children each invoice has is not known yet
    given_invoices(http_mocker, [_AN_OLD_INVOICE_ID], updated_at=_NOT_UPDATED_SINCE, state="paid")
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [21])
    state = child_state("invoices", _A_CHILD_CURSOR, None, _A_PARENT_CURSOR)

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, state))

    assert _parent_ids(output) == {21: _AN_OLD_INVOICE_ID}  # a parent read is read in full, its children emitted
    assert not output.errors
    known = HarvestKnownIds.from_state(output.most_recent_state.stream_state.__dict__["parent_state"]["known_ids"])
    assert known == HarvestKnownIds({21: _AN_OLD_INVOICE_ID})


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_a_sync_when_it_ends_then_state_keeps_child_cursor_how_far_invoices_were_read_and_known_children(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID], updated_at="2024-03-10T00:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID), [11], updated_at="2024-03-09T12:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [21], updated_at="2024-03-08T12:00:00Z")

    output = read_streams(ConfigBuilder().build(), stream)

    state = output.most_recent_state.stream_state.__dict__
    assert state["state"] == {"updated_at": "2024-03-09T12:00:00Z"}
    assert state["parent_state"] == {
        "invoices": {"updated_at": "2024-03-10T00:00:00Z"},
        "known_ids": HarvestKnownIds({11: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}).to_state(),
    }


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_an_end_date_when_read_then_children_updated_after_it_are_not_emitted(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID])
    http_mocker.get(
        child_request(_AN_INVOICE_ID).build(),
        HarvestResponse.of(stream)
        .with_records(records_of(stream, [11], updated_at="2023-12-31T23:59:59Z"))
        .with_records(records_of(stream, [12], updated_at="2024-01-01T00:00:01Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().with_end_date("2024-01-01T00:00:00Z").build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID}


def _given_parent_invoices_on_two_pages(http_mocker: HttpMocker, first: list[int], second: list[int]) -> None:
    """The whole invoice list, answered on two pages linked by `links.next`."""
    second_page = HarvestRequest.invoices().with_page(2)
    http_mocker.get(
        HarvestRequest.invoices().build(),
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
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID), [11])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _AN_INVOICE_ID, 21: _AN_OLD_INVOICE_ID}
    assert_harvest_headers_on_every_request(http_mocker)


@pytest.mark.parametrize("stream, child_request", INVOICE_CHILDREN)
def test_given_an_invoice_listed_on_two_pages_when_first_sync_then_its_children_are_read_once(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    # an invoice updated while the list is paged can show up again on a later page
    _given_parent_invoices_on_two_pages(http_mocker, [_AN_INVOICE_ID], [_AN_INVOICE_ID, _AN_OLD_INVOICE_ID])
    given_children(http_mocker, stream, child_request(_AN_INVOICE_ID), [11])
    given_children(http_mocker, stream, child_request(_AN_OLD_INVOICE_ID), [21])

    output = read_streams(ConfigBuilder().build(), stream)

    assert sorted(record.record.data["id"] for record in output.records) == [11, 21]
    assert set(_child_reads(http_mocker).values()) == {1}, _child_reads(http_mocker)
