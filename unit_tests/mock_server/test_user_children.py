"""project_assignments, billable_rates and cost_rates: children of users (design decision 8).

1.2.x missed the children of users last updated before the start date, so a first sync reads every user (no
`updated_since` on /v2/users); when /v2/users gives no user (a Member's 403) the current user is the parent
(/v2/users/me, readable by every role), so a Member still gets their own records, and an Administrator makes no
extra request. Each user's children once; `parent_id` is the user id.
Rates change without touching the user and no change signal is known: every user on every sync; /billable_rates and
/cost_rates have no `updated_since`, so every rate is read and the cursor filters on the client.
A project assignment is a user assignment seen from its user (same id, same updated_at): a later sync reads the
project assignments (`updated_since`) of the users whose user assignments changed since the child cursor, and of
every user only when that list is forbidden (a Member's 403).
"""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.models import Level
from airbyte_cdk.test.mock_http import HttpMocker

from .config import _A_START_DATE, ConfigBuilder
from .helpers import (
    assert_harvest_headers_on_every_request,
    given_children,
    given_current_user,
    given_parents,
    given_users,
    records_of,
    sent_requests,
)
from .request_builder import HarvestRequest
from .response_builder import ErrorResponse, HarvestResponse
from .source import read_streams, state_for

_A_USER_ID = 1782959
_AN_OLD_USER_ID = 3226125  # last updated years before the start date
_A_NEW_USER_ID = 4100200
_A_STATE = {"use_global_cursor": True, "state": {"updated_at": "2024-02-01T00:00:00Z"}, "lookback_window": 0}


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def test_given_two_users_when_read_project_assignments_then_assignments_of_both_carry_their_user_id(
    http_mocker: HttpMocker,
) -> None:
    given_users(http_mocker, {_A_USER_ID: "2024-01-01T00:00:00Z", _AN_OLD_USER_ID: "2015-01-01T00:00:00Z"})
    assignments = HarvestRequest.project_assignments
    given_children(
        http_mocker, "project_assignments", assignments(_A_USER_ID).with_updated_since(_A_START_DATE), [11, 12]
    )
    given_children(
        http_mocker, "project_assignments", assignments(_AN_OLD_USER_ID).with_updated_since(_A_START_DATE), [21]
    )

    output = read_streams(ConfigBuilder().build(), "project_assignments")

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert not output.errors
    assert_harvest_headers_on_every_request(http_mocker)


def _given_changed_user_assignments(http_mocker: HttpMocker, since: str, user_ids: list[int]) -> None:
    """GET /v2/user_assignments?updated_since=...: one changed user assignment per entry of `user_ids`."""
    response = HarvestResponse.of("user_assignments")
    for n, user_id in enumerate(user_ids):
        record = records_of("user_assignments", [500 + n], updated_at="2024-02-02T00:00:00Z", user={"id": user_id})
        response = response.with_records(record)
    http_mocker.get(HarvestRequest.user_assignments().with_updated_since(since).build(), response.build())


def _paths(http_mocker: HttpMocker) -> list[str]:
    return sorted(request.path for request in sent_requests(http_mocker))


def test_given_first_sync_when_read_project_assignments_then_every_user_is_read_and_no_user_assignment_list(
    http_mocker: HttpMocker,
) -> None:
    given_parents(http_mocker, "users", [_A_USER_ID, _AN_OLD_USER_ID], updated_since=None)
    assignments = HarvestRequest.project_assignments
    given_children(http_mocker, "project_assignments", assignments(_A_USER_ID).with_updated_since(_A_START_DATE), [11])
    given_children(
        http_mocker, "project_assignments", assignments(_AN_OLD_USER_ID).with_updated_since(_A_START_DATE), [21]
    )

    output = read_streams(ConfigBuilder().build(), "project_assignments")

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert _paths(http_mocker) == [
        "/v2/users",
        f"/v2/users/{_A_USER_ID}/project_assignments",
        f"/v2/users/{_AN_OLD_USER_ID}/project_assignments",
    ]


@pytest.mark.parametrize(
    "saved_parent_state",
    [pytest.param({}, id="2.0.0-state-parent_state-empty"), pytest.param(None, id="no-parent_state")],
)
def test_given_state_when_read_project_assignments_then_only_users_with_changed_user_assignments_are_read(
    saved_parent_state: dict[str, Any] | None, http_mocker: HttpMocker
) -> None:
    # cursor 2024-02-01T00:00:00Z minus the last sync's 30 s (lookback_window) minus the 60 s lookback: the user
    # assignment list and the children are asked from the same instant
    since = "2024-01-31T23:58:30Z"
    _given_changed_user_assignments(http_mocker, since, [_A_USER_ID, _A_USER_ID, _A_NEW_USER_ID])
    assignments = HarvestRequest.project_assignments
    given_children(http_mocker, "project_assignments", assignments(_A_USER_ID).with_updated_since(since), [11, 12])
    given_children(http_mocker, "project_assignments", assignments(_A_NEW_USER_ID).with_updated_since(since), [31])
    state = {**_A_STATE, "lookback_window": 30}
    if saved_parent_state is not None:
        state["parent_state"] = saved_parent_state

    output = read_streams(ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", state))

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID, 31: _A_NEW_USER_ID}
    assert not output.errors
    assert _paths(http_mocker) == [
        "/v2/user_assignments",
        f"/v2/users/{_A_USER_ID}/project_assignments",
        f"/v2/users/{_A_NEW_USER_ID}/project_assignments",
    ]
    # the child cursor stays the one position: the user assignment list's own is not saved
    assert output.most_recent_state.stream_state.__dict__["parent_state"] == {}


