"""What each Harvest resource is: its envelope key, paging mode, permission family, ordering, documented filters and
parent; and the small value types the model passes around (``Record``, ``Scope``, ``Change``, ``Dataset``).

No state lives here: :mod:`harvest_sandbox.store` keeps the records and answers queries with these specs.

Ordering follows Harvest: newest first by creation (ids are allocated in creation order, so cursor endpoints order
by ``id``); time entries and expenses by ``spent_date`` then id, newest first; invoices and estimates by
``issue_date`` then id, newest first; billable and cost rates by ``start_date`` ascending (their ids follow it).
``updated_at`` never decides the order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .auth import Level
from .clock import fmt_datetime, parse_date, parse_datetime
from .errors import Unprocessable
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
    """A documented query filter: ``kind`` says how the string value is parsed and compared.

    ``enum`` takes comma-separated values (``state=open,draft``); ``choice`` takes exactly one of ``values`` (422
    otherwise)."""

    param: str
    kind: Literal["int", "bool", "str", "enum", "choice", "from", "to", "in_set"]
    get: Callable[[Record], Any]
    values: tuple[str, ...] = ()


def _id_filters(*names: str) -> tuple[Filter, ...]:
    return tuple(Filter(f"{name}_id", "int", _nested(name)) for name in names)


def _date_range(key: str) -> tuple[Filter, ...]:
    return (Filter("from", "from", _field(key)), Filter("to", "to", _field(key)))


_IS_ACTIVE = Filter("is_active", "bool", _field("is_active"))

#: Timesheet approval (harvest-api/README.md section 10 [D]): every time entry and expense is in one of these.
APPROVAL_STATUSES: tuple[str, ...] = ("unsubmitted", "submitted", "approved")
_APPROVAL_STATUS = Filter("approval_status", "choice", _field("approval_status"), APPROVAL_STATUSES)


def by_id(record: Record) -> Any:
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
    order: Callable[[Record], Any] = by_id
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
                _APPROVAL_STATUS,
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
            project_of=by_id,
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
                _APPROVAL_STATUS,
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
        Spec("users", "users", "cursor", "users", filters=(_IS_ACTIVE,), owner=by_id),
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

    level: Level = "all"
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

#: Time entries and expenses: the records timesheet approval applies to.
APPROVABLE: tuple[str, ...] = ("time_entries", "expenses")


def lock_fields(resource: str, approval_status: str, invoiced: bool) -> Record:
    """``is_closed``, ``is_locked`` and ``locked_reason`` of a time entry or expense (harvest-api/README.md section 10).

    ``is_closed`` is true exactly when approved [D]; approved or invoiced records are locked. Time entries: approved
    "Item Approved and Locked for this Time Period" [D], invoiced "Item Invoiced and Locked for this Time Period" [V],
    both "Item Invoiced and Approved and Locked for this Time Period" (the docs' examples of approved, invoiced
    entries [D]). Expenses (the docs' examples [D]): invoiced "Expense is invoiced." (approved or not), approved only
    "The project is locked for this time period.".
    """
    approved = approval_status == "approved"
    reason: str | None = None
    if resource == "time_entries":
        if approved and invoiced:
            reason = "Item Invoiced and Approved and Locked for this Time Period"
        elif approved:
            reason = "Item Approved and Locked for this Time Period"
        elif invoiced:
            reason = "Item Invoiced and Locked for this Time Period"
    elif invoiced:
        reason = "Expense is invoiced."
    elif approved:
        reason = "The project is locked for this time period."
    return {"is_closed": approved, "is_locked": approved or invoiced, "locked_reason": reason}


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


def stringify(value: Any) -> str:
    """A Python filter value as it would appear in a query string (``True`` -> ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return fmt_datetime(value)
    return str(value)


def parse_criteria(spec: Spec, params: Mapping[str, str]) -> list[tuple[Filter, Any]]:
    """The documented filters of ``spec`` present in ``params``, parsed (422 on an unparseable value)."""
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
        elif flt.kind == "choice":
            if raw not in flt.values:
                raise Unprocessable(f"Invalid {flt.param} parameter: expected one of {', '.join(flt.values)}")
            value = raw
        else:
            value = raw
        criteria.append((flt, value))
    return criteria


def after(stamp: str, strict: bool) -> Callable[[Record], bool]:
    if strict:
        return lambda r: bool(r["updated_at"] > stamp)
    return lambda r: bool(r["updated_at"] >= stamp)


def predicate(flt: Filter, value: Any) -> Callable[[Record], bool]:
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


def scope_predicate(spec: Spec, scope: Scope) -> Callable[[Record], bool]:
    owner, project_of, uid, projects = spec.owner, spec.project_of, scope.user_id, scope.projects
    if scope.level == "own":
        if owner is None:
            return lambda r: True
        return lambda r: owner(r) == uid
    return lambda r: (owner is not None and owner(r) == uid) or (project_of is not None and project_of(r) in projects)
