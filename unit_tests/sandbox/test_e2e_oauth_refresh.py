"""OAuth (refresh-token flow against the sandbox's token endpoint) with access tokens that expire during the sync:
the connector refreshes about once per lifetime, never per request, and the sync completes with exact records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import check_full_sync, configured_catalog, run_connector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2017-01-01T00:00:00Z"
# The tiny dataset's ~160 API requests take 1-2 s (2 workers), and two responses in the middle of the sync are
# delayed by 3 s: a 2 s access-token lifetime (Harvest's expires_in is whole seconds) expires several times mid-sync.
# (With 1 s, a loaded machine can take longer than the lifetime between a refresh and the retried request's arrival.)
_LIFETIME_SECONDS = 2.0
_DELAYED_AFTER = 60  # API requests before the two delayed ones
_DELAY_SECONDS = 3.0


def test_given_access_tokens_expiring_mid_sync_when_syncing_then_it_refreshes_and_completes(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    harvest.configure(token_lifetime=_LIFETIME_SECONDS)
    harvest.add_fault("slow", path="/v2/*", after=_DELAYED_AFTER, count=2, delay=_DELAY_SECONDS)
    config = harvest.config(
        replication_start_date=_START, num_workers=2, credentials={"auth_type": "Client", **harvest.oauth}
    )

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered))

    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    assert check_full_sync(harvest, run, discovered, _START) == []
    refreshes = [r for r in harvest.requests if r["path"] == "/api/v2/oauth2/token"]
    api_calls = [r for r in harvest.requests if r["path"].startswith("/v2/")]
    span = api_calls[-1]["at"] - api_calls[0]["at"]
    assert span > _LIFETIME_SECONDS, f"the sync lasted {span:.1f} s: the token never expired mid-sync"
    assert 2 <= len(refreshes) <= span / _LIFETIME_SECONDS + 3, (len(refreshes), span)
    assert len(refreshes) < len(api_calls) / 4, "the access token must not be refreshed per request"
