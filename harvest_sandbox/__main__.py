"""``python -m harvest_sandbox``: run the emulator in the foreground.

Prints the docs/CONTRACT.md lines (``HARVEST_SANDBOX_URL=...`` etc.), then serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .loader import dump_json
from .server import SandboxServer
from .state import load_dataset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harvest_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dataset", default="small", help="tiny | small | large | path/to/dataset.json")
    parser.add_argument(
        "--anchor", help="where the generated history ends, e.g. 2026-11-01T12:00:00Z (default: now); fixes the bytes"
    )
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument("--rate-limits", dest="rate_limits", action="store_true", default=True)
    limits.add_argument("--no-rate-limits", dest="rate_limits", action="store_false")
    parser.add_argument("--time-scale", type=float, default=1.0, help="scale rate-limit windows (0.01: 15 s -> 0.15 s)")
    parser.add_argument("--updated-since", choices=("strict", "inclusive"), default="strict")
    parser.add_argument(
        "--approval-moves-updated-at",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="approving, submitting or reopening a week stamps its records with a fresh updated_at (undocumented)",
    )
    parser.add_argument("--token-lifetime", type=float, default=1209600.0, help="OAuth access token lifetime (s)")
    parser.add_argument("--rotate-refresh-tokens", action="store_true")
    parser.add_argument("--dump", type=Path, help="write the dataset as JSON to this file and exit")
    parser.add_argument("--warm", action="store_true", help="pre-encode every record before serving (for benchmarks)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dump:
        dump_json(load_dataset(args.seed, args.dataset, args.anchor), args.dump)
        return 0
    server = SandboxServer(
        seed=args.seed,
        dataset=args.dataset,
        anchor=args.anchor,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
        rate_limits=args.rate_limits,
        time_scale=args.time_scale,
        updated_since=args.updated_since,
        approval_moves_updated_at=args.approval_moves_updated_at,
        token_lifetime=args.token_lifetime,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
    )
    if args.warm:
        server.store.warm()
    try:
        server.start()
    except OSError as error:
        print(f"harvest_sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    lines = [
        f"HARVEST_SANDBOX_URL={server.url}",
        f"HARVEST_SANDBOX_ACCOUNT_ID={server.account_id}",
        f"HARVEST_SANDBOX_TOKEN_ADMINISTRATOR={server.tokens['administrator']}",
        f"HARVEST_SANDBOX_TOKEN_MANAGER={server.tokens['manager']}",
        f"HARVEST_SANDBOX_TOKEN_MEMBER={server.tokens['member']}",
        f"HARVEST_SANDBOX_OAUTH_CLIENT_ID={server.oauth['client_id']}",
        f"HARVEST_SANDBOX_OAUTH_CLIENT_SECRET={server.oauth['client_secret']}",
        f"HARVEST_SANDBOX_OAUTH_REFRESH_TOKEN={server.oauth['refresh_token']}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
