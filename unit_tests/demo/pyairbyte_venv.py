"""The demo's PyAirbyte venv (.venv-demo) for the demo tests: install it once per test run, run the demo in it, query
its DuckDB file. Imported by test_demo.py and test_sync.py (this folder is on sys.path: it is not a package, since a
`demo` package would shadow the repository's own `demo`)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_VENV = REPO_ROOT / ".venv-demo"
DEMO_PYTHON = DEMO_VENV / "bin" / "python"
CONNECTOR = Path(sys.executable).parent / "source-harvest"
START_DATE = "2019-01-01T00:00:00Z"  # the demo's default replication_start_date (demo/harvest_demo.py)

_INSTALL_TIMEOUT_SECONDS = 1800
_RUN_TIMEOUT_SECONDS = 600
_NETWORK_FAILURE_MARKERS = (  # pip's and uv's words for "PyPI cannot be reached"
    "Failed to fetch",
    "error sending request",
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    "ReadTimeoutError",
)


def install_demo_venv() -> None:
    """Create .venv-demo with demo/install.sh (the Makefile's `demo-venv` step); skip only when offline. Test files
    running on other pytest-xdist workers wait for the first install, then find the venv ready."""
    lock_path = REPO_ROOT / ".tmp" / "demo-venv.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
