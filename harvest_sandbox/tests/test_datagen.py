"""The generated account is internally consistent."""

from __future__ import annotations

from functools import cache

import pytest

from harvest_sandbox.clock import DATASET_NOW, fmt_datetime
from harvest_sandbox.datagen import generate
from harvest_sandbox.store import Dataset

_ANCHOR = fmt_datetime(DATASET_NOW)


@cache
def _dataset(size: str) -> Dataset:
    return generate(42, size)


def _ids(dataset: Dataset, name: str) -> set[int]:
    return {r["id"] for r in dataset.collections[name]}


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_dataset_then_timestamps_are_ordered_and_never_after_the_anchor(size: str) -> None:
    for name, records in _dataset(size).collections.items():
        for record in records:
            assert record["created_at"] <= record["updated_at"] <= _ANCHOR, (name, record["id"])


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
