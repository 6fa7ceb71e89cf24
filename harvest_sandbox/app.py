"""The sandbox application: one object that turns a :class:`~harvest_sandbox.http.Request` into a
:class:`~harvest_sandbox.http.Response`. The threaded server, the CLI and the pytest fixture all wrap it.

Order of work for an API request: control plane (``/_sandbox/``, no auth, no limits) -> route (HTML 404 if none)
-> injected fault -> User-Agent/token/account checks -> rate limit -> handler -> JSON. A handler exception that is
not a Harvest error is a sandbox bug: it is answered with 500 and recorded in :attr:`SandboxApp.errors`.
"""

from __future__ import annotations

import json
import time
import traceback
from typing import Any

from . import control, routes
from .errors import HTML, HarvestError, RouteNotFound, TooManyRequests
from .faults import FaultRule
from .handlers import Ctx
from .http import Envelope, Request, Response
from .state import Config, LoggedRequest, SandboxState, load_dataset
from .store import Store

#: ``Config`` and ``load_dataset`` live in :mod:`harvest_sandbox.state`; they are importable from here as before.
__all__ = ["Config", "SandboxApp", "encode_envelope", "load_dataset"]

SERVER_ERROR_HTML = (
    "<!DOCTYPE html>\n<html><head><title>{status} Server Error</title></head>"
    "<body><h1>{status} Server Error</h1><p>Something went wrong on our side.</p></body></html>\n"
)


class SandboxApp(SandboxState):
    """The sandbox's state (:class:`~harvest_sandbox.state.SandboxState`) plus the dispatch of every request."""

    # -- dispatch -----------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/") or request.path == "/_sandbox":
            try:
                return control.handle(self, request)
            except HarvestError as error:
                return _error_response(error)
            except (ValueError, KeyError, TypeError) as error:
                return Response.json({"message": f"{type(error).__name__}: {error}"}, status=400)
            except Exception:
                with self.lock:
                    self.errors.append(f"{request.method} {request.path}\n{traceback.format_exc()}")
                return Response.json({"message": "harvest_sandbox internal error (recorded)"}, status=500)
        matched = routes.match(request.method, request.path)
        endpoint = matched[0].pattern if matched else "(unknown)"
        role: str | None = None
        fault: FaultRule | None = None
        try:
            if matched is None:
                raise RouteNotFound()
            route, args = matched
            fault = self.faults.pick(request.method, request.path, request.query)
            early = self._early_fault(fault)
            if early is not None:
                return self._record(request, endpoint, early, role, fault)
            principal = None
            if route.auth:
                principal = self.auth.authenticate(request.headers, request.query, need_account=route.host == "api")
                role = principal.role
                if route.host == "api":
                    self.ratelimiter.check(principal.token, self.ratelimiter.bucket_for(request.path))
            payload = route.handler(Ctx(self.store, self.auth, request, route, args, principal))
            response = payload if isinstance(payload, Response) else self._serialise(payload, route, fault)
        except HarvestError as error:
            response = _error_response(error)
        except Exception:
            with self.lock:
                self.errors.append(f"{request.method} {request.path}?{request.query}\n{traceback.format_exc()}")
            response = Response.json({"message": "harvest_sandbox internal error (recorded)"}, status=500)
        return self._record(request, endpoint, response, role, fault)

    def _early_fault(self, fault: FaultRule | None) -> Response | None:
        if fault is None:
            return None
        if fault.name == "slow":
            time.sleep(fault.delay)
            return None
        if fault.name == "rate_limited":
            return _error_response(TooManyRequests(fault.retry_after))
        if fault.name == "server_error":
            body = SERVER_ERROR_HTML.format(status=fault.status).encode()
            return Response(fault.status, body, {"Content-Type": HTML})
        if fault.name == "connection_reset":
            return Response(0, reset=True)
        if fault.name == "concurrent_delete":
            assert fault.resource is not None and fault.record_id is not None
            if self.store.exists(fault.resource, fault.record_id):
                self.store.delete(fault.resource, fault.record_id)
        return None

    def _serialise(self, payload: Any, route: routes.Route, fault: FaultRule | None) -> Response:
        if isinstance(payload, Envelope):
            if fault is not None and fault.name == "missing_envelope":
                key = fault.key or payload.key
                response = Response.json({k: v for k, v in payload.body.items() if k != key})
            else:
                response = Response.json({})
                response.body = encode_envelope(self.store, payload)
        else:
            if fault is not None and fault.name == "missing_envelope" and isinstance(payload, dict) and fault.key:
                payload = {k: v for k, v in payload.items() if k != fault.key}
            response = Response.json(payload)
        if fault is not None and fault.name == "malformed_json":
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _record(
        self, request: Request, endpoint: str, response: Response, role: str | None, fault: FaultRule | None
    ) -> Response:
        status = 0 if response.reset else response.status
        entry = LoggedRequest(
            request.method,
            request.path,
            dict(request.query),
            status,
            role,
            fault.name if fault else None,
            f"{request.method} {endpoint}",
            self.time_fn(),
        )
        with self.lock:
            self.log.append(entry)
            if len(self.log) > 100_000:
                del self.log[:50_000]
        return response


def encode_envelope(store: Store, page: Envelope) -> bytes:
    """The envelope's bytes, records first, exactly as ``json.dumps`` would write them (compact)."""
    records = store.encode(page.resource, page.body[page.key])
    rest = json.dumps({k: v for k, v in page.body.items() if k != page.key}, separators=(",", ":")).encode()
    return b'{"' + page.key.encode() + b'":' + records + b"," + rest[1:]


def _error_response(error: HarvestError) -> Response:
    return Response(error.status, error.body_bytes(), {"Content-Type": error.content_type, **error.headers})
