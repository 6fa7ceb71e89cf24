"""Custom components of the Harvest source: only what the declarative manifest cannot express.

Every class is a small dataclass on a CDK base, referenced from manifest.yaml as
`source_declarative_manifest.components.<Class>` (the name the `source-declarative-manifest` image registers;
unit tests and the `source-harvest` command fall back to the plain `components` module).
None of them makes an HTTP call of its own.

No `from __future__ import annotations` here: the Connector Builder, manifest-server, PyAirbyte and the standard
tests exec() this file before registering it as a module, and dataclasses cannot resolve string annotations then.
"""

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

LOGGER = logging.getLogger("airbyte")
DEFAULT_API_URL = "https://api.harvestapp.com"
REPORT_DATE_FORMAT = "%Y%m%d"
CURSOR_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --------------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestEnvelopeExtractor(RecordExtractor):
    """Takes the records out of Harvest's list envelope, and fails loudly when the envelope is not there.

    A silent zero is worse than a failed stream: a proxy page, a renamed key or an HTML error page with status 200
    must never look like "no data". With an empty `data_key` the whole body is the one record (`GET /company`).

    Example, `data_key="users"`:
        `{"users": [{"id": 1}], "links": {...}}` -> `{"id": 1}`
        `{"message": "maintenance"}`            -> AirbyteTracedException "... has no `users` key ..."
        `<html>...`                             -> AirbyteTracedException "... is not JSON ..."
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    data_key: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._data_key = InterpolatedString.create(self.data_key or "", parameters=parameters).eval(self.config)

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = _json_body(response)
        if not self._data_key:
            if not isinstance(body, dict):
                raise _unexpected_body(response, "is not a JSON object")
            yield body
            return
        if not isinstance(body, dict) or self._data_key not in body:
            raise _unexpected_body(response, f"has no `{self._data_key}` key")
        records = body[self._data_key]
        if not isinstance(records, list):
            raise _unexpected_body(response, f"has a `{self._data_key}` that is not a list")
        yield from records


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, requests.exceptions.JSONDecodeError, ValueError) as error:
        raise _unexpected_body(response, f"is not JSON ({error})") from error


def _unexpected_body(response: requests.Response, problem: str) -> AirbyteTracedException:
    path = urlsplit(response.url or "").path
    message = f"Harvest's answer to {path} {problem}; refusing to treat it as an empty result."
    return AirbyteTracedException(
        message=message,
        internal_message=f"{message} Body starts with: {response.text[:200]!r}",
        failure_type=FailureType.system_error,
    )


@dataclass
class HarvestEndDateFilter(RecordFilter):
    """Drops the records updated after `replication_end_date`; without an end date every record is kept unchecked.

    Harvest has no `updated_before`, so the end date bounds the entity streams on the client side. The config is
    read once per page and `updated_at` is compared as a string (Harvest's fixed `%Y-%m-%dT%H:%M:%SZ` sorts like the
    instant it names), with no template rendered per record.

    Example, `replication_end_date="2024-06-01T00:00:00Z"`:
        {"id": 1, "updated_at": "2024-05-31T23:59:59Z"} -> kept
        {"id": 2, "updated_at": "2024-06-01T00:00:00Z"} -> kept (the end date is inclusive)
        {"id": 3, "updated_at": "2024-06-01T00:00:01Z"} -> dropped
    Without `replication_end_date` (absent, null or ""): every record is kept.
    """

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        end = self.config.get("replication_end_date")
        if not end:
            yield from records
            return
        for record in records:
            if record["updated_at"] <= end:
                yield record


# --------------------------------------------------------------------------------------------------------------------
# Transformations
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestParentId(RecordTransformation):
    """Adds the parent's id (an integer) to each child record, from the partition the record was read for.

    Example, partition {"id": 12, "parent_slice": {}} (the child of invoice 12):
        {"id": 5, "amount": 10.0} -> {"id": 5, "amount": 10.0, "parent_id": 12}
    """

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        if stream_slice is None:
            raise ValueError("HarvestParentId needs the partition of the parent the record was read for")
        record["parent_id"] = int(stream_slice.partition["id"])


@dataclass
class HarvestReportWindow(RecordTransformation):
    """Adds the report window to each report row: `from` and `to`, the strings sent as the request's query params.

    Example, cursor slice {"start_time": "20240315", "end_time": "20250314"}:
        {"client_id": 7, "total_hours": 3.5} -> {"client_id": 7, "total_hours": 3.5, "from": "20240315", "to": "20250314"}
    """

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        if stream_slice is None:
            raise ValueError("HarvestReportWindow needs the report window the record was read for")
        interval = stream_slice.cursor_slice
        record["from"] = str(interval["start_time"])
        record["to"] = str(interval["end_time"])


# --------------------------------------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestNextLinkHostGuard(PaginationStrategy):
    """Follows Harvest's `links.next` exactly as given, but only on the configured API host.

    Harvest mixes page and cursor pagination, so the link is the only correct next request. The link is used as the
    whole next URL (with `page_token_option: RequestPath`), and the bearer token goes with it: a link to any other
    scheme or host is refused, so the token never leaves Harvest.

    Example, `api_url="https://api.harvestapp.com"`:
        `{"links": {"next": "https://api.harvestapp.com/v2/users?cursor=abc&per_page=2000"}}` -> that URL
        `{"links": {"next": null}}`                                                          -> None (last page)
        `{"links": {"next": "https://evil.example/v2/users?page=2"}}`                          -> AirbyteTracedException
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    api_url: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        api_url = InterpolatedString.create(self.api_url or "", parameters=parameters).eval(self.config)
        self._allowed = _origin(str(api_url or DEFAULT_API_URL))

    @property
    def initial_token(self) -> Any | None:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        body = _json_body(response)
        links = body.get("links") if isinstance(body, dict) else None
        next_link = links.get("next") if isinstance(links, dict) else None
        if not next_link:
            return None
        if _origin(str(next_link)) != self._allowed:
            raise AirbyteTracedException(
                message=(
                    f"Harvest returned a next-page link to {_origin(str(next_link))}, not to the configured API host "
                    f"{self._allowed}; the sync stops rather than send the access token elsewhere."
                ),
                failure_type=FailureType.system_error,
            )
        return next_link

    def get_page_size(self) -> int | None:
        return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# --------------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestErrorHandler(DefaultErrorHandler):
    """The manifest's DefaultErrorHandler, plus a WARNING for every response it decides to skip.

    The CDK logs skipped (IGNORE) responses at INFO, which nobody reads; a stream that yields nothing because the
    Harvest role lacks a permission must say so where people look. The message is the response filter's own
    `error_message` (it names the stream and the role or feature it needs).

    With OAuth credentials, a 401 first refreshes the access token and retries (once); a personal access token
    fails at once, with the manifest's message.

    With `raise_on_ignore: true` (a parent read that its partition router can replace, e.g. the list of changed
    user assignments), a skipped response raises HarvestSkippedRead after the WARNING: an empty list would mean
    "nothing changed", a 403 means "cannot tell", and only the router knows what to read instead.

    Example: a 403 on /v2/users matched by `{http_codes: [403], action: IGNORE, error_message: "users: ..."}`
        -> ErrorResolution(IGNORE) and a WARNING log "users: Harvest answered 403 Forbidden; ..." (once per message)
             a 401 under `auth_type: Client` -> ErrorResolution(REFRESH_TOKEN_THEN_RETRY, config_error)
             the 403 with `raise_on_ignore: true` -> the same WARNING, then HarvestSkippedRead
    """

    raise_on_ignore: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE:
            if resolution.error_message:
                self._warn_once(resolution.error_message)
            if self.raise_on_ignore:
                raise HarvestSkippedRead(resolution.error_message or "Harvest's answer was skipped")
        if (
            resolution.response_action == ResponseAction.FAIL
            and isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code == 401
            and self._uses_oauth()
        ):
            # An OAuth access token can expire between being read and arriving: refresh it and retry once. The CDK
            # refreshes at most once per request, so a token that is rejected again still fails as a config error.
            return ErrorResolution(
                response_action=ResponseAction.REFRESH_TOKEN_THEN_RETRY,
                failure_type=FailureType.config_error,
                error_message=resolution.error_message,
            )
        return resolution

    def _uses_oauth(self) -> bool:
        credentials = self.config.get("credentials") if isinstance(self.config, Mapping) else None
        return isinstance(credentials, Mapping) and credentials.get("auth_type") == "Client"

    def _warn_once(self, message: str) -> None:
        # One handler serves one stream (or one child stream's parent read): a forbidden report is asked once per
        # window, but the reader needs to be told once.
        with self._warned_lock:
            if message in self._warned:
                return
            self._warned.add(message)
        LOGGER.warning(message)


