"""Land Harvest data in DuckDB through PyAirbyte: ``make demo`` (against the sandbox) and ``make sync`` (any host).

Run with the PyAirbyte venv from the repository root::

    .venv-demo/bin/python -m demo.harvest_demo                        # the demo: sandbox, full + incremental sync
    .venv-demo/bin/python -m demo.harvest_demo --config config.json   # a sync of your own account, incremental

The demo starts the sandbox (``.venv/bin/python -m harvest_sandbox --port 0``), runs a full sync of every stream
into ``demo-data/harvest-demo.duckdb``, changes records through the sandbox's control plane, runs an incremental
sync from the state PyAirbyte saved in the DuckDB file, and prints what landed. Each demo run starts from a fresh
DuckDB file, because each run starts a fresh sandbox whose data the previous file's state does not describe.
``--config`` mode never deletes anything: its DuckDB file keeps the state, so every run after the first is incremental.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .connector_config import (
    ConfigError,
    default_duckdb_path,
    load_connector_config,
    redacted,
    sandbox_connector_config,
)
from .pyairbyte_runner import (
    SyncError,
    SyncRun,
    check_connection,
    get_harvest_source,
    has_saved_state,
    marked_deleted_counts,
    open_duckdb_cache,
    prepare_environment,
    run_sync,
    table_row_counts,
)
from .report import (
    BILLABLE_HOURS_SQL,
    billable_hours_per_client_month,
    requests_table,
    streams_table,
    sync_table,
)
from .sandbox import RequestCounts, SandboxControl, SandboxError, SandboxInfo, SandboxProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "demo-data"
DEFAULT_CONNECTOR = REPO_ROOT / ".venv" / "bin" / "source-harvest"
DEFAULT_SANDBOX_COMMAND = f"{REPO_ROOT / '.venv' / 'bin' / 'python'} -m harvest_sandbox"
DEMO_DUCKDB_NAME = "harvest-demo.duckdb"
# Time and expenses in the sandbox's datasets start about eight years before today (harvest_sandbox/datagen.py).
DEMO_START_DATE = "2019-01-01T00:00:00Z"
DEFAULT_MUTATIONS = 25
# Deleted between the two syncs, besides the random changes: what people delete in Harvest (the newest time entries,
# logged by mistake, an expense, a contact that left). The next sync finds every deletion: in the whole history of
# time entries and expenses (counted per month each sync), in the whole of other lists, among the children of the
# parents it re-reads, and in the report windows (a row whose entries are all gone).
DEMO_DELETIONS = (("time_entries", 2), ("expenses", 1), ("contacts", 1))


class DemoError(RuntimeError):
    """A failure the user can act on; printed without a traceback."""


@dataclass
class Timings:
    started: float = field(default_factory=time.monotonic)
    steps: dict[str, float] = field(default_factory=dict)

    def total(self) -> float:
        return time.monotonic() - self.started


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo.harvest_demo",
        description="Sync Harvest into a local DuckDB file through PyAirbyte (the sandbox demo, or --config).",
    )
    parser.add_argument("--config", type=Path, help="connector config JSON: sync that account instead of the demo")
    parser.add_argument(
        "--duckdb",
        type=Path,
        help="DuckDB file (default: demo-data/harvest-demo.duckdb, or "
        "demo-data/harvest-<account_id>.duckdb with --config)",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where DuckDB files and logs go")
    parser.add_argument("--dataset", default="small", help="sandbox dataset: tiny, small or large (demo only)")
    parser.add_argument("--seed", type=int, default=42, help="sandbox seed (demo only)")
    parser.add_argument(
        "--mutations",
        type=int,
        default=DEFAULT_MUTATIONS,
        help="records the sandbox changes between the two syncs (demo only)",
    )
    parser.add_argument("--start-date", default=DEMO_START_DATE, help="replication_start_date for the demo")
    parser.add_argument("--streams", help="comma-separated streams to sync (default: all)")
    parser.add_argument("--connector", type=Path, default=DEFAULT_CONNECTOR, help="the source-harvest executable")
    parser.add_argument(
        "--sandbox-command",
        default=DEFAULT_SANDBOX_COMMAND,
        help="command that starts the sandbox; --port 0 --seed --dataset are appended",
    )
    parser.add_argument("--summary-json", type=Path, help="also write the results as JSON (used by the tests)")
    return parser.parse_args(argv)


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def install_termination_handlers() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so every ``finally`` (stopping the sandbox) runs."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_keyboard_interrupt)


def require_connector(executable: Path) -> Path:
    if not executable.exists():
        raise DemoError(f"{executable} does not exist: run `make venv` first (it installs the source-harvest command)")
    return executable


def selected_streams(source: Any, requested: str | None) -> list[str]:
    available: list[str] = list(source.get_available_streams())
    if not requested:
        return available
    wanted = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise DemoError(f"unknown streams: {', '.join(unknown)} (available: {', '.join(available)})")
    source.select_streams(wanted)
    return wanted


def remove_duckdb_file(path: Path) -> bool:
    """Delete a DuckDB file and its write-ahead log; True if there was one."""
    existed = path.exists()
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)
    return existed


def describe_changes(changes: Sequence[dict[str, Any]]) -> str:
    by_op = Counter(str(change.get("op")) for change in changes)
    by_resource = Counter(str(change.get("resource")) for change in changes)
    ops = ", ".join(f"{count} {op}s" for op, count in sorted(by_op.items()))
    resources = ", ".join(f"{name} {count}" for name, count in by_resource.most_common())
    return f"{ops} ({resources})"


def print_section(title: str) -> None:
    print(f"\n{title}\n{'=' * len(title)}")


def print_question(cache: Any) -> list[dict[str, Any]]:
    answer = billable_hours_per_client_month(cache)
    months = answer.months
    span = f"{months[0]} .. {months[-1]}" if months else "no data"
    print_section(f"Billable hours per client and month, the 6 whole months before the newest time entry ({span})")
    print(answer.as_table())
    return answer.rows


def print_how_to_query(db_path: Path) -> None:
    print(f"\nDuckDB file: {db_path}")
    print("Query it yourself, for example:")
    print(
        f"  .venv-demo/bin/python -c \"import duckdb; con = duckdb.connect('{db_path}', read_only=True); "
        "con.sql('SELECT count(*) FROM time_entries WHERE _ab_cdc_deleted_at IS NULL').show()\""
    )
    print(f'  duckdb -readonly {db_path} "SHOW TABLES"      # the DuckDB CLI: pip install duckdb-cli')


def write_summary(path: Path | None, summary: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")


@dataclass
class DemoSyncs:
    """What the two demo syncs did, as the report and the summary JSON need it."""

    streams: list[str]
    full: SyncRun
    rows_after_full: dict[str, int]
    deleted: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    incremental: SyncRun
    rows_after_incremental: dict[str, int]
    requests_full: RequestCounts
    requests_incremental: RequestCounts
    throttled: int
    marked_deleted: dict[str, int]


def start_sandbox(sandbox: SandboxProcess) -> SandboxInfo:
    print(f"Starting the Harvest sandbox: {shlex.join(sandbox.command)}")
    info = sandbox.start()
    print(f"  listening on {info.url} (account {info.account_id}, pid {sandbox.pid}); log: {sandbox.log_path}")
    return info


def connect_source(connector: Path, config: dict[str, Any], requested_streams: str | None) -> tuple[Any, list[str]]:
    """The PyAirbyte source, checked, with its selected streams."""
    source = get_harvest_source(connector, config)
    check_connection(source)
    streams = selected_streams(source, requested_streams)
    print(f"Connector {connector}: check OK, {len(streams)} streams")
    return source, streams


# Harvest counts requests per token over a moving 15 s window, across processes. Each sync is a new connector
# process with a budget of its own, so a sync started right after another one could add its first burst to the
# previous sync's last requests and get a 429. Scheduled syncs are minutes apart; the demo waits out the window.
HARVEST_WINDOW_SECONDS = 16


def wait_for_harvest_window(since: float) -> None:
    remaining = HARVEST_WINDOW_SECONDS - (time.monotonic() - since)
    if remaining > 0:
        print(f"Waiting {remaining:.0f} s for Harvest's 15-second rate-limit window to clear before the next sync.")
        time.sleep(remaining)


# Harvest allows 100 report requests per 15 minutes (per token, across processes too), and every sync re-reads every
# yearly report window: 9 report streams x the windows since the start date, plus project_budget (73 requests from
# 2019 on). Two syncs that need more than that between them within 15 minutes make the second one wait for the
# budget, as a real sync scheduled that soon would. Scheduled syncs are further apart; rather than wait up to 15
# minutes, the demo shortens the sandbox's rate-limit windows for its second sync (and says so). The connector still
# keeps to Harvest's limits within that sync (its own budget); what the first sync used is forgotten.
HARVEST_REPORT_LIMIT = 100
SHORT_WINDOWS = 0.01  # the sandbox's time_scale: 15 min -> 9 s, 15 s -> 0.15 s


def report_requests(counts: RequestCounts) -> int:
    return sum(n for endpoint, n in counts.per_endpoint.items() if "/v2/reports/" in endpoint)


def make_room_for_reports(control: SandboxControl, used: int) -> bool:
    """Shorten the sandbox's rate-limit windows when the next sync's report requests (as many as the last sync's:
    every window again) would not fit in Harvest's 15-minute budget next to those ``used``; True if it did."""
    if 2 * used <= HARVEST_REPORT_LIMIT:
        return False
    print(
        f"Harvest allows {HARVEST_REPORT_LIMIT} report requests per 15 minutes, and every sync re-reads every yearly "
        f"report window:\nthe full sync made {used} and the incremental sync needs as many. A sync scheduled 15 "
        "minutes or more after the\nprevious one finds that budget free; instead of waiting that long, the demo "
        f"shortens the sandbox's rate-limit\nwindows to 1/{round(1 / SHORT_WINDOWS)} for the incremental sync "
        "(POST /_sandbox/config). The connector still keeps to Harvest's limits\nwithin the sync."
    )
    control.configure(time_scale=SHORT_WINDOWS)
    return True


