"""The control plane under ``/_sandbox/``: no auth, not rate-limited, not logged. JSON in, JSON out.

=======================================  ======================================================================
``GET  /_sandbox/info``                  url, seed, dataset, account_id, tokens{role}, users{role}, oauth{...}
``POST /_sandbox/reset``                 back to the seeded dataset + initial config; clears faults/log/limits
``POST /_sandbox/seed``                  ``{"seed": 7, "dataset": "small", "anchor": ISO}``: regenerate
``POST /_sandbox/mutate``                ``{"n": 10}`` -> ``{"changes": [{"op","resource","id","parent_id"}]}``
``POST /_sandbox/records``               ``{"op": "create"|"update"|"delete", "resource", "id", "fields",
                                         "parent_id"}`` -> the record
``POST /_sandbox/approvals``             ``{"user_id", "week": "YYYY-MM-DD", "status"}``: submit/approve/reopen a
                                         user's week -> ``{"week", "user_id", "status", "time_entries": [ids],
                                         "expenses": [ids]}`` (the records that changed)
``GET|POST|DELETE /_sandbox/faults``     POST ``{"faults": [rule, ...]}`` (replaces) or one rule object
``GET|POST /_sandbox/config``            POST any subset of the config knobs (see README)
``GET|DELETE /_sandbox/requests``        the request log: method, path, query, status, role, fault, endpoint
``GET  /_sandbox/counts``                per-endpoint request counts by status (429s included)
``GET  /_sandbox/errors``                recorded handler exceptions (sandbox bugs)
``GET  /_sandbox/truth/<resource>``      ground truth list: ``?role=&parent_id=&updated_since=&<filters>``
``GET  /_sandbox/report/<name>``         ground truth report rows: ``?role=&from=&to=&include_fixed_fee=``
``POST /_sandbox/oauth/code``            ``{"role": "manager"}`` -> ``{"code": ...}`` for authorization_code
``POST /_sandbox/oauth/revoke``          ``{"token": ...}`` revokes an OAuth access or refresh token
=======================================  ======================================================================
"""

from __future__ import annotations

from typing import Any

from .errors import RouteNotFound
from .http import Request, Response
from .mutations import mutate
from .resources import APPROVABLE
from .state import SandboxState


def handle(app: SandboxState, request: Request) -> Response:
    parts = [p for p in request.path.split("/") if p][1:]
    method = request.method
    head = parts[0] if parts else ""
    body: dict[str, Any] = request.json() if method in ("POST", "PUT", "PATCH") else {}
    if not isinstance(body, (dict, list)):
        raise ValueError("expected a JSON object")

    if head == "info" and method == "GET":
        return Response.json(app.info(request.base_url))
    if head == "reset" and method == "POST":
        app.reset()
        return Response.json({"ok": True, **app.info(request.base_url)})
    if head == "seed" and method == "POST":
        assert isinstance(body, dict)
        app.reseed(int(body.get("seed", app.seed)), body.get("dataset"), body.get("anchor"))
        return Response.json({"ok": True, **app.info(request.base_url)})
    if head == "mutate" and method == "POST":
        assert isinstance(body, dict)
        changes = mutate(app.store, int(body.get("n", 10)))
        return Response.json({"changes": [c.as_dict() for c in changes]})
    if head == "approvals" and method == "POST":
        assert isinstance(body, dict)
        return Response.json(_approvals(app, body))
    if head == "records" and method == "POST":
        assert isinstance(body, dict)
        return Response.json(_records(app, body))
    if head == "faults":
        if method == "GET":
            return Response.json({"faults": app.faults.describe()})
        if method == "DELETE":
            app.faults.clear()
            return Response.json({"faults": []})
        if method == "POST":
            rules: Any = body.get("faults") if isinstance(body, dict) and "faults" in body else body
            app.faults.set(list(rules) if isinstance(rules, list) else [rules])
            return Response.json({"faults": app.faults.describe()})
    if head == "config":
        if method == "POST":
            assert isinstance(body, dict)
            app.configure(**body)
        if method in ("GET", "POST"):
            return Response.json(app.describe_config())
    if head == "requests":
        if method == "DELETE":
            with app.lock:
                app.log.clear()
            return Response.json({"requests": []})
        if method == "GET":
            return Response.json({"requests": app.request_log()})
    if head == "counts" and method == "GET":
        return Response.json(app.count_summary())
    if head == "errors" and method == "GET":
        return Response.json({"errors": list(app.errors)})
    if head == "truth" and method == "GET" and len(parts) == 2:
        query = dict(request.query)
        role = query.pop("role", "administrator")
        parent = query.pop("parent_id", None)
        records = app.store.list(parts[1], role=role, parent_id=int(parent) if parent else None, **query)
        return Response.json({parts[1]: records})
    if head == "report" and method == "GET" and len(parts) >= 2:
        query = dict(request.query)
        role = query.pop("role", "administrator")
        return Response.json({"results": app.store.report_rows("/".join(parts[1:]), query, role=role)})
    if head == "oauth" and method == "POST" and len(parts) == 2:
        assert isinstance(body, dict)
        if parts[1] == "code":
            return Response.json({"code": app.auth.issue_code(body.get("role", "administrator"))})
        if parts[1] == "revoke":
            app.auth.revoke(str(body.get("token", "")))
            return Response.json({"ok": True})
    raise RouteNotFound()


def _approvals(app: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    user_id, week, status = int(body["user_id"]), str(body["week"]), str(body["status"])
    changes = app.store.set_approval(user_id, week, status)
    answer: dict[str, Any] = {"week": app.store.week_of(week).isoformat(), "user_id": user_id, "status": status}
    for name in APPROVABLE:
        answer[name] = [c.id for c in changes if c.resource == name]
    return answer


def _records(app: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    op = body.get("op")
    resource = str(body["resource"])
    store = app.store
    if op == "create":
        parent = body.get("parent_id")
        return store.create(resource, body.get("fields") or {}, parent_id=int(parent) if parent else None)
    if op == "update":
        return store.update(resource, int(body["id"]), body.get("fields") or {})
    if op == "delete":
        return store.delete(resource, int(body["id"]))
    raise ValueError("op must be create, update or delete")
