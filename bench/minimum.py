"""The fewest requests a sync can make, computed from the sandbox's store (ground truth), not from the connector.

Rules (Harvest: 2000 records per page, one request per child parent; docs/CONTRACT.md, shared/design.md 8 and 9,
and the docstrings of the components named below):

- a list endpoint needs ``ceil(n / 2000)`` pages, and 1 when ``n`` is 0;
- a child endpoint needs one request per parent (more pages if a parent has more than 2000 children);
- a report needs ``windows x pages``: one-year windows anchored on ``replication_start_date`` up to the one that
  contains today, all of them on every sync, full or incremental (any window's rows can change: an old timesheet
  fixed, an entry deleted or moved; HarvestReportTombstoneRetriever), plus one ``project_budget`` read;
- an entity stream reads its own list (``updated_since`` its cursor minus the lookback; the whole list on a full
  sync, from the start date);
- a child stream reads each chosen parent's whole child list (no ``updated_since``), and the parent list in full:
  ``/v2/invoices`` once for both invoice children (the request cache), ``/v2/estimates`` once, ``/v2/users`` once for
  the three user children; on a full sync every parent is read. On an incremental sync
  (HarvestChildPartitionRouter):
  - payments: of the invoices updated since the parent cursor (the newest invoice the last sync saw) minus the
    lookback (a payment, recorded or deleted, moves its invoice);
  - invoice messages: of those plus the open invoices; estimate messages: of the estimates updated since their
    parent cursor plus the sent ones (a draft gains a message only by being sent, which changes it);
  - rates: of every user (no change signal known);
  - project assignments: one read of the whole ``/v2/user_assignments`` list, then the users with a user assignment
    updated since the child cursor (minus the saved ``lookback_window`` and the lookback), plus the users of a known
    project assignment whose user assignment is gone;
  - every child stream: each known parent (one that had children) no longer listed, one request (its child list
    answers 404 and its children get tombstones), unless more than max(20, 10%) of the known parents vanished;
- deletion detection (``emit_deletions``, on by default), on an incremental sync only:
  - entity lists other than time entries and expenses (HarvestTombstoneRetriever): the whole list once more without
    ``updated_since`` (the reconciliation read), one lookup per id the previous sync knew that is gone (none past
    the mass-deletion guard, more than max(20, 10%) of the known ids);
  - time entries and expenses (HarvestSpentHistoryRetriever), their whole ``spent_date`` history from the start
    date: one ``/v2/users/me`` (only an Administrator's token looks), three counts (``per_page=1``, ``from`` the
    start month's first day: all, ``approval_status=submitted``, ``approval_status=approved``) compared with the
    history the last sync left updated with this sync's own read; where a count differs, the month range is halved
    down to the months that differ, or to a range whose records fit one page (1,500 with room), one count per
    halving per differing status (the left half is counted, the right half is the difference; the last month
    stands for every month after it); then each such range is re-listed (``from``/``to``: one page per 2000
    records) and each id the history held there that is no longer listed is looked up (none past the
    mass-deletion guard). **This part is the design's search, not a lower bound**: it is computed by running the
    design's halving against the store, and a different search could find the same months with fewer counts. (The
    model tracks every record; the connector keeps only counts for the oldest months past 96 KB of state, which the
    sandbox's accounts do not reach);
  - one ``/v2/users/me`` per sync when anything needs the token's role: the history streams, or a stream with a
    tombstone to confirm (entity lists with an id gone, child streams with a child gone, report streams with a row
    gone).

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
#: entity streams whose deletions and undated approvals are found by counting their spent_date history
HISTORY_STREAMS: tuple[str, ...] = ("expenses", "time_entries")
#: entity streams reconciled by a re-read of the whole list
RECONCILED: tuple[str, ...] = tuple(name for name in ENTITIES if name not in HISTORY_STREAMS)
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
#: the report -> the field of its rows that names the subject (the third field of the stream's primary key)
DATED_REPORTS: dict[str, str] = {
    "expenses/categories": "expense_category_id",
    "expenses/clients": "client_id",
    "expenses/projects": "project_id",
    "expenses/team": "user_id",
    "time/clients": "client_id",
    "time/projects": "project_id",
    "time/tasks": "task_id",
    "time/team": "user_id",
    "uninvoiced": "project_id",
}
FIXED_FEE_REPORTS = ("time/clients", "time/projects", "time/tasks", "time/team", "uninvoiced")
EPOCH = "1970-01-01T00:00:00Z"
#: endpoints that ignore ``updated_since``: the connector filters their records on the client side
CLIENT_FILTERED: tuple[str, ...] = ("roles",)
#: entity streams whose vanished records are looked up under their project
LOOKED_UP_UNDER_PROJECT: tuple[str, ...] = ("task_assignments", "user_assignments")
#: a state keeps at most this many ids per stream (beyond, none: components.MAX_KNOWN_IDS)
MAX_KNOWN_IDS = 100_000
#: the history's halving stops at a range of months whose records fit one page (components.ONE_PAGE_OF_RECORDS)
ONE_PAGE_OF_RECORDS = 1500
#: the mass-deletion guard: more than max(FLOOR, SHARE x known) gone at once is not taken as deletions
MASS_DELETION_FLOOR = 20
MASS_DELETION_SHARE = 0.10
APPROVAL_CODES = {"unsubmitted": 0, "submitted": 1, "approved": 2}
#: the counts of a history: all records, then per approval status (index = approval code)
COUNTED_APPROVALS: tuple[str | None, ...] = (None, "submitted", "approved")


@dataclass(frozen=True)
class SyncConfig:
    """The connector config fields that decide what a sync reads."""

    replication_start_date: str = "2017-01-01T00:00:00Z"
    lookback_window_seconds: int = 60
    include_fixed_fee: bool = True
    emit_deletions: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SyncConfig:
        return cls(
            replication_start_date=str(config["replication_start_date"]),
            lookback_window_seconds=int(config.get("lookback_window_seconds", 60)),
            include_fixed_fee=bool(config.get("include_fixed_fee", True)),
            emit_deletions=config.get("emit_deletions") is not False,
        )


@dataclass
class Minimum:
    """Requests per endpoint, and how many records the sync should emit per resource (for the records/s axis)."""

    requests: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)

    def add(self, endpoint: str, n: int) -> None:
        self.requests[f"GET {endpoint}"] = self.requests.get(f"GET {endpoint}", 0) + n

    def confirm_role(self) -> None:
        """One ``/v2/users/me`` per sync, whichever streams need the token's role (the connector asks it once)."""
        self.requests["GET /v2/users/me"] = 1

    def emit(self, stream: str, n: int) -> None:
        self.records[stream] = self.records.get(stream, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {"requests": dict(sorted(self.requests.items())), "records": dict(sorted(self.records.items()))}


# -- report windows -------------------------------------------------------------------------------------------------
def report_anchor(replication_start_date: str) -> date:
    day = date.fromisoformat(replication_start_date[:10])
    return date(day.year, 3, 1) if (day.month, day.day) == (2, 29) else day


def report_windows(replication_start_date: str, today: date) -> list[tuple[date, date]]:
    """Every one-year window from the anchor up to (and including) the one that contains ``today``: what every sync
    reads."""
    anchor = report_anchor(replication_start_date)
    windows: list[tuple[date, date]] = []
    k = 0
    while True:
        start = anchor.replace(year=anchor.year + k)
        if start > today:
            return windows
        windows.append((start, anchor.replace(year=anchor.year + k + 1) - timedelta(days=1)))
        k += 1


# -- helpers --------------------------------------------------------------------------------------------------------
def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minus(stamp: str, seconds: int) -> str:
    return _stamp(datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=seconds))