def full_then_incremental_sync(
    source: Any, cache: Any, streams: list[str], control: SandboxControl, mutations: int
) -> DemoSyncs:
    """Full sync, change records in the sandbox, incremental sync from the state saved in the cache."""
    full = run_sync(source, cache, label="full sync", streams=streams)
    rows_after_full = table_row_counts(cache, streams)
    requests_full = control.request_counts()

    full_ended = time.monotonic()
    deleted = delete_recent_records(control)
    changes = deleted + control.mutate(mutations)
    print(
        f"\nChanged records in the sandbox: deleted {describe_changes(deleted)} (POST /_sandbox/records), then "
        f"{describe_changes(changes[len(deleted) :])} (POST /_sandbox/mutate)"
    )

    wait_for_harvest_window(since=full_ended)
    shortened = make_room_for_reports(control, report_requests(requests_full))
    incremental = run_sync(source, cache, label="incremental sync (state from the DuckDB file)", streams=streams)
    requests_all = control.request_counts()
    if shortened:
        control.configure(time_scale=1.0)
    return DemoSyncs(
        streams=streams,
        full=full,
        rows_after_full=rows_after_full,
        deleted=deleted,
        changes=changes,
        incremental=incremental,
        rows_after_incremental=table_row_counts(cache, streams),
        requests_full=requests_full,
        requests_incremental=requests_all - requests_full,
        throttled=requests_all.throttled,
        marked_deleted=marked_deleted_counts(cache, streams),
    )


