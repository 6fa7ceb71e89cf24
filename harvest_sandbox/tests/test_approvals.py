"""Timesheet approval (harvest-api/README.md section 10): ``approval_status`` on time entries and expenses, its locks,
the ``approval_status`` filter, ``Store.set_approval`` / ``POST /_sandbox/approvals`` and the switch for the
undocumented ``updated_at`` behaviour."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests

from harvest_sandbox import SandboxServer
from harvest_sandbox.__main__ import parse_args
from harvest_sandbox.clock import REFERENCE_ANCHOR
from harvest_sandbox.datagen import APPROVALS_FROM, generate
from harvest_sandbox.errors import NotFound
from harvest_sandbox.loader import dump_json, load_json
from harvest_sandbox.resources import Dataset
from harvest_sandbox.store import Store
from harvest_sandbox.tests.client import api

APPROVED_ONLY = "Item Approved and Locked for this Time Period"  # [D] the docs' example
INVOICED_ONLY = "Item Invoiced and Locked for this Time Period"  # [V] real records
INVOICED_AND_APPROVED = "Item Invoiced and Approved and Locked for this Time Period"  # [D] the docs' examples
EXPENSE_INVOICED = "Expense is invoiced."  # [D]
EXPENSE_APPROVED = "The project is locked for this time period."  # [D]

_ANCHORS = {
    "reference": REFERENCE_ANCHOR,  # a Sunday: its week started six days before
    "monday-morning": datetime(2028, 3, 6, 0, 0, 7, tzinfo=UTC),
    "now": datetime.now(UTC).replace(microsecond=0),
}


@cache
def _dataset(size: str, anchor: str = "reference") -> Dataset:
    return generate(42, size, _ANCHORS[anchor])


def _store(size: str = "small", **options: Any) -> Store:
    return Store(_dataset(size), **options)


def _monday(day: str | date) -> date:
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return value - timedelta(days=value.weekday())


def _weeks_back(anchor: datetime, spent: str) -> int:
    return (_monday(anchor.date()) - _monday(spent)).days // 7


# -- the generated history ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_every_time_entry_and_expense_has_an_approval_status_and_matching_locks(size: str) -> None:
    dataset = _dataset(size)
    for name in ("time_entries", "expenses"):
        for record in dataset.collections[name]:
            status, billed = record["approval_status"], record["is_billed"]
            assert status in ("unsubmitted", "submitted", "approved")
            assert record["is_closed"] is (status == "approved"), record["id"]
            assert record["is_locked"] is (status == "approved" or billed), record["id"]
            keys = list(record)
            assert keys[keys.index("is_closed") + 1] == "approval_status", "placed as in the docs' objects"
            if name == "time_entries":
                expected = {
                    (True, True): INVOICED_AND_APPROVED,
                    (True, False): APPROVED_ONLY,
                    (False, True): INVOICED_ONLY,
                    (False, False): None,
                }[(status == "approved", billed)]
            else:
                expected = EXPENSE_INVOICED if billed else EXPENSE_APPROVED if status == "approved" else None
            assert record["locked_reason"] == expected, record["id"]


def test_given_small_dataset_then_every_lock_combination_occurs() -> None:
    entries = _dataset("small").collections["time_entries"]

    reasons = {e["locked_reason"] for e in entries}
    statuses = {e["approval_status"] for e in entries}

    assert reasons == {None, APPROVED_ONLY, INVOICED_ONLY, INVOICED_AND_APPROVED}
    assert statuses == {"unsubmitted", "submitted", "approved"}


def test_given_company_then_approval_feature_is_on_and_weeks_start_on_monday() -> None:
    company = _dataset("tiny").company

    assert company["approval_feature"] is True and company["week_start_day"] == "Monday"


@pytest.mark.parametrize("anchor", list(_ANCHORS))
@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_approval_follows_the_weeks_before_the_anchor(size: str, anchor: str) -> None:
    """The anchor's week is unsubmitted; weeks 1-3 back are per user (last week never approved); older weeks are
    approved since the account adopted approvals and unsubmitted before; a user's week has one status."""
    moment = _ANCHORS[anchor]
    adopted = _monday(APPROVALS_FROM + (moment.date() - REFERENCE_ANCHOR.date()))
    per_week: dict[tuple[int, date], set[str]] = defaultdict(set)
    for name in ("time_entries", "expenses"):
        for record in _dataset(size, anchor).collections[name]:
            back, status = _weeks_back(moment, record["spent_date"]), record["approval_status"]
            per_week[(record["user"]["id"], _monday(record["spent_date"]))].add(status)
            if back <= 0:
                assert status == "unsubmitted", record["id"]
            elif back == 1:
                assert status in ("unsubmitted", "submitted"), record["id"]
            elif back > 3:
                expected = "approved" if _monday(record["spent_date"]) >= adopted else "unsubmitted"
                assert status == expected, (record["id"], record["spent_date"])
    assert all(len(statuses) == 1 for statuses in per_week.values())


