"""End to end: `make sync`'s code path, a config file -> source-harvest -> PyAirbyte -> DuckDB, twice (the second sync
incremental, from the state PyAirbyte kept in the DuckDB file), in the demo venv (see test_demo.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyairbyte_venv import START_DATE, query_duckdb, run_demo_command

from harvest_sandbox import SandboxServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def running_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=42, dataset="tiny", rate_limits=False) as server:
        yield server


def test_given_a_config_when_make_sync_runs_twice_then_the_second_sync_is_incremental_and_sees_the_changes(
    demo_venv: Path, running_sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {
        "credentials": {"auth_type": "Token", "api_token": running_sandbox.tokens["administrator"]},
        "account_id": running_sandbox.account_id,
        "replication_start_date": START_DATE,
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
    user = next(u for u in running_sandbox.store.iter_records("users") if u["updated_at"] >= START_DATE)
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
