"""Load: with the sandbox's real Harvest rate limits (100 requests / 15 s, 100 / 15 min for reports, not scaled),
a sync of the `small` dataset gets no 429 at all, and its records equal the ground truth.

Scope, to fit the test budget (about 90 s): every stream of the small dataset except `invoice_messages` (its 300
invoices cost 300 more child requests, 45 s of pure budget at 100 / 15 s); report windows from 2024 (3 per report
stream). That is over 400 general requests, so the 100 / 15 s budget is exercised several times over.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import ALL_STREAMS, check_full_sync, configured_catalog, run_connector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2024-01-01T00:00:00Z"
_STREAMS = tuple(s for s in ALL_STREAMS if s != "invoice_messages")


@pytest.fixture
def rate_limited_small() -> Iterator[SandboxServer]:
    server = SandboxServer(seed=42, dataset="small", rate_limits=True).start()
    try:
        yield server
    finally:
        errors = server.take_errors()
        server.stop()
        assert not errors, errors


def test_given_real_rate_limits_when_syncing_the_small_dataset_then_no_request_is_throttled(
    rate_limited_small: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    server = rate_limited_small
    config = server.config(replication_start_date=_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered, _STREAMS), timeout=300)

    counts = server.counts()
    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    assert counts["throttled"] == 0, {k: v for k, v in counts["endpoints"].items() if "429" in v}
    general = sum(
        1 for r in server.requests if r["path"].startswith("/v2/") and not r["path"].startswith("/v2/reports/")
    )
    assert general > 300, f"only {general} general requests: the 100 / 15 s budget was not exercised"
    assert check_full_sync(server, run, discovered, _START, streams=_STREAMS) == []