# -- the filter ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("resource", ["time_entries", "expenses"])
@pytest.mark.parametrize("status", ["unsubmitted", "submitted", "approved"])
def test_given_approval_status_filter_then_only_those_records(
    sandbox: SandboxServer, resource: str, status: str
) -> None:
    expected = [r["id"] for r in sandbox.store.iter_records(resource) if r["approval_status"] == status]

    page = api(sandbox, f"/v2/{resource}", approval_status=status).json()

    assert [r["id"] for r in page[resource]] == expected
    assert [r["id"] for r in sandbox.store.list(resource, approval_status=status)] == expected


@pytest.mark.parametrize("value", ["closed", "approved,submitted", "APPROVED"])
def test_given_unknown_approval_status_then_422(sandbox: SandboxServer, value: str) -> None:
    response = api(sandbox, "/v2/time_entries", approval_status=value)

    assert response.status_code == 422
    assert "approval_status" in response.json()["message"]


def test_given_counting_query_then_one_record_and_the_total_of_the_whole_filter(sandbox: SandboxServer) -> None:
    window: dict[str, Any] = {"from": "2019-01-01", "to": sandbox.store.dataset.anchor.date().isoformat()}
    approved = sandbox.store.list("time_entries", approval_status="approved", **window)

    page = api(sandbox, "/v2/time_entries", per_page=1, approval_status="approved", **window).json()

    assert len(page["time_entries"]) == 1 and page["time_entries"][0]["id"] == approved[0]["id"]
    assert page["total_entries"] == len(approved) and page["total_pages"] == len(approved)


def test_given_member_when_filtering_on_approval_status_then_only_their_own(sandbox: SandboxServer) -> None:
    member = sandbox.users["member"]
    statuses = {e["approval_status"] for e in sandbox.store.list("time_entries", role="member")}

    for status in statuses:
        entries = api(sandbox, "/v2/time_entries", "member", approval_status=status).json()["time_entries"]

        assert entries == sandbox.store.list("time_entries", role="member", approval_status=status)
        assert entries and {e["user"]["id"] for e in entries} == {member}


# -- approving a week ----------------------------------------------------------------------------------------------
def _busy_week(store: Store) -> tuple[int, date]:
    """The newest (user, Monday) with unsubmitted time (no running timer) and expenses; an unsubmitted expense is
    added to it when it has none (the tiny dataset has few expenses)."""
    weeks: dict[tuple[int, date], set[str]] = defaultdict(set)
    for name in ("time_entries", "expenses"):
        for record in store.iter_records(name):
            if record["approval_status"] == "unsubmitted" and not record.get("is_running"):
                weeks[(record["user"]["id"], _monday(record["spent_date"]))].add(name)
    key = max(key for key, names in weeks.items() if "time_entries" in names)
    if "expenses" not in weeks[key]:
        user = store.get("users", key[0])
        store.create("expenses", {"user": {"id": user["id"], "name": user["first_name"]}, "spent_date": str(key[1])})
    return key


def _week_records(store: Store, user_id: int, monday: date) -> dict[str, list[dict[str, Any]]]:
    window: dict[str, Any] = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    return {name: store.list(name, user_id=user_id, **window) for name in ("time_entries", "expenses")}


