"""Arrange helpers: `given_*` register the mocks of a parent read and return the ids they serve."""

from __future__ import annotations

import re
from typing import Any

from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.mock_http.response_builder import FieldPath, RecordBuilder

from components import HarvestKnownIds

from .config import _A_TOKEN, _AN_ACCOUNT_ID
from .request_builder import HarvestRequest
from .response_builder import HarvestRecord, HarvestResponse, json_response


def sent_requests(mocker: HttpMocker) -> list[Any]:
    """Every request the connector sent during the test, in order (requests-mock's history)."""
    return list(mocker._mocker.request_history)


# product/version plus a contact URL or e-mail address, as Harvest asks of every client
DESCRIPTIVE_USER_AGENT = re.compile(r"^\S+/\d+(\.\d+)* \(.*(https?://|@)\S+.*\)$")


def assert_harvest_headers_on_every_request(
    mocker: HttpMocker, token: str = _A_TOKEN, account_id: str = _AN_ACCOUNT_ID
) -> None:
    """Harvest-Account-Id, a descriptive User-Agent and the bearer token on every request sent to the API."""
    requests = sent_requests(mocker)
    assert requests
    for request in requests:
        assert request.headers.get("Harvest-Account-Id") == account_id, request.url
        assert request.headers.get("Authorization") == f"Bearer {token}", request.url
        assert DESCRIPTIVE_USER_AGENT.match(request.headers.get("User-Agent", "")), request.headers.get("User-Agent")


def records_of(stream: str, ids: list[int], updated_at: str = "2024-01-10T10:00:00Z", **fields: Any) -> list[Any]:
    builders = []
    for record_id in ids:
        builder = HarvestRecord.of(stream).with_id(record_id).with_cursor(updated_at)
        for name, value in fields.items():
            builder = builder.with_field(_path(name), value)
        builders.append(builder)
    return builders


def _path(name: str) -> FieldPath:
    return FieldPath(name)


def given_parents(
    http_mocker: HttpMocker,
    parent: str,
    ids: list[int] | dict[int, str],
    updated_at: str = "2024-01-10T10:00:00Z",
    **fields: Any,
) -> list[int]:
    """Mocks one page of `parent` (invoices, estimates, users) holding `ids`, as the connector asks for it: the whole
    list, no `updated_since` (a child stream reads its parent list in full, once per sync).

    `ids` is a list (all updated at `updated_at`) or a mapping id -> updated_at; `fields` are set on every parent
    (`state="paid"`).
    """
    request = HarvestRequest.endpoint(parent)
    updated = ids if isinstance(ids, dict) else dict.fromkeys(ids, updated_at)
    response = HarvestResponse.of(parent)
    for parent_id, parent_updated_at in updated.items():
        response = response.with_records(records_of(parent, [parent_id], parent_updated_at, **fields))
    http_mocker.get(request.build(), response.build())
    return list(updated)


def a_parent(parent: str, parent_id: int, updated_at: str, state: str) -> RecordBuilder:
    """One invoice or estimate as its list shows it: what the child streams pick parents by."""
    return records_of(parent, [parent_id], updated_at, state=state)[0]


def given_parent_list(http_mocker: HttpMocker, parent: str, parents: list[RecordBuilder]) -> list[int]:
    """The whole list of `parent` (no `updated_since`) on one page, holding `parents` (built with `a_parent`)."""
    response = HarvestResponse.of(parent).with_records(parents)
    http_mocker.get(HarvestRequest.endpoint(parent).build(), response.build())
    return [parent.build()["id"] for parent in parents]


def given_invoices(http_mocker: HttpMocker, ids: list[int] | dict[int, str], **kwargs: Any) -> list[int]:
    return given_parents(http_mocker, "invoices", ids, **kwargs)


def given_estimates(http_mocker: HttpMocker, ids: list[int] | dict[int, str], **kwargs: Any) -> list[int]:
    return given_parents(http_mocker, "estimates", ids, **kwargs)


