from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

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


def _minus_a_minute(stamp: str) -> str:
    """The default lookback below a saved cursor."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=60)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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


def test_incremental_minimum_without_changes_reads_open_and_sent_parents_and_rates_of_all_users(
    app: SandboxApp,
) -> None:
    store = app.store
    config = SyncConfig()
    saved = cursors(store, config)
    minimum = incremental_sync(store, config, saved, date(2026, 11, 27))
    requests = minimum.requests
    # without changes, "updated since the last sync" is what the lookback re-reads: the newest parents
    updated = {i["id"] for i in store.list("invoices", updated_since=_minus_a_minute(saved["invoices_parent"]))}
    opened = {i["id"] for i in store.list("invoices", state="open")}
    assert requests["GET /v2/invoices/{parent_id}/messages"] == len(updated | opened)
    assert requests["GET /v2/invoices/{parent_id}/payments"] == len(updated)
    estimates = {e["id"] for e in store.list("estimates", updated_since=_minus_a_minute(saved["estimates_parent"]))}
    sent = {e["id"] for e in store.list("estimates", state="sent")}
    assert requests["GET /v2/estimates/{parent_id}/messages"] == len(estimates | sent)
    changed = store.list("user_assignments", updated_since=_minus_a_minute(saved["project_assignments"]))
    assert requests["GET /v2/users/{parent_id}/project_assignments"] == len({a["user"]["id"] for a in changed})
    assert requests["GET /v2/users/{parent_id}/billable_rates"] == len(store.list("users"))
    assert requests["GET /v2/reports/time/team"] == 1
    # updated list + the open list + the reconciliation read of deletion detection; the user assignments' change
    # list + their reconciliation read
    assert (requests["GET /v2/invoices"], requests["GET /v2/user_assignments"]) == (3, 2)


def test_incremental_minimum_after_child_changes_reads_the_parents_they_moved(app: SandboxApp) -> None:
    store = SandboxApp(seed=42, dataset="tiny", rate_limits=False).store
    config = SyncConfig()
    saved = cursors(store, config)
    draft = next(i for i in store.list("invoices") if i["state"] == "draft")
    store.create("invoice_messages", {"event_type": None, "reminder": False, "thank_you": False}, parent_id=draft["id"])
    assignment = store.create("user_assignments", {"is_active": True})

    requests = incremental_sync(store, config, saved, date(2026, 11, 27)).requests

    updated = {i["id"] for i in store.list("invoices", updated_since=_minus_a_minute(saved["invoices_parent"]))}
    opened = {i["id"] for i in store.list("invoices", state="open")}
    assert draft["id"] in updated & opened  # the sent draft is open now, and updated
    assert requests["GET /v2/invoices/{parent_id}/messages"] == len(updated | opened)
    assert requests["GET /v2/invoices/{parent_id}/payments"] == len(updated)
    changed = store.list("user_assignments", updated_since=_minus_a_minute(saved["project_assignments"]))
    assert assignment["id"] in {a["id"] for a in changed}
    assert requests["GET /v2/users/{parent_id}/project_assignments"] == len({a["user"]["id"] for a in changed})
    assert store.parent_of("project_assignments", assignment["id"]) == assignment["user"]["id"]


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
    # the stream emits its updated records and one tombstone per deleted id
    updated = store.list("clients", updated_since=_minus_a_minute(saved["clients"]))
    assert minimum.records["clients"] == len(updated) + 2