def test_given_a_week_when_approving_then_exactly_that_users_records_of_that_week_are_approved_and_locked() -> None:
    store = _store()
    user_id, monday = _busy_week(store)
    before = _week_records(store, user_id, monday)
    others = {
        name: {r["id"]: r for r in store.iter_records(name)} for name in ("time_entries", "expenses")
    }  # identity of every other record

    changes = store.set_approval(user_id, (monday + timedelta(days=3)).isoformat(), "approved")  # any day of the week

    assert sorted((c.resource, c.id) for c in changes) == sorted(
        (name, r["id"]) for name, records in before.items() for r in records
    )
    assert {c.op for c in changes} == {"update"}
    for name, records in _week_records(store, user_id, monday).items():
        for record in records:
            assert record["approval_status"] == "approved" and record["is_closed"] and record["is_locked"]
            assert record["locked_reason"] == (APPROVED_ONLY if name == "time_entries" else EXPENSE_APPROVED)
    changed = {(c.resource, c.id) for c in changes}
    for name, by_id in others.items():
        for record_id, record in by_id.items():
            if (name, record_id) not in changed:
                assert store.get(name, record_id) is record


def test_given_an_approved_week_when_reopening_then_unlocked_unless_invoiced() -> None:
    store = _store()
    user_id, monday = _busy_week(store)
    entries = _week_records(store, user_id, monday)["time_entries"]
    invoice = store.iter_records("invoices")[0]
    store.update("time_entries", entries[0]["id"], {"is_billed": True, "invoice": {"id": invoice["id"]}})
    assert store.get("time_entries", entries[0]["id"])["locked_reason"] == INVOICED_ONLY

    store.set_approval(user_id, monday, "approved")
    assert store.get("time_entries", entries[0]["id"])["locked_reason"] == INVOICED_AND_APPROVED
    store.set_approval(user_id, monday, "unsubmitted")

    billed = store.get("time_entries", entries[0]["id"])
    assert billed["is_locked"] and billed["locked_reason"] == INVOICED_ONLY and not billed["is_closed"]
    for entry in entries[1:]:
        reopened = store.get("time_entries", entry["id"])
        assert reopened["approval_status"] == "unsubmitted"
        assert not reopened["is_locked"] and reopened["locked_reason"] is None and not reopened["is_closed"]


def test_given_submitted_week_then_not_locked_and_a_second_identical_call_changes_nothing() -> None:
    store = _store()
    user_id, monday = _busy_week(store)

    first = store.set_approval(user_id, monday, "submitted")
    second = store.set_approval(user_id, monday, "submitted")

    assert first and second == []
    records = _week_records(store, user_id, monday)
    assert all(r["approval_status"] == "submitted" and not r["is_locked"] for r in records["time_entries"])


def test_given_weeks_starting_on_sunday_when_approving_then_the_sunday_belongs_to_the_next_week() -> None:
    store = _store()
    user_id, monday = _busy_week(store)
    sunday = monday - timedelta(days=1)
    store.update_company({"week_start_day": "Sunday"})
    store.create("time_entries", {"user": {"id": user_id, "name": "x"}, "spent_date": sunday.isoformat()})
    store.create(
        "time_entries", {"user": {"id": user_id, "name": "x"}, "spent_date": (sunday - timedelta(1)).isoformat()}
    )

    changes = store.set_approval(user_id, monday, "approved")

    days = {store.get(c.resource, c.id)["spent_date"] for c in changes}
    assert sunday.isoformat() in days and (sunday - timedelta(days=1)).isoformat() not in days
    assert all(sunday.isoformat() <= day <= (sunday + timedelta(days=6)).isoformat() for day in days)


def test_given_bad_status_or_unknown_user_then_refused() -> None:
    store = _store()
    user_id, monday = _busy_week(store)

    with pytest.raises(ValueError):
        store.set_approval(user_id, monday, "rejected")
    with pytest.raises(NotFound):
        store.set_approval(1, monday, "approved")


