"""The generated account is internally consistent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from harvest_sandbox.clock import REFERENCE_ANCHOR, fmt_datetime
from harvest_sandbox.datagen import generate
from harvest_sandbox.store import Dataset

#: The reference anchor, one just after midnight (little of "today" before it), and the real now.
_ANCHORS = {
    "reference": REFERENCE_ANCHOR,
    "after-midnight": datetime(2028, 2, 29, 0, 0, 7, tzinfo=UTC),
    "now": datetime.now(UTC).replace(microsecond=0),
}


@cache
def _dataset(size: str, anchor: str = "reference") -> Dataset:
    return generate(42, size, _ANCHORS[anchor])


def _ids(dataset: Dataset, name: str) -> set[int]:
    return {r["id"] for r in dataset.collections[name]}


@pytest.mark.parametrize("anchor", list(_ANCHORS))
@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_timestamps_are_ordered_and_never_after_the_anchor(size: str, anchor: str) -> None:
    dataset = _dataset(size, anchor)
    end = fmt_datetime(dataset.anchor)
    assert dataset.anchor == _ANCHORS[anchor]
    for name, records in dataset.collections.items():
        for record in records:
            assert record["created_at"] <= record["updated_at"] <= end, (name, record["id"])
    for entry in dataset.collections["time_entries"]:
        assert entry["spent_date"] <= end[:10], entry["id"]


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_an_anchor_days_later_when_generating_then_every_timestamp_moves_by_those_days_and_nothing_else(
    size: str,
) -> None:
    later = generate(42, size, REFERENCE_ANCHOR + timedelta(days=400))
    moved = {"created_at", "updated_at", "spent_date", "issue_date", "sent_at", "paid_date", "closed_at"}

    def shifted(value: str) -> str:
        if len(value) == 10:
            return (datetime.fromisoformat(value) + timedelta(days=400)).strftime("%Y-%m-%d")
        return fmt_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=400))

    for name, records in _dataset(size).collections.items():
        other = later.collections[name]
        assert [r["id"] for r in other] == [r["id"] for r in records], name
        for before, after in zip(records, other, strict=True):
            for key in moved & before.keys():
                assert after[key] == (before[key] and shifted(before[key])), (name, before["id"], key)
            for key in ("state", "is_active", "is_running", "is_billed", "hours", "amount", "total_cost"):
                assert after.get(key) == before.get(key), (name, before["id"], key)


@pytest.mark.parametrize("anchor", list(_ANCHORS))
@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_roles_and_categories_were_edited_within_two_years_of_the_anchor(
    size: str, anchor: str
) -> None:
    dataset = _dataset(size, anchor)
    two_years_before = fmt_datetime(dataset.anchor - timedelta(days=730))
    for name in ("roles", "expense_categories", "invoice_item_categories", "estimate_item_categories"):
        assert max(r["updated_at"] for r in dataset.collections[name]) >= two_years_before, name


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_every_reference_points_at_an_existing_record(size: str) -> None:
    data = _dataset(size)
    users, projects, tasks, clients = (_ids(data, n) for n in ("users", "projects", "tasks", "clients"))
    invoices, estimates = _ids(data, "invoices"), _ids(data, "estimates")
    for name in ("time_entries", "expenses"):
        for record in data.collections[name]:
            assert record["user"]["id"] in users and record["project"]["id"] in projects
            assert record["client"]["id"] in clients
            assert record["invoice"] is None or record["invoice"]["id"] in invoices
            assert record["is_billed"] is (record["invoice"] is not None)
    for entry in data.collections["time_entries"]:
        assert entry["task"]["id"] in tasks
        assert entry["user_assignment"]["id"] in _ids(data, "user_assignments")
        assert entry["task_assignment"]["id"] in _ids(data, "task_assignments")
    for name, parent in (
        ("invoice_messages", invoices),
        ("invoice_payments", invoices),
        ("estimate_messages", estimates),
    ):
        assert set(data.parents[name].values()) <= parent
        assert set(data.parents[name]) == _ids(data, name)
    for name in ("billable_rates", "cost_rates"):
        assert set(data.parents[name].values()) <= users
    for invoice in data.collections["invoices"]:
        assert invoice["client"]["id"] in clients
        assert all(item["project"] is None or item["project"]["id"] in projects for item in invoice["line_items"])
    assert set(data.principals.values()) <= users


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_ids_follow_creation_order(size: str) -> None:
    for name, records in _dataset(size).collections.items():
        if name in ("billable_rates", "cost_rates"):
            continue
        by_id = sorted(records, key=lambda r: r["id"])
        assert [r["created_at"] for r in by_id] == sorted(r["created_at"] for r in records), name
        assert len({r["id"] for r in records}) == len(records), name


def test_given_paid_invoices_then_payments_sum_to_the_amount() -> None:
    data = _dataset("small")
    paid: dict[int, float] = {}
    for payment in data.collections["invoice_payments"]:
        parent = data.parents["invoice_payments"][payment["id"]]
        paid[parent] = paid.get(parent, 0.0) + payment["amount"]
    for invoice in data.collections["invoices"]:
        if invoice["state"] == "paid":
            assert paid[invoice["id"]] == pytest.approx(invoice["amount"], abs=0.01)
            assert invoice["due_amount"] == 0.0
