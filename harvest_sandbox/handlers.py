"""Thin HTTP layer: read the request, ask the store, wrap the answer in Harvest's envelope.

Every handler takes a :class:`Ctx` and returns a JSON-able payload (or a :class:`~harvest_sandbox.http.Response`).
Errors are raised as :mod:`harvest_sandbox.errors` types. Handlers know the store, the credentials and the route
that matched (as the :class:`RouteInfo` the routing table's ``Route`` satisfies), nothing above them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from .auth import Auth, Principal, access_level
from .errors import Forbidden, HarvestError, NotFound, Unprocessable
from .http import Envelope, Request, Response
from .pagination import Mode, paginate
from .resources import SPECS, Record, Scope, scope_predicate
from .store import Store


class RouteInfo(Protocol):
    """What a handler reads of the route that matched (``routes.Route`` has these and more)."""

    @property
    def resource(self) -> str | None: ...

    @property
    def mode(self) -> Mode: ...

    @property
    def params(self) -> tuple[str, ...]: ...


@dataclass
class Ctx:
    store: Store
    auth: Auth
    request: Request
    route: RouteInfo
    args: dict[str, int]
    principal: Principal | None

    @property
    def me(self) -> Principal:
        assert self.principal is not None
        return self.principal


def _scope(ctx: Ctx, family: str) -> Scope:
    return ctx.store.scope_for(family, ctx.me.role, user_id=ctx.me.user_id)


def _list(ctx: Ctx, resource: str, *, parent_id: int | None, mode: Mode, link_path: str | None = None) -> Any:
    spec = SPECS[resource]
    scope = _scope(ctx, spec.family)
    if scope.level == "own" and spec.parent == "users" and parent_id != ctx.me.user_id:
        raise Forbidden(f"You can only read your own {resource}.")
    store = ctx.store
    with store.lock:
        if parent_id is not None and spec.parent and not store.exists(spec.parent, parent_id):
            raise NotFound()
        filters = {k: v for k, v in ctx.request.query.items() if k in ctx.route.params}
        rows, ids = store.query(resource, filters, parent_id=parent_id, scope=scope)
    body = paginate(
        rows,
        key=spec.key,
        query=ctx.request.query,
        link_base=ctx.request.base_url + (link_path or ctx.request.path),
        mode=mode,
        ids=ids,
        descending=spec.descending,
    )
    return Envelope(body, spec.key, resource)


def list_records(ctx: Ctx) -> Any:
    route = ctx.route
    assert route.resource is not None
    parent_id = ctx.args.get("parent_id")
    return _list(ctx, route.resource, parent_id=parent_id, mode=route.mode)


def get_record(ctx: Ctx) -> Any:
    route = ctx.route
    assert route.resource is not None
    spec = SPECS[route.resource]
    record_id = ctx.args["id"]
    if route.resource == "users" and record_id == ctx.me.user_id:
        return ctx.store.get("users", record_id)
    scope = _scope(ctx, spec.family)
    parent_id = ctx.args.get("parent_id")
    if scope.level == "own" and spec.parent == "users" and parent_id != ctx.me.user_id:
        raise Forbidden(f"You can only read your own {route.resource}.")
    with ctx.store.lock:
        if parent_id is not None and spec.parent and not ctx.store.exists(spec.parent, parent_id):
            raise NotFound()
        record = ctx.store.get(route.resource, record_id, parent_id=parent_id)
        if scope.level != "all" and not scope_predicate(spec, scope)(record):
            raise NotFound()
        return record


def company(ctx: Ctx) -> Any:
    access_level("company", ctx.me.role)
    return ctx.store.company


def users_me(ctx: Ctx) -> Any:
    access_level("users_me", ctx.me.role)
    return ctx.store.get("users", ctx.me.user_id)


def my_project_assignments(ctx: Ctx) -> Any:
    """``/users/me/project_assignments``: page-paginated; its links point at ``/v2/users/{id}/...`` like Harvest's."""
    access_level("my_project_assignments", ctx.me.role)
    me = ctx.me.user_id
    return _list(ctx, "project_assignments", parent_id=me, mode="page", link_path=f"/v2/users/{me}/project_assignments")


