"""The in-memory Harvest account: records, Harvest's filters and ordering, visibility by role, and mutations.

Records are kept exactly as the API serialises them (plain dicts in Harvest's field order). Every list query goes
through :meth:`Store.query`, which filters, orders and caches the complete result; pagination then slices it.
The cache is dropped on every mutation, so paging through 200k time entries costs one filter+sort, not one per page.

Ordering follows Harvest: newest first by creation (ids are allocated in creation order, so cursor endpoints order
by ``id``); time entries and expenses by ``spent_date`` then id, newest first; invoices and estimates by
``issue_date`` then id, newest first; billable and cost rates by ``start_date`` ascending (their ids follow it).
``updated_at`` never decides the order.
"""

from __future__ import annotations

import bisect
import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from . import auth
from .clock import Clock, fmt_datetime, parse_date, parse_datetime, system_clock
from .errors import Forbidden, NotFound, Unprocessable
from .pagination import Mode

Record = dict[str, Any]
Records = list[Record]
UpdatedSinceMode = Literal["strict", "inclusive"]


def _nested(key: str, sub: str = "id") -> Callable[[Record], Any]:
    def get(record: Record) -> Any:
        inner = record.get(key)
        return inner.get(sub) if isinstance(inner, dict) else None

    return get


def _field(key: str) -> Callable[[Record], Any]:
    return lambda record: record.get(key)


def _invoice_projects(record: Record) -> set[int]:
    return {item["project"]["id"] for item in record.get("line_items") or () if item.get("project")}


@dataclass(frozen=True)
class Filter:
    """A documented query filter: ``kind`` says how the string value is parsed and compared."""

    param: str
    kind: Literal["int", "bool", "str", "enum", "from", "to", "in_set"]
    get: Callable[[Record], Any]


def _id_filters(*names: str) -> tuple[Filter, ...]:
    return tuple(Filter(f"{name}_id", "int", _nested(name)) for name in names)


def _date_range(key: str) -> tuple[Filter, ...]:
    return (Filter("from", "from", _field(key)), Filter("to", "to", _field(key)))


_IS_ACTIVE = Filter("is_active", "bool", _field("is_active"))


def _by_id(record: Record) -> Any:
    return record["id"]


def _by_date(key: str) -> Callable[[Record], Any]:
    return lambda record: (record.get(key) or "", record["id"])