def test_given_state_and_no_changed_user_assignment_when_read_project_assignments_then_only_that_list_is_asked(
    http_mocker: HttpMocker,
) -> None:
    _given_changed_user_assignments(http_mocker, "2024-01-31T23:59:00Z", [])

    output = read_streams(
        ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", _A_STATE)
    )

    assert output.records == []
    assert not output.errors
    assert _paths(http_mocker) == ["/v2/user_assignments"]


def test_given_state_and_a_member_when_read_project_assignments_then_their_own_are_read_with_warnings(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.user_assignments().with_updated_since("2024-01-31T23:59:00Z").build(),
        ErrorResponse.with_status(403),
    )
    http_mocker.get(HarvestRequest.users().build(), ErrorResponse.with_status(403))
    given_current_user(http_mocker, _A_USER_ID)
    given_children(
        http_mocker,
        "project_assignments",
        HarvestRequest.project_assignments(_A_USER_ID).with_updated_since("2024-01-31T23:59:00Z"),
        [11],
    )

    output = read_streams(
        ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", _A_STATE)
    )

    assert _parent_ids(output) == {11: _A_USER_ID}
    assert not output.errors
    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN and "403" in m.log.message]
    assert len(warnings) == 2 and "every user the token can list" in warnings[0], warnings


@pytest.mark.parametrize(
    "stream, child_request",
    [
        pytest.param("billable_rates", HarvestRequest.billable_rates, id="billable_rates"),
        pytest.param("cost_rates", HarvestRequest.cost_rates, id="cost_rates"),
    ],
)
def test_given_two_users_when_read_rates_then_rates_of_both_are_read_without_updated_since_and_carry_user_id(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_users(http_mocker, {_A_USER_ID: "2024-01-01T00:00:00Z", _AN_OLD_USER_ID: "2015-01-01T00:00:00Z"})
    given_children(http_mocker, stream, child_request(_A_USER_ID), [11])
    given_children(http_mocker, stream, child_request(_AN_OLD_USER_ID), [21, 22])

    output = read_streams(ConfigBuilder().build(), stream)

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID, 22: _AN_OLD_USER_ID}


@pytest.mark.parametrize(
    "stream, child_request",
    [
        pytest.param("billable_rates", HarvestRequest.billable_rates, id="billable_rates"),
        pytest.param("cost_rates", HarvestRequest.cost_rates, id="cost_rates"),
    ],
)
def test_given_state_when_read_rates_then_only_rates_updated_since_the_cursor_are_emitted(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    given_users(http_mocker, [_A_USER_ID, _AN_OLD_USER_ID])
    given_children(http_mocker, stream, child_request(_A_USER_ID), [11], updated_at="2023-06-01T00:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_OLD_USER_ID), [21], updated_at="2024-03-01T00:00:00Z")

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, _A_STATE))

    assert _parent_ids(output) == {21: _AN_OLD_USER_ID}


def test_given_the_current_user_is_also_listed_when_read_then_their_children_are_read_once(
    http_mocker: HttpMocker,
) -> None:
    given_users(http_mocker, [_A_USER_ID, _AN_OLD_USER_ID], current_user_id=_AN_OLD_USER_ID)
    given_children(http_mocker, "cost_rates", HarvestRequest.cost_rates(_A_USER_ID), [11])
    given_children(http_mocker, "cost_rates", HarvestRequest.cost_rates(_AN_OLD_USER_ID), [21])

    output = read_streams(ConfigBuilder().build(), "cost_rates")

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    child_reads = [request.path for request in sent_requests(http_mocker) if request.path.endswith("/cost_rates")]
    assert sorted(child_reads) == sorted(set(child_reads))


def test_given_a_member_who_cannot_list_users_when_read_rates_then_their_own_rates_are_read_with_a_warning(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(HarvestRequest.users().build(), ErrorResponse.with_status(403))
    given_current_user(http_mocker, _A_USER_ID)
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_A_USER_ID), [11, 12])

    output = read_streams(ConfigBuilder().build(), "billable_rates")

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID}
    assert not output.errors
    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN and "403" in m.log.message]
    assert warnings and "current user" in warnings[0], warnings


def test_given_project_assignments_on_two_cursor_pages_when_read_then_both_pages_are_read_for_that_user(
    http_mocker: HttpMocker,
) -> None:
    given_users(http_mocker, [_A_USER_ID])
    first_page = HarvestRequest.project_assignments(_A_USER_ID).with_updated_since(_A_START_DATE)
    second_page = (
        HarvestRequest.project_assignments(_A_USER_ID)
        .with_updated_since(_A_START_DATE)
        .with_cursor("eyJhZnRlciI6eyJpZCI6MTF9fQ")
    )
    http_mocker.get(
        first_page.build(),
        HarvestResponse.of("project_assignments")
        .with_records(records_of("project_assignments", [11]))
        .with_next_link(second_page.url())
        .build(),
    )
    given_children(http_mocker, "project_assignments", second_page, [12])

    output = read_streams(ConfigBuilder().build(), "project_assignments")

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID}


def test_given_an_administrator_who_lists_users_when_read_then_the_current_user_is_not_asked_for_separately(
    http_mocker: HttpMocker,
) -> None:
    given_parents(http_mocker, "users", [_A_USER_ID, _AN_OLD_USER_ID], updated_since=None)
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_A_USER_ID), [11])
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_AN_OLD_USER_ID), [21])

    output = read_streams(ConfigBuilder().build(), "billable_rates")

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]
