"""End to end: `make demo`'s and `make sync`'s code path, sandbox -> source-harvest -> PyAirbyte -> DuckDB.

The demo runs in its own venv (.venv-demo, PyAirbyte 0.71.3), so these tests drive it as a subprocess, exactly as the
Makefile does, and read the DuckDB file through that venv's duckdb. The venv is created here when missing, with the
same script the Makefile uses (demo/install.sh): a few minutes and ~800 MB the first time. Only a failure to download
PyAirbyte (no network) skips these tests; any other install failure fails them.

Ground truth comes from the sandbox's own store, rebuilt in this process from the same seed and dataset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from source_harvest.streams import ALL_STREAMS, ENTITY_STREAMS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_VENV = REPO_ROOT / ".venv-demo"
DEMO_PYTHON = DEMO_VENV / "bin" / "python"
CONNECTOR = Path(sys.executable).parent / "source-harvest"

_DATASET = "tiny"
_SEED = 42
_START_DATE = "2019-01-01T00:00:00Z"  # the demo's default replication_start_date (demo/harvest_demo.py)
_DATASET_ANCHOR = "2026-11-01T12:00:00"  # harvest_sandbox.clock.DATASET_NOW: every seeded updated_at is <= this
_MUTATIONS = 12
_INSTALL_TIMEOUT_SECONDS = 1800
_RUN_TIMEOUT_SECONDS = 600

_NETWORK_FAILURE_MARKERS = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    "ReadTimeoutError",
)


# -- helpers -------------------------------------------------------------------------------------------------------
def install_demo_venv() -> None:
    """Create .venv-demo with demo/install.sh (the Makefile's `demo-venv` step); skip only when offline."""
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "demo" / "install.sh")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=_INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode == 0:
        return
    output = completed.stdout + completed.stderr
    if any(marker in output for marker in _NETWORK_FAILURE_MARKERS):
        pytest.skip(f"PyAirbyte (airbyte==0.71.3) cannot be installed into .venv-demo, no network?\n{output[-1500:]}")
    pytest.fail(f"demo/install.sh failed (exit {completed.returncode}):\n{output[-4000:]}", pytrace=False)


