"""The fewest requests a sync can make, computed from the sandbox's store (ground truth), not from the connector.

Rules (Harvest: 2000 records per page, one request per child parent; docs/CONTRACT.md, shared/design.md 8 and 9):

- a list endpoint needs ``ceil(n / 2000)`` pages, and 1 when ``n`` is 0;
- a child endpoint needs one request per parent (more pages if a parent has more than 2000 children);
- a report needs ``windows x pages``: one-year windows anchored on ``replication_start_date`` up to the one that
  contains today (a full sync reads them all; an incremental sync the current one, and the previous one when
  today is fewer than ``reports_lookback_days`` days into the current one);
- parents of children are read once, and that read also serves the parent's own stream: on a full sync the
  children of *every* parent are read (the parent list from the epoch covers the stream's list from the start
  date); on an incremental sync (shared/design.md 8, harvest-api/README.md section 9):
  - payments: of the invoices updated since the last sync (a payment moves its invoice);
  - messages: of those plus the parents that can gain one without changing, open invoices and sent estimates
    (one list per state; a draft gains a message only by being sent, which changes it);
  - project assignments: of the users with a user assignment updated since the child's own start (its cursor minus
    the last sync's duration and the lookback), one list of user assignments from the earlier of that start and
    the ``user_assignments`` stream's;
  - rates: of every user (no change signal known).
- deletion detection (``emit_deletions``, on by default): an incremental sync also reads each entity stream's scope
  once more without ``updated_since`` (the whole list; time entries and expenses with ``spent_date`` in the last
  ``deletions_lookback_days``), and looks up each id the previous sync knew in that scope that is gone (one
  request each, plus one ``/v2/users/me`` per stream that has any; none past the mass-deletion guard).

Keys are the sandbox's count keys, e.g. ``"GET /v2/invoices/{parent_id}/messages"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from harvest_sandbox.store import Store
from source_harvest.streams import ENTITY_STREAMS

from .floor import pages

ENTITIES = ENTITY_STREAMS
#: child resource -> (parent resource, URL suffix)
CHILDREN: dict[str, tuple[str, str]] = {
    "estimate_messages": ("estimates", "messages"),
    "invoice_messages": ("invoices", "messages"),
    "invoice_payments": ("invoices", "payments"),
    "project_assignments": ("users", "project_assignments"),
    "billable_rates": ("users", "billable_rates"),
    "cost_rates": ("users", "cost_rates"),
}
#: parents whose messages can arrive without the parent changing, and the state that can
LIVE_STATES: dict[str, str] = {"invoices": "open", "estimates": "sent"}
#: children whose every new record moves the parent: only the updated parents are asked
MOVE_THE_PARENT: tuple[str, ...] = ("invoice_payments",)
DATED_REPORTS: tuple[str, ...] = (
    "expenses/categories",
    "expenses/clients",
    "expenses/projects",
    "expenses/team",
    "time/clients",
    "time/projects",
    "time/tasks",
    "time/team",
    "uninvoiced",
)
FIXED_FEE_REPORTS = ("time/clients", "time/projects", "time/tasks", "time/team", "uninvoiced")
EPOCH = "1970-01-01T00:00:00Z"
#: endpoints that ignore ``updated_since``: the connector filters their records on the client side
CLIENT_FILTERED: tuple[str, ...] = ("roles", "billable_rates", "cost_rates")
#: entity streams whose deletion scope is a ``spent_date`` window, and the ones looked up under their project
WINDOWED_SCOPES: tuple[str, ...] = ("expenses", "time_entries")
LOOKED_UP_UNDER_PROJECT: tuple[str, ...] = ("task_assignments", "user_assignments")


@dataclass(frozen=True)
class SyncConfig:
    """The connector config fields that decide what a sync reads."""

    replication_start_date: str = "2017-01-01T00:00:00Z"
    lookback_window_seconds: int = 60
    reports_lookback_days: int = 30
    include_fixed_fee: bool = True
    emit_deletions: bool = True
    deletions_lookback_days: int = 90

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SyncConfig:
        return cls(
            replication_start_date=str(config["replication_start_date"]),
            lookback_window_seconds=int(config.get("lookback_window_seconds", 60)),
            reports_lookback_days=int(config.get("reports_lookback_days", 30)),
            include_fixed_fee=bool(config.get("include_fixed_fee", True)),
            emit_deletions=config.get("emit_deletions") is not False,
            deletions_lookback_days=int(config.get("deletions_lookback_days", 90)),
        )


@dataclass
class Minimum:
    """Requests per endpoint, and how many records the sync should emit per resource (for the records/s axis)."""

    requests: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)

    def add(self, endpoint: str, n: int) -> None:
        self.requests[f"GET {endpoint}"] = self.requests.get(f"GET {endpoint}", 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {"requests": dict(sorted(self.requests.items())), "records": dict(sorted(self.records.items()))}


# -- report windows -------------------------------------------------------------------------------------------------
def report_anchor(replication_start_date: str) -> date:
    day = date.fromisoformat(replication_start_date[:10])
    return date(day.year, 3, 1) if (day.month, day.day) == (2, 29) else day


def report_windows(replication_start_date: str, today: date) -> list[tuple[date, date]]:
    """Every one-year window from the anchor up to (and including) the one that contains ``today``."""
    anchor = report_anchor(replication_start_date)
    windows: list[tuple[date, date]] = []
    k = 0
    while True:
        start = anchor.replace(year=anchor.year + k)
        if start > today:
            return windows
        windows.append((start, anchor.replace(year=anchor.year + k + 1) - timedelta(days=1)))
        k += 1


def incremental_windows(config: SyncConfig, today: date) -> list[tuple[date, date]]:
    windows = report_windows(config.replication_start_date, today)
    current = windows[-1]
    if (today - current[0]).days < config.reports_lookback_days and len(windows) > 1:
        return windows[-2:]
    return [current]


# -- helpers --------------------------------------------------------------------------------------------------------
def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minus(stamp: str, seconds: int) -> str:
    return _stamp(datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=seconds))


def _list(store: Store, name: str, *, since: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    """What the list endpoint returns (``roles`` ignores ``updated_since``: filtered here as the connector does)."""
    if name in CLIENT_FILTERED:
        rows = store.list(name, **filters)
        return rows if since is None else _client_side(rows, since)
    return store.list(name, updated_since=since, **filters)


def _client_side(rows: list[dict[str, Any]], since: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["updated_at"] >= since]


def _children(
    store: Store,
    minimum: Minimum,
    parents: Iterable[int],
    parent_name: str,
    since: Mapping[str, str],
    only: Iterable[str] | None = None,
) -> None:
    """One request per parent (more past 2000 children) for each child of ``parent_name`` (or those in ``only``).
    Records: children updated since ``since[child]``, filtered by the server (``updated_since``) or, where the
    endpoint ignores it, on the client side."""
    parents = list(parents)
    for child, (parent, suffix) in CHILDREN.items():
        if parent != parent_name or (only is not None and child not in only):
            continue
        endpoint = f"/v2/{parent}/{{parent_id}}/{suffix}"
        minimum.add(endpoint, 0)
        server_side = child not in CLIENT_FILTERED
        for parent_id in parents:
            rows = store.list(child, parent_id=parent_id, updated_since=since[child] if server_side else None)
            minimum.add(endpoint, pages(len(rows)))
            kept = rows if server_side else _client_side(rows, since[child])
            minimum.records[child] = minimum.records.get(child, 0) + len(kept)


def _reports(store: Store, minimum: Minimum, config: SyncConfig, windows: list[tuple[date, date]]) -> None:
    for name in DATED_REPORTS:
        stream = name.replace("/", "_")
        for start, end in windows:
            params: dict[str, Any] = {"from_": start.isoformat(), "to": end.isoformat()}
            if name in FIXED_FEE_REPORTS:
                params["include_fixed_fee"] = "true" if config.include_fixed_fee else "false"
            rows = store.report(name, **params)
            minimum.add(f"/v2/reports/{name}", pages(len(rows)))
            minimum.records[stream] = minimum.records.get(stream, 0) + len(rows)
    budget = store.report("project_budget")
    minimum.add("/v2/reports/project_budget", pages(len(budget)))
    minimum.records["project_budget"] = len(budget)


def _deletion_scope(store: Store, name: str, config: SyncConfig, today: date) -> list[dict[str, Any]]:
    """What the reconciliation read of ``name`` lists: the whole list, or the ``spent_date`` window."""
    if name in WINDOWED_SCOPES:
        since = (today - timedelta(days=config.deletions_lookback_days)).isoformat()
        window: dict[str, Any] = {"from": since}  # Harvest's filter on spent_date
        return store.list(name, **window)
    return store.list(name)


def known_ids(store: Store, config: SyncConfig, today: date) -> dict[str, list[int]]:
    """The ids a sync records for deletion detection: the scope's records the destination holds (updated since the
    start date). Take it right after a full sync, with :func:`cursors`."""
    start = config.replication_start_date
    return {
        name: sorted(r["id"] for r in _deletion_scope(store, name, config, today) if r["updated_at"] >= start)
        for name in ENTITIES
    }


def _reconciliation(store: Store, minimum: Minimum, config: SyncConfig, known: Mapping[str, Any], today: date) -> None:
    """The reconciliation read of every entity stream, and one lookup per known id that is gone."""
    if not config.emit_deletions:
        return
    for name in ENTITIES:
        minimum.add(f"/v2/{name}", pages(len(_deletion_scope(store, name, config, today))))
        before = known.get(name) or []
        gone = [record_id for record_id in before if not store.exists(name, record_id)]
        if not gone or len(gone) > max(20, 0.1 * len(before)):
            continue
        lookup = (
            f"/v2/projects/{{parent_id}}/{name}/{{id}}" if name in LOOKED_UP_UNDER_PROJECT else f"/v2/{name}/{{id}}"
        )
        minimum.add(lookup, len(gone))
        minimum.add("/v2/users/me", 1)
        minimum.records[name] = minimum.records.get(name, 0) + len(gone)


def _company(minimum: Minimum) -> None:
    minimum.add("/v2/company", 1)
    minimum.records["company"] = 1


# -- the two syncs --------------------------------------------------------------------------------------------------
def full_sync(store: Store, config: SyncConfig, today: date) -> Minimum:
    """A first sync (no state) of every stream."""
    minimum = Minimum()
    start = config.replication_start_date
    _company(minimum)
    for name in ENTITIES:
        emitted = _list(store, name, since=start)
        minimum.records[name] = len(emitted)
        read = _list(store, name) if name in ("invoices", "estimates", "users", "roles") else emitted
        minimum.add(f"/v2/{name}", pages(len(read)))
        if name in ("invoices", "estimates", "users"):
            _children(store, minimum, [r["id"] for r in read], name, dict.fromkeys(CHILDREN, start))
    _reports(store, minimum, config, report_windows(start, today))
    return minimum


def cursors(store: Store, config: SyncConfig) -> dict[str, str]:
    """What a complete sync leaves as cursors: the newest ``updated_at`` per entity stream (records updated after
    the start date) and per parent (every record). Take it right after a full sync, before any change. The CDK
    also saves, per child stream, how long that sync took (``lookback_window``); add it as
    ``<child>_lookback_window`` (seconds) from the sync's state, it moves where the children are read from."""
    start = config.replication_start_date
    result: dict[str, str] = {}
    for name in ENTITIES:
        stamps = [r["updated_at"] for r in _list(store, name, since=start)]
        result[name] = max(stamps, default=start)
    for parent in ("invoices", "estimates"):
        result[f"{parent}_parent"] = max((r["updated_at"] for r in _list(store, parent)), default=EPOCH)
    for child, (parent, _suffix) in CHILDREN.items():
        stamps = [r["updated_at"] for p in _list(store, parent) for r in store.list(child, parent_id=p["id"])]
        result[child] = max(stamps, default=start)
    return result


