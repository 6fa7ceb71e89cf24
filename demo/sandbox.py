"""Run the Harvest sandbox as a child process and talk to its control plane.

The sandbox (``python -m harvest_sandbox --port 0 ...``) prints ``HARVEST_SANDBOX_*=value`` lines (docs/CONTRACT.md)
and then serves until it is stopped. :class:`SandboxProcess` starts it, waits for those lines, keeps draining its
output into a log file (so a chatty sandbox never blocks on a full pipe) and stops it again however the demo ends:
``stop()`` is idempotent and runs from ``__exit__``, and on Linux the child also gets SIGTERM from the kernel if the
demo process itself dies abruptly (``PR_SET_PDEATHSIG``), so no sandbox is ever left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

LINE_PREFIX = "HARVEST_SANDBOX_"
REQUIRED_KEYS = ("URL", "ACCOUNT_ID", "TOKEN_ADMINISTRATOR")
STOP_GRACE_SECONDS = 10.0


class SandboxError(RuntimeError):
    """The sandbox could not be started, or its control plane answered with an error."""


@dataclass(frozen=True)
class SandboxInfo:
    """What the sandbox printed at start-up: where it listens and the credentials it accepts."""

    url: str
    account_id: str
    tokens: Mapping[str, str]
    values: Mapping[str, str]

    @classmethod
    def from_printed_values(cls, values: Mapping[str, str]) -> SandboxInfo:
        """Build from the ``HARVEST_SANDBOX_<KEY>`` lines, keyed by ``<KEY>`` (``URL``, ``TOKEN_MEMBER``, ...)."""
        tokens = {
            key.removeprefix("TOKEN_").lower(): value for key, value in values.items() if key.startswith("TOKEN_")
        }
        return cls(url=values["URL"].rstrip("/"), account_id=values["ACCOUNT_ID"], tokens=tokens, values=dict(values))

    @property
    def administrator_token(self) -> str:
        return self.tokens["administrator"]


def parse_sandbox_line(line: str) -> tuple[str, str] | None:
    """``HARVEST_SANDBOX_URL=http://127.0.0.1:1234`` -> ``("URL", "http://127.0.0.1:1234")``; other lines -> None."""
    text = line.strip()
    if not text.startswith(LINE_PREFIX) or "=" not in text:
        return None
    key, value = text.removeprefix(LINE_PREFIX).split("=", 1)
    return key, value


