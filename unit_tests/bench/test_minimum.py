from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bench.floor import pages
from bench.minimum import (
    ONE_PAGE_OF_RECORDS,
    SyncConfig,
    full_sync,
    incremental_sync,
    refused,
    report_anchor,
    report_windows,
    saved_state,
)
from harvest_sandbox import SandboxApp
from harvest_sandbox.store import Store

TODAY = date(2026, 11, 27)
REPORT_ROUTES = (
    "expenses/categories",
    "expenses/clients",
    "expenses/projects",
    "expenses/team",
    "time/clients",
    "time/projects",
    "time/tasks",
    "time/team",
    "uninvoiced",
)


def test_report_windows_are_contiguous_years_up_to_today() -> None:
    windows = report_windows("2017-01-01T00:00:00Z", TODAY)
    assert len(windows) == 10
    assert windows[0] == (date(2017, 1, 1), date(2017, 12, 31))
    assert windows[-1] == (date(2026, 1, 1), date(2026, 12, 31))
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert (start - end).days == 1
    assert all((end - start).days <= 365 for start, end in windows)


def test_leap_day_anchor_moves_to_march_first() -> None:
    assert report_anchor("2024-02-29T10:00:00Z") == date(2024, 3, 1)
    assert report_windows("2024-02-29T00:00:00Z", date(2024, 3, 1)) == [(date(2024, 3, 1), date(2025, 2, 28))]


def test_the_mass_deletion_guard_allows_max_of_20_and_a_tenth() -> None:
    assert not refused(9, 2, 7)
    assert not refused(2000, 200, 1800)
    assert refused(2000, 201, 1799)
    assert refused(5, 5, 0)  # everything gone: a token that sees less