def saved_state(store: Store, config: SyncConfig, today: date) -> dict[str, Any]:
    """What a complete sync leaves behind that the next sync's minimum depends on: the cursors, and the ids known
    for deletion detection (``"known_ids"``). Take it right after a full sync, before any change."""
    return {**cursors(store, config), "known_ids": known_ids(store, config, today)}


def incremental_sync(store: Store, config: SyncConfig, saved: Mapping[str, Any], today: date) -> Minimum:
    """The sync after :func:`full_sync`, given what it left (:func:`saved_state`; :func:`cursors` alone leaves the
    deletion lookups out)."""
    minimum = Minimum()
    lookback = config.lookback_window_seconds
    _company(minimum)
    child_since = {
        child: _minus(saved[child], lookback + int(saved.get(f"{child}_lookback_window", 0))) for child in CHILDREN
    }
    for name in ENTITIES:
        since = _minus(saved[name], lookback)
        emitted = _list(store, name, since=since)
        minimum.records[name] = len(emitted)
        if name == "users":
            everyone = _list(store, "users")
            minimum.add("/v2/users", pages(len(everyone)))
            rates = [child for child in CHILDREN if child != "project_assignments" and CHILDREN[child][0] == "users"]
            _children(store, minimum, [u["id"] for u in everyone], "users", child_since, only=rates)
            continue
        if name == "user_assignments":
            changed_since = child_since["project_assignments"]
            read = _list(store, name, since=min(since, changed_since))
            minimum.add(f"/v2/{name}", pages(len(read)))
            users = sorted({r["user"]["id"] for r in read if r["updated_at"] > changed_since})
            _children(store, minimum, users, "users", child_since, only=("project_assignments",))
            continue
        if name in LIVE_STATES:
            parent_since = _minus(min(saved[name], saved[f"{name}_parent"]), lookback)
            updated = _list(store, name, since=parent_since)
            minimum.add(f"/v2/{name}", pages(len(updated)))
            parents = {r["id"] for r in _list(store, name, since=_minus(saved[f"{name}_parent"], lookback))}
            moving = [child for child in MOVE_THE_PARENT if CHILDREN[child][0] == name]
            _children(store, minimum, sorted(parents), name, child_since, only=moving)
            live = _list(store, name, state=LIVE_STATES[name])
            minimum.add(f"/v2/{name}", pages(len(live)))
            parents.update(r["id"] for r in live)
            messages = [child for child, (parent, _) in CHILDREN.items() if parent == name and child not in moving]
            _children(store, minimum, sorted(parents), name, child_since, only=messages)
            continue
        minimum.add(f"/v2/{name}", pages(len(_list(store, "roles") if name == "roles" else emitted)))
    # after the streams' own records: its tombstones add to them
    _reconciliation(store, minimum, config, saved.get("known_ids") or {}, today)
    _reports(store, minimum, config, incremental_windows(config, today))
    return minimum


def today_utc() -> date:
    return datetime.now(UTC).date()
