"""Scoped permission errors: a Harvest Member token, and an account with the invoices feature switched off.

The sync succeeds; every stream the credentials cannot read (403) is empty and has exactly one WARNING that names the
stream and the role or feature it needs; every other stream equals the ground truth for those credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import ALL_STREAMS, FAMILY, Run, check_full_sync, configured_catalog, forbidden, run_connector

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2017-01-01T00:00:00Z"
_INVOICE_STREAMS = ("invoices", "invoice_messages", "invoice_payments", "invoice_item_categories", "uninvoiced")


def _warnings_naming(run: Run, stream: str) -> list[str]:
    return [w for w in run.warnings if w.startswith(f"{stream}:") or w.startswith(f"{stream} ")]


def _assert_scoped(
    run: Run, server: SandboxServer, discovered: dict[str, Any], role: str, needs: dict[str, tuple[str, ...]]
) -> None:
    """Forbidden streams: empty, one WARNING naming the stream and one of `needs[stream]`; the rest complete."""
    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    denied = [s for s in ALL_STREAMS if forbidden(server, s, role)]
    problems = []
    for stream in denied:
        if run.records.get(stream):
            problems.append(f"{stream}: {len(run.records[stream])} records despite a 403")
        warnings = _warnings_naming(run, stream)
        if len(warnings) != 1:
            problems.append(f"{stream}: {len(warnings)} WARNINGs naming it, expected 1: {warnings}")
        elif not any(word.lower() in warnings[0].lower() for word in needs[stream]):
            problems.append(f"{stream}: WARNING does not name {needs[stream]}: {warnings[0]!r}")
    allowed = [s for s in ALL_STREAMS if s not in denied]
    problems += check_full_sync(server, run, discovered, _START, role=role, streams=allowed)
    assert problems == [], "\n".join(problems)


def test_given_a_member_token_when_syncing_then_forbidden_streams_warn_and_the_rest_is_complete(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    config = harvest.config("member", replication_start_date=_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered))

    denied = [s for s in ALL_STREAMS if forbidden(harvest, s, "member")]
    assert len(denied) > 10, "a member cannot read most streams"
    _assert_scoped(run, harvest, discovered, "member", dict.fromkeys(denied, ("administrator", "manager")))


def test_given_invoices_switched_off_when_syncing_then_invoice_streams_warn_and_the_rest_is_complete(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    harvest.configure(invoice_feature=False)
    config = harvest.config(replication_start_date=_START)

    run = run_connector("read", workdir, config, catalog=configured_catalog(discovered))

    denied = [s for s in ALL_STREAMS if forbidden(harvest, s, "administrator")]
    assert sorted(denied) == sorted(_INVOICE_STREAMS), [FAMILY[s] for s in denied]
    _assert_scoped(run, harvest, discovered, "administrator", dict.fromkeys(denied, ("invoice",)))