@dataclass(frozen=True)
class Spec:
    """How one resource lists: envelope key, paging mode, permission family, ordering, filters, parent."""

    name: str
    key: str
    mode: Mode
    family: str
    order: Callable[[Record], Any] = _by_id
    descending: bool = True
    filters: tuple[Filter, ...] = ()
    updated_since: bool = True
    parent: str | None = None
    parent_of: Callable[[Record], Any] | None = None
    owner: Callable[[Record], Any] | None = None
    project_of: Callable[[Record], Any] | None = None
    derived: bool = False

    @property
    def params(self) -> tuple[str, ...]:
        names = [f.param for f in self.filters]
        if self.updated_since:
            names.append("updated_since")
        return tuple(names)


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("clients", "clients", "cursor", "clients", filters=(_IS_ACTIVE,)),
        Spec("contacts", "contacts", "cursor", "contacts", filters=_id_filters("client")),
        Spec("estimate_item_categories", "estimate_item_categories", "cursor", "estimate_item_categories"),
        Spec(
            "estimates",
            "estimates",
            "page",
            "estimates",
            order=_by_date("issue_date"),
            filters=(*_id_filters("client"), Filter("state", "enum", _field("state")), *_date_range("issue_date")),
        ),
        Spec("estimate_messages", "estimate_messages", "cursor", "estimate_messages", parent="estimates"),
        Spec("expense_categories", "expense_categories", "cursor", "expense_categories", filters=(_IS_ACTIVE,)),
        Spec(
            "expenses",
            "expenses",
            "page",
            "expenses",
            order=_by_date("spent_date"),
            filters=(
                *_id_filters("user", "client", "project"),
                Filter("is_billed", "bool", _field("is_billed")),
                *_date_range("spent_date"),
            ),
            owner=_nested("user"),
            project_of=_nested("project"),
        ),
        Spec("invoice_item_categories", "invoice_item_categories", "cursor", "invoice_item_categories"),
        Spec(
            "invoices",
            "invoices",
            "page",
            "invoices",
            order=_by_date("issue_date"),
            filters=(
                *_id_filters("client"),
                Filter("project_id", "in_set", _invoice_projects),
                Filter("state", "enum", _field("state")),
                *_date_range("issue_date"),
            ),
        ),
        Spec("invoice_messages", "invoice_messages", "cursor", "invoice_messages", parent="invoices"),
        Spec("invoice_payments", "invoice_payments", "cursor", "invoice_payments", parent="invoices"),
        Spec(
            "projects",
            "projects",
            "cursor",
            "projects",
            filters=(_IS_ACTIVE, *_id_filters("client")),
            project_of=_by_id,
        ),
        Spec("roles", "roles", "cursor", "roles", updated_since=False),
        Spec("tasks", "tasks", "cursor", "tasks", filters=(_IS_ACTIVE,)),
        Spec(
            "task_assignments",
            "task_assignments",
            "cursor",
            "task_assignments",
            filters=(_IS_ACTIVE,),
            parent="projects",
            parent_of=_nested("project"),
            project_of=_nested("project"),
        ),
        Spec(
            "time_entries",
            "time_entries",
            "page",
            "time_entries",
            order=_by_date("spent_date"),
            filters=(
                *_id_filters("user", "client", "project", "task"),
                Filter("external_reference_id", "str", _nested("external_reference")),
                Filter("is_billed", "bool", _field("is_billed")),
                Filter("is_running", "bool", _field("is_running")),
                *_date_range("spent_date"),
            ),
            owner=_nested("user"),
            project_of=_nested("project"),
        ),
        Spec(
            "user_assignments",
            "user_assignments",
            "cursor",
            "user_assignments",
            filters=(*_id_filters("user"), _IS_ACTIVE),
            parent="projects",
            parent_of=_nested("project"),
            owner=_nested("user"),
            project_of=_nested("project"),
        ),
        Spec("users", "users", "cursor", "users", filters=(_IS_ACTIVE,), owner=_by_id),
        Spec(
            "billable_rates",
            "billable_rates",
            "cursor",
            "billable_rates",
            descending=False,
            updated_since=False,
            parent="users",
        ),
        Spec("cost_rates", "cost_rates", "cursor", "cost_rates", descending=False, updated_since=False, parent="users"),
        Spec(
            "project_assignments",
            "project_assignments",
            "cursor",
            "project_assignments",
            parent="users",
            derived=True,
        ),
    )
}

#: Stored collections (``project_assignments`` is derived from user assignments, tasks assignments and projects).
COLLECTIONS: tuple[str, ...] = tuple(name for name, spec in SPECS.items() if not spec.derived)


@dataclass
class Dataset:
    """Everything that defines an account: generated by :mod:`datagen` or loaded from a JSON file."""

    name: str
    seed: int
    account_id: int
    company: Record
    collections: dict[str, list[Record]]
    parents: dict[str, dict[int, int]]
    principals: dict[str, int]
    tokens: dict[str, str]
    oauth_client_id: str
    oauth_client_secret: str
    oauth_refresh_token: str
    #: The data's "now": the generated history ends here, and mutations are stamped after it.
    anchor: datetime
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """What one role sees of one resource: ``all``, ``managed`` (own + managed projects) or ``own``."""

    level: auth.Level = "all"
    user_id: int | None = None
    projects: frozenset[int] = frozenset()


ALL = Scope()


@dataclass
class Change:
    op: Literal["create", "update", "delete"]
    resource: str
    id: int
    parent_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "resource": self.resource, "id": self.id, "parent_id": self.parent_id}


Changes = list[Change]
Ids = list[int]


