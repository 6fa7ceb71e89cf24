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
import functools
import json
import logging
import threading
import time
import zlib
from collections.abc import Generator, Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
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

    With `raise_on_ignore: true` (a read whose caller must tell "nothing" from "could not read": the list of user
    assignments behind project_assignments, one parent's children), a skipped response raises HarvestSkippedRead
    after the WARNING, with the status and whether the body is Harvest's JSON 404.

    Example: a 403 on /v2/users matched by `{http_codes: [403], action: IGNORE, error_message: "users: ..."}`
        -> ErrorResolution(IGNORE) and a WARNING log "users: Harvest answered 403 Forbidden; ..." (once per message)
             a 401 under `auth_type: Client` -> ErrorResolution(REFRESH_TOKEN_THEN_RETRY, config_error)
             the 403 with `raise_on_ignore: true` -> the same WARNING, then HarvestSkippedRead(status=403)
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
                response = response_or_exception if isinstance(response_or_exception, requests.Response) else None
                raise HarvestSkippedRead(
                    resolution.error_message or "Harvest's answer was skipped",
                    status=response.status_code if response is not None else None,
                    not_found=response is not None and _is_harvest_not_found(response),
                )
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
    """Raised by HarvestErrorHandler (`raise_on_ignore: true`) for a skipped response; caught by the component that
    made the read (HarvestChildPartitionRouter's `changes`, HarvestChildTombstoneRetriever), which knows what it means.
    Escaping, it fails the stream: that would be a manifest error, never a silent zero."""

    def __init__(self, message: str, status: int | None = None, not_found: bool = False) -> None:
        super().__init__(message=message, failure_type=FailureType.system_error)
        self.status = status
        self.not_found = not_found  # Harvest's JSON 404: the record (or the parent of a child list) does not exist


def _is_harvest_not_found(response: requests.Response) -> bool:
    """Harvest's JSON `{"status": 404, "error": "Not Found"}`, not the HTML page of an unknown route."""
    if response.status_code != 404:
        return False
    body = _json_or_none(response)
    return isinstance(body, Mapping) and body.get("status") == 404


def _json_or_none(response: requests.Response | None) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------------------------
# Child streams
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class HarvestChildPartitionRouter(PartitionRouter):
    """The parents whose children a child stream reads this sync, each once, and what the stream knows of them.

    `parents` reads the whole parent list (no `updated_since`), with the parent's `updated_at` (and `state`) as
    extra fields. A first sync, a state without the children known from the previous sync, and `always_reread` read
    every parent. Later syncs read the parents updated since the saved parent cursor (minus the lookback), the
    parents in one of `reread_states` (an open invoice gains reminders, a sent estimate a client's view, without
    changing), and the parents named by `changes` (below). Every known parent that the list no longer shows is read
    too: its child list answers Harvest's JSON 404 when it was deleted, and HarvestChildTombstoneRetriever then
    tombstones its children; more vanished parents than max(20, 10%) is refused (a token that sees less).
    `fallback_parents` is read when `parents` gives none (a Member's 403 on /v2/users: their own user).
    With `changes` (project assignments: the whole /v2/user_assignments list, `parent_key: user/id`, extra fields
    `id` and `updated_at`; a project assignment is a user assignment seen from its user, same id and updated_at), a
    later sync reads the users with an assignment updated since the child cursor, and the users of a known project
    assignment whose user assignment is gone; a 403 on that list reads every user.

    The state it adds to the child stream's `parent_state`: the parent cursor (`{<cursor_name>: {"updated_at"}}`,
    the newest parent seen) and `known_ids` (each known child id with its parent id, HarvestKnownIds). While the
    partitions are being generated it answers the previous state, so no state message can claim children that were
    not read yet; once the last partition is generated, the new one. HarvestChildTombstoneRetriever hands it the
    saved state (`restore`) and the children each parent has now (`record_children`, `forget_parent`).
    Checked: SubstreamPartitionRouter reads every parent config on every sync, yields a parent listed twice twice,
    keeps no per-parent state of its own and has no fallback read; `incremental_dependency` can only narrow the
    parents to those updated, which misses deleted parents and the parents that gain children without changing.

    Example (invoice_messages, `reread_states: [open]`, saved cursor 2024-05-01T00:00:00Z, known children 7 -> 1,
    8 -> 4): invoices 1 (paid, updated 2024-04-01), 2 (open, 2024-01-01), 3 (draft, updated 2024-05-02)
        => partitions {"id": 2}, {"id": 3} (open; updated), then {"id": 4} (known, no longer listed); 1 is not read
    """

    parents: SubstreamPartitionRouter
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    cursor_name: str = ""
    fallback_parents: SubstreamPartitionRouter | None = None
    changes: SubstreamPartitionRouter | None = None
    reread_states: list[str] | None = None
    always_reread: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._label = str(parameters.get("stream_label") or parameters.get("stream_name") or "child stream")
        self._lock = threading.Lock()
        self._lookback = dt.timedelta(seconds=int(self.config.get("lookback_window_seconds", 60) or 0))
        self._saved_cursor: str | None = None  # the parent cursor of the previous sync
        self._child_cursor: str | None = None  # the child stream's own cursor of the previous sync
        self._known: dict[int, int | None] = {}
        self._by_parent: dict[int | None, set[int]] = {}
        self._knows_children = False
        self._previous_state: dict[str, Any] = {}
        self._newest: str | None = None
        self._generated = False

    # -- what the child stream hands over -------------------------------------------------------------------------
    def restore(self, parent_state: Mapping[str, Any] | None, child_cursor: str | None, lookback_seconds: int) -> None:
        """The state saved by the previous sync: its `parent_state`, and the child cursor minus the seconds it took."""
        parent_state = parent_state if isinstance(parent_state, Mapping) else {}
        self._previous_state = {key: value for key, value in parent_state.items()}
        saved = parent_state.get(self.cursor_name) if self.cursor_name else None
        self._saved_cursor = saved.get("updated_at") if isinstance(saved, Mapping) else None
        if child_cursor:
            self._child_cursor = _shift(child_cursor, -lookback_seconds)
        known = HarvestKnownIds.from_state(parent_state.get(KNOWN_IDS_KEY))
        self._knows_children = known is not None
        self._known = dict(known.ids) if known else {}
        self._by_parent = {}
        for child, parent in self._known.items():
            self._by_parent.setdefault(parent, set()).add(child)

    def children_of(self, parent_id: int) -> set[int]:
        with self._lock:
            return set(self._by_parent.get(parent_id, ()))

    def record_children(self, parent_id: int, children: Iterable[int]) -> None:
        with self._lock:
            for child in self._by_parent.pop(parent_id, set()):
                self._known.pop(child, None)
            kept = set(children)
            for child in kept:
                self._known[child] = parent_id
            if kept:
                self._by_parent[parent_id] = kept

    def forget_parent(self, parent_id: int) -> None:
        self.record_children(parent_id, ())

    # -- partitions -------------------------------------------------------------------------------------------------
    def stream_slices(self) -> Iterable[StreamSlice]:
        first_sync = not self._knows_children
        since = self._since()
        read_all = first_sync or self.always_reread or since is None
        named: set[int] = set()
        if self.changes is not None and not read_all:
            changed = self._read_changes(since or "")
            if changed is None:
                read_all = True
            else:
                named = changed
        known_parents = {parent for parent in self._by_parent if parent is not None}
        seen: set[int] = set()
        for stream_slice in self._parent_slices():
            parent_id = int(stream_slice.partition["id"])
            if parent_id in seen:
                continue
            seen.add(parent_id)
            extra = stream_slice.extra_fields or {}
            updated = extra.get("updated_at")
            if self.changes is None and isinstance(updated, str):
                self._note_newest(updated)
            # With a change list, the changes name the parents to read; a parent's own `updated_at` (a user renamed)
            # says nothing of its children.
            updated_since = self.changes is None and isinstance(updated, str) and since is not None and updated >= since
            if read_all or parent_id in named or updated_since or extra.get("state") in (self.reread_states or []):
                yield stream_slice
        vanished = sorted(known_parents - seen)
        if vanished and not first_sync and _emits_deletions(self.config):
            refusal = mass_deletion_refusal(len(known_parents), len(vanished), len(seen))
            if refusal:
                LOGGER.warning(
                    f"{self._label}: {refusal} (parents). That is what a token that sees less looks like, so their "
                    "children are kept; if those parents really were deleted, run a full refresh of this stream."
                )
            else:
                for parent_id in vanished:
                    yield StreamSlice(partition={"id": parent_id, "parent_slice": {}}, cursor_slice={})
        with self._lock:
            self._generated = True

    def _since(self) -> str | None:
        """Parents (or changes) updated at or after this instant are read; None: there is no saved position."""
        if self.changes is not None:
            return self._child_cursor and _shift(self._child_cursor, -int(self._lookback.total_seconds()))
        return self._saved_cursor and _shift(self._saved_cursor, -int(self._lookback.total_seconds()))

    def _read_changes(self, since: str) -> set[int] | None:
        """The parents named by a change updated since `since` or by a known child no longer in the change list."""
        assert self.changes is not None
        named: set[int] = set()
        present: set[int] = set()
        try:
            for stream_slice in self.changes.stream_slices():
                extra = stream_slice.extra_fields or {}
                change_id, updated = extra.get("id"), extra.get("updated_at")
                if change_id is not None:
                    present.add(int(change_id))
                if isinstance(updated, str):
                    self._note_newest(updated)
                    if updated >= since:
                        named.add(int(stream_slice.partition["id"]))
        except HarvestSkippedRead:
            return None  # forbidden (the WARNING says so): "nothing changed" cannot be told, so every parent is read
        named.update(parent for child, parent in self._known.items() if child not in present and parent is not None)
        return named

    def _parent_slices(self) -> Iterable[StreamSlice]:
        found = False
        for stream_slice in self.parents.stream_slices():
            found = True
            yield stream_slice
        if not found and self.fallback_parents is not None:
            yield from self.fallback_parents.stream_slices()

    def _note_newest(self, updated: str) -> None:
        with self._lock:
            if self._newest is None or updated > self._newest:
                self._newest = updated

    # -- state ------------------------------------------------------------------------------------------------------
    def get_stream_state(self) -> Mapping[str, StreamState] | None:
        with self._lock:
            if not self._generated:
                return dict(self._previous_state)
            state: dict[str, Any] = {}
            if self.cursor_name:
                newest = max(filter(None, (self._newest, self._saved_cursor)), default=None)
                if newest:
                    state[self.cursor_name] = {"updated_at": newest}
            if len(self._known) <= MAX_KNOWN_IDS and _emits_deletions(self.config):
                state[KNOWN_IDS_KEY] = HarvestKnownIds(dict(self._known)).to_state()
            return state

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}


