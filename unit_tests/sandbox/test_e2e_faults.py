"""Faults injected by the sandbox, with nothing lost.

* 10% 5xx, bursts of 429, connection resets and slow responses: the sync recovers and emits exactly the records of
  a clean sync (= the ground truth, every id once).
* A page without its envelope key, or a truncated (malformed) JSON page: that stream fails loudly (a TRACE error
  naming it), never a silent zero; the other streams complete.
* A sync killed mid-way (SIGKILL after some STATE messages) and resumed from its last emitted state: the union of
  both runs' records covers the ground truth.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import (
    ALL_STREAMS,
    WINDOWED_REPORTS,
    Run,
    actual_report_rows,
    check_full_sync,
    configured_catalog,
    expected_entities,
    expected_report_rows,
    run_connector,
    run_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2017-01-01T00:00:00Z"
# Three report windows, not ten: Harvest allows 100 report requests per 15 minutes, and from 2017 a sync already
# needs 91 of them, so retries of failed report requests would (correctly) wait for the budget for up to 15 minutes.
_RECENT_START = "2024-01-01T00:00:00Z"

_RECOVERABLE = {
    "server_errors_10_percent": [
        {"name": "server_error", "status": 503, "probability": 0.1, "seed": 1},
        {"name": "server_error", "status": 500, "path": "/v2/invoices/*", "probability": 0.1, "seed": 2},
    ],
    # One burst of 4 consecutive 429s (Retry-After: 1) on general endpoints: the CDK's rate budget then waits out
    # its 15 s window once, so a second burst would only add another 15 s to the test.
    "rate_limited_burst": [
        {"name": "rate_limited", "path": "/v2/users/*", "after": 4, "count": 4, "retry_after": 1},
    ],
    "connection_resets": [{"name": "connection_reset", "probability": 0.1, "seed": 3}],
    "slow_responses": [{"name": "slow", "probability": 0.15, "seed": 4, "delay": 2.0}],
}


@pytest.mark.parametrize("faults", list(_RECOVERABLE.values()), ids=list(_RECOVERABLE))
def test_given_transient_faults_when_syncing_then_records_equal_a_clean_sync(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path, faults: list[dict[str, Any]]
) -> None:
    for rule in faults:
        harvest.add_fault(**rule)
    config = harvest.config(replication_start_date=_RECENT_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered), timeout=150)

    fired = sum(1 for r in harvest.requests if r["fault"])
    assert fired > 0, "the fault schedule never fired"
    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    assert check_full_sync(harvest, run, discovered, _RECENT_START) == []


def _failed_streams(run: Run) -> set[str]:
    return {e["stream_descriptor"]["name"] for e in run.trace_errors if e.get("stream_descriptor")}


@pytest.mark.parametrize(
    ("fault", "stream"),
    [("missing_envelope", "time_entries"), ("malformed_json", "clients")],
    ids=["missing_envelope", "malformed_json"],
)
def test_given_a_broken_page_when_syncing_then_that_stream_fails_loudly_and_others_complete(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path, fault: str, stream: str
) -> None:
    harvest.add_fault(fault, path=f"/v2/{stream}", count=1)
    others = ("users", "tasks", "projects")
    config = harvest.config(replication_start_date=_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered, (stream, *others)))

    assert run.returncode != 0 or run.trace_errors, "a broken page must not end in a silent success"
    errors = [e for e in run.trace_errors if stream in json.dumps(e)]
    assert errors, f"no TRACE error names {stream}: {run.describe_failure()}"
    assert stream in _failed_streams(run) or any(stream in e.get("message", "") for e in errors)
    assert not run.records.get(stream) or len(run.records[stream]) < len(
        expected_entities(harvest, stream, "administrator", _START)
    )
    assert check_full_sync(harvest, run, discovered, _START, streams=others) == []


def test_given_a_sync_killed_mid_way_when_resumed_from_its_last_state_then_no_record_is_missing(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    config = harvest.config(replication_start_date=_START)
    catalog = configured_catalog(discovered)
    seen_states = 0

    def after_some_states(message: dict[str, Any]) -> bool:
        nonlocal seen_states
        seen_states += message["type"] == "STATE"
        return seen_states >= 12

    killed = run_until(workdir, config, catalog, after_some_states)
    assert killed.returncode != 0 and seen_states >= 12
    resumed = run_connector("read", workdir, config, catalog=catalog, state=killed.final_state())
    assert resumed.returncode == 0 and not resumed.trace_errors, resumed.describe_failure()

    today = datetime.now(UTC).date()
    problems = []
    for stream in ALL_STREAMS:
        union = killed.records.get(stream, []) + resumed.records.get(stream, [])
        missing: set[Any]
        if stream in WINDOWED_REPORTS:
            got_keys = set(actual_report_rows(resumed.records.get(stream, []), stream)) | set(
                actual_report_rows(killed.records.get(stream, []), stream)
            )
            missing = set(expected_report_rows(harvest, stream, _START, today)) - got_keys
        elif stream == "project_budget":
            missing = set() if union else {"(no rows)"}
        elif stream == "company":
            missing = set() if union else {"(no company)"}
        else:
            missing = {r["id"] for r in expected_entities(harvest, stream, "administrator", _START)} - {
                r["id"] for r in union
            }
        if missing:
            problems.append(f"{stream}: missing after resume: {sorted(missing, key=str)[:10]}")
    assert problems == [], "\n".join(problems)
