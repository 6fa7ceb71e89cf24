"""Tombstones for children (HarvestChildPartitionRouter + HarvestChildTombstoneRetriever): exact requests and records
per situation.

A child list read in full is complete for its parent, so a known child it no longer lists was deleted; a known parent
that the parent list no longer shows is read too, and its child list answering Harvest's JSON 404 means the parent
and all its children are gone. A tombstone is `{"id", "parent_id", "updated_at": <the child cursor this sync started
from>, "_ab_cdc_deleted_at": <now>}`, only for an Administrator's token, after a previous sync and without
`replication_end_date`; otherwise what is known stays known.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time

from components import HarvestKnownIds

from .config import ConfigBuilder
from .helpers import (
    a_parent,
    child_state,
    given_administrator,
    given_children,
    given_current_user,
    given_invoices,
    given_parent_list,
    given_users,
    records_of,
    sent_requests,
)
from .request_builder import HarvestRequest
from .response_builder import ErrorResponse, HarvestResponse
from .source import read_streams, state_for

_NOW = "2024-04-30T12:00:00Z"
_CHILD_CURSOR = "2024-02-01T00:00:00Z"
_PARENT_CURSOR = "2024-01-15T00:00:00Z"
_NOT_UPDATED_SINCE = "2023-06-01T00:00:00Z"
_AN_INVOICE_ID = 13150403
_A_DELETED_INVOICE_ID = 13150378
_A_USER_ID = 1782959
_ANOTHER_USER_ID = 3226125


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with freeze_time(_NOW):
        yield


def _invoice_child_state(stream: str, known: dict[int, int]) -> Any:
    return state_for(stream, child_state("invoices", _CHILD_CURSOR, known, _PARENT_CURSOR))


def _user_child_state(stream: str, known: dict[int, int]) -> Any:
    return state_for(stream, child_state(None, _CHILD_CURSOR, known))


def _tombstones(output: Any) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]


def _records(output: Any) -> list[int]:
    return sorted(r.record.data["id"] for r in output.records if "_ab_cdc_deleted_at" not in r.record.data)


def _known(output: Any) -> dict[int, int | None]:
    known = HarvestKnownIds.from_state(output.most_recent_state.stream_state.__dict__["parent_state"]["known_ids"])
    assert known is not None
    return dict(known.ids)


def _warnings(output: Any) -> list[str]:
    return [m.log.message for m in output.logs if m.log.level.name == "WARN"]


def _tombstone(child_id: int, parent_id: int) -> dict[str, Any]:
    return {"id": child_id, "parent_id": parent_id, "updated_at": _CHILD_CURSOR, "_ab_cdc_deleted_at": _NOW}


def _given_an_open_invoice_that_lost_a_message(http_mocker: HttpMocker) -> dict[int, int]:
    """An open invoice (re-read every sync for its messages) that now lists message 11 of the known 11 and 12."""
    given_parent_list(http_mocker, "invoices", [a_parent("invoices", _AN_INVOICE_ID, _NOT_UPDATED_SINCE, "open")])
    given_children(http_mocker, "invoice_messages", HarvestRequest.invoice_messages(_AN_INVOICE_ID), [11])
    return {11: _AN_INVOICE_ID, 12: _AN_INVOICE_ID}


def test_given_a_child_gone_from_a_reread_parent_when_read_then_a_tombstone_with_its_parent_id(
    http_mocker: HttpMocker,
) -> None:
    known = _given_an_open_invoice_that_lost_a_message(http_mocker)
    given_administrator(http_mocker)

    output = read_streams(
        ConfigBuilder().build(), "invoice_messages", state=_invoice_child_state("invoice_messages", known)
    )

    assert _records(output) == [11]
    assert _tombstones(output) == [_tombstone(12, _AN_INVOICE_ID)]
    assert not output.errors
    assert _known(output) == {11: _AN_INVOICE_ID}


def test_given_a_known_invoice_no_longer_listed_when_its_payments_answer_json_404_then_all_of_them_are_tombstoned(
    http_mocker: HttpMocker,
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID], updated_at=_NOT_UPDATED_SINCE, state="paid")
    http_mocker.get(HarvestRequest.invoice_payments(_A_DELETED_INVOICE_ID).build(), ErrorResponse.with_status(404))
    given_administrator(http_mocker)
    known = {11: _AN_INVOICE_ID, 21: _A_DELETED_INVOICE_ID, 22: _A_DELETED_INVOICE_ID}

    output = read_streams(
        ConfigBuilder().build(), "invoice_payments", state=_invoice_child_state("invoice_payments", known)
    )

    assert _records(output) == []
    assert _tombstones(output) == [_tombstone(21, _A_DELETED_INVOICE_ID), _tombstone(22, _A_DELETED_INVOICE_ID)]
    assert not output.errors
    assert _known(output) == {11: _AN_INVOICE_ID}


def test_given_a_known_invoice_no_longer_listed_when_its_payments_still_answer_then_no_tombstone_and_they_stay_known(
    http_mocker: HttpMocker,
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID], updated_at=_NOT_UPDATED_SINCE, state="paid")
    given_children(http_mocker, "invoice_payments", HarvestRequest.invoice_payments(_A_DELETED_INVOICE_ID), [21, 22])
    known = {11: _AN_INVOICE_ID, 21: _A_DELETED_INVOICE_ID, 22: _A_DELETED_INVOICE_ID}

    output = read_streams(
        ConfigBuilder().build(), "invoice_payments", state=_invoice_child_state("invoice_payments", known)
    )

    assert _records(output) == [21, 22]
    assert _tombstones(output) == []
    assert not output.errors
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]
    assert _known(output) == known


def test_given_more_known_invoices_unlisted_than_people_delete_when_read_then_refused_with_a_warning_and_none_read(
    http_mocker: HttpMocker,
) -> None:
    # 25 invoices known, 3 listed: 22 vanished parents is more than max(20, 10%), what a token that sees less shows
    listed, unlisted = list(range(1, 4)), list(range(4, 26))
    given_invoices(http_mocker, listed, updated_at=_NOT_UPDATED_SINCE, state="paid")
    known = {1000 + invoice_id: invoice_id for invoice_id in listed + unlisted}

    output = read_streams(
        ConfigBuilder().build(), "invoice_payments", state=_invoice_child_state("invoice_payments", known)
    )

    assert output.records == []
    assert not output.errors
    assert [request.path for request in sent_requests(http_mocker)] == ["/v2/invoices"]
    warnings = [warning for warning in _warnings(output) if "22 of the 25" in warning and "(parents)" in warning]
    assert len(warnings) == 1, _warnings(output)
    assert _known(output) == known


def _given_user_assignments(http_mocker: HttpMocker, assignments: dict[int, int]) -> None:
    """The whole user assignment list: assignment id -> user id, none updated since the child cursor."""
    response = HarvestResponse.of("user_assignments")
    for assignment_id, user_id in assignments.items():
        response = response.with_records(
            records_of("user_assignments", [assignment_id], updated_at=_NOT_UPDATED_SINCE, user={"id": user_id})
        )
    http_mocker.get(HarvestRequest.user_assignments().build(), response.build())


def test_given_a_project_assignment_whose_user_assignment_left_the_list_when_read_then_its_user_is_read_and_it_is_tombstoned(
    http_mocker: HttpMocker,
) -> None:
    _given_user_assignments(http_mocker, {11: _A_USER_ID, 21: _ANOTHER_USER_ID})  # 12 was removed from its project
    given_users(http_mocker, [_A_USER_ID, _ANOTHER_USER_ID])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    given_administrator(http_mocker)
    known = {11: _A_USER_ID, 12: _A_USER_ID, 21: _ANOTHER_USER_ID}

    output = read_streams(
        ConfigBuilder().build(), "project_assignments", state=_user_child_state("project_assignments", known)
    )

    assert _records(output) == [11]
    assert _tombstones(output) == [_tombstone(12, _A_USER_ID)]
    assert not output.errors
    assert f"/v2/users/{_ANOTHER_USER_ID}/project_assignments" not in [r.path for r in sent_requests(http_mocker)]
    assert _known(output) == {11: _A_USER_ID, 21: _ANOTHER_USER_ID}


def test_given_a_member_who_may_list_neither_user_assignments_nor_users_when_a_child_is_gone_then_no_tombstone(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(HarvestRequest.user_assignments().build(), ErrorResponse.with_status(403))
    http_mocker.get(HarvestRequest.users().build(), ErrorResponse.with_status(403))
    given_current_user(http_mocker, _A_USER_ID)  # the parent, and who answers whether the token is an Administrator
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    known = {11: _A_USER_ID, 12: _A_USER_ID}

    output = read_streams(
        ConfigBuilder().build(), "project_assignments", state=_user_child_state("project_assignments", known)
    )

    assert _records(output) == [11]
    assert _tombstones(output) == []
    assert not output.errors
    assert any("only an Administrator" in warning for warning in _warnings(output)), _warnings(output)
    assert _known(output) == known


def test_given_a_token_that_is_not_an_administrator_when_a_child_is_gone_then_no_tombstone_and_it_stays_known(
    http_mocker: HttpMocker,
) -> None:
    known = _given_an_open_invoice_that_lost_a_message(http_mocker)
    given_current_user(http_mocker, _A_USER_ID)  # the template's access_roles: ["member"]

    output = read_streams(
        ConfigBuilder().build(), "invoice_messages", state=_invoice_child_state("invoice_messages", known)
    )

    assert _records(output) == [11]
    assert _tombstones(output) == []
    assert any("only an Administrator" in warning for warning in _warnings(output)), _warnings(output)
    assert _known(output) == known


def test_given_an_end_date_when_a_child_is_gone_then_no_tombstone_no_role_check_and_it_stays_known(
    http_mocker: HttpMocker,
) -> None:
    # the end date's filter drops children updated after it, which would look vanished
    known = _given_an_open_invoice_that_lost_a_message(http_mocker)

    output = read_streams(
        ConfigBuilder().with_end_date("2024-04-01T00:00:00Z").build(),
        "invoice_messages",
        state=_invoice_child_state("invoice_messages", known),
    )

    assert _records(output) == [11]
    assert _tombstones(output) == []
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]
    assert _known(output) == known