def _die_with_parent() -> None:
    """Run in the child before exec: ask Linux to send SIGTERM when the parent goes away (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class SandboxProcess:
    """The sandbox as a child process: ``with SandboxProcess(cmd, log) as sandbox: info = sandbox.start()``."""

    def __init__(
        self, command: Sequence[str], log_path: Path, *, cwd: Path | None = None, startup_timeout: float = 120.0
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drainer: threading.Thread | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> SandboxInfo:
        """Start the child and return what it printed; raises :class:`SandboxError` if it does not come up."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w", encoding="utf-8")
        try:
            self._process = self._spawn(log)
        except OSError as error:
            log.close()
            raise SandboxError(f"cannot start the sandbox ({shlex.join(self.command)}): {error}") from error
        self._drainer = threading.Thread(target=self._drain_stdout, args=(log,), name="sandbox-stdout", daemon=True)
        self._drainer.start()
        return SandboxInfo.from_printed_values(self._wait_for_startup_values())

    def _spawn(self, log: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
            cwd=self.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            process_group=0,  # Ctrl-C reaches the demo only; the demo stops the sandbox itself, in order.
            preexec_fn=_die_with_parent,  # the demo is single-threaded here, so preexec_fn is safe
        )

    def _drain_stdout(self, log: Any) -> None:
        assert self._process is not None and self._process.stdout is not None
        with log:
            for line in self._process.stdout:
                log.write(line)
                log.flush()
                self._lines.put(line)
        self._lines.put(None)

    def _wait_for_startup_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        deadline = time.monotonic() + self.startup_timeout
        while not self._has_all_startup_values(values):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError(f"the sandbox printed no URL within {self.startup_timeout:.0f} s{self._log_hint()}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                raise SandboxError(f"the sandbox exited before it was ready{self._log_hint()}")
            parsed = parse_sandbox_line(line)
            if parsed:
                values[parsed[0]] = parsed[1]
        return values

    @staticmethod
    def _has_all_startup_values(values: Mapping[str, str]) -> bool:
        # The sandbox prints every HARVEST_SANDBOX_* line before it serves; the OAuth refresh token comes last.
        return all(key in values for key in REQUIRED_KEYS) and "OAUTH_REFRESH_TOKEN" in values

    def _log_hint(self) -> str:
        with contextlib.suppress(OSError):
            tail = self.log_path.read_text(encoding="utf-8").strip().splitlines()[-15:]
            if tail:
                return f"; last lines of {self.log_path}:\n  " + "\n  ".join(tail)
        return f"; see {self.log_path}"

    def stop(self) -> None:
        """Stop the sandbox (SIGTERM to its process group, then SIGKILL after a grace period). Idempotent."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            self._signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()
        if self._drainer is not None:
            self._drainer.join(timeout=5)

    @staticmethod
    def _signal_group(process: subprocess.Popen[str], signum: signal.Signals) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        except PermissionError:
            process.send_signal(signum)


@dataclass(frozen=True)
class RequestCounts:
    """API requests the sandbox served (``GET /_sandbox/counts``), per endpoint pattern such as ``/v2/users``."""

    total: int = 0
    throttled: int = 0
    per_endpoint: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> RequestCounts:
        """``{"total": 7, "throttled": 0, "endpoints": {"/v2/users": {"total": 3, "200": 3}}}``."""
        endpoints = answer.get("endpoints") or {}
        return cls(
            total=int(answer.get("total", 0)),
            throttled=int(answer.get("throttled", 0)),
            per_endpoint={str(name): int(counts.get("total", 0)) for name, counts in endpoints.items()},
        )

    def __sub__(self, earlier: RequestCounts) -> RequestCounts:
        delta = {name: n - earlier.per_endpoint.get(name, 0) for name, n in self.per_endpoint.items()}
        return RequestCounts(
            total=self.total - earlier.total,
            throttled=self.throttled - earlier.throttled,
            per_endpoint={name: n for name, n in delta.items() if n},
        )


class SandboxControl:
    """Client for the sandbox's control plane under ``/_sandbox/`` (harvest_sandbox/control.py): no auth."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def reset(self) -> None:
        """Back to the seeded dataset; clears the request log."""
        self._call("POST", "reset", {})

    def mutate(self, count: int) -> list[dict[str, Any]]:
        """Apply ``count`` realistic changes; returns them as ``{"op", "resource", "id", "parent_id"}`` dicts."""
        answer = self._call("POST", "mutate", {"n": count})
        return [dict(change) for change in answer.get("changes", [])]

    def records(self, resource: str) -> list[dict[str, Any]]:
        """Every record of ``resource`` as its list endpoint returns them to an Administrator (newest first)."""
        return [dict(record) for record in self._call("GET", f"truth/{resource}").get(resource, [])]

    def delete(self, resource: str, record_id: int) -> dict[str, Any]:
        """Hard-delete one record, as Harvest does (no trace of it is left in any list)."""
        self._call("POST", "records", {"op": "delete", "resource": resource, "id": record_id})
        return {"op": "delete", "resource": resource, "id": record_id, "parent_id": None}

    def request_counts(self) -> RequestCounts:
        return RequestCounts.from_answer(self._call("GET", "counts"))

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change config knobs of the sandbox (``POST /_sandbox/config``), e.g. ``time_scale``; returns its config."""
        return dict(self._call("POST", "config", knobs))

    def anchor(self) -> str:
        """Where the sandbox's generated history ends (its "now" when it started), ``YYYY-MM-DDTHH:MM:SSZ``."""
        return str(self._call("GET", "info")["anchor"])

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "User-Agent": "source-harvest-demo"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except (urllib.error.URLError, TimeoutError) as error:
            raise SandboxError(f"{method} /_sandbox/{path} failed: {error}") from error
        return json.loads(payload) if payload.strip() else {}
