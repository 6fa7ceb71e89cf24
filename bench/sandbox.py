"""Start the benchmark's sandbox process (:mod:`bench.serve`, port 0) and talk to it: its control plane over HTTP
(``/_sandbox/counts``, ``/_sandbox/requests``, ``/_sandbox/mutate``) and its ground-truth channel on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
#: Where every sandbox of this benchmark run ends its generated history: the run's start. The sandbox's default
#: (its own "now") would give each case, variant and repeat different timestamps, and so different records.
ANCHOR = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sandbox:
    def __init__(
        self,
        dataset: str,
        *,
        rate_limits: bool,
        time_scale: float = 1.0,
        seed: int = 42,
        anchor: str = ANCHOR,
        python: str = sys.executable,
        log: Path | None = None,
    ) -> None:
        self.dataset, self.rate_limits, self.time_scale, self.seed = dataset, rate_limits, time_scale, seed
        self.anchor = anchor
        self.python = python
        self.log = log
        self.url = ""
        self.account_id = ""
        self.token = ""
        self.load_seconds = 0.0
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        cmd = [self.python, "-m", "bench.serve", "--port", "0", "--seed", str(self.seed), "--dataset", self.dataset]
        cmd += ["--anchor", self.anchor]
        if not self.rate_limits:
            cmd.append("--no-rate-limits")
        cmd += ["--time-scale", repr(self.time_scale)]
        self._stderr = open(self.log, "w") if self.log else None  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr or subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "HARVEST_SANDBOX_URL":
                self.url = value
            elif key == "HARVEST_SANDBOX_ACCOUNT_ID":
                self.account_id = value
            elif key == "HARVEST_SANDBOX_TOKEN_ADMINISTRATOR":
                self.token = value
            elif key == "BENCH_LOAD_SECONDS":
                self.load_seconds = float(value)
            elif key == "BENCH_READY":
                return self
        raise RuntimeError(f"the sandbox process exited ({self._proc.wait()}) before it was ready: see {self.log}")

    def stop(self) -> None:
        proc = self._proc
        if proc is not None:
            if proc.stdin:
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
            self._proc = None
        if self._stderr:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the sandbox process has used so far, from /proc (0 where unavailable)."""
        if self._proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    # -- the connector's config --------------------------------------------------------------------------------------
    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "credentials": {"auth_type": "Token", "api_token": self.token},
            "account_id": self.account_id,
            "replication_start_date": "2017-01-01T00:00:00Z",
            "api_url": self.url,
            "oauth_token_url": self.url + "/api/v2/oauth2/token",
            **extra,
        }

    # -- control plane ----------------------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method != "GET" else None)
        request = urllib.request.Request(f"{self.url}/_sandbox/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def counts(self) -> dict[str, Any]:
        return dict(self.control("GET", "counts"))

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "requests")["requests"])

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def mutate(self, n: int) -> list[dict[str, Any]]:
        return list(self.control("POST", "mutate", {"n": n})["changes"])

    # -- ground truth (the store, in the sandbox process) -------------------------------------------------------------
    def ask(self, command: dict[str, Any]) -> Any:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError("the sandbox is not running")
        started = time.perf_counter()
        proc.stdin.write(json.dumps(command) + "\n")
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        if not reply.get("ok"):
            raise RuntimeError(f"sandbox command {command.get('cmd')} failed: {reply.get('error')}")
        self.last_ask_seconds = time.perf_counter() - started
        return reply["result"]
