"""A first sync of all 32 streams through the real commands equals the sandbox's ground truth.

Through `source-harvest read` (the console command) and through the CDK's `source-declarative-manifest` with
`--manifest-path manifest.yaml --components-path components.py` (what the platform's image runs): every id exactly
once, every field equal, every record valid against the discovered schema, children of parents last updated before
the start date present, and report rows equal to sums recomputed from the raw time entries and expenses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import CHILD_STREAMS, check_full_sync, configured_catalog, leaked, run_connector, secrets_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_EARLY_START = "2017-01-01T00:00:00Z"
# Later than the last update of several users, invoices and estimates (tiny dataset, seed 42): their children must
# still be read.
_LATE_START = "2023-01-01T00:00:00Z"
#: child stream -> the last segment of its endpoint, where it is not the stream name
_CHILD_PATH_SUFFIX = {"invoice_messages": "messages", "invoice_payments": "payments", "estimate_messages": "messages"}


def test_given_all_streams_when_source_harvest_reads_then_every_stream_equals_ground_truth(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    config = harvest.config(replication_start_date=_LATE_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered))

    assert run.returncode == 0, run.describe_failure()
    assert not run.trace_errors, run.describe_failure()
    assert not run.non_json_lines, run.non_json_lines[:5]
    assert check_full_sync(harvest, run, discovered, _LATE_START) == []
    assert leaked(run, secrets_of(harvest)) == []


def test_given_children_of_parents_older_than_the_start_date_when_reading_then_they_are_present(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    store = harvest.store
    # New children that leave their old parent as it was (harvest-api/README.md section 9): a thank-you on an old paid
    # invoice, a view of an old sent estimate. A new payment always moves its invoice, so an old invoice has no new
    # payment; its old payments are below the start date: for payments only the requests can show it. Users'
    # children need no setup: every user of the tiny dataset was last updated before the start date.
    old_paid = next(i for i in store.iter_records("invoices") if i["updated_at"] < _LATE_START and i["state"] == "paid")
    old_sent = next(
        e for e in store.iter_records("estimates") if e["updated_at"] < _LATE_START and e["state"] == "sent"
    )
    store.create(
        "invoice_messages", {"thank_you": True, "reminder": False, "event_type": None}, parent_id=old_paid["id"]
    )
    store.create("estimate_messages", {"event_type": "view"}, parent_id=old_sent["id"])
    config = harvest.config(replication_start_date=_LATE_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered, CHILD_STREAMS))

    assert run.returncode == 0, run.describe_failure()
    asked = {r["path"] for r in harvest.requests}
    for stream, parent in CHILD_STREAMS.items():
        old_parents = {p["id"] for p in store.iter_records(parent) if p["updated_at"] < _LATE_START}
        suffix = _CHILD_PATH_SUFFIX.get(stream, stream)
        not_asked = {p for p in old_parents if f"/v2/{parent}/{p}/{suffix}" not in asked}
        assert old_parents and not not_asked, f"{stream}: children of old parents {sorted(not_asked)} not requested"
        if stream != "invoice_payments":
            with_children = {r["parent_id"] for r in run.records[stream]}
            assert old_parents & with_children, f"{stream}: no child of a parent last updated before {_LATE_START}"
    assert check_full_sync(harvest, run, discovered, _LATE_START, streams=CHILD_STREAMS) == []


def test_given_all_streams_when_source_declarative_manifest_reads_then_every_stream_equals_ground_truth(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    config = harvest.config(replication_start_date=_EARLY_START)

    run = run_connector(
        "read", workdir, config, catalog=configured_catalog(discovered), runner="source-declarative-manifest"
    )

    assert run.returncode == 0, run.describe_failure()
    assert not run.trace_errors, run.describe_failure()
    assert check_full_sync(harvest, run, discovered, _EARLY_START) == []
    assert leaked(run, secrets_of(harvest)) == []