def run_demo_command(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m demo.harvest_demo ...` from .venv-demo, as `make demo`/`make sync` run it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRBYTE_")}
    completed = subprocess.run(
        [str(DEMO_PYTHON), "-m", "demo.harvest_demo", "--connector", str(CONNECTOR), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=_RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, f"demo exited {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    return completed


def query_duckdb(db_path: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` against the DuckDB file, read with .venv-demo's duckdb (read-only)."""
    script = (
        "import duckdb, json, sys\n"
        "cursor = duckdb.connect(sys.argv[1], read_only=True).execute(sys.argv[2])\n"
        "names = [column[0] for column in cursor.description]\n"
        "print(json.dumps([dict(zip(names, row)) for row in cursor.fetchall()], default=str))\n"
    )
    completed = subprocess.run(
        [str(DEMO_PYTHON), "-c", script, str(db_path), sql], capture_output=True, text=True, check=True, timeout=120
    )
    rows: list[dict[str, Any]] = json.loads(completed.stdout)
    return rows


def table_counts(db_path: Path) -> dict[str, int]:
    union = " UNION ALL ".join(f"SELECT '{s}' AS stream, count(*) AS n FROM main.\"{s}\"" for s in ALL_STREAMS)
    return {row["stream"]: int(row["n"]) for row in query_duckdb(db_path, union)}


def seeded_store() -> Any:
    """The sandbox's store for the demo's seed and dataset, before any mutation (no HTTP)."""
    return SandboxServer(seed=_SEED, dataset=_DATASET, rate_limits=False).store


def changed_records_that_still_exist(changes: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """(resource, id) of every created or updated record that no later change deleted."""
    alive: set[tuple[str, int]] = set()
    for change in changes:
        key = (str(change["resource"]), int(change["id"]))
        if change["op"] == "delete":
            alive.discard(key)
        else:
            alive.add(key)
    return alive


@dataclass(frozen=True)
class DemoRun:
    summary: dict[str, Any]
    stdout: str
    db_path: Path


# -- fixtures ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_venv() -> Path:
    install_demo_venv()
    return DEMO_PYTHON


@pytest.fixture(scope="module")
def demo_run(demo_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    work = tmp_path_factory.mktemp("demo")
    summary_path = work / "summary.json"
    completed = run_demo_command(
        "--dataset", _DATASET, "--seed", str(_SEED), "--mutations", str(_MUTATIONS),
        "--data-dir", str(work), "--summary-json", str(summary_path),
    )  # fmt: skip
    summary = json.loads(summary_path.read_text())
    return DemoRun(summary=summary, stdout=completed.stdout, db_path=Path(summary["duckdb_path"]))


@pytest.fixture
def running_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(seed=_SEED, dataset=_DATASET, rate_limits=False).start()
    try:
        yield server
    finally:
        server.stop()


# -- make demo -----------------------------------------------------------------------------------------------------
def test_given_the_tiny_sandbox_when_the_demo_runs_then_every_stream_table_holds_what_the_connector_emitted(
    demo_run: DemoRun,
) -> None:
    streams = demo_run.summary["streams"]
    assert sorted(streams) == sorted(ALL_STREAMS)
    for name, counts in streams.items():
        assert counts["rows_after_full"] == counts["full_records_read"], name
    assert table_counts(demo_run.db_path) == {name: c["rows_after_incremental"] for name, c in streams.items()}
    assert sum(c["full_records_read"] for c in streams.values()) > 0


def test_given_the_tiny_sandbox_when_the_demo_runs_then_the_full_sync_has_every_entity_updated_since_the_start(
    demo_run: DemoRun,
) -> None:
    store = seeded_store()
    start = _START_DATE.removesuffix("Z")
    expected = {
        name: sum(1 for record in store.iter_records(name) if str(record["updated_at"]).removesuffix("Z") >= start)
        for name in ENTITY_STREAMS
    }
    actual = {name: demo_run.summary["streams"][name]["rows_after_full"] for name in ENTITY_STREAMS}
    assert actual == expected


def test_given_records_changed_in_the_sandbox_when_the_incremental_sync_runs_then_duckdb_has_every_change(
    demo_run: DemoRun,
) -> None:
    changes = demo_run.summary["mutations"]
    assert len(changes) == _MUTATIONS
    expected = sorted(changed_records_that_still_exist(changes))
    assert expected
    union = " UNION ALL ".join(
        f"SELECT '{resource}' AS resource, id, CAST(updated_at AS VARCHAR) AS updated_at "
        f'FROM main."{resource}" WHERE id = {record_id}'
        for resource, record_id in expected
    )
    found = {(row["resource"], row["id"]): row["updated_at"] for row in query_duckdb(demo_run.db_path, union)}
    assert sorted(found) == expected, "records changed in the sandbox are missing from DuckDB"
    stale = {key: updated for key, updated in found.items() if updated <= _DATASET_ANCHOR.replace("T", " ")}
    assert not stale, f"DuckDB still holds the version from before the change: {stale}"


def test_given_a_full_sync_when_the_incremental_sync_runs_then_it_reads_less_and_is_never_throttled(
    demo_run: DemoRun,
) -> None:
    streams = demo_run.summary["streams"].values()
    requests = demo_run.summary["requests"]
    assert sum(c["incremental_records_read"] for c in streams) < sum(c["full_records_read"] for c in streams)
    assert 0 < requests["incremental"]["total"] < requests["full"]["total"]
    assert requests["throttled"] == 0


def test_given_the_synced_duckdb_file_when_the_demo_asks_its_sql_question_then_the_answer_adds_up(
    demo_run: DemoRun,
) -> None:
    answer = demo_run.summary["billable_hours"]
    assert answer, "no billable hours per client and month"
    months = sorted({row["month"] for row in answer})
    assert len(months) <= 6
    direct = query_duckdb(
        demo_run.db_path,
        "SELECT sum(CAST(hours AS DOUBLE)) AS hours FROM main.time_entries WHERE billable AND "
        f"strftime(spent_date, '%Y-%m') BETWEEN '{months[0]}' AND '{months[-1]}'",
    )
    assert sum(row["billable_hours"] for row in answer) == pytest.approx(direct[0]["hours"], abs=0.05)
    assert "Billable hours per client and month" in demo_run.stdout


def test_given_the_demo_finished_when_looking_for_its_sandbox_then_it_is_not_running(demo_run: DemoRun) -> None:
    pid = demo_run.summary["sandbox_pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- make sync -----------------------------------------------------------------------------------------------------
def test_given_a_config_when_make_sync_runs_twice_then_the_second_sync_is_incremental_and_sees_the_changes(
    demo_venv: Path, running_sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {
        "credentials": {"auth_type": "Token", "api_token": running_sandbox.tokens["administrator"]},
        "account_id": running_sandbox.account_id,
        "replication_start_date": _START_DATE,
        "api_url": running_sandbox.url,
        "oauth_token_url": running_sandbox.token_url,
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    summary_path = tmp_path / "summary.json"
    sync = ("--config", str(config_path), "--data-dir", str(tmp_path), "--streams", "users,time_entries",
            "--summary-json", str(summary_path))  # fmt: skip

    run_demo_command(*sync)
    first = json.loads(summary_path.read_text())
    user = next(u for u in running_sandbox.store.iter_records("users") if u["updated_at"] >= _START_DATE)
    running_sandbox.store.update("users", user["id"], {"first_name": "Renamed"})
    run_demo_command(*sync)
    second = json.loads(summary_path.read_text())

    assert Path(first["duckdb_path"]) == tmp_path / f"harvest-{running_sandbox.account_id}.duckdb"
    assert (first["incremental"], second["incremental"]) == (False, True)
    assert first["streams"]["time_entries"]["records_read"] > 0
    assert second["streams"]["time_entries"]["records_read"] < first["streams"]["time_entries"]["records_read"]
    assert second["streams"]["users"]["rows_after"] == first["streams"]["users"]["rows_after"]
    renamed = query_duckdb(Path(second["duckdb_path"]), f"SELECT first_name FROM main.users WHERE id = {user['id']}")
    assert renamed == [{"first_name": "Renamed"}]