def child_state(
    parent_cursor_name: str | None,
    child_cursor: str,
    known: dict[int, int] | None,
    parent_cursor: str | None = None,
    lookback_window: int = 0,
) -> dict[str, Any]:
    """A child stream's state as a sync of this connector saves it: the global child cursor, the seconds the sync
    took, the parent cursor (`parent_state.<invoices|estimates>`) and each known child with its parent (`known`,
    child id -> parent id; None: a state saved before children were known)."""
    parent_state: dict[str, Any] = {}
    if parent_cursor_name and parent_cursor:
        parent_state[parent_cursor_name] = {"updated_at": parent_cursor}
    if known is not None:
        parent_state["known_ids"] = HarvestKnownIds(dict(known)).to_state()
    return {
        "use_global_cursor": True,
        "state": {"updated_at": child_cursor},
        "lookback_window": lookback_window,
        "parent_state": parent_state,
    }


def given_users(
    http_mocker: HttpMocker,
    ids: list[int] | dict[int, str],
    updated_at: str = "2015-01-01T00:00:00Z",
    current_user_id: int | None = None,
) -> list[int]:
    """All users, whatever their updated_at (no updated_since): the parents of the user children.

    /v2/users/me (the current user, by default the first listed) may also be asked: whether it is when /v2/users
    already lists users is the connector's choice, so here it is answered without being required. A test about the
    current user as a parent (a Member's 403 on /v2/users) requires it with `given_current_user`.
    """
    parent_ids = given_parents(http_mocker, "users", ids, updated_at=updated_at)
    me = current_user_id if current_user_id is not None else parent_ids[0]
    user = HarvestRecord.of("users").with_id(me).build()
    http_mocker._mocker.get(HarvestRequest.users_me().url(), json=user)  # optional: not counted by HttpMocker
    return parent_ids


def given_current_user(http_mocker: HttpMocker, user_id: int) -> int:
    """GET /v2/users/me: the token's own user, a bare User object, readable by every role (must be requested)."""
    user = HarvestRecord.of("users").with_id(user_id).build()
    http_mocker.get(HarvestRequest.users_me().build(), json_response(user))
    return user_id


def given_children(
    http_mocker: HttpMocker,
    child: str,
    request: HarvestRequest,
    ids: list[int],
    updated_at: str = "2024-01-10T10:00:00Z",
) -> list[int]:
    http_mocker.get(request.build(), HarvestResponse.of(child).with_records(records_of(child, ids, updated_at)).build())
    return ids


def given_failure_then_response(
    mocker: HttpMocker, request: HarvestRequest, failure: type[Exception], response: HttpResponse
) -> None:
    """The first call of `request` fails in transit (timeout, connection reset), the next one answers `response`.

    HttpResponse cannot express a transport failure, so this registers on HttpMocker's underlying requests-mock
    (exact URL and query, as every other mock); the test checks the number of calls itself.
    """
    mocker._mocker.get(
        request.url(),
        complete_qs=True,
        response_list=[{"exc": failure}, {"text": response.body, "status_code": response.status_code}],
    )


def given_scope_read(
    http_mocker: HttpMocker, stream: str, ids: list[int], spent_since: str | None = None, **fields: Any
) -> list[int]:
    """Mocks the reconciliation read of an entity stream: one page of `ids`, asked without `updated_since` (time
    entries and expenses: the one listing of their history from a state without one, `from=<spent_since>`)."""
    request = HarvestRequest.endpoint(stream)
    if spent_since is not None:
        request = request.with_query_param("from", spent_since)
    http_mocker.get(request.build(), HarvestResponse.of(stream).with_records(records_of(stream, ids, **fields)).build())
    return ids


def given_administrator(http_mocker: HttpMocker, user_id: int = 1) -> None:
    """GET /v2/users/me answers a user with the administrator role (asked before a deletion is confirmed)."""
    user = HarvestRecord.of("users").with_id(user_id).with_field(FieldPath("access_roles"), ["administrator"]).build()
    http_mocker.get(HarvestRequest.users_me().build(), json_response(user))
