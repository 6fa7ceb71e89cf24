"""Run one sync of the connector as a subprocess and measure it.

The connector's stdout is read in binary lines: records are counted per stream from the line prefix (no JSON
parsing), only STATE and TRACE lines are parsed. CPU seconds and peak memory (``ru_maxrss``) are the connector
process's own, from ``os.wait4`` on its pid.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .sandbox import REPO

RECORD_PREFIX = b'{"type":"RECORD"'
STATE_PREFIX = b'{"type":"STATE"'
TRACE_PREFIX = b'{"type":"TRACE"'
STREAM_KEY = b'"stream":"'
RSS_SAMPLE_S = 1.0


def _memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MB: its resident memory now, and its peak since it started its program."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return (found["VmRSS"], found["VmHWM"]) if len(found) == 2 else None


@dataclass
class SyncRun:
    """One connector process: what it emitted and what it cost."""

    wall_s: float = 0.0
    started_at: float = 0.0  # epoch seconds (the sandbox logs requests in epoch seconds too)
    ended_at: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    max_rss_mb: float = 0.0
    exit_code: int = 0
    records: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    states: dict[str, Any] = field(default_factory=dict)
    log_lines: int = 0
    digests: dict[str, str] = field(default_factory=dict)  # per stream: see RecordDigest
    # [seconds, RSS MB, records so far, stream of the latest record], every RSS_SAMPLE_S: where the peak happens
    rss_timeline: list[list[Any]] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_system_s

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("states")
        data.pop("started_at")
        data.pop("ended_at")
        data["cpu_s"] = round(self.cpu_s, 3)
        data["total_records"] = self.total_records
        data["records_per_s"] = round(self.total_records / self.wall_s, 1) if self.wall_s else None
        data["records_per_cpu_s"] = round(self.total_records / self.cpu_s, 1) if self.cpu_s else None
        data["state_bytes"] = state_sizes(self.states)
        return data


class RecordDigest:
    """An order-independent digest of the records of each stream: the sum (mod 2**128) of the sha256 of each
    record's data as canonical JSON. Two syncs that emit the same records per stream, in any order and however
    paged, have equal digests; one record more, less or different changes it."""

    MODULUS = 1 << 128

    def __init__(self) -> None:
        self._sums: dict[bytes, int] = {}

    def add(self, stream: bytes, line: bytes) -> None:
        data = json.dumps(json.loads(line)["record"]["data"], sort_keys=True, separators=(",", ":"))
        value = int.from_bytes(hashlib.sha256(data.encode()).digest()[:16], "big")
        self._sums[stream] = (self._sums.get(stream, 0) + value) % self.MODULUS

    def hexdigests(self) -> dict[str, str]:
        return {stream.decode(): f"{value:032x}" for stream, value in sorted(self._sums.items())}


def state_digest(states: dict[str, Any]) -> str:
    """A digest of the final state of every stream: its ``stream_state`` without ``lookback_window`` (the seconds
    the sync took, which the CDK adds to child streams' state). The messages' ``sourceStats`` are left out too: they
    count the records since the stream's previous state message, which depends on timing."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "lookback_window"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stream_states = {name: (message.get("stream") or {}).get("stream_state") for name, message in states.items()}
    return hashlib.sha256(json.dumps(strip(stream_states), sort_keys=True).encode()).hexdigest()[:32]


def state_sizes(states: dict[str, Any]) -> dict[str, int]:
    """Per stream, the bytes of its final ``stream_state`` as compact JSON (what the platform keeps for the next
    sync; the message's descriptor and ``sourceStats`` left out), largest first."""
    sizes = {
        name: len(json.dumps((message.get("stream") or {}).get("stream_state"), separators=(",", ":")).encode())
        for name, message in states.items()
        if name
    }
    return dict(sorted(sizes.items(), key=lambda item: (-item[1], item[0])))


def command(
    folder: Path | None, args: list[str], profile: Path | None = None, profiler: str = "bench.profiling"
) -> list[str]:
    """The command line: the installed ``source-harvest`` for the checkout, else the same entry point on a variant;
    under ``profiler`` (:mod:`bench.profiling` for CPU, :mod:`bench.memory` for memory) writing to ``profile``."""
    if profile is not None:
        return [sys.executable, "-m", profiler, str(profile), str(folder or "-"), *args]
    if folder is None:
        return [str(Path(sys.executable).with_name("source-harvest")), *args]
    return [sys.executable, "-m", "bench.connector", str(folder), *args]


def run_sync(
    workdir: Path,
    config: dict[str, Any],
    catalog: dict[str, Any],
    *,
    state: list[dict[str, Any]] | None = None,
    folder: Path | None = None,
    profile: Path | None = None,
    profiler: str = "bench.profiling",
    name: str = "sync",
    digest: bool = False,
) -> SyncRun:
    workdir.mkdir(parents=True, exist_ok=True)
    config_path, catalog_path = workdir / "config.json", workdir / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(catalog))
    args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
    if state is not None:
        state_path = workdir / f"{name}.state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    run = SyncRun()
    records: Counter[bytes] = Counter()
    # Records to digest are kept and digested after the process exits: digesting them as they come would slow the
    # reading of the connector's stdout, and a connector blocked on its stdout queues more records in memory.
    to_digest: list[tuple[bytes, bytes]] | None = [] if digest else None
    with open(workdir / f"{name}.stderr", "wb") as stderr:
        started = time.perf_counter()
        run.started_at = time.time()
        proc = subprocess.Popen(
            command(folder, args, profile, profiler), cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20
        )
        assert proc.stdout is not None
        latest = [b""]
        peak = [0.0]
        done = threading.Event()

        def sample_rss() -> None:
            while not done.wait(RSS_SAMPLE_S):
                memory = _memory_mb(proc.pid)
                if memory is not None:
                    at = round(time.perf_counter() - started, 1)
                    run.rss_timeline.append([at, round(memory[0], 1), sum(records.values()), latest[0].decode()])
                    peak[0] = max(peak[0], memory[1])

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        for line in proc.stdout:
            if line.startswith(RECORD_PREFIX):
                start = line.find(STREAM_KEY, 16) + len(STREAM_KEY)
                stream = line[start : line.find(b'"', start)]
                records[stream] += 1
                latest[0] = stream
                if to_digest is not None:
                    to_digest.append((stream, line))
            elif line.startswith(STATE_PREFIX):
                message = json.loads(line)["state"]
                descriptor = (message.get("stream") or {}).get("stream_descriptor") or {}
                run.states[descriptor.get("name", "")] = message
            elif line.startswith(TRACE_PREFIX):
                trace = json.loads(line)["trace"]
                if trace.get("type") == "ERROR":
                    run.errors.append(str(trace.get("error", {}).get("message", ""))[:500])
            else:
                run.log_lines += 1
        done.set()
        sampler.join()
        _, status, usage = os.wait4(proc.pid, 0)
        run.wall_s = time.perf_counter() - started
        run.ended_at = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
    run.exit_code = proc.returncode
    run.cpu_user_s, run.cpu_system_s = usage.ru_utime, usage.ru_stime
    # VmHWM, the peak since exec, read once a second until the end; ru_maxrss also counts the instant between fork
    # and exec, when the child still shares this (the bench's) process's memory. It stands in for a sync too short
    # to be sampled.
    run.max_rss_mb = peak[0] or usage.ru_maxrss / 1024.0
    run.records = {k.decode(): v for k, v in sorted(records.items())}
    if to_digest is not None:
        digests = RecordDigest()
        for stream, line in to_digest:
            digests.add(stream, line)
        run.digests = digests.hexdigests()
        run.digests["(final state)"] = state_digest(run.states)
    return run


def discover_catalog(workdir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Every stream: incremental (with its default cursor) where the stream supports it, else full refresh."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "discover-config.json"
    config_path.write_text(json.dumps(config))
    out = subprocess.run(
        command(None, ["discover", "--config", str(config_path)]), cwd=REPO, capture_output=True, check=True
    )
    catalog = next(
        json.loads(line)["catalog"] for line in out.stdout.splitlines() if line.startswith(b'{"type":"CATALOG"')
    )
    streams = []
    for stream in catalog["streams"]:
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
        )
    return {"streams": streams}


def state_for_next_sync(run: SyncRun) -> list[dict[str, Any]]:
    """The last STATE message of every stream: what the platform hands to the next sync."""
    return [message for name, message in sorted(run.states.items()) if name]