def _list(store: Store, name: str, *, since: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    """What the list endpoint returns (``roles`` ignores ``updated_since``: filtered here as the connector does)."""
    if name in CLIENT_FILTERED:
        rows = store.list(name, **filters)
        return rows if since is None else [r for r in rows if r["updated_at"] >= since]
    return store.list(name, updated_since=since, **filters)


def refused(known: int, vanished: int, seen: int) -> bool:
    """The mass-deletion guard: a token that sees less makes many records vanish at once, or all of them."""
    if known and not seen:
        return True
    return vanished > max(MASS_DELETION_FLOOR, MASS_DELETION_SHARE * known)


def _company(minimum: Minimum) -> None:
    minimum.add("/v2/company", 1)
    minimum.records["company"] = 1


def _report_rows(store: Store, name: str, config: SyncConfig, start: date, end: date) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"from_": start.isoformat(), "to": end.isoformat()}
    if name in FIXED_FEE_REPORTS:
        params["include_fixed_fee"] = "true" if config.include_fixed_fee else "false"
    return store.report(name, **params)


def _row_keys(rows: Iterable[Mapping[str, Any]], subject: str) -> set[tuple[int, str]]:
    return {(int(r[subject]), str(r.get("currency"))) for r in rows if r.get(subject) is not None}


