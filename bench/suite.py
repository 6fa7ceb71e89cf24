"""One benchmark case: a sandbox of one size, a full sync, a batch of changes, an incremental sync.

Two modes:

- ``unthrottled``: the sandbox's rate limits off and the connector's own budget removed (:mod:`bench.variant`):
  the connector's own cost (CPU seconds, records per second, peak memory) and the fastest it can go;
- ``limited``: Harvest's limits on in the sandbox and the shipped connector (its budget as shipped); with
  ``time_scale`` below 1 both the sandbox's windows and the connector's budget are scaled (a short stand-in).

Each sync is compared with the minimum requests (:mod:`bench.minimum`) and the rate-limit floor
(:mod:`bench.floor`) of those minimum requests.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from source_harvest.streams import CHILD_STREAMS

from . import floor
from .runner import SyncRun, discover_catalog, run_sync, state_for_next_sync
from .sandbox import REPO, Sandbox
from .variant import write_variant

UNTHROTTLED = "unthrottled"
LIMITED = "limited"
#: the variant name of the connector in this checkout (bench.compare)
CHECKOUT = "checkout"


@dataclass
class Case:
    size: str
    mode: str
    time_scale: float = 1.0
    mutations: int = 50
    workers: int | None = None
    connector: Path | None = None  # a scratch copy of the connector (manifest.yaml + components.py) to measure
    digest: bool = False  # a digest of the records of each stream (bench.runner.RecordDigest), to compare variants
    variant: str = ""  # the variant's label when variants are compared (bench.compare), else empty

    @property
    def label(self) -> str:
        scale = "" if self.time_scale == 1.0 else f"-x{self.time_scale:g}"
        variant = f"-{self.variant}".replace("/", "_") if self.variant else ""
        return f"{self.size}-{self.mode}{scale}{variant}"


def compare(actual: dict[str, Any], minimum: dict[str, int]) -> dict[str, Any]:
    """Per endpoint: actual requests (all statuses), 429s, the minimum; and the totals."""
    endpoints: dict[str, dict[str, int]] = {}
    for endpoint in sorted(set(minimum) | set(actual.get("endpoints", {}))):
        seen = actual.get("endpoints", {}).get(endpoint, {})
        endpoints[endpoint] = {
            "actual": int(seen.get("total", 0)),
            "minimum": int(minimum.get(endpoint, 0)),
            "throttled": int(seen.get("429", 0)),
        }
    excess = {e: v["actual"] - v["minimum"] for e, v in endpoints.items() if v["actual"] != v["minimum"]}
    return {
        "endpoints": endpoints,
        "actual_total": sum(v["actual"] for v in endpoints.values()),
        "minimum_total": sum(v["minimum"] for v in endpoints.values()),
        "throttled_total": sum(v["throttled"] for v in endpoints.values()),
        "excess": excess,
    }


def timeline(run: SyncRun, log: list[dict[str, Any]], limits: floor.Limits) -> dict[str, Any]:
    """Where the wall time went: start-up (process start to first request), the request phase, the tail (last
    request to exit); general requests per general window from the first request, and the longest pause."""
    stamps = sorted(float(entry["at"]) for entry in log)
    general = sorted(float(entry["at"]) for entry in log if not floor.is_report(str(entry.get("path", ""))))
    if not stamps:
        return {}
    span = limits.general_span
    per_window: dict[int, int] = {}
    for stamp in general:
        index = int((stamp - stamps[0]) // span)
        per_window[index] = per_window.get(index, 0) + 1
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return {
        "startup_s": round(stamps[0] - run.started_at, 2),
        "requests_s": round(stamps[-1] - stamps[0], 2),
        "tail_s": round(run.ended_at - stamps[-1], 2),
        "requests_per_general_window": [per_window.get(i, 0) for i in range(max(per_window) + 1)],
        "longest_pause_s": round(max(gaps, default=0.0), 2),
    }


def child_lookback_windows(run: SyncRun) -> dict[str, str]:
    """``<child>_lookback_window``: the seconds the CDK saved with each child stream's state (how long the sync took),
    which the next sync subtracts from the child cursor (bench.minimum needs it to know which users it reads)."""
    windows: dict[str, str] = {}
    for name, message in run.states.items():
        stream_state = (message.get("stream") or {}).get("stream_state") or {}
        if name in CHILD_STREAMS and "lookback_window" in stream_state:
            windows[f"{name}_lookback_window"] = str(int(stream_state["lookback_window"]))
    return windows


def judge(run: SyncRun, requests: dict[str, Any], minimum: dict[str, Any], limits: floor.Limits) -> dict[str, Any]:
    min_general, min_reports = floor.split(minimum["requests"])
    act_general, act_reports = floor.split({e: v["actual"] for e, v in requests["endpoints"].items()})
    rate = floor.rate_floor(min_general, min_reports, limits)
    burst = floor.burst_floor(min_general, min_reports, limits)
    missing = {s: n for s, n in minimum["records"].items() if run.records.get(s, 0) != n}
    return {
        **run.summary(),
        "requests": requests,
        "minimum_records": minimum["records"],
        "records_differ_from_truth": {s: [run.records.get(s, 0), n] for s, n in missing.items()},
        "general_requests": {"actual": act_general, "minimum": min_general},
        "report_requests": {"actual": act_reports, "minimum": min_reports},
        "floor_rate_s": round(rate, 2),
        "floor_burst_s": round(burst, 2),
        "floor_actual_requests_s": round(floor.rate_floor(act_general, act_reports, limits), 2),
        "over_floor": floor.overhead(run.wall_s, burst),
        "over_rate_floor": floor.overhead(run.wall_s, rate),
    }


def run_case(case: Case, workdir: Path, catalog_cache: dict[str, Any], log: Any = print) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    limited = case.mode == LIMITED
    limits = floor.Limits(time_scale=case.time_scale)
    source = case.connector or REPO
    if limited and case.time_scale == 1.0:
        folder = None if case.connector is None else write_variant(workdir / "connector", "shipped", source=source)
    elif limited:
        folder = write_variant(workdir / "connector", "scaled", case.time_scale, source=source)
    else:
        folder = write_variant(workdir / "connector", "unbudgeted", source=source)
    started = time.perf_counter()
    with Sandbox(case.size, rate_limits=limited, time_scale=case.time_scale, log=workdir / "sandbox.log") as sandbox:
        extra = {"num_workers": case.workers} if case.workers else {}
        config = sandbox.config(**extra)
        if "catalog" not in catalog_cache:
            catalog_cache["catalog"] = discover_catalog(workdir, config)
        catalog = catalog_cache["catalog"]
        stats = sandbox.ask({"cmd": "stats"})
        log(f"[{case.label}] sandbox up in {sandbox.load_seconds:.1f}s: {stats.get('time_entries')} time entries")
        minimum_full = sandbox.ask({"cmd": "minimum_full", "config": config})
        sandbox.clear_requests()
        sandbox.ask({"cmd": "reset_limits"})
        sandbox_cpu = sandbox.cpu_seconds()
        full = run_sync(workdir, config, catalog, folder=folder, name="full", digest=case.digest)
        full_sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
        full_requests = compare(sandbox.counts(), minimum_full["requests"])
        full_result = judge(full, full_requests, minimum_full, limits)
        full_result["timeline"] = timeline(full, sandbox.requests(), limits)
        full_result["sandbox_cpu_s"] = round(full_sandbox_cpu, 2)
        log(
            f"[{case.label}] full: {full.total_records} records in {full.wall_s:.1f}s (cpu {full.cpu_s:.1f}s), "
            f"{full_requests['actual_total']} requests (min {full_requests['minimum_total']}), "
            f"{full_requests['throttled_total']} x 429, floor {full_result['floor_burst_s']:.1f}s"
        )
        cursors = {**sandbox.ask({"cmd": "cursors", "config": config}), **child_lookback_windows(full)}
        changes = sandbox.mutate(case.mutations) if case.mutations else []
        minimum_inc = sandbox.ask({"cmd": "minimum_incremental", "config": config, "cursors": cursors})
        sandbox.clear_requests()
        sandbox.ask({"cmd": "reset_limits"})
        sandbox_cpu = sandbox.cpu_seconds()
        inc = run_sync(
            workdir,
            config,
            catalog,
            state=state_for_next_sync(full),
            folder=folder,
            name="incremental",
            digest=case.digest,
        )
        inc_sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
        inc_requests = compare(sandbox.counts(), minimum_inc["requests"])
        inc_result = judge(inc, inc_requests, minimum_inc, limits)
        inc_result["timeline"] = timeline(inc, sandbox.requests(), limits)
        inc_result["sandbox_cpu_s"] = round(inc_sandbox_cpu, 2)
        log(
            f"[{case.label}] incremental ({len(changes)} changes): {inc.total_records} records in {inc.wall_s:.1f}s, "
            f"{inc_requests['actual_total']} requests (min {inc_requests['minimum_total']}), "
            f"{inc_requests['throttled_total']} x 429, floor {inc_result['floor_burst_s']:.1f}s"
        )
    return {
        "size": case.size,
        "mode": case.mode,
        "label": case.label,
        "variant": case.variant or CHECKOUT,
        "time_scale": case.time_scale,
        "connector": str(case.connector or "checkout"),
        "budget": "shipped" if limited and case.time_scale == 1.0 else ("scaled" if limited else "removed"),
        "workers": case.workers or 4,
        "dataset": stats,
        "time_entries": stats.get("time_entries", 0),
        "account_records": sum(stats.values()),
        "full": full_result,
        "incremental": {**inc_result, "mutations": len(changes)},
        "case_seconds": round(time.perf_counter() - started, 1),
    }


def _instrumented_full_sync(
    size: str, workdir: Path, catalog_cache: dict[str, Any], connector: Path | None, out: Path, profiler: str
) -> SyncRun:
    """A full sync of ``size``, nothing throttling, run under ``profiler`` (a module) writing to ``out``."""
    workdir.mkdir(parents=True, exist_ok=True)
    folder = write_variant(workdir / "connector", "unbudgeted", source=connector or REPO)
    with Sandbox(size, rate_limits=False, log=workdir / "sandbox.log") as sandbox:
        config = sandbox.config()
        if "catalog" not in catalog_cache:
            catalog_cache["catalog"] = discover_catalog(workdir, config)
        return run_sync(
            workdir, config, catalog_cache["catalog"], folder=folder, profile=out, profiler=profiler, name=out.stem
        )


def run_profile(
    size: str, workdir: Path, catalog_cache: dict[str, Any], connector: Path | None = None, log: Any = print
) -> dict[str, Any]:
    """A full sync of ``size`` (nothing throttling) under the per-thread CPU profiler (:mod:`bench.profiling`).
    Apart from the measured runs: the profiler multiplies CPU time several times."""
    from .profiling import top_own

    profile = workdir / "full.prof"
    run = _instrumented_full_sync(size, workdir, catalog_cache, connector, profile, "bench.profiling")
    log(f"[{size}-profile] profiled full sync: {run.wall_s:.1f}s (cpu {run.cpu_s:.1f}s under the profiler)")
    return {
        "size": size,
        "profile": str(profile),
        "records": run.total_records,
        "profiled_wall_s": round(run.wall_s, 1),
        "profiled_cpu_s": round(run.cpu_s, 1),
        "top_own": top_own(profile, 30),
    }


def run_memory(
    size: str, workdir: Path, catalog_cache: dict[str, Any], connector: Path | None = None, log: Any = print
) -> dict[str, Any]:
    """A full sync of ``size`` (nothing throttling) under ``tracemalloc`` (:mod:`bench.memory`): what holds memory
    at the peak. Apart from the measured runs: tracing slows the sync down and adds its own memory."""
    out = workdir / "memory.json"
    run = _instrumented_full_sync(size, workdir, catalog_cache, connector, out, "bench.memory")
    traced = json.loads(out.read_text())
    log(f"[{size}-memory] traced full sync: {run.wall_s:.1f}s, traced peak {traced['traced_peak_mb']} MB")
    return {"size": size, "records": run.total_records, "max_rss_mb": round(run.max_rss_mb, 1), **traced}
