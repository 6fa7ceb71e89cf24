"""The threaded HTTP server (``SandboxServer``): the app on a real socket, started in a background thread."""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import SandboxApp
from .faults import FaultRule
from .http import Request
from .mutations import mutate
from .resources import Change
from .store import Store


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "harvest-sandbox"
    sys_version = ""
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{self.server.server_address[0]!s}:{self.server.server_address[1]}"
        request = Request.build(self.command, self.path, dict(self.headers.items()), body, f"http://{host}")
        response = self.server.app.handle(request)
        if response.reset:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response (timeouts, Ctrl-C) are normal; anything else is printed."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """The Harvest emulator on ``http://127.0.0.1:<port>`` in a background thread.

    >>> server = SandboxServer(seed=42, dataset="tiny", rate_limits=False).start()
    >>> server.url, server.account_id, server.tokens["member"]  # doctest: +SKIP
    >>> server.stop()

    ``anchor`` (a datetime or ISO-8601 text, default: now) is where the generated history ends; pass a fixed one
    (``harvest_sandbox.clock.REFERENCE_ANCHOR``) for the same bytes on every run. Keyword arguments besides
    ``seed``/``dataset``/``anchor``/``host``/``port``/``clock``/``verbose`` are :class:`~harvest_sandbox.app.Config`
    knobs (``rate_limits``, ``time_scale``, ``updated_since``, ...).
    """

    def __init__(
        self,
        seed: int = 42,
        dataset: str = "tiny",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        app: SandboxApp | None = None,
        **options: Any,
    ) -> None:
        self.app = app or SandboxApp(seed=seed, dataset=dataset, **options)
        self._host, self._port, self._verbose = host, port, verbose
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._httpd is None:
            self._httpd = _Server((self._host, self._port), self.app, self._verbose)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="harvest-sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI); ``stop()`` from another thread or a signal ends it."""
        if self._httpd is None:
            self._httpd = _Server((self._host, self._port), self.app, self._verbose)
        self._httpd.serve_forever(poll_interval=0.1)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- facts --------------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("SandboxServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the ``api_url`` (no ``/v2``) and the identity host at once."""
        return f"http://{self._host}:{self.port}"

    @property
    def token_url(self) -> str:
        return self.url + "/api/v2/oauth2/token"

    @property
    def account_id(self) -> str:
        return str(self.app.auth.account_id)

    @property
    def tokens(self) -> dict[str, str]:
        return {str(role): token for role, token in self.app.auth.tokens.items()}

    @property
    def users(self) -> dict[str, int]:
        """The user id behind each role token."""
        return {str(role): uid for role, uid in self.app.auth.users.items()}

    @property
    def oauth(self) -> dict[str, str]:
        auth = self.app.auth
        return {
            "client_id": auth.oauth.client_id,
            "client_secret": auth.oauth.client_secret,
            "refresh_token": auth.initial_refresh_token,
        }

    @property
    def store(self) -> Store:
        return self.app.store

    def config(self, role: str = "administrator", **extra: Any) -> dict[str, Any]:
        """A connector config (docs/CONTRACT.md) for a role token pointing at this sandbox."""
        return {
            "credentials": {"auth_type": "Token", "api_token": self.tokens[role]},
            "account_id": self.account_id,
            "replication_start_date": "2017-01-01T00:00:00Z",
            "api_url": self.url,
            "oauth_token_url": self.token_url,
            **extra,
        }

    def headers(self, role: str = "administrator") -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens[role]}",
            "Harvest-Account-Id": self.account_id,
            "User-Agent": "harvest-sandbox-tests (https://example.com)",
        }

    # -- control ------------------------------------------------------------------------------------------------
    def reset(self, *, initial: bool = False) -> None:
        """Back to the seeded dataset (``initial=True``: the seed and dataset the server was created with)."""
        self.app.reset(initial=initial)

    def reseed(self, seed: int, dataset: str | None = None, anchor: datetime | str | None = None) -> None:
        self.app.reseed(seed, dataset, anchor)

    def configure(self, **changes: Any) -> None:
        self.app.configure(**changes)

    def add_fault(self, name: str, **options: Any) -> FaultRule:
        return self.app.faults.add(name, **options)

    def clear_faults(self) -> None:
        self.app.faults.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.app.request_log()

    def clear_requests(self) -> None:
        """Empties the request log (``DELETE /_sandbox/requests``): what follows is one sync's requests."""
        with self.app.lock:
            self.app.log.clear()

    def counts(self) -> dict[str, Any]:
        return self.app.count_summary()

    def take_errors(self) -> list[str]:
        return self.app.take_errors()

    def mutate(self, n: int = 10) -> list[Change]:
        """A realistic random batch of ``n`` changes (:func:`harvest_sandbox.mutations.mutate`), as
        ``POST /_sandbox/mutate`` makes it."""
        return mutate(self.app.store, n)