@pytest.mark.parametrize("moves", [False, True])
def test_given_switch_when_approving_then_updated_at_moves_only_if_on(moves: bool) -> None:
    store = _store(approval_moves_updated_at=moves)
    ticks = iter(range(1, 1000))
    store.clock = lambda: datetime(2030, 1, 2, 3, 4, 0, tzinfo=UTC) + timedelta(seconds=next(ticks))
    user_id, monday = _busy_week(store)
    week = {(n, r["id"]): r["updated_at"] for n, rs in _week_records(store, user_id, monday).items() for r in rs}
    last_sync = store.now()  # a cursor taken after everything else happened

    changes = store.set_approval(user_id, monday, "approved")

    after = {(c.resource, c.id): store.get(c.resource, c.id)["updated_at"] for c in changes}
    seen = {(n, r["id"]) for n in ("time_entries", "expenses") for r in store.list(n, updated_since=last_sync)}
    assert set(after) == set(week)
    if moves:
        assert len(set(after.values())) == 1 and min(after.values()) > last_sync, "one stamp for the whole week"
        assert seen == set(week)
    else:
        assert after == week
        assert seen == set()


def test_given_config_knob_then_keyword_control_plane_and_cli_set_it(sandbox: SandboxServer) -> None:
    assert sandbox.app.config.approval_moves_updated_at is False and not sandbox.store.approval_moves_updated_at

    config = requests.post(sandbox.url + "/_sandbox/config", json={"approval_moves_updated_at": True}, timeout=10)

    assert config.json()["approval_moves_updated_at"] is True and sandbox.store.approval_moves_updated_at
    with SandboxServer(dataset="tiny", approval_moves_updated_at=True) as other:
        assert other.store.approval_moves_updated_at
    assert parse_args(["--approval-moves-updated-at"]).approval_moves_updated_at is True
    assert parse_args([]).approval_moves_updated_at is False
    sandbox.reset()
    assert sandbox.store.approval_moves_updated_at is False


def test_given_control_plane_approvals_then_changed_ids_per_resource(sandbox: SandboxServer) -> None:
    user_id, monday = _busy_week(sandbox.store)
    expected = {n: [r["id"] for r in rs] for n, rs in _week_records(sandbox.store, user_id, monday).items()}
    body = {"user_id": user_id, "week": (monday + timedelta(days=2)).isoformat(), "status": "approved"}

    answer = requests.post(sandbox.url + "/_sandbox/approvals", json=body, timeout=10)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"week": monday.isoformat(), "user_id": user_id, "status": "approved", **expected}
    entries = api(sandbox, "/v2/time_entries", user_id=user_id, **{"from": monday.isoformat()}).json()
    assert {e["id"] for e in entries["time_entries"] if e["spent_date"] <= str(monday + timedelta(6))} >= set(
        expected["time_entries"]
    )
    assert all(
        api(sandbox, f"/v2/time_entries/{i}").json()["approval_status"] == "approved" for i in expected["time_entries"]
    )
    bad = requests.post(sandbox.url + "/_sandbox/approvals", json={**body, "status": "rejected"}, timeout=10)
    unknown = requests.post(sandbox.url + "/_sandbox/approvals", json={**body, "user_id": 1}, timeout=10)
    assert bad.status_code == 400 and unknown.status_code == 404


def test_given_new_time_entry_then_unsubmitted_whatever_its_template() -> None:
    store = _store()
    approved = next(e for e in store.iter_records("time_entries") if e["approval_status"] == "approved")
    store.update("time_entries", approved["id"], {"notes": "the newest template"})

    created = store.create("time_entries", {"notes": "new"})
    expense = store.create("expenses", {"notes": "new"})

    for record in (created, expense):
        assert record["approval_status"] == "unsubmitted" and not record["is_closed"]
        assert record["is_locked"] is bool(record["is_billed"])


def test_given_json_dataset_without_approval_status_when_loading_then_read_from_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    dump_json(_dataset("tiny"), path)
    data = json.loads(path.read_text())
    for name in ("time_entries", "expenses"):
        for record in data["collections"][name]:
            del record["approval_status"]
    path.write_text(json.dumps(data))

    loaded = load_json(path)

    for name in ("time_entries", "expenses"):
        for before, after in zip(_dataset("tiny").collections[name], loaded.collections[name], strict=True):
            assert after["approval_status"] == ("approved" if before["is_closed"] else "unsubmitted")
            assert list(after) == list(before), "placed after is_closed"
