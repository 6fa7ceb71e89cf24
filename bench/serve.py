"""The benchmark's sandbox process: ``python -m bench.serve --dataset medium --port 0 [--no-rate-limits]``.

It is the Harvest sandbox (:class:`harvest_sandbox.SandboxServer`) with the benchmark's extra sizes registered
(:mod:`bench.sizes`), plus a command channel on stdin for ground truth that needs the store in memory. It prints the
``HARVEST_SANDBOX_*`` lines of docs/CONTRACT.md, then ``BENCH_READY``, then answers one JSON line on stdout for each
JSON command line on stdin; EOF or SIGTERM stops it.

``--anchor`` fixes where its generated history ends (:mod:`bench.sandbox` passes the run's start, so that every
case, variant and repeat of a run syncs the same records).

Commands: ``{"cmd": "stats"}`` (records per collection), ``{"cmd": "minimum_full", "config": {...}}``,
``{"cmd": "cursors", "config": {...}}`` (what a full sync leaves: :func:`bench.minimum.saved_state`),
``{"cmd": "minimum_incremental", "config": {...}, "cursors": {...}}``,
``{"cmd": "reset_limits"}`` (empty rate-limit windows, as if the previous sync were long ago).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from types import FrameType
from typing import Any

from harvest_sandbox import SandboxServer

from . import minimum, sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dataset", default="small")
    parser.add_argument("--no-rate-limits", dest="rate_limits", action="store_false", default=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--anchor", help="where the generated history ends (default: now), e.g. 2026-12-01T00:00:00Z")
    return parser.parse_args(argv)


def answer(server: SandboxServer, command: dict[str, Any]) -> Any:
    store = server.store
    name = command.get("cmd")
    config = minimum.SyncConfig.from_config(command.get("config") or server.config())
    today = minimum.today_utc()
    if name == "stats":
        return store.counts()
    if name == "minimum_full":
        return minimum.full_sync(store, config, today).as_dict()
    if name == "cursors":
        return minimum.saved_state(store, config, today)
    if name == "reset_limits":  # a later sync starts with empty windows (the sync before it was long ago)
        server.app.ratelimiter.reset()
        return True
    if name == "minimum_incremental":
        return minimum.incremental_sync(store, config, command["cursors"], today).as_dict()
    raise ValueError(f"unknown command {name!r}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes.register()
    started = time.perf_counter()
    server = SandboxServer(
        seed=args.seed,
        dataset=args.dataset,
        port=args.port,
        rate_limits=args.rate_limits,
        time_scale=args.time_scale,
        anchor=args.anchor,
    ).start()

    def stop(signum: int, frame: FrameType | None) -> None:
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    out = sys.stdout
    out.write(f"HARVEST_SANDBOX_URL={server.url}\n")
    out.write(f"HARVEST_SANDBOX_ACCOUNT_ID={server.account_id}\n")
    out.write(f"HARVEST_SANDBOX_TOKEN_ADMINISTRATOR={server.tokens['administrator']}\n")
    out.write(f"BENCH_LOAD_SECONDS={time.perf_counter() - started:.2f}\n")
    out.write("BENCH_READY\n")
    out.flush()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                reply: dict[str, Any] = {"ok": True, "result": answer(server, json.loads(line))}
            except Exception as error:  # a bad command must not kill the sandbox mid-benchmark
                reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            out.write(json.dumps(reply) + "\n")
            out.flush()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