def _shift(timestamp: str, seconds: int) -> str:
    """A Harvest timestamp moved by `seconds` (an unreadable one is returned as it is).

    Example: _shift("2024-05-01T00:00:00Z", -60) -> "2024-04-30T23:59:00Z"
    """
    try:
        moment = dt.datetime.strptime(timestamp, HARVEST_DATETIME_FORMAT)
    except ValueError:
        return timestamp
    return (moment + dt.timedelta(seconds=seconds)).strftime(HARVEST_DATETIME_FORMAT)


@dataclass
class HarvestChildTombstoneRetriever(Retriever):
    """One parent's children, read in full, plus a tombstone for each child of that parent known from the previous
    sync that is no longer listed, and for every known child of a parent that Harvest no longer has.

    A child list read in full is complete for its parent, so a known child it does not list was deleted (Harvest has
    no single-record route for messages and payments to ask). When the child list answers Harvest's JSON 404, the
    parent itself is gone, and so are all its children. Tombstones need an Administrator's token (`current_user`,
    asked once, only when a child vanished), a previous sync (the child cursor) and no `replication_end_date` (its
    filter drops children updated after it, which would look vanished); a 403 keeps what is known. Each tombstone is
    `{"id", "parent_id", "updated_at": <the child cursor this sync started from>, "_ab_cdc_deleted_at": <now>}`.
    What each parent has now goes to the stream's HarvestChildPartitionRouter (`partition_router`, the object the
    stream's cursor uses), which writes it into the `parent_state` of the stream's state; this retriever hands the
    router the saved state when it is built. With `emit_deletions: false` and in the Connector Builder's test reads
    it is the plain read.
    Checked: SimpleRetriever and the CDK's per-partition cursor keep no set of ids between syncs; the per-partition
    cursor rebuilds its state and drops keys of its own (only `parent_state` comes from the partition router).

    Example (invoice_payments; parent 12 had payments 5 and 6; the child cursor was 2024-05-01T00:00:00Z):
        GET /v2/invoices/12/payments -> payment 5   => yields payment 5, then
        {"id": 6, "parent_id": 12, "updated_at": "2024-05-01T00:00:00Z", "_ab_cdc_deleted_at": <now>}
        GET /v2/invoices/13/payments -> 404 JSON (a vanished parent that had payment 9) => the tombstone of 9
    """

    retriever: Retriever
    partition_router: Any
    cursor: Any
    current_user: Requester
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._label = str(parameters.get("stream_label") or self.name)
        self._administrator = _AdministratorCheck(self.current_user, self.config)
        state = getattr(self.cursor, "state", None)
        state = state if isinstance(state, Mapping) else {}
        global_cursor = state.get("state")
        self._started_from = global_cursor.get("updated_at") if isinstance(global_cursor, Mapping) else None
        if isinstance(self.partition_router, HarvestChildPartitionRouter):
            self.partition_router.restore(
                state.get("parent_state"), self._started_from, int(state.get("lookback_window") or 0)
            )

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        router = self.partition_router
        tracked = (
            isinstance(router, HarvestChildPartitionRouter)
            and stream_slice is not None
            and _emits_deletions(self.config)
            and not _is_builder_test_read(self.retriever)
        )
        listed: set[int] = set()
        gone = False
        try:
            for record in self.retriever.read_records(records_schema, stream_slice):
                yield record
                if isinstance(record, Mapping) and record.get("id") is not None:
                    listed.add(int(record["id"]))
        except HarvestSkippedRead as skipped:
            if not (tracked and skipped.not_found):
                return  # forbidden (WARNING given) or not tracked: what is known stays
            gone = True
        if not tracked or stream_slice is None:
            return
        parent_id = int(stream_slice.partition["id"])
        vanished = sorted(router.children_of(parent_id) - listed)
        if vanished and not self._may_tombstone(len(vanished)):
            router.record_children(parent_id, listed | set(vanished))
            return
        if gone:
            router.forget_parent(parent_id)
        else:
            router.record_children(parent_id, listed)
        deleted_at = _now_stamp()
        for child_id in vanished:
            yield {
                "id": child_id,
                "parent_id": parent_id,
                "updated_at": self._started_from,
                DELETED_AT_FIELD: deleted_at,
            }

    def _may_tombstone(self, count: int) -> bool:
        if not self._started_from or self.config.get("replication_end_date"):
            return False
        if not self._administrator():
            LOGGER.warning(
                f"{self._label}: {count} child record(s) known from the previous sync are no longer listed, but only an "
                "Administrator's token can confirm deletions: none is marked deleted and they stay known."
            )
            return False
        return True


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
# Deleted records and changes Harvest does not date (docs/harvest.md, "Deleted records")
# --------------------------------------------------------------------------------------------------------------------
DELETED_AT_FIELD = "_ab_cdc_deleted_at"
KNOWN_IDS_KEY = "known_ids"
KNOWN_ROWS_KEY = "known_rows"
# A state message travels through the platform's persistence at least twice per sync: beyond this many ids a stream
# keeps none (at 0.3 to 3 bytes an id, depending on how far apart the account's ids are, at most ~0.3 MB of state).
MAX_KNOWN_IDS = 100_000
# The time entries' and expenses' history: the ids of the newest months that fit in this many bytes of state; older
# months keep only their counts (HarvestSpentHistory.within). Ids 3 bytes apart: ~30,000 records; the sandbox's large
# account (200,000 time entries, ids close together) fits whole in ~70 KB.
MAX_HISTORY_BYTES = 96_000
# A range of months whose records fit one page (with room for what was added since) is re-listed whole, not halved.
ONE_PAGE_OF_RECORDS = 1500
ROLE_ANSWER_SECONDS = 900  # a token's role is asked again after this long in one process
# More ids than max(20, 10% of the known ones) gone at once is what a token that sees less looks like, not what
# people delete between two syncs.
MASS_DELETION_FLOOR = 20
MASS_DELETION_SHARE = 0.10
_NO_SLICE = StreamSlice(partition={}, cursor_slice={})