def delete_recent_records(control: SandboxControl) -> list[dict[str, Any]]:
    """Delete the newest records of DEMO_DELETIONS (lists are newest first); the changes, as mutate reports them."""
    return [
        control.delete(resource, record["id"])
        for resource, count in DEMO_DELETIONS
        for record in control.records(resource)[:count]
    ]


def print_demo_report(syncs: DemoSyncs) -> None:
    print_section("Records per stream")
    print(
        streams_table(
            syncs.streams,
            syncs.rows_after_full,
            syncs.incremental,
            syncs.rows_after_incremental,
            syncs.marked_deleted,
        )
    )
    deletions = sum(1 for change in syncs.changes if change.get("op") == "delete")
    print(
        f"\nDeleted in Harvest since the full sync: {deletions}; marked deleted by the incremental sync's tombstones: "
        f"{sum(syncs.marked_deleted.values())}\n(report rows left without entries included). A tombstone sets the "
        "row's _ab_cdc_deleted_at (PyAirbyte keeps the row;\nan Airbyte destination in append + dedup mode deletes "
        "it): query with WHERE _ab_cdc_deleted_at IS NULL, as the answer\nbelow does. Time entries and expenses are "
        "checked over their whole history, so an old entry deleted or a week\napproved (even when Harvest leaves its "
        "updated_at as it was) reaches DuckDB too; so do deleted payments, messages\nand project assignments, and "
        "report rows whose entries are all gone."
    )
    print_section("API requests served by the sandbox")
    print(
        "Harvest allows 100 requests per 15 s (reports: 100 per 15 min); the connector stays under both. "
        "Child streams\n(messages, payments, per-user rates) cost one request per parent: that is where "
        "a sync's time goes.\n"
    )
    print(
        f"full sync (and check): {syncs.requests_full.total:,}, incremental sync: "
        f"{syncs.requests_incremental.total:,}, throttled (429): {syncs.throttled:,}\n"
    )
    print(requests_table(syncs.requests_full.per_endpoint, syncs.requests_incremental.per_endpoint))