def _reports(
    store: Store,
    minimum: Minimum,
    config: SyncConfig,
    today: date,
    known_rows: Mapping[str, Mapping[str, list[list[Any]]]] | None = None,
) -> None:
    """Every window of every dated report, and project_budget. With ``known_rows`` (an incremental sync), a row the
    window had at the last sync and no longer has is a tombstone, and a stream with any asks who the token is."""
    tombstones = known_rows is not None and config.emit_deletions
    for name, subject in DATED_REPORTS.items():
        stream = name.replace("/", "_")
        confirmed = False
        for start, end in report_windows(config.replication_start_date, today):
            rows = _report_rows(store, name, config, start, end)
            minimum.add(f"/v2/reports/{name}", pages(len(rows)))
            minimum.emit(stream, len(rows))
            if not tombstones or known_rows is None:
                continue
            known = {(int(s), str(c)) for s, c in (known_rows.get(stream) or {}).get(start.isoformat()) or []}
            seen = _row_keys(rows, subject)
            vanished = known - seen
            if vanished and not refused(len(known), len(vanished), len(seen)):
                if not confirmed:
                    minimum.confirm_role()
                    confirmed = True
                minimum.emit(stream, len(vanished))
    budget = store.report("project_budget")
    minimum.add("/v2/reports/project_budget", pages(len(budget)))
    minimum.records["project_budget"] = len(budget)


# -- children -------------------------------------------------------------------------------------------------------
def _read_children(
    store: Store,
    minimum: Minimum,
    config: SyncConfig,
    child: str,
    parents: Iterable[int],
    known: Mapping[int, set[int]] | None = None,
    vanished_parents: Iterable[int] = (),
) -> None:
    """One request per parent (more past 2000 children): its whole child list. Records: the children updated since
    the start date, plus (``known``: an incremental sync) a tombstone for each known child no longer listed and for
    every known child of a vanished parent (whose child list answers 404: one request)."""
    parent, suffix = CHILDREN[child]
    endpoint = f"/v2/{parent}/{{parent_id}}/{suffix}"
    start = config.replication_start_date
    minimum.add(endpoint, 0)
    gone = 0
    for parent_id in sorted(set(parents)):
        rows = store.list(child, parent_id=parent_id)
        minimum.add(endpoint, pages(len(rows)))
        listed = {r["id"] for r in rows if r["updated_at"] >= start}
        minimum.emit(child, len(listed))
        if known is not None:
            gone += len(known.get(parent_id, set()) - listed)
    for parent_id in sorted(set(vanished_parents)):
        minimum.add(endpoint, 1)
        gone += len((known or {}).get(parent_id, set()))
    if gone and config.emit_deletions:
        minimum.confirm_role()
        minimum.emit(child, gone)