def _emits_deletions(config: Config) -> bool:
    return config.get("emit_deletions") is not False


def _now_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime(HARVEST_DATETIME_FORMAT)


def _is_builder_test_read(retriever: Any) -> bool:
    """The Connector Builder's test reads cap the pages, so a reconciliation there would be partial."""
    return isinstance(getattr(retriever, "paginator", None), PaginatorTestReadDecorator)


class _AdministratorCheck:
    """Whether the token is an Administrator's: /v2/users/me lists the administrator role. Asked on first use, once
    per process and credentials for `ROLE_ANSWER_SECONDS` (every stream of a sync shares the answer; a process that
    lives longer, such as the Connector Builder's server, asks again).

    For anyone else Harvest answers 404 for a record they may not see too, and lists only what they may see, so only
    an Administrator's token can tell a deleted record from a hidden one.

    Example: two streams with records gone, one sync -> one GET /v2/users/me; {"access_roles": ["administrator"]}
        -> True; {"access_roles": ["member"]} -> False; a failed request -> False for this stream, asked again by the
        next (a failure is not remembered).
    """

    _answers: dict[str, tuple[float, bool]] = {}
    _answers_lock = threading.Lock()

    def __init__(self, current_user: Requester, config: Config) -> None:
        self._current_user = current_user
        self._key = json.dumps(
            [config.get("api_url"), config.get("account_id"), config.get("credentials")], sort_keys=True, default=str
        )
        self._answer: bool | None = None

    def __call__(self) -> bool:
        with self._answers_lock:
            if self._answer is None:
                remembered = self._answers.get(self._key)
                if remembered and time.monotonic() - remembered[0] < ROLE_ANSWER_SECONDS:
                    self._answer = remembered[1]
                else:
                    self._answer = self._ask()
            return self._answer

    def _ask(self) -> bool:
        try:
            response = self._current_user.send_request(stream_slice=_NO_SLICE)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            LOGGER.warning(f"GET /v2/users/me failed ({error.message}): no tombstone this sync.")
            return False
        me = _json_or_none(response) if response is not None and response.ok else None
        if not isinstance(me, Mapping):
            return False
        roles = me.get("access_roles")
        answer = (isinstance(roles, list) and "administrator" in roles) or me.get("is_admin") is True
        self._answers[self._key] = (time.monotonic(), answer)
        return answer


def _look_up(record_lookup: Requester, path: str, label: str) -> tuple[str, Mapping[str, Any] | None]:
    """GET /v2/<path>: ("deleted", None) on Harvest's JSON 404, ("exists", record) on 200, else ("unknown", None)."""
    lookup_slice = StreamSlice(partition={"lookup_path": path}, cursor_slice={})
    try:
        response = record_lookup.send_request(stream_slice=lookup_slice)
    except AirbyteTracedException as error:
        if error.failure_type == FailureType.config_error:
            raise
        LOGGER.warning(f"{label}: GET /v2/{path} failed ({error.message}); the record is not marked deleted.")
        return "unknown", None
    if response is not None and response.status_code == 404:
        if _is_harvest_not_found(response):
            return "deleted", None
        LOGGER.warning(f"{label}: GET /v2/{path} answered a 404 page that is not Harvest's; not marked deleted.")
        return "unknown", None
    body = _json_or_none(response)
    if response is not None and response.ok and isinstance(body, Mapping):
        return "exists", body
    return "unknown", None


def _pages(requester: Requester, paginator: Any, params: Mapping[str, Any]) -> Iterable[requests.Response]:
    """Every page of one list, in order, one at a time (a large account's history is hundreds of megabytes of pages);
    raises _IncompleteWalk when a page is forbidden, fails or answers an error (a response of 400 or more is falsy,
    and the CDK skips what it ignores), or is not Harvest's envelope. Whatever was read before still holds."""
    path: str | None = None
    while True:
        try:
            response = requester.send_request(stream_slice=_NO_SLICE, path=path, request_params=params)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            raise _IncompleteWalk(f"failed ({error.message})") from error
        if response is None or not response.ok:
            raise _IncompleteWalk(f"was answered {response.status_code if response is not None else 'nothing'}")
        yield response
        token = paginator.next_page_token(response, 0, None)
        if not token:
            return
        path = paginator.path(token)