def demo_summary(syncs: DemoSyncs) -> dict[str, Any]:
    """The results as JSON-ready data (``--summary-json``)."""
    return {
        "streams": {
            stream: {
                "full_records_read": syncs.full.records_read[stream],
                "rows_after_full": syncs.rows_after_full[stream],
                "incremental_records_read": syncs.incremental.records_read[stream],
                "rows_after_incremental": syncs.rows_after_incremental[stream],
                "rows_marked_deleted": syncs.marked_deleted[stream],
            }
            for stream in syncs.streams
        },
        "deleted": syncs.deleted,
        "mutations": syncs.changes,
        "requests": {
            "full": {"total": syncs.requests_full.total, "per_endpoint": dict(syncs.requests_full.per_endpoint)},
            "incremental": {
                "total": syncs.requests_incremental.total,
                "per_endpoint": dict(syncs.requests_incremental.per_endpoint),
            },
            "throttled": syncs.throttled,
        },
    }


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Sandbox -> full sync -> mutate -> incremental sync -> report. The sandbox is stopped whatever happens."""
    timings = Timings()
    data_dir: Path = args.data_dir.resolve()
    prepare_environment(data_dir / "logs")
    connector = require_connector(args.connector)
    db_path: Path = (args.duckdb or data_dir / DEMO_DUCKDB_NAME).resolve()
    command = [*shlex.split(args.sandbox_command), "--port", "0", "--seed", str(args.seed), "--dataset", args.dataset]

    print(f"Harvest -> DuckDB through PyAirbyte: the sandbox demo (dataset {args.dataset}, seed {args.seed})")
    with SandboxProcess(command, data_dir / "logs" / "sandbox.log", cwd=REPO_ROOT) as sandbox:
        info = start_sandbox(sandbox)
        if remove_duckdb_file(db_path):
            print(f"Removed the previous demo DuckDB file {db_path}: every demo run starts from a fresh sandbox.")
        config = sandbox_connector_config(info, start_date=args.start_date)
        source, streams = connect_source(connector, config, args.streams)
        control = SandboxControl(info.url)
        anchor = control.anchor()
        print(
            f"DuckDB file: {db_path}\nreplication_start_date {args.start_date}; the sandbox's history runs from about "
            f"eight years back to {anchor} (when it started):\n  records last changed before the start date are not "
            "synced, as in any Airbyte sync."
        )
        with open_duckdb_cache(db_path) as cache:
            syncs = full_then_incremental_sync(source, cache, streams, control, args.mutations)
            print_demo_report(syncs)
            answer_rows = print_question(cache)
        sandbox_pid = sandbox.pid

    timings.steps = {"full_sync": syncs.full.seconds, "incremental_sync": syncs.incremental.seconds}
    print(
        f"\nElapsed: full sync {syncs.full.seconds:.1f} s, incremental sync {syncs.incremental.seconds:.1f} s, "
        f"whole demo {timings.total():.1f} s (sandbox stopped)"
    )
    print_how_to_query(db_path)
    return {
        "mode": "demo",
        "dataset": args.dataset,
        "seed": args.seed,
        "duckdb_path": str(db_path),
        "sandbox_pid": sandbox_pid,
        "sandbox_anchor": anchor,
        **demo_summary(syncs),
        "billable_hours": answer_rows,
        "billable_hours_sql": BILLABLE_HOURS_SQL,
        "seconds": {**timings.steps, "total": timings.total()},
    }


def run_config_sync(args: argparse.Namespace) -> dict[str, Any]:
    """``make sync``: one sync of the configured account into its DuckDB file, incremental after the first."""
    timings = Timings()
    data_dir: Path = args.data_dir.resolve()
    prepare_environment(data_dir / "logs")
    connector = require_connector(args.connector)
    config = load_connector_config(args.config)
    db_path: Path = (args.duckdb or default_duckdb_path(config, data_dir)).resolve()

    print(
        f"Harvest -> DuckDB through PyAirbyte: account {config['account_id']} at "
        f"{config.get('api_url', 'https://api.harvestapp.com')}"
    )
    print(f"Config {args.config}: {json.dumps(redacted(config))}")
    source, streams = connect_source(connector, config, args.streams)
    with open_duckdb_cache(db_path) as cache:
        incremental = has_saved_state(cache)
        rows_before = table_row_counts(cache, streams)
        kind = "incremental sync (state from the DuckDB file)" if incremental else "first sync (full)"
        print(f"DuckDB file: {db_path}")
        run = run_sync(source, cache, label=kind, streams=streams)
        rows_after = table_row_counts(cache, streams)
        print_section("Records per stream")
        print(sync_table(streams, run, rows_before, rows_after))
        answer_rows = print_question(cache)
    print(f"\nElapsed: {kind} {run.seconds:.1f} s, total {timings.total():.1f} s")
    print_how_to_query(db_path)
    return {
        "mode": "sync",
        "incremental": incremental,
        "duckdb_path": str(db_path),
        "streams": {
            stream: {
                "rows_before": rows_before[stream],
                "records_read": run.records_read[stream],
                "rows_after": rows_after[stream],
            }
            for stream in streams
        },
        "billable_hours": answer_rows,
        "seconds": {"sync": run.seconds, "total": timings.total()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_termination_handlers()
    try:
        summary = run_config_sync(args) if args.config else run_demo(args)
    except KeyboardInterrupt:
        print("\nInterrupted: the sandbox (if any) has been stopped.", file=sys.stderr)
        return 130
    except (DemoError, ConfigError, SandboxError, SyncError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    write_summary(args.summary_json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
