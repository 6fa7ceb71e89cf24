"""The routing table (moto's ``urls.py`` analogue): one line per Harvest endpoint the sandbox serves.

``{id}`` and ``{parent_id}`` match digits. Literal routes (``/users/me``) come before their ``{id}`` siblings.
``params`` lists the documented query parameters the route honours (besides ``page``/``per_page``/``cursor``);
``scripts/sandbox_coverage.py`` reads this table to write COVERAGE.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import handlers, reports
from .pagination import Mode
from .resources import SPECS

Host = Literal["api", "id"]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Callable[[handlers.Ctx], Any]
    resource: str | None = None
    mode: Mode = "page"
    params: tuple[str, ...] = ()
    host: Host = "api"
    auth: bool = True
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[0-9]+)", self.pattern)
        object.__setattr__(self, "regex", re.compile(f"^{regex}$"))

    @property
    def paging_params(self) -> tuple[str, ...]:
        return ("page", "per_page", "cursor") if self.mode == "cursor" else ("page", "per_page")


def _writes(path: str, resource: str, *, create: bool = True, update: bool = True) -> list[Route]:
    routes = [Route("POST", f"/v2/{path}", handlers.create_record, resource)] if create else []
    if update:
        routes.append(Route("PATCH", f"/v2/{path}/{{id}}", handlers.update_record, resource))
    routes.append(Route("DELETE", f"/v2/{path}/{{id}}", handlers.delete_record, resource))
    return routes


def _entity(path: str, resource: str, *, single: bool = True, mode: Mode | None = None) -> list[Route]:
    spec = SPECS[resource]
    routes = [Route("GET", f"/v2/{path}", handlers.list_records, resource, mode or spec.mode, spec.params)]
    if single:
        routes.append(Route("GET", f"/v2/{path}/{{id}}", handlers.get_record, resource))
        routes.extend(_writes(path, resource))
    return routes


def _child(path: str, resource: str, *, mode: Mode | None = None, single: bool = False) -> list[Route]:
    """``path`` contains ``{parent_id}``."""
    spec = SPECS[resource]
    params = tuple(p for p in spec.params if p != "user_id" or resource != "project_assignments")
    routes = [Route("GET", f"/v2/{path}", handlers.list_records, resource, mode or spec.mode, params)]
    if single:
        routes.append(Route("GET", f"/v2/{path}/{{id}}", handlers.get_record, resource))
    return routes


ROUTES: list[Route] = [
    # identity host (id.getharvest.com), served on the same port
    Route("POST", "/api/v2/oauth2/token", handlers.oauth_token, host="id", auth=False),
    Route("GET", "/api/v2/accounts", handlers.accounts, host="id"),
    # resource API
    Route("GET", "/v2/company", handlers.company),
    Route("GET", "/v2/users/me", handlers.users_me),
    Route("GET", "/v2/users/me/project_assignments", handlers.my_project_assignments, "project_assignments"),
    *_entity("users", "users"),
    *_child("users/{parent_id}/billable_rates", "billable_rates", single=True),
    Route("POST", "/v2/users/{parent_id}/billable_rates", handlers.create_record, "billable_rates"),
    *_child("users/{parent_id}/cost_rates", "cost_rates", single=True),
    Route("POST", "/v2/users/{parent_id}/cost_rates", handlers.create_record, "cost_rates"),
    *_child("users/{parent_id}/project_assignments", "project_assignments"),
    Route("GET", "/v2/users/{parent_id}/teammates", handlers.teammates, "teammates", "cursor"),
    *_entity("clients", "clients"),
    *_entity("contacts", "contacts"),
    *_entity("roles", "roles"),
    *_entity("tasks", "tasks"),
    *_entity("projects", "projects"),
    *_child("projects/{parent_id}/user_assignments", "user_assignments", mode="page", single=True),
    *_writes("projects/{parent_id}/user_assignments", "user_assignments"),
    *_child("projects/{parent_id}/task_assignments", "task_assignments", mode="page", single=True),
    *_writes("projects/{parent_id}/task_assignments", "task_assignments"),
    *_entity("user_assignments", "user_assignments", single=False),
    *_entity("task_assignments", "task_assignments", single=False),
    *_entity("time_entries", "time_entries"),
    *_entity("expenses", "expenses"),
    *_entity("expense_categories", "expense_categories"),
    *_entity("invoices", "invoices"),
    Route(
        "GET", "/v2/invoices/{parent_id}/messages/new", handlers.new_invoice_message, params=("thank_you", "reminder")
    ),
    *_child("invoices/{parent_id}/messages", "invoice_messages"),
    *_writes("invoices/{parent_id}/messages", "invoice_messages", update=False),
    *_child("invoices/{parent_id}/payments", "invoice_payments"),
    *_writes("invoices/{parent_id}/payments", "invoice_payments", update=False),
    *_entity("invoice_item_categories", "invoice_item_categories"),
    *_entity("estimates", "estimates"),
    *_child("estimates/{parent_id}/messages", "estimate_messages"),
    *_writes("estimates/{parent_id}/messages", "estimate_messages", update=False),
    *_entity("estimate_item_categories", "estimate_item_categories"),
    *(
        Route("GET", f"/v2/reports/{name}", handlers.report, name, "page", reports.params_of(name))
        for name in reports.REPORTS
    ),
]


def match(method: str, path: str) -> tuple[Route, dict[str, int]] | None:
    """The route for ``method path`` and its integer path arguments, or None (HTML 404)."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.regex.match(path)
        if found:
            return route, {k: int(v) for k, v in found.groupdict().items()}
    return None


def path_exists(path: str) -> bool:
    return any(route.regex.match(path) for route in ROUTES)
