"""``python -m bench [--full] [--sizes ...] [--limited-sizes ...] [--time-scale S] [--baseline REF] [--name NAME]``

Quick by default (a couple of minutes): tiny and small unthrottled, and small rate-limited with the windows scaled
to 1/4 (sandbox and connector budget alike: 15 s -> 3.75 s). ``--full``: tiny, small, medium and large unthrottled (the large
one profiled), and small, medium and large under Harvest's real limits (in the background, side by side: they
mostly wait), about 40 minutes. With ``--baseline REF`` (``make bench`` passes 9b598ff, 2.1.0) or ``--variant``,
every variant runs every size (``--compare-sizes`` unthrottled, alternated; ``--limited-sizes`` rate-limited, each
on its own sandbox of the same data), and the tables set the variants side by side: CPU, peak RSS, wall time over
the floor, and the requests per route against the first variant. Results: bench/results/<name>.json, <name>.png
and latest.md (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import compare, report, sizes
from .runner import discover_catalog
from .sandbox import REPO, Sandbox
from .suite import LIMITED, UNTHROTTLED, Case, run_case, run_memory, run_profile

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--full", action="store_true", help="every size, real rate limits (~40 min)")
    parser.add_argument("--sizes", nargs="*", help="unthrottled sizes (default: quick tiny small; full: all)")
    parser.add_argument("--limited-sizes", nargs="*", help="rate-limited sizes (default: quick small; full: s m l)")
    parser.add_argument("--time-scale", type=float, help="rate-limit windows x this (default quick 0.25, full 1)")
    parser.add_argument("--profile", help="also profile a full sync of this size, nothing throttling (full: large)")
    parser.add_argument("--memory", help="also trace the memory of a full sync of this size (tracemalloc)")
    parser.add_argument("--workers", type=int, help="num_workers in the connector config (default: its own, 4)")
    parser.add_argument("--mutations", type=int, default=50, help="changes between the full and incremental sync")
    parser.add_argument(
        "--connector", type=Path, help="measure this copy of manifest.yaml + components.py instead (no variants)"
    )
    parser.add_argument(
        "--baseline",
        help="also measure this git ref's manifest.yaml + components.py beside the checkout, unthrottled and "
        "rate-limited (e.g. 9b598ff, 2.1.0; make bench's default)",
    )
    parser.add_argument(
        "--variant", action="append", default=[], metavar="LABEL=DIR", help="also measure this connector folder"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="unthrottled runs per variant and size when comparing (default 3)"
    )
    parser.add_argument(
        "--compare-sizes",
        nargs="*",
        help="unthrottled sizes the variants are compared on (default: the --sizes); every variant also runs "
        "every --limited-sizes",
    )
    parser.add_argument("--sequential", action="store_true", help="run rate-limited cases one after the other")
    parser.add_argument("--name", help="result file name (default: UTC timestamp)")
    parser.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="embed the table in bench/README.md (default: with --full)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "airbyte_cdk": version("airbyte-cdk"),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.connector and (args.baseline or args.variant):
        raise SystemExit("--connector measures one copy alone: give it as --variant LABEL=DIR to compare it")
    unthrottled = (
        args.sizes if args.sizes is not None else list(sizes.FULL_UNTHROTTLED if args.full else sizes.QUICK_UNTHROTTLED)
    )
    limited = (
        args.limited_sizes
        if args.limited_sizes is not None
        else list(sizes.FULL_LIMITED if args.full else sizes.QUICK_LIMITED)
    )
    time_scale = args.time_scale if args.time_scale is not None else (1.0 if args.full else 0.25)
    profile_size = args.profile if args.profile is not None else ("large" if args.full else None)
    name = args.name or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = args.out / "tmp" / name
    started = time.perf_counter()
    host = machine()  # before the runs: its load average is the one at the start
    catalog: dict[str, Any] = {}

    def log(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f}s {message}", flush=True)

    with Sandbox("tiny", rate_limits=False) as sandbox:  # one catalog for every case: discover once
        catalog["catalog"] = discover_catalog(work / "discover", sandbox.config())
    variants = compare.parse_variants(args.variant, args.baseline, work) if args.baseline or args.variant else {}
    # With variants, each runs every rate-limited size on its own sandbox (the same seed and anchor: the same data;
    # its own limits), each through a written copy of its connector (the checkout's too, so they run alike).
    limited_cases = [
        Case(
            size,
            LIMITED,
            time_scale=time_scale,
            mutations=args.mutations,
            workers=args.workers,
            connector=(folder or REPO) if variants else args.connector,
            variant=label,
        )
        for size in sorted(limited, key=sizes.sort_key)
        for label, folder in (variants.items() if variants else [("", None)])
    ]
    # Under the real limits the rate-limited cases mostly wait (a large one needs ~6% of a core): unless
    # --sequential, they start first and run side by side in the background while the unthrottled cases run one
    # after the other, then the profiled sync (CPU-heavy). Time-scaled ones are nearer the CPU limit: they run last.
    overlap = not args.sequential and time_scale >= 1.0
    pool = ThreadPoolExecutor(max(1, len(limited_cases)))
    background: list[Future[dict[str, Any]]] = []
    if overlap:
        background = [pool.submit(run_case, c, work / c.label, catalog, log) for c in limited_cases]
    cases: list[dict[str, Any]] = []
    comparison: list[dict[str, Any]] = []
    if variants:
        compared = sorted(args.compare_sizes if args.compare_sizes is not None else unthrottled, key=sizes.sort_key)
        comparison = compare.run_comparison(
            variants, compared, args.repeat, work, catalog, args.mutations, args.workers, log
        )
        # The checkout's runs stand for it in the per-size table: the one with the median full-sync CPU.
        for size in compared:
            mine = sorted(
                (r for r in comparison if r["size"] == size and r["variant"] == compare.CHECKOUT),
                key=lambda r: r["full"]["cpu_s"],
            )
            cases.append(mine[len(mine) // 2])
        unthrottled = [size for size in unthrottled if size not in compared]
    for size in sorted(unthrottled, key=sizes.sort_key):
        case = Case(size, UNTHROTTLED, mutations=args.mutations, workers=args.workers, connector=args.connector)
        cases.append(run_case(case, work / case.label, catalog, log))
    if not overlap:
        cases += [run_case(c, work / c.label, catalog, log) for c in limited_cases]
    profiles = []
    if profile_size:
        profiles.append(run_profile(profile_size, work / f"{profile_size}-profile", catalog, args.connector, log))
    memory = []
    if args.memory:
        memory.append(run_memory(args.memory, work / f"{args.memory}-memory", catalog, args.connector, log))
    cases += [future.result() for future in background]
    pool.shutdown()
    cases.sort(key=lambda c: (c["mode"] != UNTHROTTLED, sizes.sort_key(c["size"])))
    # Requests per route and final state: every comparison run, and every case run once (the checkout's median
    # comparison run is among the comparison runs already).
    measured = comparison + [c for c in cases if "rep" not in c]
    measured.sort(key=lambda c: (c["mode"] != UNTHROTTLED, sizes.sort_key(c["size"])))
    result = {
        "name": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": host,
        "time_scale_limited": time_scale,
        "limited_in_background": overlap and bool(limited_cases),
        "cases": cases,
        "profiles": profiles,
        "memory": memory,
        "comparison": compare.summarise(comparison) if comparison else [],
        "comparison_runs": [
            {k: r[k] for k in ("variant", "rep", "size", "connector")}
            | {
                kind: {k: r[kind][k] for k in ("cpu_s", "max_rss_mb", "wall_s", "total_records", "digests")}
                | {"requests": compare.served_requests(r[kind]["requests"]["endpoints"])}
                | {"state_bytes": r[kind]["state_bytes"]}
                for kind in compare.KINDS
            }
            for r in comparison
        ],
        "requests_and_state": compare.requests_and_state(measured),
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    publish = args.publish if args.publish is not None else args.full
    report.write_all(result, args.out, name, readme=Path(__file__).resolve().parent / "README.md" if publish else None)
    log(f"wrote {args.out / (name + '.json')}, {name}.png and latest.md")
    print((args.out / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
