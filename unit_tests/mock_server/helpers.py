"""Arrange helpers: `given_*` register the mocks of a parent read and return the ids they serve."""

from __future__ import annotations

from typing import Any

from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.mock_http.response_builder import FieldPath

from .request_builder import HarvestRequest
from .response_builder import HarvestRecord, HarvestResponse

_EPOCH = "1970-01-01T00:00:00Z"


def sent_requests(mocker: HttpMocker) -> list[Any]:
    """Every request the connector sent during the test, in order (requests-mock's history)."""
    return list(mocker._mocker.request_history)


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
    ids: list[int],
    updated_since: str | None = _EPOCH,
    state_filter: str | None = None,
    updated_at: str = "2024-01-10T10:00:00Z",
) -> list[int]:
    """Mocks one page of `parent` (invoices, estimates, users) holding `ids`, as the connector asks for it."""
    request = HarvestRequest.endpoint(parent)
    if updated_since is not None:
        request = request.with_updated_since(updated_since)
    if state_filter is not None:
        request = request.with_state(state_filter)
    http_mocker.get(
        request.build(), HarvestResponse.of(parent).with_records(records_of(parent, ids, updated_at)).build()
    )
    return ids


def given_invoices(
    http_mocker: HttpMocker, ids: list[int] | dict[int, str], updated_since: str = _EPOCH, **kwargs: Any
) -> list[int]:
    return given_parents(http_mocker, "invoices", ids, updated_since, **kwargs)


def given_estimates(
    http_mocker: HttpMocker, ids: list[int] | dict[int, str], updated_since: str = _EPOCH, **kwargs: Any
) -> list[int]:
    return given_parents(http_mocker, "estimates", ids, updated_since, **kwargs)


def given_invoices_in_state(http_mocker: HttpMocker, state: str, ids: list[int]) -> list[int]:
    return given_parents(http_mocker, "invoices", ids, updated_since=None, state_filter=state)


def given_estimates_in_state(http_mocker: HttpMocker, state: str, ids: list[int]) -> list[int]:
    return given_parents(http_mocker, "estimates", ids, updated_since=None, state_filter=state)


def given_users(
    http_mocker: HttpMocker, ids: list[int] | dict[int, str], updated_at: str = "2015-01-01T00:00:00Z"
) -> list[int]:
    """All users, whatever their updated_at (no updated_since): children of every user are read."""
    return given_parents(http_mocker, "users", ids, updated_since=None, updated_at=updated_at)


def given_children(
    http_mocker: HttpMocker,
    child: str,
    request: HarvestRequest,
    ids: list[int],
    updated_at: str = "2024-01-10T10:00:00Z",
) -> list[int]:
    http_mocker.get(request.build(), HarvestResponse.of(child).with_records(records_of(child, ids, updated_at)).build())
    return ids
