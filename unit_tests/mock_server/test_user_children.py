"""project_assignments, billable_rates and cost_rates: children of users (design decision 8).

1.2.x missed the children of users last updated before the start date, so a first sync reads every user (no
`updated_since` on /v2/users); when /v2/users gives no user (a Member's 403) the current user is the parent
(/v2/users/me, readable by every role), so a Member still gets their own records, and an Administrator makes no
extra request. Each user's children once; `parent_id` is the user id.
Every sync lists the users in full (cached between the three streams), and a user's child list is read in full
(no `updated_since`) and emitted in full. Rates change without touching the user and no change signal is known:
every user on every sync. A project assignment is a user assignment seen from its user (same id, same updated_at):
a later sync lists every user assignment and reads the project assignments of the users with one updated since the
child cursor (or gone from that list: test_child_deletions.py), and of every user when that list is forbidden (a
Member's 403) or the state knows no project assignments yet.
"""

from __future__ import annotations

import pytest
from airbyte_cdk.models import Level
from airbyte_cdk.test.mock_http import HttpMocker

from components import HarvestKnownIds

from .config import ConfigBuilder
from .helpers import (
    assert_harvest_headers_on_every_request,
    child_state,
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


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def test_given_two_users_when_read_project_assignments_then_assignments_of_both_carry_their_user_id(
    http_mocker: HttpMocker,
) -> None:
    given_users(http_mocker, {_A_USER_ID: "2024-01-01T00:00:00Z", _AN_OLD_USER_ID: "2015-01-01T00:00:00Z"})
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11, 12])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_AN_OLD_USER_ID), [21])

    output = read_streams(ConfigBuilder().build(), "project_assignments")

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert not output.errors
    assert_harvest_headers_on_every_request(http_mocker)


def _given_user_assignments(http_mocker: HttpMocker, assignments: dict[int, tuple[int, str]]) -> None:
    """GET /v2/user_assignments, the whole list (no `updated_since`): assignment id -> (user id, updated_at)."""
    response = HarvestResponse.of("user_assignments")
    for assignment_id, (user_id, updated_at) in assignments.items():
        response = response.with_records(
            records_of("user_assignments", [assignment_id], updated_at=updated_at, user={"id": user_id})
        )
    http_mocker.get(HarvestRequest.user_assignments().build(), response.build())


def _paths(http_mocker: HttpMocker) -> list[str]:
    return sorted(request.path for request in sent_requests(http_mocker))


def test_given_first_sync_when_read_project_assignments_then_every_user_is_read_and_no_user_assignment_list(
    http_mocker: HttpMocker,
) -> None:
    given_parents(http_mocker, "users", [_A_USER_ID, _AN_OLD_USER_ID])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_AN_OLD_USER_ID), [21])

    output = read_streams(ConfigBuilder().build(), "project_assignments")

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert _paths(http_mocker) == [
        "/v2/users",
        f"/v2/users/{_A_USER_ID}/project_assignments",
        f"/v2/users/{_AN_OLD_USER_ID}/project_assignments",
    ]


# cursor 2024-02-01T00:00:00Z minus the last sync's 30 s (lookback_window) minus the 60 s lookback
_CHANGED = "2024-01-31T23:58:30Z"
_UNCHANGED = "2024-01-31T23:58:29Z"


