"""``python -m bench.profiling OUT.prof FOLDER|- read --config ...``: the connector under cProfile, every thread.

cProfile sees only the thread that enables it, and the CDK does its work (HTTP, parsing, record transformation)
on a thread pool while the main thread serialises and prints messages; so every thread started during the run
gets its own profiler, and the profiles are merged into one pstats file. The profilers count each thread's CPU
time (``time.thread_time``), not wall time: with a GIL and threads that mostly wait, wall time would charge the
wait for the GIL to whatever call released it (a ``stat``, a socket read) and bury the real CPU hot spots. FOLDER is a connector variant
(:mod:`bench.variant`) or ``-`` for the checkout. ``python -m bench.profiling --top OUT.prof`` prints a summary.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _install() -> None:
    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        with _lock:
            _profiles.append(profile)
        profile.enable()
        try:
            original(self)
        finally:
            profile.disable()

    threading.Thread.run = run  # type: ignore[method-assign]


def profile_connector(out: Path, folder: str, args: list[str]) -> None:
    import source_harvest.run as entry

    if folder != "-":
        resolved = Path(folder).resolve()
        entry.connector_dir = lambda: resolved
    sys.argv = [sys.argv[0], *args]
    _install()
    main = cProfile.Profile(time.thread_time)
    main.enable()
    try:
        entry.run()
    finally:
        main.disable()
        stats = pstats.Stats(main)
        with _lock:
            for profile in _profiles:
                with contextlib.suppress(TypeError):  # a profile with no data (a thread that ran no code)
                    stats.add(profile)
        stats.dump_stats(str(out))


def summary(path: Path, limit: int = 40) -> str:
    """The top functions by own time and by cumulative time (thread waits dominate cumulative: read both)."""
    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    stats.strip_dirs()
    text.write("== by own time (tottime) ==\n")
    stats.sort_stats("tottime").print_stats(limit)
    text.write("== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(limit)
    return text.getvalue()


def top_own(path: Path, limit: int = 25) -> list[dict[str, Any]]:
    """The ``limit`` functions with the most own time: file:line(function), calls, own seconds, cumulative."""
    stats = pstats.Stats(str(path))
    rows = []
    for (filename, line, func), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({func})",
                "calls": calls,
                "own_s": round(own, 3),
                "cumulative_s": round(cumulative, 3),
            }
        )
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:limit]


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    if sys.argv[1] == "--top":
        print(summary(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 40))
    else:
        profile_connector(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