def report(ctx: Ctx) -> Any:
    route = ctx.route
    assert route.resource is not None
    rows = ctx.store.report_rows(
        route.resource,
        {k: v for k, v in ctx.request.query.items() if k in route.params},
        role=ctx.me.role,
        user_id=ctx.me.user_id,
    )
    body = paginate(
        rows, key="results", query=ctx.request.query, link_base=ctx.request.base_url + ctx.request.path, mode="page"
    )
    return Envelope(body, "results")


def oauth_token(ctx: Ctx) -> Any:
    request = ctx.request
    ctx.auth.authenticate_user_agent(request.headers)
    return ctx.auth.token_endpoint(request.form())


def accounts(ctx: Ctx) -> Any:
    user = ctx.store.get("users", ctx.me.user_id)
    account_id = ctx.auth.account_id
    return {
        "user": {
            "id": user["id"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "email": user["email"],
        },
        "accounts": [
            {"id": account_id, "name": ctx.store.company["name"], "product": "harvest"},
            {"id": account_id + 1, "name": ctx.store.company["name"], "product": "forecast"},
        ],
    }


# -- writes -----------------------------------------------------------------------------------------------------
#: ``<name>_id`` body fields that set an embedded object, and the collection they point at.
REFERENCES = {
    "client": "clients",
    "project": "projects",
    "task": "tasks",
    "user": "users",
    "expense_category": "expense_categories",
    "estimate": "estimates",
}


def _body(request: Request) -> dict[str, Any]:
    if "json" in request.headers.get("content-type", "") or request.body.strip().startswith(b"{"):
        parsed = request.json()
        if not isinstance(parsed, dict):
            raise Unprocessable("Expected a JSON object")
        return parsed
    fields: dict[str, Any] = {}
    for key, value in parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True):
        try:
            fields[key] = json.loads(value)
        except ValueError:
            fields[key] = value
    return fields


def _mini(ref: Record, keys: Any) -> Record:
    out: Record = {}
    for key in keys:
        if key == "name" and "name" not in ref:
            out[key] = f"{ref.get('first_name', '')} {ref.get('last_name', '')}".strip()
        else:
            out[key] = ref.get(key)
    return out


def _fields(ctx: Ctx, resource: str, body: dict[str, Any], template: Record) -> dict[str, Any]:
    """Harvest's write parameters (``project_id``, ``hours``, ...) as record fields (embedded objects)."""
    store = ctx.store
    fields: dict[str, Any] = {}
    for key, value in body.items():
        base = key[:-3] if key.endswith("_id") else None
        if base in REFERENCES and (base in template or not template):
            try:
                ref = store.get(REFERENCES[base], int(value))
            except (NotFound, TypeError, ValueError):
                raise Unprocessable(f"{base.replace('_', ' ').capitalize()} can't be blank") from None
            fields[base] = _mini(ref, (template.get(base) or {"id": None, "name": None}).keys())
            if base == "project" and isinstance(template.get("client"), dict):
                fields["client"] = _mini(store.get("clients", ref["client"]["id"]), template["client"].keys())
        elif key in template or not template:
            fields[key] = value
    return fields


def _writable_scope(ctx: Ctx, resource: str) -> Scope:
    scope = _scope(ctx, SPECS[resource].family)
    if scope.level != "all" and SPECS[resource].owner is None:
        raise Forbidden(f"You do not have permission to change {resource}.")
    return scope


def create_record(ctx: Ctx) -> Response:
    route = ctx.route
    assert route.resource is not None
    resource, parent_id = route.resource, ctx.args.get("parent_id")
    scope = _writable_scope(ctx, resource)
    store = ctx.store
    with store.lock:
        spec = SPECS[resource]
        if parent_id is not None and spec.parent and not store.exists(spec.parent, parent_id):
            raise NotFound()
        candidates = (
            store.list(resource, parent_id=parent_id) if parent_id is not None else store.iter_records(resource)
        )
        template = candidates[0] if candidates else next(iter(store.collection(resource).values()), {})
        fields = _fields(ctx, resource, _body(ctx.request), template)
        if scope.level != "all":
            fields["user"] = _mini(
                store.get("users", ctx.me.user_id), (template.get("user") or {"id": 0, "name": ""}).keys()
            )
        record = store.create(resource, fields, parent_id=parent_id if spec.parent_of is None else None)
    location = f"{ctx.request.base_url}/api{ctx.request.path}/{record['id']}"
    return Response.json(record, status=201, headers={"Location": location})


