"""The in-memory Harvest account: records, visibility by role, ground truth, and writes that move what Harvest moves.

Records are kept exactly as the API serialises them (plain dicts in Harvest's field order). Every list query goes
through :meth:`Store.query`, which filters and orders with the resource's spec (:mod:`harvest_sandbox.resources`)
and caches the complete result; pagination then slices it. The cache is dropped on every write, so paging through
200k time entries costs one filter+sort, not one per page. Reports are added up by :mod:`harvest_sandbox.reports`
from the records the store selects. Random batches of realistic changes live above the store
(:mod:`harvest_sandbox.mutations`).
"""

from __future__ import annotations

import bisect
import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from . import auth, reports
from .clock import Clock, fmt_datetime, parse_date, system_clock, week_start
from .errors import Forbidden, NotFound
from .resources import (
    ALL,
    APPROVABLE,
    APPROVAL_STATUSES,
    COLLECTIONS,
    SPECS,
    Change,
    Changes,
    Dataset,
    Ids,
    Record,
    Records,
    Scope,
    UpdatedSinceMode,
    after,
    by_id,
    lock_fields,
    normalise_updated_since,
    parse_criteria,
    predicate,
    scope_predicate,
    stringify,
)

#: Re-exported for code that imported them from here before :mod:`harvest_sandbox.resources` existed.
__all__ = ["COLLECTIONS", "SPECS", "Change", "Dataset", "Record", "Records", "Scope", "Store", "UpdatedSinceMode"]