def _minus_a_minute(stamp: str) -> str:
    """The default lookback below a saved cursor."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=60)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fresh() -> SandboxApp:
    return SandboxApp(seed=42, dataset="tiny", rate_limits=False)


@pytest.fixture(scope="module")
def app() -> SandboxApp:
    return _fresh()


def test_full_sync_minimum_reads_every_parent_once_besides_the_parent_stream_itself(app: SandboxApp) -> None:
    store = app.store
    minimum = full_sync(store, SyncConfig(), TODAY)
    requests = minimum.requests
    invoices = len(store.list("invoices"))
    assert requests["GET /v2/invoices"] == 2  # the invoices stream's own read, and the parent list of both children
    assert requests["GET /v2/invoices/{parent_id}/messages"] == invoices
    assert requests["GET /v2/invoices/{parent_id}/payments"] == invoices
    assert requests["GET /v2/users"] == 2
    assert requests["GET /v2/users/{parent_id}/cost_rates"] == len(store.list("users"))
    assert requests["GET /v2/user_assignments"] == 1  # a first sync reads every user's project assignments
    assert requests["GET /v2/reports/time/clients"] == 10
    assert requests["GET /v2/reports/project_budget"] == 1
    assert requests["GET /v2/time_entries"] == 1
    assert "GET /v2/users/me" not in requests
    assert minimum.records["time_entries"] == len(store.list("time_entries", updated_since="2017-01-01T00:00:00Z"))


def test_incremental_minimum_without_changes(app: SandboxApp) -> None:
    store = app.store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    minimum = incremental_sync(store, config, saved, TODAY)
    requests = minimum.requests
    # children: updated parents (the lookback re-reads the newest), open invoices, sent estimates, every user's rates
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
    # every report window, every sync
    for route in REPORT_ROUTES:
        assert requests[f"GET /v2/reports/{route}"] == 10
    # own read + reconciliation read + the parent list; user assignments: own + reconciliation + the changes list
    assert (requests["GET /v2/invoices"], requests["GET /v2/users"], requests["GET /v2/user_assignments"]) == (3, 3, 3)
    # the history: its own read and the three counts, nothing differs; one /v2/users/me for the whole sync
    assert requests["GET /v2/time_entries"] == 1 + 3
    assert requests["GET /v2/expenses"] == 1 + 3
    assert requests["GET /v2/users/me"] == 1
    assert not any("{id}" in key for key in requests)


def test_incremental_minimum_after_child_changes_reads_the_parents_they_moved() -> None:
    store = _fresh().store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    draft = next(i for i in store.list("invoices") if i["state"] == "draft")
    store.create("invoice_messages", {"event_type": None, "reminder": False, "thank_you": False}, parent_id=draft["id"])
    assignment = store.create("user_assignments", {"is_active": True})

    requests = incremental_sync(store, config, saved, TODAY).requests

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
    store = _fresh().store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    doomed = saved["known_ids"]["clients"][:2]
    for client_id in doomed:
        store.delete("clients", client_id)

    minimum = incremental_sync(store, config, saved, TODAY)

    assert minimum.requests["GET /v2/clients/{id}"] == 2
    assert minimum.requests["GET /v2/clients"] == 2  # its own read and the reconciliation read, one page each
    # the token's role is asked once per sync, whichever streams need it
    assert minimum.requests["GET /v2/users/me"] == 1
    # the stream emits its updated records and one tombstone per deleted id
    updated = store.list("clients", updated_since=_minus_a_minute(saved["clients"]))
    assert minimum.records["clients"] == len(updated) + 2


def _search(saved: dict[str, Any], month: int) -> tuple[int, tuple[int, int], bool]:
    """The design's halving of the history's month range (January 2017 up to the month after the later of today's
    and the newest known month) towards ``month``: how many halvings (one count each, per status that differs), the
    range it stops at (one month, or a range without the open last month whose known records fit one page), and
    whether that range is open-ended."""
    rows = saved["history"]["time_entries"]
    lo = 2017 * 12
    tail = hi = max([TODAY.year * 12 + TODAY.month - 1] + [row[1] for row in rows]) + 1
    steps = 0
    while not (lo == hi or (hi != tail and sum(1 for row in rows if lo <= row[1] <= hi) <= ONE_PAGE_OF_RECORDS)):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if month <= mid else (mid + 1, hi)
        steps += 1
    return steps, (lo, hi), hi == tail


def _spent_in(store: Store, months: tuple[int, int], open_ended: bool) -> list[dict[str, Any]]:
    """The time entries spent in a range of months: what a re-list of that range returns."""
    lo, hi = months
    first = f"{lo // 12}-{lo % 12 + 1:02d}-01"
    window: dict[str, Any] = {"from": first}
    entries = store.list("time_entries", **window)
    return [e for e in entries if open_ended or int(e["spent_date"][:4]) * 12 + int(e["spent_date"][5:7]) - 1 <= hi]


def test_a_deleted_time_entry_is_found_by_halving_the_months_and_looked_up() -> None:
    store = _fresh().store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    victim = store.get("time_entries", min(saved["history"]["time_entries"], key=lambda row: row[1])[0])
    store.delete("time_entries", victim["id"])

    minimum = incremental_sync(store, config, saved, TODAY)
    requests = minimum.requests

    # the total count differs (the approval counts too if the entry was submitted or approved: one count per
    # halving for each status that differs)
    statuses = 1 if victim["approval_status"] == "unsubmitted" else 2
    month = int(victim["spent_date"][:4]) * 12 + int(victim["spent_date"][5:7]) - 1
    own = len(store.list("time_entries", updated_since=_minus_a_minute(saved["time_entries"])))
    halvings, months, open_ended = _search(saved, month)
    relisted = _spent_in(store, months, open_ended)
    counts = 3 + statuses * halvings
    assert requests["GET /v2/time_entries"] == pages(own) + counts + pages(len(relisted))
    assert requests["GET /v2/time_entries/{id}"] == 1
    assert minimum.records["time_entries"] == own + len(relisted) + 1  # the range re-listed, and the tombstone


def test_an_approval_that_does_not_move_updated_at_is_found_by_its_status_count_alone() -> None:
    store = _fresh().store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    own_since = _minus_a_minute(saved["time_entries"])
    entry = next(
        e for e in store.list("time_entries") if e["approval_status"] == "unsubmitted" and e["updated_at"] < own_since
    )
    # what an approval does when Harvest does not date it (store.set_approval, approval_moves_updated_at off)
    store.update("time_entries", entry["id"], {"approval_status": "approved", "updated_at": entry["updated_at"]})

    requests = incremental_sync(store, config, saved, TODAY).requests

    month = int(entry["spent_date"][:4]) * 12 + int(entry["spent_date"][5:7]) - 1
    own = len(store.list("time_entries", updated_since=own_since))
    halvings, months, open_ended = _search(saved, month)
    relisted = _spent_in(store, months, open_ended)
    assert requests["GET /v2/time_entries"] == pages(own) + 3 + halvings + pages(len(relisted))
    assert "GET /v2/time_entries/{id}" not in requests


def test_a_deleted_parent_costs_one_request_per_child_stream_and_a_removed_child_a_tombstone() -> None:
    store = _fresh().store
    config = SyncConfig()
    saved = saved_state(store, config, TODAY)
    known = saved["known_children"]["invoice_payments"]
    parent_id = int(next(iter(known)))
    store.delete("invoices", parent_id)

    minimum = incremental_sync(store, config, saved, TODAY)

    updated = {i["id"] for i in store.list("invoices", updated_since=_minus_a_minute(saved["invoices_parent"]))}
    assert parent_id not in updated
    assert minimum.requests["GET /v2/invoices/{parent_id}/payments"] == len(updated) + 1  # the 404
    assert minimum.records["invoice_payments"] >= len(known[str(parent_id)])