def _parse_bool(param: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Unprocessable(f"Invalid {param} parameter")


def _parse_int(param: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Unprocessable(f"Invalid {param} parameter") from None


def normalise_date(param: str, value: str) -> str:
    try:
        return parse_date(value).isoformat()
    except ValueError:
        raise Unprocessable(f"Invalid {param} parameter: expected YYYY-MM-DD or YYYYMMDD") from None


def normalise_updated_since(value: str) -> tuple[str, bool]:
    """Return (canonical second-precision timestamp, had_fraction)."""
    try:
        parsed = parse_datetime(value)
    except ValueError:
        raise Unprocessable("Invalid updated_since parameter: expected an ISO 8601 datetime") from None
    return fmt_datetime(parsed), parsed.microsecond != 0


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return fmt_datetime(value)
    return str(value)


class Store:
    """Thread-safe in-memory account. See harvest_sandbox/README.md for the ground-truth API."""

    CACHE_SIZE = 256

    def __init__(
        self,
        dataset: Dataset,
        *,
        clock: Clock = system_clock,
        updated_since_mode: UpdatedSinceMode = "strict",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.updated_since_mode: UpdatedSinceMode = updated_since_mode
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
        criteria: list[tuple[Filter, Any]] = []
        for flt in spec.filters:
            raw = params.get(flt.param)
            if raw is None or raw == "":
                continue
            value: Any
            if flt.kind in ("int", "in_set"):
                value = _parse_int(flt.param, raw)
            elif flt.kind == "bool":
                value = _parse_bool(flt.param, raw)
            elif flt.kind in ("from", "to"):
                value = normalise_date(flt.param, raw)
            elif flt.kind == "enum":
                value = frozenset(part.strip() for part in raw.split(",") if part.strip())
            else:
                value = raw
            criteria.append((flt, value))
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
            predicates = [_predicate(flt, value) for flt, value in criteria]
            if since is not None:
                stamp, fraction = since
                strict = self.updated_since_mode == "strict" or fraction
                predicates.append(_after(stamp, strict))
            if scope.level != "all":
                predicates.append(_scope_predicate(spec, scope))
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
        params = {k: _stringify(v) for k, v in filters.items() if v is not None}
        if updated_since is not None:
            params["updated_since"] = _stringify(updated_since)
        with self.lock:
            if parent_id is not None and spec.parent and not self.exists(spec.parent, parent_id):
                raise NotFound()
            rows, _ = self.query(name, params, parent_id=parent_id, scope=scope)
            return list(rows)

    def report(self, name: str, *, role: str = "administrator", **params: Any) -> Records:
        """Ground truth for a report: ``store.report("time/clients", from_="2024-01-01", to="2024-12-31")``."""
        from . import reports

        fixed = {("from" if k == "from_" else k): _stringify(v) for k, v in params.items() if v is not None}
        return reports.compute(self, name, fixed, role=role)

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
        for ta in sorted(self.records["task_assignments"].values(), key=_by_id):
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
        ``fields`` override it; a new id and fresh ``created_at``/``updated_at`` are assigned."""
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
            newest = bucket.get(top) or (max(bucket.values(), key=_by_id) if bucket else {})
            template = candidates[0] if candidates else newest
            record = copy.deepcopy(template)
            record.update(copy.deepcopy(dict(fields or {})))
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

    def update_company(self, changes: Mapping[str, Any]) -> Record:
        with self.lock:
            self.company.update(changes)
            self.version += 1
            self._cache.clear()
            return self.company

    def mutate(self, n: int = 10) -> Changes:
        """A realistic random batch of ``n`` changes (deterministic for a given seed and history)."""
        from .mutations import random_changes

        with self.lock:
            self._mutation_counter += 1
            return random_changes(self, n, seed=(self.dataset.seed, self._mutation_counter))

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


def _after(stamp: str, strict: bool) -> Callable[[Record], bool]:
    if strict:
        return lambda r: bool(r["updated_at"] > stamp)
    return lambda r: bool(r["updated_at"] >= stamp)


def _predicate(flt: Filter, value: Any) -> Callable[[Record], bool]:
    get = flt.get
    if flt.kind == "from":
        return lambda r: (get(r) or "") >= value
    if flt.kind == "to":
        return lambda r: (get(r) or "9999") <= value
    if flt.kind == "enum":
        return lambda r: get(r) in value
    if flt.kind == "in_set":
        return lambda r: value in get(r)
    if flt.kind == "str":
        return lambda r: get(r) is not None and str(get(r)) == value
    return lambda r: get(r) == value


def _scope_predicate(spec: Spec, scope: Scope) -> Callable[[Record], bool]:
    owner, project_of, uid, projects = spec.owner, spec.project_of, scope.user_id, scope.projects
    if scope.level == "own":
        if owner is None:
            return lambda r: True
        return lambda r: owner(r) == uid
    return lambda r: (owner is not None and owner(r) == uid) or (project_of is not None and project_of(r) in projects)