def known_children(store: Store, config: SyncConfig) -> dict[str, dict[str, list[int]]]:
    """Per child stream, the children a complete sync leaves known, per parent (updated since the start date;
    parents without any are not known). Take it right after a full sync."""
    start = config.replication_start_date
    result: dict[str, dict[str, list[int]]] = {}
    for child, (parent, _suffix) in CHILDREN.items():
        per_parent: dict[str, list[int]] = {}
        for p in store.list(parent):
            ids = sorted(r["id"] for r in store.list(child, parent_id=p["id"]) if r["updated_at"] >= start)
            if ids:
                per_parent[str(p["id"])] = ids
        result[child] = per_parent
    return result


def _incremental_children(
    store: Store, minimum: Minimum, config: SyncConfig, saved: Mapping[str, Any], child_since: Mapping[str, str]
) -> None:
    """The parent lists (each read once), then the children of the parents the design picks."""
    lookback = config.lookback_window_seconds
    saved_children: Mapping[str, Mapping[str, list[int]]] = saved.get("known_children") or {}
    lists = {parent: store.list(parent) for parent in ("invoices", "estimates", "users")}
    for parent, listed in lists.items():
        minimum.add(f"/v2/{parent}", pages(len(listed)))
    for child, (parent, _suffix) in CHILDREN.items():
        listed = lists[parent]
        listed_ids = {p["id"] for p in listed}
        known = {int(p): set(ids) for p, ids in (saved_children.get(child) or {}).items()}
        vanished = sorted(set(known) - listed_ids)
        if refused(len(known), len(vanished), len(listed_ids)):
            vanished = []
        if parent in LIVE_STATES:
            since = _minus(saved[f"{parent}_parent"], lookback)
            chosen = {p["id"] for p in listed if p["updated_at"] >= since}
            if child != "invoice_payments":
                chosen |= {p["id"] for p in listed if p.get("state") == LIVE_STATES[parent]}
        elif child == "project_assignments":
            assignments = store.list("user_assignments")
            minimum.add("/v2/user_assignments", pages(len(assignments)))
            since = child_since[child]
            named = {a["user"]["id"] for a in assignments if a["updated_at"] >= since}
            present = {a["id"] for a in assignments}
            named |= {p for p, ids in known.items() if ids - present}
            chosen = named & listed_ids
        else:  # rates: every user
            chosen = listed_ids
        _read_children(store, minimum, config, child, chosen, known, vanished)


# -- time entries and expenses: their spent_date history ------------------------------------------------------------
def _month(day: str) -> int:
    return int(day[0:4]) * 12 + int(day[5:7]) - 1


