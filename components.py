"""Custom components of the Harvest source: only behaviour that no declarative component of airbyte-cdk 7.39.1 offers.

Each class is a small dataclass on a CDK base, referenced from manifest.yaml as
`source_declarative_manifest.components.<Class>` (the name the `source-declarative-manifest` image registers;
unit tests and the `source-harvest` command fall back to the plain `components` module), and each docstring names the
declarative component that was checked and what it lacks. Importing this file changes nothing in the CDK, in
`requests` or in the C library. The only requests a component makes itself are HarvestTombstoneRetriever's
reconciliation reads and record lookups, and they go through the manifest's requesters (rate budget,
authentication, retries).

No `from __future__ import annotations` here: the Connector Builder, manifest-server, PyAirbyte and the standard
tests exec() this file before registering it as a module, and dataclasses cannot resolve string annotations then.
"""

import base64
import binascii
import datetime as dt
import json
import logging
import threading
import zlib
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.paginators.default_paginator import PaginatorTestReadDecorator
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

LOGGER = logging.getLogger("airbyte")
REPORT_DATE_FORMAT = "%Y%m%d"
HARVEST_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # updated_at, created_at, ... and the cursors


# --------------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestEnvelopeExtractor(RecordExtractor):
    """Takes the records out of Harvest's list envelope, and fails loudly when the envelope is not there.

    A silent zero is worse than a failed stream: a proxy page, a renamed key or an HTML error page with status 200
    must never look like "no data". With an empty `data_key` the whole body is the one record (`GET /company`).
    Checked: DpathExtractor yields nothing when its path is missing or the body is not JSON; an HttpResponseFilter
    predicate sees the body but not the status code, so it cannot tell a 200 without the key from a 5xx page that must
    be retried.

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
    Checked: DefaultErrorHandler and HttpResponseFilter log an IGNOREd response at INFO only; a filter's
    REFRESH_TOKEN_THEN_RETRY cannot depend on the credentials' type, and for a personal access token the CDK turns it
    into plain retries of a 401.

    With `raise_on_ignore: true` (a parent read that its partition router can replace, e.g. the list of changed
    user assignments), a skipped response raises HarvestSkippedRead after the WARNING: an empty list would mean
    "nothing changed", a 403 means "cannot tell", and only the router knows what to read instead.

    Example: a 403 on /v2/users matched by `{http_codes: [403], action: IGNORE, error_message: "users: ..."}`
        -> ErrorResolution(IGNORE) and a WARNING log "users: Harvest answered 403 Forbidden; ..." (once per message)
             a 401 under `auth_type: Client` -> ErrorResolution(REFRESH_TOKEN_THEN_RETRY, config_error)
             the 403 with `raise_on_ignore: true` -> the same WARNING, then HarvestSkippedRead
    """

    raise_on_ignore: bool = False
    # False where a skipped response is an answer the caller weighs (a record lookup's 404), not news for the reader.
    warn_when_ignoring: bool = True

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE:
            if resolution.error_message and self.warn_when_ignoring:
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
    Checked: SubstreamPartitionRouter with several parent configs reads every one of them on every sync and yields a
    parent listed twice twice; it has no fallback read and no change list.
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

    Checked: LegacyToPerPartitionStateMigration (the CDK's only declarative migration) writes per-partition states
    whose keys do not match this connector's partitions, and no parent state.

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
    own position, so it always comes from the child cursor. Checked: the CDK seeds a parent read only from a saved
    `parent_state`, and LegacyToPerPartitionStateMigration writes none.

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
        parent_state[self.parent_stream] = {self.cursor_field: start.strftime(HARVEST_DATETIME_FORMAT)}
        return {**stream_state, "parent_state": parent_state}

    def _child_cursor(self, stream_state: Mapping[str, Any]) -> dt.datetime | None:
        cursor = stream_state.get("state") if stream_state else None
        value = cursor.get(self.cursor_field) if isinstance(cursor, Mapping) else None
        try:
            return dt.datetime.strptime(value, HARVEST_DATETIME_FORMAT) if isinstance(value, str) else None
        except ValueError:
            return None


@dataclass
class HarvestLegacyReportStateMigration(StateMigration):
    """Turns a 1.2.x report state `{"to": "%Y%m%d"}` into this connector's window state `{"from": "%Y%m%d"}`.

    1.2.x read reports up to `to` in windows of its own. This connector's windows are one year long and anchored on
    `replication_start_date` (a 29 February anchor is moved to 1 March, as the manifest does); the state is the start
    of a window. The migrated state is the start of the window that contains the legacy `to`, so that window is
    re-read and nothing after `to` is skipped. Checked: LegacyToPerPartitionStateMigration applies to partitioned
    streams only; nothing in the CDK maps one cursor field onto another.

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


# --------------------------------------------------------------------------------------------------------------------
# Deleted records (docs/harvest.md, "Deleted records")
# --------------------------------------------------------------------------------------------------------------------
DELETED_AT_FIELD = "_ab_cdc_deleted_at"
KNOWN_IDS_KEY = "known_ids"
# A state message travels through the platform's persistence at least twice per sync: beyond this many ids in its
# scope a stream keeps none (at about 2-3 bytes an id, the cap is ~0.3 MB of state).
MAX_KNOWN_IDS = 100_000
# More ids than max(20, 10% of the known ones) gone at once is what a token that sees less looks like, not what
# people delete between two syncs.
MASS_DELETION_FLOOR = 20
MASS_DELETION_SHARE = 0.10
DEFAULT_DELETIONS_LOOKBACK_DAYS = 90  # the spec's default of deletions_lookback_days
_NO_SLICE = StreamSlice(partition={}, cursor_slice={})


def pack_ids(values: Iterable[int]) -> str:
    """Encodes integers as compact text for a state message: zigzag deltas as varints, zlib, base64.

    Ids of one Harvest account are far apart but ascending, so sorted ids cost about 2-3 bytes each; any order and
    negative values round-trip too.

    Example: pack_ids([1001, 1005, 1012]) -> "eJzT..." and unpack_ids(that) -> [1001, 1005, 1012];
             pack_ids([]) -> "" and unpack_ids("") -> []
    """
    data = bytearray()
    previous = 0
    for value in values:
        delta = value - previous
        previous = value
        zigzag = delta * 2 if delta >= 0 else -delta * 2 - 1
        while zigzag >= 0x80:
            data.append((zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        data.append(zigzag)
    return base64.b64encode(zlib.compress(bytes(data), 9)).decode("ascii") if data else ""


def unpack_ids(text: str) -> list[int]:
    """The integers `pack_ids` encoded; a ValueError for text it did not write (see `pack_ids` for an example)."""
    if not text:
        return []
    try:
        data = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, zlib.error, UnicodeEncodeError) as error:
        raise ValueError(f"not an id list: {error}") from error
    values: list[int] = []
    previous = zigzag = shift = 0
    for byte in data:
        zigzag |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        previous += zigzag // 2 if zigzag % 2 == 0 else -(zigzag + 1) // 2
        values.append(previous)
        zigzag = shift = 0
    if shift:
        raise ValueError("not an id list: it ends inside a number")
    return values


@dataclass(frozen=True)
class HarvestKnownIds:
    """The ids a stream saw in its deletion scope on a sync, in the form its state keeps them (`known_ids`).

    `ids` maps each id to the id of the parent it is looked up under (a task or user assignment: its project), or to
    None; `spent_since` is the first day of a `spent_date` window, None when the scope is the whole list.

    Example: HarvestKnownIds({7: None, 3: None}, "2024-03-01").to_state()
                 -> {"count": 2, "ids": pack_ids([3, 7]), "spent_since": "2024-03-01"}
             HarvestKnownIds.from_state(that) -> the same HarvestKnownIds; from_state({"ids": "junk"}) -> None
    """

    ids: Mapping[int, int | None]
    spent_since: str | None = None

    def to_state(self) -> dict[str, Any]:
        ordered = sorted(self.ids)
        state: dict[str, Any] = {"count": len(ordered), "ids": pack_ids(ordered)}
        parents = [self.ids[record_id] for record_id in ordered]
        if any(parent is not None for parent in parents):
            state["parents"] = pack_ids(parent or 0 for parent in parents)
        if self.spent_since:
            state["spent_since"] = self.spent_since
        return state

    @classmethod
    def from_state(cls, value: Any) -> "HarvestKnownIds | None":
        if not isinstance(value, Mapping) or not isinstance(value.get("ids"), str):
            return None
        try:
            ids = unpack_ids(value["ids"])
            parents = unpack_ids(value["parents"]) if isinstance(value.get("parents"), str) else [0] * len(ids)
        except ValueError:
            return None
        if len(parents) != len(ids) or value.get("count", len(ids)) != len(ids):
            return None
        spent_since = value.get("spent_since")
        return cls(
            {record_id: parent or None for record_id, parent in zip(ids, parents, strict=True)},
            spent_since if isinstance(spent_since, str) else None,
        )


def mass_deletion_refusal(known: int, vanished: int, seen: int) -> str | None:
    """Why `vanished` of `known` ids missing from a reconciliation read that saw `seen` cannot be taken as
    deletions, or None when they may be (each is still confirmed one by one).

    A token that sees less than the one that recorded the ids (a role downgraded, a feature switched off) makes many
    records vanish at once, or all of them; people delete a few between two syncs.

    Example: (9, 2, 7) -> None; (2000, 150, 1850) -> None; (2000, 300, 1700) -> "300 of the 2000 ... at once ...";
             (5, 5, 0) -> "... listed none of the 5 ..."
    """
    if known and not seen:
        return f"Harvest listed none of the {known} records known from the previous sync"
    if vanished > max(MASS_DELETION_FLOOR, MASS_DELETION_SHARE * known):
        return (
            f"{vanished} of the {known} records known from the previous sync are missing at once (more than "
            f"max({MASS_DELETION_FLOOR}, {MASS_DELETION_SHARE:.0%}))"
        )
    return None


@dataclass
class _ScopeRead:
    """What a reconciliation read listed: every id, and the ids (with their parents) still in the scope."""

    seen: set[int]
    in_scope: dict[int, int | None]


@dataclass
class HarvestTombstoneRetriever(Retriever):
    """The stream's own read, plus one tombstone per record that Harvest deleted since the previous sync.

    Harvest hard-deletes and lists no deletions. On an incremental sync this retriever:
    1. re-lists the stream's deletion scope without `updated_since` (the reconciliation read): the whole list, or
       with `window_field: spent_date` the records of the last `deletions_lookback_days` days (Harvest's `from`);
    2. runs the stream's own read (`retriever`) unchanged, and yields its records;
    3. takes the ids known from the previous sync (the state's `known_ids`) that neither read saw, refuses a mass
       disappearance (`mass_deletion_refusal`), checks that the token is an Administrator's (`current_user`: for
       anyone else Harvest answers 404 for a record they may not see, too), and asks Harvest for each id
       (`record_lookup`, GET /v2/<lookup_path>): only Harvest's JSON 404 proves a deletion;
    4. yields `{"id", "updated_at": <the cursor this sync started from>, "_ab_cdc_deleted_at": <now>}` for each, and
       writes the ids now in the scope into the cursor's state, which the CDK emits when the partition closes.
    A first sync records the ids its own read saw in the scope and makes no extra request; a state with a cursor but
    no `known_ids` (saved before this feature, or by 1.2.x) gets them from a reconciliation read, without
    tombstones. A reconciliation read that fails, is forbidden or is cut short, a refused mass deletion and a
    non-Administrator token keep the previous ids and emit no tombstone. With `emit_deletions: false`, and in the
    Connector Builder's test reads (whose page caps would cut the reconciliation short), it is the stream's own read.
    These are the only requests a component makes itself; they go through the manifest's requesters (rate budget,
    authentication, retries). Checked: no declarative retriever or cursor compares one sync's ids with the previous
    one's, and `_ab_cdc_deleted_at` appears in the CDK only on the destination side.

    Example (clients; state {"updated_at": "2024-05-01T00:00:00Z", "known_ids": <ids 1, 2, 3>}):
        reconciliation read -> ids 1, 3; own read (updated_since) -> client 3; GET /v2/clients/2 -> 404 JSON
        => yields client 3, then {"id": 2, "updated_at": "2024-05-01T00:00:00Z", "_ab_cdc_deleted_at": <now>};
           the state's known_ids become <ids 1, 3>
    """

    retriever: Retriever
    record_lookup: Requester
    current_user: Requester
    cursor: Any
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""
    lookup_path: str = "{endpoint}/{id}"
    parent_field: str = ""
    window_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._endpoint = str(parameters.get("endpoint", ""))
        self._label = str(parameters.get("stream_label") or self.name or self._endpoint)
        self._lock = threading.Lock()
        self._reconciled = False
        self._is_administrator: bool | None = None

    # -- the read -------------------------------------------------------------------------------------------------
    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        state = self.cursor.state if isinstance(getattr(self.cursor, "state", None), MutableMapping) else None
        if state is None or self._is_builder_test_read():
            yield from self.retriever.read_records(records_schema, stream_slice)
            return
        if not _emits_deletions(self.config):
            state.pop(KNOWN_IDS_KEY, None)
            yield from self.retriever.read_records(records_schema, stream_slice)
            return
        with self._lock:
            # The stream has one partition per sync; should it ever have more, reconcile once.
            first_partition, self._reconciled = not self._reconciled, True
        if not first_partition:
            yield from self.retriever.read_records(records_schema, stream_slice)
            return
        yield from self._read_and_reconcile(state, records_schema, stream_slice)

    def _read_and_reconcile(
        self, state: MutableMapping[str, Any], records_schema: Mapping[str, Any], stream_slice: StreamSlice | None
    ) -> Iterable[StreamData]:
        cursor_field = getattr(getattr(self.cursor, "cursor_field", None), "cursor_field_key", "updated_at")
        started_from = state.get(cursor_field)
        start_date = str(self.config.get("replication_start_date") or "")
        known = HarvestKnownIds.from_state(state.get(KNOWN_IDS_KEY))
        if state.get(KNOWN_IDS_KEY) is not None and known is None:
            LOGGER.warning(f"{self._label}: the saved known_ids cannot be read; deletion detection starts again.")
        window_start = self._window_start()
        is_first_sync = known is None and (not isinstance(started_from, str) or started_from <= start_date)

        scope: _ScopeRead | None = None
        if not is_first_sync:
            read_from = min(filter(None, (known.spent_since if known else None, window_start)), default=None)
            scope = self._read_scope(read_from, window_start, start_date)
        vanished = set(known.ids) - scope.seen if known and scope else set()

        in_scope: dict[int, int | None] = dict(scope.in_scope) if scope else {}
        for record in self.retriever.read_records(records_schema, stream_slice):
            yield record
            if isinstance(record, Mapping):  # not a log message
                if vanished:
                    vanished.discard(record["id"])
                if self._in_scope(record, window_start, start_date):
                    in_scope[record["id"]] = self._parent_of(record) if self.parent_field else None

        if known is None:
            if scope is not None or is_first_sync:
                self._save(state, HarvestKnownIds(in_scope, window_start))
            return
        if scope is None:
            return  # the reconciliation read said why; the previous ids stay
        refusal = mass_deletion_refusal(len(known.ids), len(vanished), len(scope.seen))
        if refusal:
            LOGGER.warning(
                f"{self._label}: {refusal}. That is what a token that sees less looks like (a role downgraded, a "
                "Harvest feature switched off), so no record is marked deleted and the ids of the previous sync are "
                "kept. If these records really were deleted, run a full refresh of this stream."
            )
            return
        if vanished and not self._token_is_administrator():
            LOGGER.warning(
                f"{self._label}: {len(vanished)} record(s) known from the previous sync are no longer listed, but "
                "only an Administrator's token can confirm deletions (Harvest answers 404 both for a deleted record "
                "and for one this token may not see): no record is marked deleted and the previous ids are kept."
            )
            return
        deleted_at = dt.datetime.now(dt.UTC).strftime(HARVEST_DATETIME_FORMAT)
        tombstones = []
        for record_id in sorted(vanished):
            verdict, found = self._look_up(record_id, known.ids[record_id])
            if verdict == "deleted":
                tombstones.append({"id": record_id, cursor_field: started_from, DELETED_AT_FIELD: deleted_at})
            elif verdict == "unknown" or (found is not None and self._in_scope(found, window_start, start_date)):
                in_scope[record_id] = known.ids[record_id]
        self._save(state, HarvestKnownIds(in_scope, window_start))
        yield from tombstones

    # -- the reconciliation read ----------------------------------------------------------------------------------
    def _read_scope(self, read_from: str | None, window_start: str | None, start_date: str) -> _ScopeRead | None:
        """Every record of the scope, page by page; None (with a WARNING) when the walk is not complete."""
        requester: Requester = self.retriever.requester  # type: ignore[attr-defined]
        paginator = self.retriever.paginator  # type: ignore[attr-defined]
        extractor = self.retriever.record_selector.extractor  # type: ignore[attr-defined]
        params = {"from": read_from} if read_from else {}
        read = _ScopeRead(set(), {})
        path: str | None = None
        try:
            while True:
                response = requester.send_request(stream_slice=_NO_SLICE, path=path, request_params=params)
                if response is None or not response.ok:
                    status = response.status_code if response is not None else "no response"
                    self._warn_incomplete(f"Harvest answered {status} to the list of the deletion scope")
                    return None
                for record in extractor.extract_records(response):
                    record_id = int(record["id"])
                    read.seen.add(record_id)
                    if self._in_scope(record, window_start, start_date):
                        read.in_scope[record_id] = self._parent_of(record)
                token = paginator.next_page_token(response, 0, None)
                if not token:
                    return read
                path = paginator.path(token)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            self._warn_incomplete(f"the list of the deletion scope failed ({error.message})")
            return None

    def _warn_incomplete(self, why: str) -> None:
        LOGGER.warning(f"{self._label}: {why}; no record is marked deleted this sync and the previous ids are kept.")

    # -- one record -----------------------------------------------------------------------------------------------
    def _look_up(self, record_id: int, parent_id: int | None) -> tuple[str, Mapping[str, Any] | None]:
        """("deleted", None) on Harvest's JSON 404, ("exists", record) on 200, else ("unknown", None)."""
        path = self.lookup_path.format(endpoint=self._endpoint, id=record_id, parent_id=parent_id)
        lookup_slice = StreamSlice(partition={"lookup_path": path}, cursor_slice={})
        try:
            response = self.record_lookup.send_request(stream_slice=lookup_slice)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            LOGGER.warning(f"{self._label}: GET /v2/{path} failed ({error.message}); the record is not marked deleted.")
            return "unknown", None
        body = _json_or_none(response)
        if response is not None and response.status_code == 404:
            if isinstance(body, Mapping) and body.get("status") == 404:
                return "deleted", None
            LOGGER.warning(f"{self._label}: GET /v2/{path} answered a 404 page that is not Harvest's; not deleted.")
            return "unknown", None
        if response is not None and response.ok and isinstance(body, Mapping):
            return "exists", body
        return "unknown", None

    def _token_is_administrator(self) -> bool:
        """Whether /v2/users/me lists the administrator role (asked once per stream, only when a record vanished)."""
        with self._lock:
            if self._is_administrator is None:
                response = self.current_user.send_request(stream_slice=_NO_SLICE)
                me = _json_or_none(response) if response is not None and response.ok else None
                roles = me.get("access_roles") if isinstance(me, Mapping) else None
                self._is_administrator = isinstance(me, Mapping) and (
                    (isinstance(roles, list) and "administrator" in roles) or me.get("is_admin") is True
                )
            return self._is_administrator

    # -- helpers --------------------------------------------------------------------------------------------------
    def _is_builder_test_read(self) -> bool:
        return isinstance(getattr(self.retriever, "paginator", None), PaginatorTestReadDecorator)

    def _window_start(self) -> str | None:
        if not self.window_field:
            return None
        days = int(self.config.get("deletions_lookback_days") or DEFAULT_DELETIONS_LOOKBACK_DAYS)
        return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()

    def _in_scope(self, record: Mapping[str, Any], window_start: str | None, start_date: str) -> bool:
        """In the window (if any), and updated since the start date: a record the destination can hold. (Harvest's
        dates and times have fixed formats, so they compare as text.)"""
        if window_start and (record.get(self.window_field) or "") < window_start:
            return False
        return (record.get("updated_at") or "") >= start_date

    def _parent_of(self, record: Mapping[str, Any]) -> int | None:
        if not self.parent_field:
            return None
        parent = record.get(self.parent_field)
        return int(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") is not None else None

    def _save(self, state: MutableMapping[str, Any], known: HarvestKnownIds) -> None:
        if len(known.ids) > MAX_KNOWN_IDS:
            LOGGER.warning(
                f"{self._label}: {len(known.ids)} records are in the deletion scope, more than the {MAX_KNOWN_IDS} "
                "the state keeps; deletions are not detected for this stream (lower deletions_lookback_days)."
            )
            state.pop(KNOWN_IDS_KEY, None)
            return
        state[KNOWN_IDS_KEY] = known.to_state()


def _emits_deletions(config: Config) -> bool:
    return config.get("emit_deletions") is not False


def _json_or_none(response: requests.Response | None) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None