class Store:
    """Thread-safe in-memory account. See harvest_sandbox/README.md for the ground-truth API."""

    CACHE_SIZE = 256

    def __init__(
        self,
        dataset: Dataset,
        *,
        clock: Clock = system_clock,
        updated_since_mode: UpdatedSinceMode = "strict",
        approval_moves_updated_at: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.updated_since_mode: UpdatedSinceMode = updated_since_mode
        #: Whether :meth:`set_approval` stamps the records it changes with a fresh ``updated_at`` (undocumented on
        #: Harvest, harvest-api/README.md section 10 [U]; see the README for the default).
        self.approval_moves_updated_at = approval_moves_updated_at
        self.load(dataset)

    # -- loading ------------------------------------------------------------------------------------------------
    def load(self, dataset: Dataset) -> None:
        with self.lock:
            self.dataset = dataset
            self.company: Record = copy.deepcopy(dataset.company)
            self.records: dict[str, dict[int, Record]] = {name: {} for name in COLLECTIONS}
            self.parents: dict[str, dict[int, int]] = {name: {} for name in COLLECTIONS}
            for name in COLLECTIONS:
                spec = SPECS[name]
                bucket = self.records[name]
                explicit = dataset.parents.get(name, {})
                # Records are shared with the dataset, never copied: the store never mutates a record dict in
                # place (updates build a new dict), so a reset is a cheap re-load of the pristine dataset.
                for rec in dataset.collections.get(name, ()):
                    bucket[rec["id"]] = rec
                    parent = spec.parent_of(rec) if spec.parent_of else explicit.get(rec["id"])
                    if spec.parent is not None and parent is not None:
                        self.parents[name][rec["id"]] = parent
            self.principals = dict(dataset.principals)
            self._last_stamp = dataset.anchor
            self._mutation_counter = 0
            self._invalidate()
            self._top_ids = {name: max(bucket, default=0) for name, bucket in self.records.items()}

    def _invalidate(self) -> None:
        """Drop every derived structure (used on load and on config changes)."""
        self.version = getattr(self, "version", 0) + 1
        self._ascending_lists: dict[str, Records] = {}
        self._children: dict[str, dict[int, Records]] = {}
        self._derived: dict[str, dict[int, Record]] = {}
        self._managed: dict[int, frozenset[int]] = {}
        self._cache: OrderedDict[Any, tuple[Records, Ids]] = OrderedDict()
        self._json: dict[tuple[str, int], tuple[Record, bytes]] = {}

    def _top_id(self, name: str) -> int:
        """The highest id ever allocated in a stored collection (0 if empty): ids are never reused."""
        return self._top_ids[name]

    def _changed(self, name: str, old: Record | None, new: Record | None) -> None:
        """Keep the sorted index of ``name`` current (no re-sort) and drop what depends on it."""
        self.version += 1
        order = SPECS[name].order
        ascending = self._ascending_lists.get(name)
        if ascending is not None:
            if old is not None:
                index = bisect.bisect_left(ascending, order(old), key=order)
                if index < len(ascending) and ascending[index] is old:
                    del ascending[index]
                else:  # pragma: no cover - the index and the collection disagree: rebuild
                    self._ascending_lists.pop(name, None)
            if new is not None and name in self._ascending_lists:
                bisect.insort(ascending, new, key=order)
        self._children.pop(name, None)
        if name in ("user_assignments", "task_assignments", "projects", "clients"):
            self._derived.clear()
            self._children.pop("project_assignments", None)
            self._ascending_lists.pop("project_assignments", None)
        if name == "user_assignments":
            self._managed.clear()
        self._cache.clear()

    # -- time ---------------------------------------------------------------------------------------------------
    def now(self) -> str:
        """A fresh ``updated_at``: the clock, but never before the dataset's anchor or the previous mutation."""
        with self.lock:
            stamp = max(self.clock().replace(microsecond=0), self._last_stamp)
            if stamp <= self.dataset.anchor:
                stamp = self.dataset.anchor + timedelta(seconds=1)
            self._last_stamp = stamp
            return fmt_datetime(stamp)

    # -- reading ------------------------------------------------------------------------------------------------
    def collection(self, name: str) -> dict[int, Record]:
        if SPECS[name].derived:
            return self._derived_records(name)
        return self.records[name]

    def parent_of(self, name: str, record_id: int) -> int | None:
        if name == "project_assignments":
            ua = self.records["user_assignments"].get(record_id)
            return ua["user"]["id"] if ua else None
        return self.parents.get(name, {}).get(record_id)

    def get(self, name: str, record_id: int, *, parent_id: int | None = None) -> Record:
        """One record (the live dict: treat as read-only), or :class:`NotFound`."""
        with self.lock:
            record = self.collection(name).get(record_id)
            if record is None or (parent_id is not None and self.parent_of(name, record_id) != parent_id):
                raise NotFound()
            return record

    def exists(self, name: str, record_id: int) -> bool:
        with self.lock:
            return record_id in self.collection(name)

    def _ascending(self, name: str) -> Records:
        """The collection sorted ascending by its list order key (kept current across mutations)."""
        cached = self._ascending_lists.get(name)
        if cached is None:
            cached = sorted(self.collection(name).values(), key=SPECS[name].order)
            self._ascending_lists[name] = cached
        return cached

    def _ordered(self, name: str) -> Iterable[Record]:
        """The collection in the order the API lists it."""
        ascending = self._ascending(name)
        return reversed(ascending) if SPECS[name].descending else iter(ascending)

    def _children_of(self, name: str, parent_id: int) -> Records:
        groups = self._children.get(name)
        if groups is None:
            groups = {}
            for record in self._ordered(name):
                parent = self.parent_of(name, record["id"])
                if parent is not None:
                    groups.setdefault(parent, []).append(record)
            self._children[name] = groups
        return groups.get(parent_id, [])

    def managed_projects(self, user_id: int) -> frozenset[int]:
        with self.lock:
            managed = self._managed.get(user_id)
            if managed is None:
                managed = frozenset(
                    ua["project"]["id"]
                    for ua in self.records["user_assignments"].values()
                    if ua["user"]["id"] == user_id and ua["is_project_manager"]
                )
                self._managed[user_id] = managed
            return managed

    def scope_for(self, family: str, role: str, *, user_id: int | None = None) -> Scope:
        """The visibility of ``role`` on a permission family (403 if none). ``user_id`` defaults to the role's user."""
        level = auth.access_level(family, role, self.company)
        if level == "all":
            return ALL
        uid = user_id if user_id is not None else self.principals[role]
        return Scope(level, uid, self.managed_projects(uid) if level == "managed" else frozenset())

    def query(
        self,
        name: str,
        params: Mapping[str, str] | None = None,
        *,
        parent_id: int | None = None,
        scope: Scope = ALL,
    ) -> tuple[Records, Ids]:
        """The complete ordered result of a list endpoint, and its ids. Only documented filters are applied."""
        spec = SPECS[name]
        params = params or {}
        criteria = parse_criteria(spec, params)
        since: tuple[str, bool] | None = None
        if spec.updated_since and params.get("updated_since"):
            since = normalise_updated_since(params["updated_since"])
        key = (
            name,
            parent_id,
            tuple((f.param, v) for f, v in criteria),
            since,
            self.updated_since_mode,
            scope,
        )
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            base = self._children_of(name, parent_id) if parent_id is not None else self._ordered(name)
            predicates = [predicate(flt, value) for flt, value in criteria]
            if since is not None:
                stamp, fraction = since
                strict = self.updated_since_mode == "strict" or fraction
                predicates.append(after(stamp, strict))
            if scope.level != "all":
                predicates.append(scope_predicate(spec, scope))
            if not predicates:
                rows = list(base)
            elif len(predicates) == 1:
                only = predicates[0]
                rows = [r for r in base if only(r)]
            else:
                rows = [r for r in base if all(p(r) for p in predicates)]
            result = (rows, [r["id"] for r in rows])
            self._cache[key] = result
            if len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
            return result

    def list(
        self,
        name: str,
        *,
        role: str = "administrator",
        parent_id: int | None = None,
        updated_since: str | datetime | None = None,
        **filters: Any,
    ) -> Records:
        """Ground truth: exactly the records (all pages, in order) that ``GET`` on the list endpoint returns to
        ``role`` with these filters. ``parent_id`` selects the parent for child endpoints. Raises
        :class:`~harvest_sandbox.errors.Forbidden` where that role gets a 403."""
        spec = SPECS[name]
        scope = self.scope_for(spec.family, role)
        if scope.level == "own" and spec.parent == "users" and parent_id != scope.user_id:
            raise Forbidden(f"A {role} can only read their own {name}.")
        params = {k: stringify(v) for k, v in filters.items() if v is not None}
        if updated_since is not None:
            params["updated_since"] = stringify(updated_since)
        with self.lock:
            if parent_id is not None and spec.parent and not self.exists(spec.parent, parent_id):
                raise NotFound()
            rows, _ = self.query(name, params, parent_id=parent_id, scope=scope)
            return list(rows)

    def report(self, name: str, *, role: str = "administrator", **params: Any) -> Records:
        """Ground truth for a report: ``store.report("time/clients", from_="2024-01-01", to="2024-12-31")``."""
        fixed = {("from" if k == "from_" else k): stringify(v) for k, v in params.items() if v is not None}
        return self.report_rows(name, fixed, role=role)

    def report_rows(self, name: str, params: Mapping[str, str], *, role: str, user_id: int | None = None) -> Records:
        """All rows of report ``name`` (e.g. ``"time/clients"``) for ``role`` with query-string ``params``; raises
        403/400/422 like Harvest. Time and expenses come from the same queries as the list endpoints (the window's
        ``from``/``to`` on ``spent_date``, the role's scope); rows are cached until the next write."""
        if name not in reports.REPORTS:
            raise KeyError(name)
        scope = self.scope_for(reports.family_of(name), role, user_id=user_id)
        if name == "project_budget":
            active = params.get("is_active")

            def budget() -> Records:
                projects, _ = self.query("projects", {"is_active": active} if active else {}, scope=scope)
                return reports.project_budget(projects, self.records["time_entries"].values())

            return self.cached(("report", name, active, scope), budget)
        start, end = reports.window(params)
        fixed_fee = reports.flag(params, "include_fixed_fee", True)

        def compute() -> Records:
            window = {"from": start, "to": end}
            entries = self.query("time_entries", window, scope=scope)[0] if reports.uses_time(name) else []
            expenses = self.query("expenses", window, scope=scope)[0] if reports.uses_expenses(name) else []
            return reports.rows(
                name,
                entries=entries,
                expenses=expenses,
                projects=self.records["projects"],
                users=self.records["users"],
                fixed_fee=fixed_fee,
            )

        return self.cached(("report", name, start, end, fixed_fee, scope), compute)

    def cached(self, key: Any, compute: Callable[[], Records]) -> Records:
        """Memoise a derived result (reports) until the next mutation."""
        with self.lock:
            hit = self._cache.get(key)
            if hit is None:
                rows = compute()
                hit = (rows, [])
                self._cache[key] = hit
                if len(self._cache) > self.CACHE_SIZE:
                    self._cache.popitem(last=False)
            return hit[0]

    # -- derived: project assignments ---------------------------------------------------------------------------
    def _derived_records(self, name: str) -> dict[int, Record]:
        cached = self._derived.get(name)
        if cached is None:
            cached = self._build_project_assignments()
            self._derived[name] = cached
        return cached

    def _build_project_assignments(self) -> dict[int, Record]:
        tasks_by_project: dict[int, Records] = {}
        for ta in sorted(self.records["task_assignments"].values(), key=by_id):
            if ta["is_active"]:
                tasks_by_project.setdefault(ta["project"]["id"], []).append(ta)
        out: dict[int, Record] = {}
        for ua in self.records["user_assignments"].values():
            if not ua["is_active"]:
                continue
            project = self.records["projects"].get(ua["project"]["id"])
            if project is None:
                continue
            client = project["client"]
            out[ua["id"]] = {
                "id": ua["id"],
                "is_project_manager": ua["is_project_manager"],
                "is_active": ua["is_active"],
                "use_default_rates": ua["use_default_rates"],
                "budget": ua["budget"],
                "created_at": ua["created_at"],
                "updated_at": ua["updated_at"],
                "hourly_rate": ua["hourly_rate"],
                "project": {
                    "id": project["id"],
                    "name": project["name"],
                    "code": project["code"],
                    "is_billable": project["is_billable"],
                },
                "client": {"id": client["id"], "name": client["name"], "currency": client["currency"]},
                "task_assignments": [
                    {
                        "id": ta["id"],
                        "billable": ta["billable"],
                        "is_active": ta["is_active"],
                        "created_at": ta["created_at"],
                        "updated_at": ta["updated_at"],
                        "hourly_rate": ta["hourly_rate"],
                        "budget": ta["budget"],
                        "task": ta["task"],
                    }
                    for ta in tasks_by_project.get(project["id"], ())
                ],
            }
        return out

    # -- mutations ----------------------------------------------------------------------------------------------
    def _writable(self, name: str) -> dict[int, Record]:
        if name not in self.records:
            raise KeyError(f"{name!r} is not a stored collection (one of {', '.join(COLLECTIONS)})")
        return self.records[name]

    def create(self, name: str, fields: Mapping[str, Any] | None = None, *, parent_id: int | None = None) -> Record:
        """Create a record: the newest record of the collection (of the same parent, if any) is the template,
        ``fields`` override it; a new id and fresh ``created_at``/``updated_at`` are assigned. A new time entry or
        expense is ``unsubmitted`` (and locked only if invoiced) unless ``fields`` says otherwise."""
        with self.lock:
            bucket = self._writable(name)
            spec = SPECS[name]
            if spec.parent and spec.parent_of is None:
                if parent_id is None:
                    raise ValueError(f"{name} needs a parent_id ({spec.parent})")
                if parent_id not in self.records[spec.parent]:
                    raise NotFound()
            top = self._top_id(name)
            candidates = self._children_of(name, parent_id) if parent_id is not None else []
            newest = bucket.get(top) or (max(bucket.values(), key=by_id) if bucket else {})
            template = candidates[0] if candidates else newest
            record = copy.deepcopy(template)
            record.update(copy.deepcopy(dict(fields or {})))
            if name in APPROVABLE:
                if "approval_status" not in (fields or {}):
                    record["approval_status"] = "unsubmitted"
                _relock(name, record, fields or {})
            record["id"] = int(fields["id"]) if fields and "id" in fields else top + 1
            self._top_ids[name] = max(top, record["id"])
            stamp = self.now()
            record["created_at"] = (fields or {}).get("created_at", stamp)
            record["updated_at"] = (fields or {}).get("updated_at", stamp)
            previous = bucket.get(record["id"])
            bucket[record["id"]] = record
            parent = spec.parent_of(record) if spec.parent_of else parent_id
            if spec.parent and parent is not None:
                self.parents[name][record["id"]] = parent
            self._changed(name, previous, record)
            if parent is not None:
                self._move_parent(name, record, parent, record["updated_at"])
            return record

    def update(self, name: str, record_id: int, changes: Mapping[str, Any]) -> Record:
        """Replace fields of a record; ``updated_at`` becomes fresh unless ``changes`` sets it."""
        with self.lock:
            bucket = self._writable(name)
            old = bucket.get(record_id)
            if old is None:
                raise NotFound()
            record = {**old, **copy.deepcopy(dict(changes))}
            record["id"] = record_id
            if name in APPROVABLE and _LOCK_CAUSES & changes.keys():
                _relock(name, record, changes)
            if "updated_at" not in changes:
                record["updated_at"] = self.now()
            bucket[record_id] = record
            self._changed(name, old, record)
            if name == "invoice_payments" and (parent := self.parent_of(name, record_id)) is not None:
                self._settle_invoice(parent, record["updated_at"])
            return record

    def delete(self, name: str, record_id: int) -> Record:
        """Hard-delete a record (Harvest keeps no tombstones) and the children that hang off it."""
        with self.lock:
            bucket = self._writable(name)
            record = bucket.pop(record_id, None)
            if record is None:
                raise NotFound()
            parent = self.parents[name].pop(record_id, None)
            for child, spec in SPECS.items():
                if spec.parent == name and not spec.derived:
                    if spec.parent_of is not None:
                        doomed = [cid for cid, rec in self.records[child].items() if spec.parent_of(rec) == record_id]
                    else:
                        doomed = [cid for cid, pid in self.parents[child].items() if pid == record_id]
                    for cid in doomed:
                        gone = self.records[child].pop(cid, None)
                        self.parents[child].pop(cid, None)
                        self._changed(child, gone, None)
            self._changed(name, record, None)
            if name == "invoice_payments" and parent in self.records["invoices"]:
                self._settle_invoice(parent, self.now())
            return record

    # -- what a child does to its parent (harvest-api/README.md section 9) ---------------------------------------
    def _move_parent(self, name: str, child: Record, parent_id: int, stamp: str) -> None:
        """A new payment or message changes its invoice or estimate as on Harvest (call with the lock held).

        - a payment: the invoice's ``due_amount`` and ``updated_at`` (= the payment's), open <-> paid;
        - a message that sends (``event_type`` null or ``send``, not a reminder or a thank-you): ``sent_at`` and
          ``updated_at`` (= the message's), a draft invoice becomes open, a draft estimate sent;
        - state events (``close``, ``re-open``, ``draft``, ``accept``, ``decline``): the state and ``updated_at``;
        - a reminder, a thank-you and an estimate ``view``: nothing (the parent can gain them without changing).
        """
        if name == "invoice_payments":
            self._settle_invoice(parent_id, stamp)
            return
        if name not in ("invoice_messages", "estimate_messages"):
            return
        parent_name = "invoices" if name == "invoice_messages" else "estimates"
        parent = self.records[parent_name][parent_id]
        event = child.get("event_type")
        if child.get("reminder") or child.get("thank_you") or event == "view":
            return
        changes: dict[str, Any] = {"updated_at": stamp}
        if event in (None, "send"):
            changes["sent_at"] = stamp
            if parent["state"] == "draft":
                changes["state"] = "open" if parent_name == "invoices" else "sent"
        elif event in _STATE_EVENTS[parent_name]:
            state, stamp_field = _STATE_EVENTS[parent_name][event]
            changes["state"] = state
            if stamp_field:
                changes[stamp_field] = stamp
        else:  # an event the sandbox does not know
            return
        self.update(parent_name, parent_id, changes)

    def _settle_invoice(self, invoice_id: int, stamp: str) -> None:
        """An invoice after its payments changed: ``due_amount`` = amount - payments, ``updated_at`` = ``stamp``;
        an open invoice paid in full becomes paid (``paid_at``/``paid_date`` of the last payment), a paid invoice
        with something due again becomes open. A draft stays a draft (real drafts carry payments)."""
        invoice = self.records["invoices"][invoice_id]
        payments = self._children_of("invoice_payments", invoice_id)
        due = round(invoice["amount"] - sum(p["amount"] for p in payments), 2)
        changes: dict[str, Any] = {"due_amount": due, "updated_at": stamp}
        if invoice["state"] == "open" and due <= 0 and payments:
            last = max(payments, key=lambda p: (p["paid_at"] or "", p["id"]))
            changes.update(state="paid", paid_at=last["paid_at"], paid_date=last["paid_date"])
        elif invoice["state"] == "paid" and due > 0:
            changes.update(state="open", paid_at=None, paid_date=None)
        self.update("invoices", invoice_id, changes)

    # -- timesheet approval (harvest-api/README.md section 10) ------------------------------------------------------
    def week_of(self, day: str | date) -> date:
        """The first day of the week ``day`` is in, per the company's ``week_start_day``."""
        return week_start(
            parse_date(day) if isinstance(day, str) else day, self.company.get("week_start_day", "Monday")
        )

    def set_approval(self, user_id: int, week: str | date, status: str) -> Changes:
        """Submit, approve or reopen (``unsubmitted``) one user's week, as the approval screen does: every time entry
        and expense of ``user_id`` spent in the week of ``week`` (any day of it; weeks start on the company's
        ``week_start_day``) gets ``approval_status`` = ``status``, with ``is_closed``, ``is_locked`` and
        ``locked_reason`` to match (an invoiced record stays locked). Their ``updated_at`` becomes now when
        :attr:`approval_moves_updated_at` is on, else stays. Returns one ``update`` per record that changed."""
        if status not in APPROVAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(APPROVAL_STATUSES)}, not {status!r}")
        with self.lock:
            if user_id not in self.records["users"]:
                raise NotFound()
            start = self.week_of(week)
            first, after = start.isoformat(), (start + timedelta(days=7)).isoformat()
            stamp: str | None = None
            changes: Changes = []
            for name in APPROVABLE:
                order = SPECS[name].order
                ascending = self._ascending(name)
                low = bisect.bisect_left(ascending, (first, 0), key=order)
                high = bisect.bisect_left(ascending, (after, 0), key=order)
                pending = [
                    r for r in ascending[low:high] if r["user"]["id"] == user_id and r["approval_status"] != status
                ]
                for record in pending:  # a copy: each update moves the record in the index
                    if self.approval_moves_updated_at and stamp is None:
                        stamp = self.now()  # one stamp for the whole week, as one approval
                    fields = {"approval_status": status, "updated_at": stamp or record["updated_at"]}
                    self.update(name, record["id"], fields)
                    changes.append(Change("update", name, record["id"]))
            return changes

    def update_company(self, changes: Mapping[str, Any]) -> Record:
        with self.lock:
            self.company.update(changes)
            self.version += 1
            self._cache.clear()
            return self.company

    def next_batch(self) -> int:
        """The number of the next random batch of changes since the dataset was loaded (1, 2, ...): with the seed,
        it seeds :func:`harvest_sandbox.mutations.mutate`, so the same history gives the same batches."""
        with self.lock:
            self._mutation_counter += 1
            return self._mutation_counter

    def encode(self, name: str | None, records: Records) -> bytes:
        """``records`` as a JSON array, reusing each stored record's cached encoding (pages of 2000 are cheap)."""
        if name is None or SPECS[name].derived:
            return json.dumps(records, separators=(",", ":")).encode()
        cache = self._json
        parts = []
        for record in records:
            key = (name, record["id"])
            hit = cache.get(key)
            if hit is None or hit[0] is not record:
                hit = (record, json.dumps(record, separators=(",", ":")).encode())
                cache[key] = hit
            parts.append(hit[1])
        return b"[" + b",".join(parts) + b"]"

    def warm(self) -> None:
        """Pre-build the sorted indexes and every record's JSON (the first walk of ``large`` is then as fast as
        the next ones)."""
        with self.lock:
            for name in COLLECTIONS:
                self.encode(name, list(self._ordered(name)))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(self.collection(name)) for name in SPECS}

    def iter_records(self, name: str) -> Records:
        with self.lock:
            return list(self._ordered(name))


#: per parent, message event -> (the parent's new state, the field stamped with the message's time)
_STATE_EVENTS: dict[str, dict[str, tuple[str, str | None]]] = {
    "invoices": {"close": ("closed", "closed_at"), "re-open": ("open", None), "draft": ("draft", None)},
    "estimates": {
        "accept": ("accepted", "accepted_at"),
        "decline": ("declined", "declined_at"),
        "re-open": ("sent", None),
    },
}


#: Fields whose change re-derives a time entry's or expense's locks (unless the change sets the locks itself).
_LOCK_CAUSES = frozenset({"approval_status", "is_billed"})
_LOCK_FIELDS = frozenset({"is_closed", "is_locked", "locked_reason"})


def _relock(name: str, record: Record, given: Mapping[str, Any]) -> None:
    """Derive ``is_closed``/``is_locked``/``locked_reason`` from ``approval_status`` and ``is_billed``, except the
    lock fields ``given`` sets explicitly."""
    derived = lock_fields(name, record.get("approval_status") or "unsubmitted", bool(record.get("is_billed")))
    record.update({k: v for k, v in derived.items() if k not in given})