def _month_days(month: int) -> tuple[str, str]:
    year, index = divmod(month, 12)
    first = date(year, index + 1, 1)
    following = date(year + (index + 1) // 12, (index + 1) % 12 + 1, 1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def _place(record: Mapping[str, Any], since_day: str) -> tuple[int, int] | None:
    """(month, approval code) of a record spent on or after ``since_day``, else None (outside the history)."""
    spent = record.get("spent_date")
    if not isinstance(spent, str) or spent < since_day:
        return None
    return _month(spent), APPROVAL_CODES.get(str(record.get("approval_status")), 0)


def known_history(store: Store, name: str, config: SyncConfig) -> list[list[int]] | None:
    """``[id, month, approval code]`` of each record of ``name``'s history that a complete sync leaves known (its own
    read: updated since the start date, spent on or after it)."""
    day = config.replication_start_date[:10]
    rows = []
    for record in _list(store, name, since=config.replication_start_date):
        place = _place(record, day)
        if place is not None:
            rows.append([record["id"], *place])
    return rows


def _changed_months(
    store: Store, minimum: Minimum, name: str, expected: Mapping[int, tuple[int, int]], day: str, today: date
) -> tuple[list[tuple[int, int]], int]:
    """The design's search: the months whose counts differ from ``expected``, each count one request; and the last
    month (``tail``), which stands for every month from it on."""
    first = _month(day)
    tail = max([_month(today.isoformat())] + [month for month, _ in expected.values()]) + 1
    per_month: dict[int, list[int]] = {}
    for month, code in expected.values():
        row = per_month.setdefault(month, [0, 0, 0])
        row[0] += 1
        if code:
            row[code] += 1

    def wanted(lo: int, hi: int, approval: str | None) -> int:
        index = COUNTED_APPROVALS.index(approval)
        return sum(row[index] for month, row in per_month.items() if lo <= month <= hi or (hi == tail and month > hi))

    def count(lo: int, hi: int, approval: str | None) -> int:
        minimum.add(f"/v2/{name}", 1)
        filters: dict[str, Any] = {"from": _month_days(lo)[0]}
        if hi != tail:
            filters["to"] = _month_days(hi)[1]
        if approval:
            filters["approval_status"] = approval
        return len(store.list(name, **filters))

    found: list[tuple[int, int]] = []

    def halve(lo: int, hi: int, actual: dict[str | None, int]) -> None:
        if lo == hi or (hi != tail and max(wanted(lo, hi, None), actual.get(None, 0)) <= ONE_PAGE_OF_RECORDS):
            found.append((lo, hi))
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

    top = {approval: count(first, tail, approval) for approval in COUNTED_APPROVALS}
    if top[None] and top["submitted"] + top["approved"] > top[None]:
        top = {None: top[None]}  # approval_status does not filter: only the totals can be compared
    differing = {a: n for a, n in top.items() if n != wanted(first, tail, a)}
    if differing:
        halve(first, tail, differing)
    return found, tail


def _history(
    store: Store,
    minimum: Minimum,
    config: SyncConfig,
    name: str,
    own_read: list[dict[str, Any]],
    saved_history: list[list[int]] | None,
    today: date,
) -> None:
    """Counts, halving, the changed months re-listed and the vanished ids looked up (HarvestSpentHistoryRetriever),
    after the stream's own read (``own_read``, already counted)."""
    if saved_history is None or not config.emit_deletions:
        return  # no history (a first sync), or deletion detection off: the own read only
    start = config.replication_start_date
    day = start[:10]
    expected: dict[int, tuple[int, int]] = {int(i): (int(m), int(c)) for i, m, c in saved_history}
    for record in own_read:
        place = _place(record, day)
        if place is None:
            expected.pop(record["id"], None)
        else:
            expected[record["id"]] = place
    minimum.confirm_role()  # only an Administrator's token looks at the whole history
    ranges, tail = _changed_months(store, minimum, name, expected, day, today)
    now_known = dict(expected)
    vanished: set[int] = set()
    for lo, hi in ranges:
        first, last = _month_days(lo)[0], _month_days(hi)[1]
        window: dict[str, Any] = {"from": first} if hi == tail else {"from": first, "to": last}
        listed = store.list(name, **window)
        minimum.add(f"/v2/{name}", pages(len(listed)))
        minimum.emit(name, sum(1 for r in listed if r["updated_at"] >= start))
        placed = {r["id"]: place for r in listed if (place := _place(r, day)) is not None}
        in_month = {i for i, (m, _c) in expected.items() if lo <= m and (m <= hi or hi == tail)}
        vanished |= in_month - placed.keys()
        for record_id in in_month:
            now_known.pop(record_id, None)
        now_known.update(placed)
    if not vanished or refused(len(expected), len(vanished), len(now_known)):
        return
    minimum.add(f"/v2/{name}/{{id}}", len(vanished))
    for record_id in vanished:
        if not store.exists(name, record_id):
            minimum.emit(name, 1)  # the tombstone
        elif store.get(name, record_id)["updated_at"] >= start:
            minimum.emit(name, 1)  # found elsewhere: yielded again


# -- entity lists: the reconciliation read --------------------------------------------------------------------------
def known_ids(store: Store, config: SyncConfig) -> dict[str, list[int]]:
    """The ids a complete sync records for deletion detection in the reconciled entity streams: the records the
    destination holds (updated since the start date). Take it right after a full sync, with :func:`cursors`."""
    start = config.replication_start_date
    return {name: sorted(r["id"] for r in store.list(name) if r["updated_at"] >= start) for name in RECONCILED}


def _reconciliation(store: Store, minimum: Minimum, config: SyncConfig, name: str, known: list[int] | None) -> None:
    """The reconciliation read of ``name``, and one lookup per known id that is gone."""
    if not config.emit_deletions:
        return
    listed = store.list(name)
    minimum.add(f"/v2/{name}", pages(len(listed)))
    before = known or []
    gone = [record_id for record_id in before if not store.exists(name, record_id)]
    if not gone or refused(len(before), len(gone), len(listed)):
        return
    lookup = f"/v2/projects/{{parent_id}}/{name}/{{id}}" if name in LOOKED_UP_UNDER_PROJECT else f"/v2/{name}/{{id}}"
    minimum.add(lookup, len(gone))
    minimum.confirm_role()
    minimum.emit(name, len(gone))


# -- the two syncs --------------------------------------------------------------------------------------------------
def full_sync(store: Store, config: SyncConfig, today: date) -> Minimum:
    """A first sync (no state) of every stream."""
    minimum = Minimum()
    start = config.replication_start_date
    _company(minimum)
    for name in ENTITIES:
        emitted = _list(store, name, since=start)
        minimum.records[name] = len(emitted)
        minimum.add(f"/v2/{name}", pages(len(_list(store, "roles") if name == "roles" else emitted)))
    for parent in ("invoices", "estimates", "users"):
        listed = store.list(parent)
        minimum.add(f"/v2/{parent}", pages(len(listed)))
        for child, (of, _suffix) in CHILDREN.items():
            if of == parent:
                _read_children(store, minimum, config, child, [p["id"] for p in listed])
    _reports(store, minimum, config, today)
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


def known_rows(store: Store, config: SyncConfig, today: date) -> dict[str, dict[str, list[list[Any]]]]:
    """Per report stream and window start, the (subject id, currency) of each row a complete sync leaves known."""
    result: dict[str, dict[str, list[list[Any]]]] = {}
    for name, subject in DATED_REPORTS.items():
        windows: dict[str, list[list[Any]]] = {}
        for start, end in report_windows(config.replication_start_date, today):
            keys = _row_keys(_report_rows(store, name, config, start, end), subject)
            if keys:
                windows[start.isoformat()] = [list(key) for key in sorted(keys)]
        result[name.replace("/", "_")] = windows
    return result


def saved_state(store: Store, config: SyncConfig, today: date) -> dict[str, Any]:
    """What a complete sync leaves behind that the next sync's minimum depends on: the cursors, the ids known for
    deletion detection (``known_ids``), the history of time entries and expenses (``history``), the children per
    parent (``known_children``) and the report rows per window (``known_rows``). Take it right after a full sync,
    before any change."""
    return {
        **cursors(store, config),
        "known_ids": known_ids(store, config),
        "history": {name: known_history(store, name, config) for name in HISTORY_STREAMS},
        "known_children": known_children(store, config),
        "known_rows": known_rows(store, config, today),
    }


def incremental_sync(store: Store, config: SyncConfig, saved: Mapping[str, Any], today: date) -> Minimum:
    """The sync after :func:`full_sync`, given what it left (:func:`saved_state`; with :func:`cursors` alone nothing is
    known: no lookup, no tombstone, no history search)."""
    minimum = Minimum()
    lookback = config.lookback_window_seconds
    _company(minimum)
    child_since = {
        child: _minus(saved[child], lookback + int(saved.get(f"{child}_lookback_window", 0))) for child in CHILDREN
    }
    histories: Mapping[str, Any] = saved.get("history") or {}
    known: Mapping[str, Any] = saved.get("known_ids") or {}
    for name in ENTITIES:
        emitted = _list(store, name, since=_minus(saved[name], lookback))
        minimum.emit(name, len(emitted))
        minimum.add(f"/v2/{name}", pages(len(_list(store, "roles") if name == "roles" else emitted)))
        if name in HISTORY_STREAMS:
            _history(store, minimum, config, name, emitted, histories.get(name), today)
        else:
            _reconciliation(store, minimum, config, name, known.get(name))
    _incremental_children(store, minimum, config, saved, child_since)
    _reports(store, minimum, config, today, saved.get("known_rows") or {})
    return minimum


def today_utc() -> date:
    return datetime.now(UTC).date()
