"""Responses built from one realistic template per endpoint (unit_tests/resource/http/response/<stream>.json).

The templates are Harvest's documented example envelopes. A test sets only what it asserts on:
`HarvestResponse.of("clients").with_record(HarvestRecord.of("clients").with_id(1)).with_next_link(url).build()`.
Next links are written by one strategy, `HarvestNextLink`, the way Harvest writes them (`links.next` plus the
page counters).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from airbyte_cdk.test.mock_http import HttpResponse
from airbyte_cdk.test.mock_http.response_builder import (
    FieldPath,
    PaginationStrategy,
    RecordBuilder,
    create_record_builder,
    create_response_builder,
    find_template,
)

# Envelope key of each stream's endpoint (reports answer under `results`).
REPORT_STREAMS = {
    "expenses_categories": "expenses/categories",
    "expenses_clients": "expenses/clients",
    "expenses_projects": "expenses/projects",
    "expenses_team": "expenses/team",
    "time_clients": "time/clients",
    "time_projects": "time/projects",
    "time_tasks": "time/tasks",
    "time_team": "time/team",
    "uninvoiced": "uninvoiced",
}


def data_key_of(stream: str) -> str:
    return "results" if stream in REPORT_STREAMS or stream == "project_budget" else stream


@cache
def _template(resource: str) -> Any:
    return find_template(resource, __file__)


def template(resource: str) -> Any:
    """A fresh copy of the endpoint's template (the builders mutate what they are given)."""
    return copy.deepcopy(_template(resource))


class HarvestNextLink(PaginationStrategy):
    """Writes Harvest's pagination markers: `links.next` as given, and the page counters of a first page."""

    def __init__(self, next_url: str) -> None:
        self._next_url = next_url

    def update(self, response: dict[str, Any]) -> None:
        response.setdefault("links", {})["next"] = self._next_url
        response["next_page"] = 2
        response["total_pages"] = max(int(response.get("total_pages") or 1), 2)


class HarvestRecord:
    """Record builders over the first record of the endpoint's template; id and cursor (`updated_at`) paths set."""

    @staticmethod
    def of(stream: str) -> RecordBuilder:
        data_key = data_key_of(stream)
        has_id = data_key != "results"
        return create_record_builder(
            template(stream),
            FieldPath(data_key),
            record_id_path=FieldPath("id") if has_id else None,
            record_cursor_path=FieldPath("updated_at") if has_id else None,
        )


class HarvestResponse:
    """A list envelope under the stream's key, with the records a test adds (none: an empty page)."""

    def __init__(self, stream: str) -> None:
        self._stream = stream
        self._records: list[RecordBuilder] = []
        self._next_url: str | None = None
        self._status_code = 200
        self._total_entries: int | None = None

    @classmethod
    def of(cls, stream: str) -> HarvestResponse:
        return cls(stream)

    def with_record(self, record: RecordBuilder) -> HarvestResponse:
        self._records.append(record)
        return self

    def with_records(self, records: list[RecordBuilder]) -> HarvestResponse:
        self._records.extend(records)
        return self

    def with_next_link(self, next_url: str) -> HarvestResponse:
        self._next_url = next_url
        return self

    def with_status_code(self, status_code: int) -> HarvestResponse:
        self._status_code = status_code
        return self

    def with_total_entries(self, total_entries: int) -> HarvestResponse:
        """The envelope's `total_entries`: how many records the request's filters match (what a count reads)."""
        self._total_entries = total_entries
        return self

    def build(self) -> HttpResponse:
        builder = create_response_builder(
            template(self._stream),
            FieldPath(data_key_of(self._stream)),
            HarvestNextLink(self._next_url) if self._next_url else None,
        )
        for record in self._records:
            builder.with_record(record)
        if self._next_url:
            builder.with_pagination()
        built = builder.with_status_code(self._status_code).build()
        body = built.body
        if self._total_entries is not None:
            envelope = json.loads(body)
            envelope["total_entries"] = self._total_entries
            body = json.dumps(envelope)
        return HttpResponse(body, built.status_code, _JSON_HEADERS)


_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def company_response(**fields: Any) -> HttpResponse:
    """GET /v2/company: one bare object, no envelope."""
    body = template("company")
    body.update(fields)
    return HttpResponse(json.dumps(body), 200, {"Content-Type": "application/json; charset=utf-8"})


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        json.dumps(body), status_code, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )


class ErrorResponse:
    """Harvest's error answers, from the 401/403/404/422 templates and the HTML 429 page."""

    @staticmethod
    def with_status(status_code: int, headers: dict[str, str] | None = None) -> HttpResponse:
        if status_code == 429:
            body = _raw_template("429.html")
            return HttpResponse(body, 429, {"Content-Type": "text/html", **(headers or {})})
        if status_code >= 500:
            return HttpResponse(
                "<html><body>Internal Server Error</body></html>", status_code, {"Content-Type": "text/html"}
            )
        return json_response(template(str(status_code)), status_code, headers)


def _raw_template(name: str) -> str:
    from airbyte_cdk.test.utils.data import read_resource_file_contents

    return read_resource_file_contents(name, __file__)


def oauth_token_response(
    access_token: str, refresh_token: str | None = None, expires_in: int = 1209600
) -> HttpResponse:
    body = template("oauth_token")
    body["access_token"] = access_token
    body["expires_in"] = expires_in
    if refresh_token is None:
        body.pop("refresh_token")
    else:
        body["refresh_token"] = refresh_token
    return json_response(body)