class HarvestSkippedRead(AirbyteTracedException):
    """Raised by HarvestErrorHandler (`raise_on_ignore: true`) for a skipped response; caught by the partition
    router that made the read (HarvestUniqueParentPartitionRouter's `changes`), which then reads every parent.
    Escaping, it fails the stream: that would be a manifest error, never a silent zero."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message, failure_type=FailureType.system_error)


# --------------------------------------------------------------------------------------------------------------------
# Child streams
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestUniqueParentPartitionRouter(PartitionRouter):
    """Reads the parents of several parent reads once each, and skips the extra reads on a first sync.

    `router` is a SubstreamPartitionRouter whose FIRST parent config is the incremental read (parents updated since
    the last sync, `incremental_dependency: true`) and whose other configs read the parents that can gain children
    without changing (open invoices, sent estimates: reminders, views). An invoice that is open AND was updated
    comes back from two reads; its children must be read once. On a first sync (no saved parent state) the first
    read already returns every parent, so the other reads would only cost requests and are skipped.

    Example: updated read -> ids 1, 2; open read -> ids 2, 3   => partitions {"id": 1}, {"id": 2}, {"id": 3}
             first sync: updated read -> ids 1, 2, 3, 4          => the open/draft reads are never requested

    With `extra_reads_only_when_first_is_empty: true` the other reads are fallbacks, made only when the first read
    returned no parent at all (on every sync, first or not). Users: /v2/users returns at least the token's own user
    unless it is forbidden (403 for a Member, skipped with a WARNING), so only then is the current user read
    (/v2/users/me, readable by every role) and a Member still gets their own rates.

    Example: users read -> ids 1, 2          => partitions {"id": 1}, {"id": 2}; /v2/users/me is never requested
             users read -> 403 (no ids)      => /v2/users/me -> id 9 => partition {"id": 9}

    With `changes` (a SubstreamPartitionRouter over ONE incremental read whose records name a parent, e.g.
    `/v2/user_assignments?updated_since=...` with `parent_key: user/id`), a later sync reads only the parents it
    names, and `router` only on a first sync (the change read has no saved position) or when the change list is
    forbidden (HarvestSkippedRead: a Member's 403 must not look like "nothing changed"). Its
    `incremental_dependency: true` makes the CDK seed it from the child's state (HarvestParentStateFromChildCursor);
    its position is never saved, so the child cursor stays the one truth.

    Example: later sync, user assignments of users 2, 2, 5 changed => partitions {"id": 2}, {"id": 5}; no users read
             later sync, nothing changed                          => no partition, no users read
             later sync, the change list answers 403              => router: /v2/users 403 -> /v2/users/me -> 9
    """

    router: SubstreamPartitionRouter
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    changes: SubstreamPartitionRouter | None = None
    first_read_start: str = "1970-01-01T00:00:00Z"
    skip_extra_reads_on_first_sync: bool = True
    extra_reads_only_when_first_is_empty: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._read_changes_only = self.changes is not None and not _is_unsaved_cursor(
            self.changes.parent_stream_configs[0].stream.cursor.state, self.first_read_start
        )
        first, *others = self.router.parent_stream_configs
        # Built from the child's saved `parent_state`; without one, the parent cursor sits at its start datetime.
        self._is_first_sync = self.skip_extra_reads_on_first_sync and _is_unsaved_cursor(
            first.stream.cursor.state, self.first_read_start
        )
        self._first_read_only = SubstreamPartitionRouter(
            parent_stream_configs=[first], config=self.config, parameters=parameters
        )
        self._extra_reads_only = (
            SubstreamPartitionRouter(parent_stream_configs=others, config=self.config, parameters=parameters)
            if others
            else None
        )

    def stream_slices(self) -> Iterable[StreamSlice]:
        yield from _unique_partitions(self._slices())

    def _slices(self) -> Iterable[StreamSlice]:
        if self._read_changes_only and self.changes is not None:
            try:
                yield from self.changes.stream_slices()
                return
            except HarvestSkippedRead:
                pass  # forbidden, and the WARNING is logged: read every parent, as on a first sync
        if self._is_first_sync:
            yield from self._first_read_only.stream_slices()
        elif self.extra_reads_only_when_first_is_empty:
            first_is_empty = True
            for stream_slice in self._first_read_only.stream_slices():
                first_is_empty = False
                yield stream_slice
            if first_is_empty and self._extra_reads_only:
                yield from self._extra_reads_only.stream_slices()
        else:
            yield from self.router.stream_slices()

    def get_stream_state(self) -> Mapping[str, StreamState] | None:
        return self.router.get_stream_state()

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}


def _unique_partitions(slices: Iterable[StreamSlice]) -> Iterable[StreamSlice]:
    """Each partition once: a parent can come back from two reads (open AND updated), or twice from one."""
    seen: set[str] = set()
    for stream_slice in slices:
        key = json.dumps(stream_slice.partition, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            yield stream_slice


def _is_unsaved_cursor(state: Any, start: str) -> bool:
    """True when a parent cursor state carries no saved position: empty, or only its start datetime.

    Example: {} -> True; {"updated_at": "1970-01-01T00:00:00Z"} -> True; {"updated_at": "2024-05-01T00:00:00Z"} -> False
    """
    if not isinstance(state, Mapping) or not state:
        return True
    values = [value for value in state.values() if isinstance(value, str)]
    return all(value <= start for value in values)


# --------------------------------------------------------------------------------------------------------------------
# State migrations (state saved by source-harvest 1.2.x)
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestLegacyChildStateMigration(StateMigration):
    """Turns a 1.2.x per-partition child state into this connector's global child state.

    1.2.x kept one cursor per parent and re-read every parent each sync; this connector keeps one cursor for the
    stream (children are asked `updated_since` it) and remembers how far the parents were read (`parent_state`), so
    the next sync reads only the parents updated since then, plus those that can still gain children.
    The newest child cursor becomes both; the CDK's own lookback (seconds the last sync took) is kept.

    Example, `parent_stream="invoices"`:
        {"states": [{"partition": {"id": 1, "parent_slice": {}}, "cursor": {"updated_at": "2024-01-01T00:00:00Z"}},
                    {"partition": {"id": 2, "parent_slice": {}}, "cursor": {"updated_at": "2024-03-01T00:00:00Z"}}],
         "state": {"updated_at": "2024-03-01T00:00:00Z"}, "lookback_window": 12}
        -> {"use_global_cursor": True, "state": {"updated_at": "2024-03-01T00:00:00Z"}, "lookback_window": 12,
            "parent_state": {"invoices": {"updated_at": "2024-03-01T00:00:00Z"}}}
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = "updated_at"
    parent_stream: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if not stream_state:
            return False
        if stream_state.get("use_global_cursor") is True:
            # 1.2.x switched to a global cursor past 10,000 parents, but never saved how far parents were read.
            return bool(self.parent_stream) and "parent_state" not in stream_state and "state" in stream_state
        return "states" in stream_state or (
            "state" not in stream_state and isinstance(stream_state.get(self.cursor_field), str)
        )

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        values: list[str] = []
        if isinstance(stream_state.get(self.cursor_field), str):
            values.append(stream_state[self.cursor_field])
        global_state = stream_state.get("state")
        if isinstance(global_state, Mapping) and isinstance(global_state.get(self.cursor_field), str):
            values.append(global_state[self.cursor_field])
        for partition_state in stream_state.get("states") or []:
            cursor = partition_state.get("cursor") if isinstance(partition_state, Mapping) else None
            if isinstance(cursor, Mapping) and isinstance(cursor.get(self.cursor_field), str):
                values.append(cursor[self.cursor_field])
        if not values:
            return {}
        newest = max(values)
        migrated: dict[str, Any] = {
            "use_global_cursor": True,
            "state": {self.cursor_field: newest},
            "lookback_window": int(stream_state.get("lookback_window") or 0),
        }
        if self.parent_stream:
            migrated["parent_state"] = {self.parent_stream: {self.cursor_field: newest}}
        return migrated


@dataclass
class HarvestParentStateFromChildCursor(StateMigration):
    """Starts a child stream's change-list parent read where the child's own requests start.

    The CDK seeds a parent read that has `incremental_dependency: true` from `parent_state[<parent>]`, and asks the
    children `updated_since` = child cursor - `lookback_window` (the seconds the last sync took) - the configured
    lookback. Writing child cursor - `lookback_window` as that parent's position makes the parent read (which
    subtracts the configured lookback itself) ask `updated_since` the very same instant: every child changed since
    then is named by a changed parent. Runs on every sync with a child cursor; the router never saves the parent's
    own position, so it always comes from the child cursor.

    Example, `parent_stream="user_assignments"`:
        {"use_global_cursor": True, "state": {"updated_at": "2024-02-01T00:00:00Z"}, "lookback_window": 30,
         "parent_state": {}}
        -> the same, with "parent_state": {"user_assignments": {"updated_at": "2024-01-31T23:59:30Z"}}
    No child cursor (a first sync), or one that is not a Harvest timestamp: unchanged (every parent is read).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    parent_stream: str
    cursor_field: str = "updated_at"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return self._child_cursor(stream_state) is not None

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        child_cursor = self._child_cursor(stream_state)
        if child_cursor is None:
            return stream_state
        start = child_cursor - dt.timedelta(seconds=int(stream_state.get("lookback_window") or 0))
        parent_state = {**(stream_state.get("parent_state") or {})}
        parent_state[self.parent_stream] = {self.cursor_field: start.strftime(CURSOR_FORMAT)}
        return {**stream_state, "parent_state": parent_state}

    def _child_cursor(self, stream_state: Mapping[str, Any]) -> dt.datetime | None:
        cursor = stream_state.get("state") if stream_state else None
        value = cursor.get(self.cursor_field) if isinstance(cursor, Mapping) else None
        try:
            return dt.datetime.strptime(value, CURSOR_FORMAT) if isinstance(value, str) else None
        except ValueError:
            return None


@dataclass
class HarvestLegacyReportStateMigration(StateMigration):
    """Turns a 1.2.x report state `{"to": "%Y%m%d"}` into this connector's window state `{"from": "%Y%m%d"}`.

    1.2.x read reports up to `to` in windows of its own. This connector's windows are one year long and anchored on
    `replication_start_date` (a 29 February anchor is moved to 1 March, as the manifest does); the state is the start
    of a window. The migrated state is the start of the window that contains the legacy `to`, so that window is
    re-read and nothing after `to` is skipped.

    Example, replication_start_date "2021-03-15T00:00:00Z":
        {"to": "20241230"} -> {"from": "20240315"}
        {"to": "20240101"} -> {"from": "20230315"}
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return bool(stream_state) and "from" not in stream_state and isinstance(stream_state.get("to"), str)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        legacy_to = _parse_report_date(stream_state["to"])
        anchor = report_window_anchor(str(self.config["replication_start_date"]))
        if legacy_to is None or legacy_to < anchor:
            return {}
        return {"from": report_window_start(anchor, legacy_to).strftime(REPORT_DATE_FORMAT)}


def report_window_anchor(replication_start_date: str) -> dt.date:
    """The date report windows are anchored on: the start date's day, 29 February moved to 1 March.

    Example: "2020-02-29T10:00:00Z" -> date(2020, 3, 1); "2021-03-15T00:00:00Z" -> date(2021, 3, 15)
    """
    day = replication_start_date[:10].replace("-02-29", "-03-01")
    return dt.date.fromisoformat(day)


def report_window_start(anchor: dt.date, day: dt.date) -> dt.date:
    """Start of the one-year window (anchored on `anchor`) that contains `day`.

    Example: anchor date(2021, 3, 15), day date(2024, 3, 14) -> date(2023, 3, 15)
    """
    years = day.year - anchor.year - (1 if (day.month, day.day) < (anchor.month, anchor.day) else 0)
    return anchor.replace(year=anchor.year + years)


def _parse_report_date(value: str) -> dt.date | None:
    for fmt in (REPORT_DATE_FORMAT, "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value[:10], fmt).date()
        except ValueError:
            continue
    return None
