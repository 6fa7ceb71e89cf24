"""End to end: `make demo`'s code path, sandbox -> source-harvest -> PyAirbyte -> DuckDB (`make sync`: test_sync.py).

The demo runs in its own venv (.venv-demo, PyAirbyte 0.71.3), so these tests drive it as a subprocess, exactly as the
Makefile does, and read the DuckDB file through that venv's duckdb. The venv is created when missing, with the same
script the Makefile uses (demo/install.sh, with uv): under a minute and ~800 MB the first time. Under `pytest -n`
(make test) the demo files run first, each on its own worker, while the others run the rest of the suite. Only a
failure to download PyAirbyte (no network) skips these tests; any other install failure fails them.

Ground truth comes from the sandbox's own store, rebuilt in this process from the same seed, dataset and anchor (the
moment the demo's sandbox started, which its summary reports).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyairbyte_venv import START_DATE, query_duckdb, run_demo_command

from harvest_sandbox import SandboxServer
from source_harvest.streams import ALL_STREAMS, ENTITY_STREAMS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_DATASET = "tiny"
_SEED = 42
_MUTATIONS = 12


def table_counts(db_path: Path) -> dict[str, int]:
    union = " UNION ALL ".join(f"SELECT '{s}' AS stream, count(*) AS n FROM main.\"{s}\"" for s in ALL_STREAMS)
    return {row["stream"]: int(row["n"]) for row in query_duckdb(db_path, union)}


def seeded_store(anchor: str) -> Any:
    """The sandbox's store for the demo's seed, dataset and anchor, before any mutation (no HTTP)."""
    return SandboxServer(seed=_SEED, dataset=_DATASET, anchor=anchor, rate_limits=False).store


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
def demo_run(demo_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    work = tmp_path_factory.mktemp("demo")
    summary_path = work / "summary.json"
    completed = run_demo_command(
        "--dataset", _DATASET, "--seed", str(_SEED), "--mutations", str(_MUTATIONS),
        "--data-dir", str(work), "--summary-json", str(summary_path),
    )  # fmt: skip
    summary = json.loads(summary_path.read_text())
    return DemoRun(summary=summary, stdout=completed.stdout, db_path=Path(summary["duckdb_path"]))


# -- make demo -----------------------------------------------------------------------------------------------------
def test_given_the_tiny_sandbox_when_the_demo_runs_then_every_stream_table_holds_what_the_connector_emitted(
    demo_run: DemoRun,
) -> None:
    streams = demo_run.summary["streams"]
    assert sorted(streams) == sorted(ALL_STREAMS)
    for name, counts in streams.items():
        assert counts["rows_after_full"] == counts["full_records_read"], name
    assert table_counts(demo_run.db_path) == {name: c["rows_after_incremental"] for name, c in streams.items()}
    assert [name for name, c in streams.items() if c["full_records_read"] == 0] == [], "empty tables"


def test_given_the_tiny_sandbox_when_the_demo_runs_then_the_full_sync_has_every_entity_updated_since_the_start(
    demo_run: DemoRun,
) -> None:
    store = seeded_store(demo_run.summary["sandbox_anchor"])
    start = START_DATE.removesuffix("Z")
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
    assert len(changes) == len(demo_run.summary["deleted"]) + _MUTATIONS
    expected = sorted(changed_records_that_still_exist(changes))
    assert expected
    union = " UNION ALL ".join(
        f"SELECT '{resource}' AS resource, id, CAST(updated_at AS VARCHAR) AS updated_at "
        f'FROM main."{resource}" WHERE id = {record_id}'
        for resource, record_id in expected
    )
    found = {(row["resource"], row["id"]): row["updated_at"] for row in query_duckdb(demo_run.db_path, union)}
    assert sorted(found) == expected, "records changed in the sandbox are missing from DuckDB"
    anchor = demo_run.summary["sandbox_anchor"].removesuffix("Z").replace("T", " ")
    stale = {key: updated for key, updated in found.items() if updated <= anchor}
    assert not stale, f"DuckDB still holds the version from before the change: {stale}"


def test_given_records_deleted_in_the_sandbox_when_the_incremental_sync_runs_then_their_rows_are_marked_deleted(
    demo_run: DemoRun,
) -> None:
    deleted = {(str(c["resource"]), int(c["id"])) for c in demo_run.summary["mutations"] if c["op"] == "delete"}
    union = " UNION ALL ".join(
        f"SELECT '{s}' AS resource, id FROM main.\"{s}\" WHERE _ab_cdc_deleted_at IS NOT NULL" for s in ENTITY_STREAMS
    )
    marked = {(row["resource"], int(row["id"])) for row in query_duckdb(demo_run.db_path, union)}
    demo_deletions = {(str(c["resource"]), int(c["id"])) for c in demo_run.summary["deleted"]}
    assert {resource for resource, _ in demo_deletions} == {"time_entries", "expenses", "contacts"}
    assert demo_deletions <= marked, "a record the demo deleted in Harvest is not marked deleted"
    assert marked <= deleted, f"rows marked deleted that Harvest did not delete: {sorted(marked - deleted)}"
    counts = demo_run.summary["streams"]
    assert sum(counts[s]["rows_marked_deleted"] for s in ENTITY_STREAMS) == len(marked)
    assert "marked deleted" in demo_run.stdout


def test_given_a_full_sync_when_the_incremental_sync_runs_then_it_reads_less_and_is_never_throttled(
    demo_run: DemoRun,
) -> None:
    # (Requests: on the tiny account an incremental sync makes more than a full one, which is a few pages; its
    # comparisons with the previous sync and the report windows it re-reads are what keep DuckDB equal to Harvest.)
    streams = demo_run.summary["streams"].values()
    requests = demo_run.summary["requests"]
    assert sum(c["incremental_records_read"] for c in streams) < sum(c["full_records_read"] for c in streams)
    assert requests["incremental"]["total"] > 0
    assert requests["throttled"] == 0


def test_given_the_synced_duckdb_file_when_the_demo_asks_its_sql_question_then_the_answer_adds_up(
    demo_run: DemoRun,
) -> None:
    answer = demo_run.summary["billable_hours"]
    assert answer, "no billable hours per client and month"
    months = sorted({row["month"] for row in answer})
    newest = query_duckdb(demo_run.db_path, "SELECT strftime(max(spent_date), '%Y-%m') AS month FROM main.time_entries")
    assert len(months) <= 6
    assert months[-1] < newest[0]["month"], "the newest month is still running: it must not be shown"
    direct = query_duckdb(
        demo_run.db_path,
        "SELECT sum(CAST(hours AS DOUBLE)) AS hours FROM main.time_entries WHERE billable AND "
        "_ab_cdc_deleted_at IS NULL AND "
        f"strftime(spent_date, '%Y-%m') BETWEEN '{months[0]}' AND '{months[-1]}'",
    )
    assert sum(row["billable_hours"] for row in answer) == pytest.approx(direct[0]["hours"], abs=0.05)
    assert "Billable hours per client and month" in demo_run.stdout


def test_given_the_demo_finished_when_looking_for_its_sandbox_then_it_is_not_running(demo_run: DemoRun) -> None:
    pid = demo_run.summary["sandbox_pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