class _IncompleteWalk(Exception):
    """A list could not be read to its end: nothing is marked deleted, what was known is kept."""


_NOTHING_MARKED = "no record is marked deleted this sync and what was known is kept."


def pack_ids(values: Iterable[int]) -> str:
    """Encodes integers as compact text for a state message: zigzag deltas as varints, zlib, base64.

    Sorted ids cost 0.3 to 3 bytes each (the farther apart, the more); any order and negative values round-trip too.

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
    """The ids a stream saw on a sync, in the form its state keeps them (`known_ids`), each with a parent id or None.

    The parent is the project a task or user assignment is looked up under, or the parent of a child record.

    Example: HarvestKnownIds({7: None, 3: 12}).to_state()
                 -> {"count": 2, "ids": pack_ids([3, 7]), "parents": pack_ids([12, 0])}
             HarvestKnownIds.from_state(that) -> the same HarvestKnownIds; from_state({"ids": "junk"}) -> None
    """

    ids: Mapping[int, int | None]

    def to_state(self) -> dict[str, Any]:
        ordered = sorted(self.ids)
        state: dict[str, Any] = {"count": len(ordered), "ids": pack_ids(ordered)}
        parents = [self.ids[record_id] for record_id in ordered]
        if any(parent is not None for parent in parents):
            state["parents"] = pack_ids(parent or 0 for parent in parents)
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
        return cls({record_id: parent or None for record_id, parent in zip(ids, parents, strict=True)})


def mass_deletion_refusal(known: int, vanished: int, seen: int) -> str | None:
    """Why `vanished` of `known` ids missing from a read that saw `seen` cannot be taken as deletions, or None when
    they may be (each is still confirmed).

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


def _refusal_warning(label: str, refusal: str) -> None:
    LOGGER.warning(
        f"{label}: {refusal}. That is what a token that sees less looks like (a role downgraded, a Harvest feature "
        "switched off), so nothing is marked deleted and what was known is kept. If these records really were "
        "deleted, run a full refresh of this stream."
    )


@dataclass
class _ReconciledRead(Retriever):
    """The stream's own read, plus, once per incremental sync, `_read_and_reconcile`'s comparison with what the state
    knows (HarvestTombstoneRetriever, HarvestSpentHistoryRetriever). With `emit_deletions: false` (which also drops
    what the state knew), and in the Connector Builder's test reads (whose page caps would cut the reconciliation
    short), it is the stream's own read."""

    retriever: Retriever
    record_lookup: Requester
    current_user: Requester
    cursor: Any
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._endpoint = str(parameters.get("endpoint", ""))
        self._label = str(parameters.get("stream_label") or self.name or self._endpoint)
        self._lock = threading.Lock()
        self._reconciled = False
        self._administrator = _AdministratorCheck(self.current_user, self.config)

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        state = _mutable_state(self.cursor)
        if state is None or _is_builder_test_read(self.retriever) or not _emits_deletions(self.config):
            if state is not None and not _emits_deletions(self.config):
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
        raise NotImplementedError