def _writable_record(ctx: Ctx) -> tuple[str, int, dict[str, Any]]:
    """The route's record, if the token may write it (a record outside its scope is a 404, as on Harvest).

    Call with `ctx.store.lock` held.
    """
    resource = ctx.route.resource
    assert resource is not None
    record_id = ctx.args["id"]
    scope = _writable_scope(ctx, resource)
    record = ctx.store.get(resource, record_id, parent_id=ctx.args.get("parent_id"))
    if scope.level != "all" and not scope_predicate(SPECS[resource], scope)(record):
        raise NotFound()
    return resource, record_id, record


def update_record(ctx: Ctx) -> Any:
    store = ctx.store
    with store.lock:
        resource, record_id, record = _writable_record(ctx)
        fields = _fields(ctx, resource, _body(ctx.request), record)
        fields.pop("id", None)
        return store.update(resource, record_id, fields)


def delete_record(ctx: Ctx) -> Any:
    store = ctx.store
    with store.lock:
        resource, record_id, _record = _writable_record(ctx)
        if resource == "clients" and (
            store.query("projects", {"client_id": str(record_id)})[0]
            or store.query("invoices", {"client_id": str(record_id)})[0]
        ):
            message = "This client is not removable. It still has projects and/or invoices."
            raise HarvestError({"message": message}, status=422, headers={"Hint": message})
        return store.delete(resource, record_id)


# -- small extras -------------------------------------------------------------------------------------------------
def teammates(ctx: Ctx) -> Any:
    """``/users/{id}/teammates``: the users on projects the (manager) user manages; 422 for a non-manager."""
    _scope(ctx, "teammates")
    store = ctx.store
    user_id = ctx.args["parent_id"]
    with store.lock:
        user = store.get("users", user_id)
        if "manager" not in user["access_roles"]:
            raise Unprocessable("Teammates can only be assigned to a user with the Manager role.")
        managed = store.managed_projects(user_id)
        mate_ids = {
            ua["user"]["id"]
            for ua in store.collection("user_assignments").values()
            if ua["project"]["id"] in managed and ua["user"]["id"] != user_id
        }
        users = store.collection("users")
        rows = [
            {key: users[i][key] for key in ("id", "first_name", "last_name", "email")}
            for i in sorted(mate_ids, reverse=True)
            if i in users
        ]
    body = paginate(
        rows,
        key="teammates",
        query=ctx.request.query,
        link_base=ctx.request.base_url + ctx.request.path,
        mode="cursor",
        ids=[r["id"] for r in rows],
    )
    return Envelope(body, "teammates")


def new_invoice_message(ctx: Ctx) -> Any:
    """``/invoices/{id}/messages/new``: the subject and body Harvest would pre-fill."""
    _scope(ctx, "invoice_messages")
    invoice = ctx.store.get("invoices", ctx.args["parent_id"])
    query = ctx.request.query
    thank_you = query.get("thank_you", "").lower() == "true"
    reminder = query.get("reminder", "").lower() == "true"
    company = ctx.store.company["name"]
    if thank_you:
        subject = f"Thank you for your payment of invoice #{invoice['number']} from {company}"
    elif reminder:
        subject = f"Past due invoice reminder: #{invoice['number']} from {company}"
    else:
        subject = f"Invoice #{invoice['number']} from {company}"
    body = f"Dear Customer,\n\n{subject}.\n\nThank you for your business.\n\n{company}\n"
    return {"invoice_id": invoice["id"], "subject": subject, "body": body, "reminder": reminder, "thank_you": thank_you}