def test_given_state_when_read_project_assignments_then_only_users_with_changed_user_assignments_are_read(
    http_mocker: HttpMocker,
) -> None:
    _given_user_assignments(
        http_mocker,
        {
            11: (_A_USER_ID, _CHANGED),
            12: (_A_USER_ID, _UNCHANGED),
            21: (_AN_OLD_USER_ID, _UNCHANGED),
            31: (_A_NEW_USER_ID, "2024-02-02T00:00:00Z"),
        },
    )
    given_users(http_mocker, [_A_USER_ID, _AN_OLD_USER_ID, _A_NEW_USER_ID])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11, 12])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_NEW_USER_ID), [31])
    known = {11: _A_USER_ID, 12: _A_USER_ID, 21: _AN_OLD_USER_ID}
    state = child_state(None, "2024-02-01T00:00:00Z", known, lookback_window=30)

    output = read_streams(ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", state))

    assert _parent_ids(output) == {11: _A_USER_ID, 12: _A_USER_ID, 31: _A_NEW_USER_ID}
    assert not output.errors
    assert _paths(http_mocker) == [
        "/v2/user_assignments",
        "/v2/users",
        f"/v2/users/{_A_USER_ID}/project_assignments",
        f"/v2/users/{_A_NEW_USER_ID}/project_assignments",
    ]
    # no parent cursor: the child cursor is the one position; the known children now include the new user's
    parent_state = output.most_recent_state.stream_state.__dict__["parent_state"]
    assert parent_state == {"known_ids": HarvestKnownIds({**known, 31: _A_NEW_USER_ID}).to_state()}


def test_given_state_and_no_changed_user_assignment_when_read_project_assignments_then_no_user_is_read(
    http_mocker: HttpMocker,
) -> None:
    _given_user_assignments(http_mocker, {11: (_A_USER_ID, _UNCHANGED)})
    given_users(http_mocker, [_A_USER_ID])
    state = child_state(None, "2024-02-01T00:00:00Z", {11: _A_USER_ID}, lookback_window=30)

    output = read_streams(ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", state))

    assert output.records == []
    assert not output.errors
    assert _paths(http_mocker) == ["/v2/user_assignments", "/v2/users"]


def test_given_a_state_that_knows_no_children_when_read_project_assignments_then_every_user_is_read(
    http_mocker: HttpMocker,
) -> None:
    # the state 2.1.0 saved: which project assignments each user has is not known yet, so no user assignment list
    given_users(http_mocker, [_A_USER_ID, _AN_OLD_USER_ID])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_AN_OLD_USER_ID), [21])
    state = child_state(None, "2024-02-01T00:00:00Z", None)

    output = read_streams(ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", state))

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert "/v2/user_assignments" not in _paths(http_mocker)


def test_given_state_and_a_member_when_read_project_assignments_then_their_own_are_read_with_warnings(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(HarvestRequest.user_assignments().build(), ErrorResponse.with_status(403))
    http_mocker.get(HarvestRequest.users().build(), ErrorResponse.with_status(403))
    given_current_user(http_mocker, _A_USER_ID)
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    state = child_state(None, "2024-02-01T00:00:00Z", {11: _A_USER_ID})

    output = read_streams(ConfigBuilder().build(), "project_assignments", state=state_for("project_assignments", state))

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
def test_given_state_when_read_rates_then_every_rate_of_every_user_is_read_and_emitted_again(
    stream: str, child_request, http_mocker: HttpMocker
) -> None:
    # no change signal for rates: every user's list is read in full each sync, and a list read is emitted in full
    given_users(http_mocker, [_A_USER_ID, _AN_OLD_USER_ID])
    given_children(http_mocker, stream, child_request(_A_USER_ID), [11], updated_at="2023-06-01T00:00:00Z")
    given_children(http_mocker, stream, child_request(_AN_OLD_USER_ID), [21], updated_at="2024-03-01T00:00:00Z")
    state = child_state(None, "2024-02-01T00:00:00Z", {11: _A_USER_ID, 21: _AN_OLD_USER_ID})

    output = read_streams(ConfigBuilder().build(), stream, state=state_for(stream, state))

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert not output.errors
    assert output.most_recent_state.stream_state.__dict__["state"] == {"updated_at": "2024-03-01T00:00:00Z"}


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
    first_page = HarvestRequest.project_assignments(_A_USER_ID)
    second_page = HarvestRequest.project_assignments(_A_USER_ID).with_cursor("eyJhZnRlciI6eyJpZCI6MTF9fQ")
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
    given_parents(http_mocker, "users", [_A_USER_ID, _AN_OLD_USER_ID])
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_A_USER_ID), [11])
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_AN_OLD_USER_ID), [21])

    output = read_streams(ConfigBuilder().build(), "billable_rates")

    assert _parent_ids(output) == {11: _A_USER_ID, 21: _AN_OLD_USER_ID}
    assert "/v2/users/me" not in [request.path for request in sent_requests(http_mocker)]


def test_given_the_three_user_children_when_read_together_then_the_user_list_is_requested_once(
    http_mocker: HttpMocker,
) -> None:
    given_parents(http_mocker, "users", [_A_USER_ID])
    given_children(http_mocker, "project_assignments", HarvestRequest.project_assignments(_A_USER_ID), [11])
    given_children(http_mocker, "billable_rates", HarvestRequest.billable_rates(_A_USER_ID), [21])
    given_children(http_mocker, "cost_rates", HarvestRequest.cost_rates(_A_USER_ID), [31])

    output = read_streams(ConfigBuilder().build(), "project_assignments", "billable_rates", "cost_rates")

    assert sorted(record.record.stream for record in output.records) == [
        "billable_rates",
        "cost_rates",
        "project_assignments",
    ]
    assert not output.errors
    assert [request.path for request in sent_requests(http_mocker)].count("/v2/users") == 1
