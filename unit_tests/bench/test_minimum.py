from __future__ import annotations

import itertools
from datetime import date

import pytest

from bench.minimum import (
    SyncConfig,
    cursors,
    full_sync,
    incremental_sync,
    incremental_windows,
    report_anchor,
    report_windows,
    saved_state,
)
from harvest_sandbox import SandboxApp


def test_report_windows_are_contiguous_years_up_to_today() -> None:
    windows = report_windows("2017-01-01T00:00:00Z", date(2026, 11, 27))
    assert len(windows) == 10
    assert windows[0] == (date(2017, 1, 1), date(2017, 12, 31))
    assert windows[-1] == (date(2026, 1, 1), date(2026, 12, 31))
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert (start - end).days == 1
    assert all((end - start).days <= 365 for start, end in windows)


def test_leap_day_anchor_moves_to_march_first() -> None:
    assert report_anchor("2024-02-29T10:00:00Z") == date(2024, 3, 1)
    assert report_windows("2024-02-29T00:00:00Z", date(2024, 3, 1)) == [(date(2024, 3, 1), date(2025, 2, 28))]


def test_incremental_windows_add_the_previous_one_only_early_in_a_window() -> None:
    config = SyncConfig(replication_start_date="2017-01-01T00:00:00Z", reports_lookback_days=30)
    assert incremental_windows(config, date(2026, 11, 27)) == [(date(2026, 1, 1), date(2026, 12, 31))]
    assert len(incremental_windows(config, date(2026, 1, 10))) == 2


@pytest.fixture(scope="module")
def app() -> SandboxApp:
    return SandboxApp(seed=42, dataset="tiny", rate_limits=False)


def test_full_sync_minimum_reads_every_parent_once(app: SandboxApp) -> None:
    store = app.store
    minimum = full_sync(store, SyncConfig(), date(2026, 11, 27))
    requests = minimum.requests
    invoices = len(store.list("invoices"))
    assert requests["GET /v2/invoices"] == 1
    assert requests["GET /v2/invoices/{parent_id}/messages"] == invoices
    assert requests["GET /v2/invoices/{parent_id}/payments"] == invoices
    assert requests["GET /v2/users/{parent_id}/cost_rates"] == len(store.list("users"))
    assert requests["GET /v2/reports/time/clients"] == 10
    assert requests["GET /v2/reports/project_budget"] == 1
    assert minimum.records["time_entries"] == len(store.list("time_entries", updated_since="2017-01-01T00:00:00Z"))


def test_incremental_minimum_without_changes_reads_live_parents_and_all_users(app: SandboxApp) -> None:
    store = app.store
    config = SyncConfig()
    saved = cursors(store, config)
    minimum = incremental_sync(store, config, saved, date(2026, 11, 27))
    live = {r["id"] for state in ("open", "draft") for r in store.list("invoices", state=state)}
    assert minimum.requests["GET /v2/invoices/{parent_id}/messages"] >= len(live)
    assert minimum.requests["GET /v2/users/{parent_id}/project_assignments"] == len(store.list("users"))
    assert minimum.requests["GET /v2/reports/time/team"] == 1
    # updated list + one list per live state + the reconciliation read of deletion detection
    assert minimum.requests["GET /v2/invoices"] == 4


def test_incremental_minimum_after_deletions_looks_up_each_deleted_id_once_and_asks_who_the_token_is() -> None:
    store = SandboxApp(seed=42, dataset="tiny", rate_limits=False).store
    config = SyncConfig(deletions_lookback_days=3650)
    today = date(2026, 11, 27)
    saved = saved_state(store, config, today)
    doomed = saved["known_ids"]["clients"][:2]
    for client_id in doomed:
        store.delete("clients", client_id)

    minimum = incremental_sync(store, config, saved, today)

    assert minimum.requests["GET /v2/clients/{id}"] == 2
    assert minimum.requests["GET /v2/users/me"] == 1
    assert minimum.requests["GET /v2/time_entries"] == 2  # its own read and the reconciliation read, one page each
