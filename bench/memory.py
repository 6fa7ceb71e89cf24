"""``python -m bench.memory OUT.json FOLDER|- read --config ...``: the connector under ``tracemalloc``, to find what
grows with the account.

A daemon thread takes a snapshot every ``INTERVAL_S`` seconds and keeps the one with the most traced memory; at the
end it writes, as JSON, the traced memory over time and the allocation sites of that peak snapshot, grouped by
their innermost frames (file:line). ``tracemalloc`` slows the sync down about 3x and counts Python allocations
only (not the interpreter's own or C libraries' such as sqlite's): the sites show what holds memory, the peak RSS of
an unprofiled run (:mod:`bench.runner`) what it costs. ``python -m bench.memory --top OUT.json`` prints a summary.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

INTERVAL_S = 3.0
FRAMES = 4
TOP = 40
TYPES_EVERY = 5  # samples: live objects per type every INTERVAL_S * TYPES_EVERY seconds


def _types(limit: int = 25) -> list[dict[str, Any]]:
    """Live objects per type (gc-tracked containers and instances): what is still held at the end of the sync."""
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        counts[name] = counts.get(name, 0) + 1
    return [{"type": k, "count": v} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]]


def _sites(snapshot: tracemalloc.Snapshot, limit: int = TOP) -> list[dict[str, Any]]:
    stats = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).statistics("traceback")
    rows = []
    for stat in stats[:limit]:
        frames = [f"{_short(frame.filename)}:{frame.lineno}" for frame in stat.traceback]
        rows.append({"mb": round(stat.size / 1e6, 2), "blocks": stat.count, "frames": frames})
    return rows


def _short(filename: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return Path(filename).name


def trace_connector(out: Path, folder: str, args: list[str]) -> None:
    import source_harvest.run as entry

    if folder != "-":
        resolved = Path(folder).resolve()
        entry.connector_dir = lambda: resolved
    sys.argv = [sys.argv[0], *args]
    tracemalloc.start(FRAMES)
    started = time.perf_counter()
    timeline: list[list[float]] = []
    peak: dict[str, Any] = {"traced": 0, "snapshot": None, "at": 0.0}
    done = threading.Event()

    types: list[dict[str, Any]] = []

    def sample() -> None:
        count = 0
        while not done.wait(INTERVAL_S):
            traced, _ = tracemalloc.get_traced_memory()
            at = round(time.perf_counter() - started, 1)
            timeline.append([at, round(traced / 1e6, 1)])
            count += 1
            if count % TYPES_EVERY == 0:
                types.append({"at_s": at, "top": _types(15)})
            if traced > peak["traced"]:
                peak.update(traced=traced, snapshot=tracemalloc.take_snapshot(), at=at)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        entry.run()
    finally:
        done.set()
        sampler.join()
        _, traced_peak = tracemalloc.get_traced_memory()
        snapshot = peak["snapshot"]
        result = {
            "traced_peak_mb": round(traced_peak / 1e6, 1),
            "peak_snapshot_at_s": peak["at"],
            "peak_snapshot_mb": round(peak["traced"] / 1e6, 1),
            "timeline_mb": timeline,
            "sites": _sites(snapshot) if snapshot is not None else [],
            "types_over_time": types,
        }
        out.write_text(json.dumps(result, indent=1) + "\n")


def summary(path: Path, limit: int = 25) -> str:
    data = json.loads(path.read_text())
    lines = [
        f"traced peak {data['traced_peak_mb']} MB; peak snapshot {data['peak_snapshot_mb']} MB "
        f"at {data['peak_snapshot_at_s']} s",
    ]
    for row in data["sites"][:limit]:
        lines.append(f"{row['mb']:8.2f} MB {row['blocks']:9,d} blocks  " + " <- ".join(reversed(row["frames"][-3:])))
    for sample in data.get("types_over_time", [])[-3:]:
        lines.append(f"live objects at {sample['at_s']} s:")
        lines += [f"{row['count']:11,d} {row['type']}" for row in sample["top"]]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--top":
        print(summary(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 25))
    else:
        trace_connector(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
