"""A 429 on a report request is retried after its Retry-After, and the sync completes with the clean records."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import check_full_sync, configured_catalog, run_connector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_RECENT_START = "2024-01-01T00:00:00Z"


def test_given_one_429_on_a_report_when_syncing_then_it_is_retried_after_retry_after(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    harvest.add_fault("rate_limited", path="/v2/reports/time/*", after=2, count=1, retry_after=1)
    config = harvest.config(replication_start_date=_RECENT_START)

    started = time.monotonic()
    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered), timeout=90)

    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    assert sum(1 for r in harvest.requests if r["status"] == 429) == 1
    assert check_full_sync(harvest, run, discovered, _RECENT_START) == []
    assert time.monotonic() - started < 80, "a 1-second Retry-After must not stall the reports for minutes"