@dataclass
class HarvestTombstoneRetriever(_ReconciledRead):
    """The stream's own read, plus one tombstone per record that Harvest deleted since the previous sync: entity
    lists that are read in full (clients, projects, users, assignments, invoices, ...).

    Harvest hard-deletes and lists no deletions. On an incremental sync this retriever:
    1. re-lists the stream without `updated_since` (the reconciliation read);
    2. runs the stream's own read (`retriever`) unchanged, and yields its records;
    3. takes the ids known from the previous sync (the state's `known_ids`) that neither read saw, refuses a mass
       disappearance (`mass_deletion_refusal`), checks that the token is an Administrator's (`current_user`), and
       asks Harvest for each id (`record_lookup`, GET /v2/<lookup_path>): only Harvest's JSON 404 proves a deletion;
    4. yields `{"id", "updated_at": <the cursor this sync started from>, "_ab_cdc_deleted_at": <now>}` for each, and
       writes the ids it saw into the cursor's state, which the CDK emits when the partition closes.
    A first sync records the ids its own read saw and makes no extra request; a state with a cursor but no
    `known_ids` (saved before this feature, or by 1.2.x) gets them from a reconciliation read, without tombstones.
    A reconciliation read that fails, is forbidden or is cut short, a refused mass deletion and a non-Administrator
    token keep the previous ids and emit no tombstone. With `emit_deletions: false`, and in the Connector Builder's
    test reads (whose page caps would cut the reconciliation short), it is the stream's own read.
    Its requests go through the manifest's requesters (rate budget, authentication, retries).
    Checked: no declarative retriever or cursor compares one sync's ids with the previous one's, and
    `_ab_cdc_deleted_at` appears in the CDK only on the destination side.

    Example (clients; state {"updated_at": "2024-05-01T00:00:00Z", "known_ids": <ids 1, 2, 3>}):
        reconciliation read -> ids 1, 3; own read (updated_since) -> client 3; GET /v2/clients/2 -> 404 JSON
        => yields client 3, then {"id": 2, "updated_at": "2024-05-01T00:00:00Z", "_ab_cdc_deleted_at": <now>};
           the state's known_ids become <ids 1, 3>
    """

    lookup_path: str = "{endpoint}/{id}"
    parent_field: str = ""

    def _read_and_reconcile(
        self, state: MutableMapping[str, Any], records_schema: Mapping[str, Any], stream_slice: StreamSlice | None
    ) -> Iterable[StreamData]:
        cursor_field = _cursor_field(self.cursor)
        started_from = state.get(cursor_field)
        start_date = str(self.config.get("replication_start_date") or "")
        known = HarvestKnownIds.from_state(state.get(KNOWN_IDS_KEY))
        if state.get(KNOWN_IDS_KEY) is not None and known is None:
            LOGGER.warning(f"{self._label}: the saved known_ids cannot be read; deletion detection starts again.")
        is_first_sync = known is None and (not isinstance(started_from, str) or started_from <= start_date)

        scope: dict[int, int | None] | None = None
        if not is_first_sync:
            scope = self._read_scope(start_date)
        seen = set(scope) if scope is not None else set()
        vanished = set(known.ids) - seen if known and scope is not None else set()

        now_known: dict[int, int | None] = {k: v for k, v in (scope or {}).items()}
        for record in self.retriever.read_records(records_schema, stream_slice):
            yield record
            if isinstance(record, Mapping):  # not a log message
                vanished.discard(record["id"])
                if (record.get("updated_at") or "") >= start_date:
                    now_known[record["id"]] = self._parent_of(record)

        if known is None:
            if scope is not None or is_first_sync:
                self._save(state, now_known)
            return
        if scope is None:
            return  # the reconciliation read said why; the previous ids stay
        refusal = mass_deletion_refusal(len(known.ids), len(vanished), len(seen))
        if refusal:
            _refusal_warning(self._label, refusal)
            return
        if vanished and not self._administrator():
            LOGGER.warning(
                f"{self._label}: {len(vanished)} record(s) known from the previous sync are no longer listed, but "
                "only an Administrator's token can confirm deletions (Harvest answers 404 both for a deleted record "
                "and for one this token may not see): no record is marked deleted and the previous ids are kept."
            )
            return
        deleted_at = _now_stamp()
        tombstones = []
        for record_id in sorted(vanished):
            path = self.lookup_path.format(endpoint=self._endpoint, id=record_id, parent_id=known.ids[record_id])
            verdict, found = _look_up(self.record_lookup, path, self._label)
            if verdict == "deleted":
                tombstones.append({"id": record_id, cursor_field: started_from, DELETED_AT_FIELD: deleted_at})
            elif verdict == "unknown" or (found is not None and (found.get("updated_at") or "") >= start_date):
                now_known[record_id] = known.ids[record_id]
        self._save(state, now_known)
        yield from tombstones

    def _read_scope(self, start_date: str) -> dict[int, int | None] | None:
        """Every id of the whole list (with its parent), or None (with a WARNING) when the walk is not complete."""
        retriever: Any = self.retriever
        scope: dict[int, int | None] = {}
        try:
            for response in _pages(retriever.requester, retriever.paginator, {}):
                for record in retriever.record_selector.extractor.extract_records(response):
                    scope[int(record["id"])] = self._parent_of(record)
        except (_IncompleteWalk, AirbyteTracedException) as error:  # AirbyteTracedException: not the envelope
            why = f"failed ({error.message})" if isinstance(error, AirbyteTracedException) else str(error)
            LOGGER.warning(f"{self._label}: the list of the deletion scope {why}; {_NOTHING_MARKED}")
            return None
        return scope

    def _parent_of(self, record: Mapping[str, Any]) -> int | None:
        if not self.parent_field:
            return None
        parent = record.get(self.parent_field)
        return int(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") is not None else None

    def _save(self, state: MutableMapping[str, Any], known: dict[int, int | None]) -> None:
        if len(known) > MAX_KNOWN_IDS:
            LOGGER.warning(
                f"{self._label}: {len(known)} records are known, more than the {MAX_KNOWN_IDS} the state keeps; "
                "deletions are not detected for this stream."
            )
            state.pop(KNOWN_IDS_KEY, None)
            return
        state[KNOWN_IDS_KEY] = HarvestKnownIds(known).to_state()


def _mutable_state(cursor: Any) -> MutableMapping[str, Any] | None:
    """The cursor's state dict, which the CDK emits with the stream's state (a flat cursor keeps keys it does not
    know: deletions.md); None when there is no such dict."""
    state = getattr(cursor, "state", None)
    return state if isinstance(state, MutableMapping) else None


def _cursor_field(cursor: Any) -> str:
    return str(getattr(getattr(cursor, "cursor_field", None), "cursor_field_key", "updated_at"))


# -- time entries and expenses: their whole spent_date history ---------------------------------------------------------
APPROVAL_CODES = {"unsubmitted": 0, "submitted": 1, "approved": 2}
# Each is counted on its own (`approval_status=`), with the total: any change of approval moves one of the three.
COUNTED_APPROVALS = (None, "submitted", "approved")


def _month(day: str) -> int:
    """A `YYYY-MM-DD` day's month as a number. Example: _month("2024-03-15") -> 24290"""
    return int(day[0:4]) * 12 + int(day[5:7]) - 1


def _month_days(month: int) -> tuple[str, str]:
    """The first and last day of a month number. Example: _month_days(24290) -> ("2024-03-01", "2024-03-31")"""
    year, index = divmod(month, 12)
    first = dt.date(year, index + 1, 1)
    following = dt.date(year + (index + 1) // 12, (index + 1) % 12 + 1, 1)
    return first.isoformat(), (following - dt.timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class HarvestSpentHistory:
    """What a time-entry or expense stream knows of its history, as its state keeps it (`known_ids`): each record
    spent on or after `since`, with the month it was spent in and its approval status; and, for the months before
    `tracked_from` (when a large account's ids would not fit the state: `MAX_HISTORY_BYTES`), only how many records
    each month holds, in all and submitted and approved (`counted`).

    Example: HarvestSpentHistory({7: (24290, 2), 3: (24291, 0)}, "2024-01-01").to_state()
                 -> {"count": 2, "ids": pack_ids([3, 7]), "months": pack_ids([24291, 24290]),
                     "approvals": pack_ids([0, 2]), "spent_since": "2024-01-01"}
             HarvestSpentHistory({7: (24290, 2)}, "2024-01-01", {24289: (40, 0, 38)}, 24290).to_state()
                 -> the same keys, plus "counted": pack_ids([24289, 40, 0, 38]) and "tracked_from": 24290
             HarvestSpentHistory.from_state(that) -> the same; a 2.1.0 window state (no "months") -> None
    """

    entries: Mapping[int, tuple[int, int]]
    since: str
    counted: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    tracked_from: int | None = None

    def to_state(self) -> dict[str, Any]:
        ordered = sorted(self.entries)
        state: dict[str, Any] = {
            "count": len(ordered),
            "ids": pack_ids(ordered),
            "months": pack_ids(self.entries[record_id][0] for record_id in ordered),
            "approvals": pack_ids(self.entries[record_id][1] for record_id in ordered),
            "spent_since": self.since,
        }
        if self.tracked_from is not None:
            state["tracked_from"] = self.tracked_from
            state["counted"] = pack_ids(n for month in sorted(self.counted) for n in (month, *self.counted[month]))
        return state

    @classmethod
    def from_state(cls, value: Any) -> "HarvestSpentHistory | None":
        if not isinstance(value, Mapping) or not all(
            isinstance(value.get(key), str) for key in ("ids", "months", "approvals", "spent_since")
        ):
            return None
        try:
            ids, months, approvals = (unpack_ids(value[key]) for key in ("ids", "months", "approvals"))
            flat = unpack_ids(value["counted"]) if isinstance(value.get("counted"), str) else []
        except ValueError:
            return None
        if not len(ids) == len(months) == len(approvals) == value.get("count", len(ids)) or len(flat) % 4:
            return None
        tracked_from = value.get("tracked_from")
        return cls(
            {
                record_id: _shared_place(month, code)
                for record_id, month, code in zip(ids, months, approvals, strict=True)
            },
            value["spent_since"],
            {flat[i]: (flat[i + 1], flat[i + 2], flat[i + 3]) for i in range(0, len(flat), 4)},
            tracked_from if isinstance(tracked_from, int) else None,
        )

    def within(self, max_bytes: int) -> "HarvestSpentHistory":
        """This history, its oldest tracked months turned into counts until its state is at most `max_bytes` of
        JSON. Example: 200,000 records 3 bytes each apart, 96 KB -> the newest ~30,000 records tracked."""
        history = self
        while len(json.dumps(history.to_state())) > max_bytes and history.entries:
            months = sorted({month for month, _ in history.entries.values()})
            # Move about the share of months that brings the state under the budget (at least one month).
            share = 1 - max_bytes / len(json.dumps(history.to_state()))
            cut = months[min(len(months) - 1, max(0, int(len(months) * share)))]
            older = {i: place for i, place in history.entries.items() if place[0] <= cut}
            counted = dict(history.counted)  # months before the previous cut: none of them is in `older`
            counted.update({m: (r[0], r[1], r[2]) for m, r in HarvestSpentHistory(older, self.since).counts().items()})
            entries = {i: place for i, place in history.entries.items() if place[0] > cut}
            history = HarvestSpentHistory(entries, self.since, counted, cut + 1)
        return history

    def counts(self) -> dict[int, list[int]]:
        """Per month: how many records, submitted and approved, counted or tracked."""
        rows = {month: list(row) for month, row in self.counted.items()}
        for month, code in self.entries.values():
            row = rows.setdefault(month, [0, 0, 0])
            row[0] += 1
            if code:
                row[code] += 1
        return rows

    def tracks(self, month: int) -> bool:
        return self.tracked_from is None or month >= self.tracked_from


def _place(record: Mapping[str, Any], since: str) -> tuple[int, int] | None:
    """(month, approval code) of a record spent on or after `since`, else None."""
    spent = record.get("spent_date")
    if not isinstance(spent, str) or spent < since:
        return None
    return _shared_place(_month(spent), APPROVAL_CODES.get(str(record.get("approval_status")), 0))


@functools.cache
def _shared_place(month: int, code: int) -> tuple[int, int]:
    """One tuple per (month, approval code), shared by every record there: a history of 200,000 records holds a few
    hundred distinct places, and 200,000 tuples of its own would be about 17 MB more of peak memory."""
    return month, code


class _CountFailed(Exception):
    """A count of the history could not be read (the WARNING is logged where it failed)."""


@dataclass(frozen=True)
class _Buckets:
    """Ranges of months (first, last) of a history to re-list; `tail` stands for every month from it on."""

    ranges: list[tuple[int, int]]
    tail: int

    def params(self, months: tuple[int, int]) -> dict[str, str]:
        first, last = _month_days(months[0])[0], _month_days(months[1])[1]
        return {"from": first} if months[1] == self.tail else {"from": first, "to": last}

    def holds(self, months: tuple[int, int], record_month: int) -> bool:
        return months[0] <= record_month and (record_month <= months[1] or months[1] == self.tail)


@dataclass
class HarvestSpentHistoryRetriever(_ReconciledRead):
    """Time entries or expenses: the stream's own read, plus, on incremental syncs, the months of their history
    (by `spent_date`, from replication_start_date's day on) whose records changed without Harvest dating the change:
    a deletion, or an approval when approving does not move `updated_at`.

    The state's `known_ids` (HarvestSpentHistory) keeps every record of the history with its month and approval
    status. Each incremental sync:
    1. runs the stream's own read (`updated_since`) and yields it; what it read is applied to the history (moves
       between months and approvals it shows are expected, not news);
    2. asks Harvest how many records the history holds, in all and per approval status (`counter`: `per_page=1`,
       the envelope's `total_entries`; three requests), and compares with the history;
    3. where a count differs, halves the range of months until it finds the months that differ (one request per
       half per differing count: about 7 for one month in eight years);
    4. re-lists those months in full (`from`/`to`), yields their records updated since the start date (an approval
       reaches the destination however Harvest dates it), and looks up each known record they no longer list
       (`record_lookup`): Harvest's JSON 404 makes a tombstone `{"id", "updated_at": <the cursor this sync started
       from>, "_ab_cdc_deleted_at": <now>}`, a record found elsewhere is yielded and kept.
    Tombstones need an Administrator's token (`current_user`); without one, and when more than max(20, 10%) vanish
    at once, nothing is marked deleted and what was known stays. A first sync builds the history from its own read;
    a state without one (2.1.0 and earlier, or a new start date) lists the history once, without tombstones. A
    count or a list that fails keeps what was known. With `emit_deletions: false` and in the Connector Builder's
    test reads it is the stream's own read.
    Checked: no declarative component counts records or compares counts between syncs, and DatetimeBasedCursor can
    only ask `updated_since`, which shows neither a deletion nor an approval that Harvest does not date.

    Example (time entries; history: 1 and 2 in March 2024, 3 in April, all unsubmitted; nothing changed but 2 was
    deleted and 3 approved without updated_at moving):
        own read -> nothing; counts: all 2 (history 3), submitted 0 (0), approved 1 (0)
        halves -> March differs in all, April in approved; re-list March -> 1; re-list April -> 3 (approved): yielded
        GET /v2/time_entries/2 -> 404 JSON => the tombstone of 2; the history: 1 (March), 3 (April, approved)
    """

    counter: Requester | None = None  # the count requests (per_page=1); always set by the manifest

    def _read_and_reconcile(
        self, state: MutableMapping[str, Any], records_schema: Mapping[str, Any], stream_slice: StreamSlice | None
    ) -> Iterable[StreamData]:
        cursor_field = _cursor_field(self.cursor)
        started_from = state.get(cursor_field)
        start_date = str(self.config.get("replication_start_date") or "")
        since = start_date[:10]
        history = HarvestSpentHistory.from_state(state.get(KNOWN_IDS_KEY))
        if history is not None and history.since != since:
            history = None  # a new start date: another history
        is_first_sync = history is None and (not isinstance(started_from, str) or started_from <= start_date)

        changed: dict[int, tuple[int, int] | None] = {}
        for record in self.retriever.read_records(records_schema, stream_slice):
            yield record
            if isinstance(record, Mapping):  # not a log message
                changed[int(record["id"])] = _place(record, since)
        if is_first_sync:
            for record_id in [k for k, v in changed.items() if v is None]:  # in place: a large history is big
                del changed[record_id]
            self._save(state, HarvestSpentHistory(changed, since))  # type: ignore[arg-type]
            return
        if history is None:
            listed = yield from self._list({"from": since}, since, records_schema, emit=False)
            if listed is not None:
                self._save(state, HarvestSpentHistory(listed, since))
            return

        # What the own read showed is expected. A record now in (or leaving for) a month whose ids the state does not
        # keep makes that month's count unknowable: it is re-listed.
        expected = history.entries  # from_state's own dict: changed in place (a large history is big)
        assert isinstance(expected, dict)
        relist: set[int] = set()
        for record_id, place in changed.items():
            expected.pop(record_id, None)
            if place is not None and history.tracks(place[0]):
                expected[record_id] = place
            elif place is not None:
                relist.add(place[0])
        history = HarvestSpentHistory(expected, since, history.counted, history.tracked_from)
        if not self._administrator():
            LOGGER.warning(
                f"{self._label}: only an Administrator's token sees the whole history, so its deletions and undated "
                "approvals are not looked for this sync; what was known is kept."
            )
            self._save(state, history)
            return
        buckets = self._changed_months(history, since, relist)
        if buckets is None:
            self._save(state, history)
            return
        known_before = len(expected)
        counted = dict(history.counted)
        gone: dict[int, tuple[int, int]] = {}  # the places of the records a re-list no longer shows
        vanished: set[int] = set()
        for months in buckets.ranges:
            listed = yield from self._list(buckets.params(months), since, records_schema, emit=True)
            if listed is None:
                self._save(state, history)
                return
            relisted = HarvestSpentHistory(listed, since).counts()
            for month in range(months[0], min(months[1] + 1, history.tracked_from or months[0])):
                row = relisted.get(month, [0, 0, 0])  # a month only counted: its new counts
                counted[month] = (row[0], row[1], row[2])
            in_range = [record_id for record_id, place in expected.items() if buckets.holds(months, place[0])]
            for record_id in in_range:
                place = expected.pop(record_id)
                if record_id not in listed:
                    vanished.add(record_id)
                    gone[record_id] = place
            expected.update({record_id: place for record_id, place in listed.items() if history.tracks(place[0])})
        refusal = mass_deletion_refusal(known_before, len(vanished), len(expected))
        if refusal:
            _refusal_warning(self._label, refusal)
            expected.update(gone)
            self._save(state, HarvestSpentHistory(expected, since, counted, history.tracked_from))
            return
        deleted_at = _now_stamp()
        tombstones = []
        for record_id in sorted(vanished):
            verdict, found = _look_up(self.record_lookup, f"{self._endpoint}/{record_id}", self._label)
            if verdict == "deleted":
                tombstones.append({"id": record_id, cursor_field: started_from, DELETED_AT_FIELD: deleted_at})
            elif verdict == "exists" and found is not None:
                place = _place(found, since)
                if place is not None and history.tracks(place[0]):
                    expected[record_id] = place
                if self._in_stream(found):
                    yield dict(found)
            else:
                expected[record_id] = gone[record_id]
        self._save(state, HarvestSpentHistory(expected, since, counted, history.tracked_from))
        yield from tombstones

    # -- counting ---------------------------------------------------------------------------------------------------
    def _changed_months(self, history: HarvestSpentHistory, since: str, relist: set[int]) -> _Buckets | None:
        """The months whose counts differ from the history's, and the untracked months in `relist` (None when a
        count failed). The last bucket, `tail`, holds every month after the later of this month and the newest month
        known (entries can be spent ahead)."""
        first = _month(since)
        counts = history.counts()
        tail = max([_month(dt.datetime.now(dt.UTC).date().isoformat()), *counts]) + 1

        def wanted(lo: int, hi: int, approval: str | None) -> int:
            index = COUNTED_APPROVALS.index(approval)
            return sum(row[index] for month, row in counts.items() if lo <= month <= hi or (hi == tail and month > hi))

        def count(lo: int, hi: int, approval: str | None) -> int:
            return self._count(_month_days(lo)[0], None if hi == tail else _month_days(hi)[1], approval)

        found: set[tuple[int, int]] = {(month, month) for month in relist}

        def halve(lo: int, hi: int, actual: dict[str | None, int]) -> None:
            # One month, or a range whose re-list is one page anyway: re-listing it costs less than halving it.
            if lo == hi or (hi != tail and max(wanted(lo, hi, None), actual.get(None, 0)) <= ONE_PAGE_OF_RECORDS):
                found.add((lo, hi))
                return
            mid = (lo + hi) // 2
            left = {approval: count(lo, mid, approval) for approval in actual}
            right = {approval: actual[approval] - left[approval] for approval in actual}
            left_differs = {a: n for a, n in left.items() if n != wanted(lo, mid, a)}
            right_differs = {a: n for a, n in right.items() if n != wanted(mid + 1, hi, a)}
            if left_differs:
                halve(lo, mid, left_differs)
            if right_differs:
                halve(mid + 1, hi, right_differs)

        try:
            top = {approval: count(first, tail, approval) for approval in COUNTED_APPROVALS}
            if top[None] and top["submitted"] + top["approved"] > top[None]:
                # Both statuses count every record: `approval_status` is not filtering (an account or API version
                # without approvals). Only the totals can be compared then.
                LOGGER.warning(
                    f"{self._label}: Harvest ignores the approval_status filter; only deletions are looked for."
                )
                top = {None: top[None]}
            differing = {a: n for a, n in top.items() if n != wanted(first, tail, a)}
            if differing:
                halve(first, tail, differing)
        except _CountFailed:
            return None
        ranges = [r for r in found if not any(o != r and o[0] <= r[0] and r[1] <= o[1] for o in found)]
        return _Buckets(sorted(ranges), tail)

    def _count(self, first_day: str, last_day: str | None, approval: str | None) -> int:
        """How many records Harvest lists spent from `first_day` to `last_day` (None: ever after), with `approval`."""
        params = {"from": first_day}
        if last_day:
            params["to"] = last_day
        if approval:
            params["approval_status"] = approval
        assert self.counter is not None, "the manifest gives the history its count requester"
        try:
            response = self.counter.send_request(stream_slice=_NO_SLICE, request_params=params)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise
            LOGGER.warning(f"{self._label}: counting its history failed ({error.message}); {_NOTHING_MARKED}")
            raise _CountFailed() from error
        body = _json_or_none(response) if response is not None and response.ok else None
        total = body.get("total_entries") if isinstance(body, Mapping) else None
        if not isinstance(total, int):
            status = response.status_code if response is not None else "no response"
            LOGGER.warning(f"{self._label}: Harvest answered {status} to a count of its history; {_NOTHING_MARKED}")
            raise _CountFailed()
        return total

    # -- listing ----------------------------------------------------------------------------------------------------
    def _list(
        self, params: Mapping[str, str], since: str, records_schema: Mapping[str, Any], emit: bool
    ) -> Generator[StreamData, None, dict[int, tuple[int, int]] | None]:
        """Every record spent within `params` (`from`, and `to` unless the range is open), yielding those updated
        since the start date when `emit`; returns id -> (month, approval) of every record listed, or None when the
        walk is not complete."""
        retriever: Any = self.retriever
        listed: dict[int, tuple[int, int]] = {}
        try:
            for response in _pages(retriever.requester, retriever.paginator, params):
                for record in retriever.record_selector.extractor.extract_records(response):
                    place = _place(record, since)
                    if place is not None:
                        listed[int(record["id"])] = place
                    if emit and self._in_stream(record):
                        yield record
        except (_IncompleteWalk, AirbyteTracedException) as error:  # AirbyteTracedException: not the envelope
            why = f"failed ({error.message})" if isinstance(error, AirbyteTracedException) else str(error)
            LOGGER.warning(f"{self._label}: a list of its history {why}; {_NOTHING_MARKED}")
            return None
        return listed

    def _in_stream(self, record: Mapping[str, Any]) -> bool:
        """Whether a re-listed or looked-up record belongs in the stream: updated from the start date to the end date,
        if any (the stream's own read has them from `updated_since` and its record filter; a re-list has neither)."""
        updated = str(record.get("updated_at") or "")
        end = self.config.get("replication_end_date")
        return updated >= str(self.config.get("replication_start_date") or "") and (not end or updated <= end)

    def _save(self, state: MutableMapping[str, Any], history: HarvestSpentHistory) -> None:
        kept = history.within(MAX_HISTORY_BYTES)
        if kept.tracked_from != history.tracked_from and kept.tracked_from is not None:
            first, _ = _month_days(kept.tracked_from)
            LOGGER.info(
                f"{self._label}: the state keeps the ids of the records spent from {first[:7]} on "
                f"({MAX_HISTORY_BYTES // 1000} KB); for older months only their counts, so a deletion there is not named."
            )
        state[KNOWN_IDS_KEY] = kept.to_state()


# -- report rows ---------------------------------------------------------------------------------------------------
def pack_rows(rows: Iterable[tuple[int, str]]) -> dict[str, str]:
    """The (subject id, currency) keys of a report window's rows, per currency, as a state keeps them.

    Example: pack_rows([(7, "USD"), (3, "EUR"), (5, "USD")]) -> {"EUR": pack_ids([3]), "USD": pack_ids([5, 7])}
    """
    by_currency: dict[str, list[int]] = {}
    for subject, currency in rows:
        by_currency.setdefault(str(currency), []).append(int(subject))
    return {currency: pack_ids(sorted(ids)) for currency, ids in sorted(by_currency.items())}


def unpack_rows(value: Any) -> set[tuple[int, str]] | None:
    """The keys `pack_rows` wrote; None for anything else."""
    if not isinstance(value, Mapping):
        return None
    try:
        return {(subject, str(currency)) for currency, text in value.items() for subject in unpack_ids(str(text))}
    except ValueError:
        return None


@dataclass
class HarvestReportTombstoneRetriever(Retriever):
    """One report window's rows, plus a tombstone for each row of that window known from the previous sync that the
    window no longer has (its only entries were moved to another subject or window, or deleted).

    Every incremental sync re-reads every window (the report cursor's lookback reaches the first one): any window's
    rows can have changed (an old timesheet fixed, an entry deleted, a client renamed), and only the report says how.
    A row's key is (`from`, `to`, subject id, `currency`); the subject id is the third field of the stream's primary
    key. The keys each window had are kept in the state (`known_rows`, per window start, per currency). A tombstone
    is `{"from", "to", <subject id>, "currency", "_ab_cdc_deleted_at": <now>}`. Tombstones need a previous read of
    the window and an Administrator's token (`current_user`); more than max(20, 10%) of a window's rows vanishing at
    once, or all of them, is refused (a 403, a token that sees less). With `emit_deletions: false` and in the
    Connector Builder's test reads it is the plain read.
    Checked: SimpleRetriever and ConcurrentCursor keep no rows between syncs; no declarative component emits a
    record for a row that is no longer there.

    Example (time_clients, window 20240101-20241231, known rows (7, USD), (9, EUR)):
        GET /v2/reports/time/clients?from=20240101&to=20241231 -> client 7 USD
        => yields the row of client 7, then {"from": "20240101", "to": "20241231", "client_id": 9, "currency": "EUR",
           "_ab_cdc_deleted_at": <now>}; known_rows["20240101"] becomes {"USD": <7>}
    """

    retriever: Retriever
    current_user: Requester
    cursor: Any
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    primary_key: Any = None
    name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._label = str(parameters.get("stream_label") or self.name)
        self._lock = threading.Lock()
        self._administrator = _AdministratorCheck(self.current_user, self.config)
        keys = list(self.primary_key) if isinstance(self.primary_key, list | tuple) else []
        self._subject = str(keys[2]) if len(keys) == 4 else ""
        state = _mutable_state(self.cursor)
        self._known: dict[str, Any] = dict(state.get(KNOWN_ROWS_KEY) or {}) if state is not None else {}
        self._has_cursor = bool(state and state.get(_cursor_field(self.cursor)))
        if state is not None:
            if _emits_deletions(self.config):
                # The key exists before the windows are read in parallel, so that the CDK never sees the state
                # change size while it serialises it; each window then replaces the whole mapping.
                state[KNOWN_ROWS_KEY] = dict(self._known)
            else:
                state.pop(KNOWN_ROWS_KEY, None)

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        state = _mutable_state(self.cursor)
        tracked = (
            state is not None
            and stream_slice is not None
            and bool(self._subject)
            and _emits_deletions(self.config)
            and not _is_builder_test_read(self.retriever)
        )
        if not tracked or state is None or stream_slice is None:
            yield from self.retriever.read_records(records_schema, stream_slice)
            return
        window_from, window_to = str(stream_slice["start_time"]), str(stream_slice["end_time"])
        known = unpack_rows(self._known.get(window_from)) or set()
        seen: set[tuple[int, str]] = set()
        for record in self.retriever.read_records(records_schema, stream_slice):
            yield record
            if isinstance(record, Mapping) and record.get(self._subject) is not None:
                seen.add((int(record[self._subject]), str(record.get("currency"))))
        vanished = sorted(known - seen)
        keep = seen
        if vanished:
            refusal = mass_deletion_refusal(len(known), len(vanished), len(seen))
            if not self._has_cursor:
                keep = seen | set(vanished)
            elif refusal:
                _refusal_warning(f"{self._label} ({window_from}-{window_to})", refusal)
                keep = seen | set(vanished)
            elif not self._administrator():
                LOGGER.warning(
                    f"{self._label}: {len(vanished)} row(s) of {window_from}-{window_to} known from the previous sync "
                    "are gone, but only an Administrator's token sees every row: none is marked deleted."
                )
                keep = seen | set(vanished)
            else:
                deleted_at = _now_stamp()
                for subject, currency in vanished:
                    yield {
                        "from": window_from,
                        "to": window_to,
                        self._subject: subject,
                        "currency": currency,
                        DELETED_AT_FIELD: deleted_at,
                    }
        with self._lock:
            rows = {key: value for key, value in (state.get(KNOWN_ROWS_KEY) or {}).items() if key != window_from}
            if keep:
                rows[window_from] = pack_rows(keep)
            state[KNOWN_ROWS_KEY] = rows
