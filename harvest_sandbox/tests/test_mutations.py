"""The realistic change mix (``mutations.OPERATIONS``): what each operation does, and that the account stays
consistent and deterministic after many rounds of them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

import harvest_sandbox.mutations as mutations
from harvest_sandbox import Change, SandboxServer
from harvest_sandbox.clock import REFERENCE_ANCHOR
from harvest_sandbox.mutations import OPERATIONS, mutate
from harvest_sandbox.state import load_dataset
from harvest_sandbox.store import Store


def _store(size: str = "small") -> Store:
    return Store(load_dataset(42, size, REFERENCE_ANCHOR))


def _run(store: Store, operation: str, seed: int = 1) -> list[Change]:
    """Apply ``operation`` until it finds something to change (at most 20 tries); its changes."""
    rng = random.Random(seed)
    for _ in range(20):
        outcome = getattr(mutations, f"_{operation}")(store, rng)
        if outcome:
            return [outcome] if isinstance(outcome, Change) else list(outcome)
    raise AssertionError(f"{operation} found nothing to change")


def _days_back(store: Store, days: int) -> str:
    return (store.dataset.anchor.date() - timedelta(days=days)).isoformat()


def test_given_operations_then_each_has_a_function_and_time_dominates_the_weights() -> None:
    names = [name for name, _ in OPERATIONS]
    weights = dict(OPERATIONS)
    time = sum(w for name, w in OPERATIONS if name in ("log_time", "edit_time"))

    assert len(set(names)) == len(names) and all(callable(getattr(mutations, f"_{n}")) for n in names)
    assert time / sum(weights.values()) >= 0.4, "most changes are time logged and edited"
    assert weights["log_time"] == max(weights.values())


@pytest.mark.parametrize(
    "operation",
    ["delete_recent_time", "delete_old_time", "delete_expense"],
)
def test_given_a_delete_operation_then_an_unlocked_unsubmitted_record_of_its_age_goes(operation: str) -> None:
    store = _store()
    resource = "expenses" if operation == "delete_expense" else "time_entries"
    before = {r["id"]: r for r in store.iter_records(resource)}

    (change,) = _run(store, operation)

    gone = before[change.id]
    assert (change.op, change.resource) == ("delete", resource) and not store.exists(resource, change.id)
    assert gone["approval_status"] == "unsubmitted" and not gone["is_locked"]
    if operation == "delete_old_time":
        assert gone["spent_date"] < _days_back(store, 90)
        assert store.get("projects", gone["project"]["id"])["is_active"]
    elif operation == "delete_recent_time":
        assert gone["spent_date"] >= _days_back(store, 14)


def test_given_fix_old_time_then_an_entry_older_than_14_months_is_corrected() -> None:
    store = _store()

    (change,) = _run(store, "fix_old_time")

    entry = store.get("time_entries", change.id)
    anchor = store.dataset.anchor.date()
    assert change.op == "update" and entry["spent_date"] < date(anchor.year - 1, anchor.month - 2, 1).isoformat()
    assert entry["notes"].endswith("(corrected)") and entry["updated_at"] > entry["created_at"]
    assert not entry["is_locked"]


def test_given_move_time_then_the_entry_is_on_another_task_of_the_same_user_with_consistent_embeds() -> None:
    store = _store()
    before = {r["id"]: r for r in store.iter_records("time_entries")}

    (change,) = _run(store, "move_time")

    old, new = before[change.id], store.get("time_entries", change.id)
    assert (new["project"]["id"], new["task"]["id"]) != (old["project"]["id"], old["task"]["id"])
    assert (new["user"], new["spent_date"], new["hours"]) == (old["user"], old["spent_date"], old["hours"])
    project = store.get("projects", new["project"]["id"])
    client = store.get("clients", project["client"]["id"])
    ua = store.get("user_assignments", new["user_assignment"]["id"])
    ta = store.get("task_assignments", new["task_assignment"]["id"])
    assert new["project"] == {"id": project["id"], "name": project["name"], "code": project["code"]}
    assert new["client"] == {"id": client["id"], "name": client["name"], "currency": client["currency"]}
    assert ua["user"]["id"] == old["user"]["id"] and ua["project"]["id"] == project["id"] and ua["is_active"]
    assert ta["project"]["id"] == project["id"] and ta["task"] == new["task"] and ta["is_active"]
    assert new["billable"] is ta["billable"]
    rate = ua["hourly_rate"] if not ua["use_default_rates"] else ta["hourly_rate"]
    assert new["billable_rate"] == (rate if ta["billable"] else None)
    assert list(new) == list(old), "field order kept"


def test_given_approve_week_then_one_users_week_moves_one_step_for_time_and_expenses() -> None:
    store = _store()
    before = {(n, r["id"]): r for n in ("time_entries", "expenses") for r in store.iter_records(n)}

    changes = _run(store, "approve_week")

    olds = [before[(c.resource, c.id)] for c in changes]
    news = [store.get(c.resource, c.id) for c in changes]
    mondays = {store.week_of(r["spent_date"]) for r in olds}
    anchor_monday = store.week_of(store.dataset.anchor.date())
    assert len({r["user"]["id"] for r in olds}) == 1 and len(mondays) == 1
    assert timedelta(weeks=1) <= anchor_monday - mondays.pop() <= timedelta(weeks=3)
    step = {"unsubmitted": "submitted", "submitted": "approved"}
    assert all(n["approval_status"] == step[o["approval_status"]] for o, n in zip(olds, news, strict=True))


def test_given_delete_payment_then_the_invoice_is_settled_again() -> None:
    store = _store()

    (change,) = _run(store, "delete_payment")

    assert change.parent_id is not None
    invoice = store.get("invoices", change.parent_id)
    paid = sum(p["amount"] for p in store.list("invoice_payments", parent_id=invoice["id"]))
    assert change.op == "delete" and not store.exists("invoice_payments", change.id)
    assert invoice["due_amount"] == round(invoice["amount"] - paid, 2)
    assert invoice["state"] != "paid" or invoice["due_amount"] <= 0


@pytest.mark.parametrize(
    ("operation", "resource", "parent"),
    [
        ("delete_invoice_message", "invoice_messages", "invoices"),
        ("delete_estimate_message", "estimate_messages", "estimates"),
    ],
)
def test_given_delete_message_then_its_parent_does_not_change(operation: str, resource: str, parent: str) -> None:
    store = _store()
    parents = {r["id"]: r for r in store.iter_records(parent)}

    (change,) = _run(store, operation)

    assert (change.op, change.resource) == ("delete", resource) and not store.exists(resource, change.id)
    assert change.parent_id is not None and store.get(parent, change.parent_id) is parents[change.parent_id]


def test_given_delete_invoice_then_a_draft_goes_with_its_children_and_nothing_points_at_it() -> None:
    store = _store()
    invoices = {r["id"]: r for r in store.iter_records("invoices")}

    (change,) = _run(store, "delete_invoice")

    assert invoices[change.id]["state"] == "draft" and not store.exists("invoices", change.id)
    for child in ("invoice_messages", "invoice_payments"):
        assert all(store.parent_of(child, r["id"]) != change.id for r in store.iter_records(child))
    for name in ("time_entries", "expenses"):
        assert all((r["invoice"] or {}).get("id") != change.id for r in store.iter_records(name))


def test_given_unassign_user_then_the_assignment_and_the_users_project_assignment_go_and_nothing_else() -> None:
    store = _store("tiny")
    _run(store, "assign_user")  # the generated assignments all carry time; a fresh one can be removed
    task_assignments = store.iter_records("task_assignments")
    others = {r["id"]: r for r in store.iter_records("user_assignments")}

    (change,) = _run(store, "unassign_user")

    removed = others.pop(change.id)
    user_id = removed["user"]["id"]
    assert (change.op, change.resource, change.parent_id) == ("delete", "user_assignments", removed["project"]["id"])
    assert change.id not in {p["id"] for p in store.list("project_assignments", parent_id=user_id)}
    assert store.iter_records("task_assignments") == task_assignments
    assert {r["id"]: r for r in store.iter_records("user_assignments")} == others
    assert not removed["is_project_manager"]
    for name in ("time_entries", "expenses"):
        assert all(r["user_assignment"]["id"] != change.id for r in store.iter_records(name))


# -- many rounds ---------------------------------------------------------------------------------------------------
def _assert_consistent(store: Store) -> None:
    ids = {name: {r["id"] for r in store.iter_records(name)} for name in ("users", "projects", "clients", "tasks")}
    invoices = {r["id"] for r in store.iter_records("invoices")}
    for name in ("time_entries", "expenses"):
        for record in store.iter_records(name):
            assert record["user"]["id"] in ids["users"] and record["project"]["id"] in ids["projects"]
            assert record["client"]["id"] in ids["clients"]
            assert record["invoice"] is None or record["invoice"]["id"] in invoices
            assert record["is_closed"] is (record["approval_status"] == "approved")
            assert record["is_locked"] is (record["is_closed"] or record["is_billed"])
            if name == "time_entries":
                assert record["task"]["id"] in ids["tasks"]
    for child, parent in (("invoice_payments", invoices), ("invoice_messages", invoices)):
        assert all(store.parent_of(child, r["id"]) in parent for r in store.iter_records(child))
    for invoice in store.iter_records("invoices"):
        payments = store.list("invoice_payments", parent_id=invoice["id"])
        if payments:
            assert invoice["due_amount"] == round(invoice["amount"] - sum(p["amount"] for p in payments), 2)
    active = {ua["id"] for ua in store.iter_records("user_assignments") if ua["is_active"]}
    assert {pa["id"] for pa in store.iter_records("project_assignments")} <= active
    window: dict[str, Any] = {"from": "2026-01-01", "to": "2026-11-01"}
    entries = store.list("time_entries", **window)
    rows = store.report("time/projects", from_="2026-01-01", to="2026-11-01")
    assert round(sum(r["total_hours"] for r in rows), 2) == round(sum(e["hours"] for e in entries), 2)


def test_given_many_rounds_then_locked_records_are_untouched_and_the_account_stays_consistent() -> None:
    store = _store()
    locked = {
        (name, r["id"]): r for name in ("time_entries", "expenses") for r in store.iter_records(name) if r["is_locked"]
    }

    changes = [change for _ in range(10) for change in mutate(store, 60)]

    assert {name for name, _ in OPERATIONS} and len(changes) > 400
    assert all(store.get(name, record_id) is record for (name, record_id), record in locked.items())
    _assert_consistent(store)


def _changes(options: dict[str, Any]) -> list[dict[str, Any]]:
    with SandboxServer(seed=42, dataset="small", anchor=REFERENCE_ANCHOR, **options) as server:
        return [c.as_dict() for _ in range(4) for c in server.mutate(50)]


def test_given_same_seed_and_history_then_same_changes_whatever_the_approval_switch() -> None:
    first = _changes({})

    assert _changes({}) == first
    assert _changes({"approval_moves_updated_at": True}) == first
    assert {c["resource"] for c in first} >= {"time_entries", "expenses", "invoice_payments", "user_assignments"}
