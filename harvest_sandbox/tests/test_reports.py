"""Reports are computed from time entries, expenses and projects; Harvest's 1-year rule."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api, iso_window, last_year


def _rows(sandbox: SandboxServer, name: str, role: str = "administrator", **params: Any) -> list[dict[str, Any]]:
    response = api(sandbox, f"/v2/reports/{name}", role, **params)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def _entries(sandbox: SandboxServer, name: str = "time_entries") -> list[dict[str, Any]]:
    """The records of the last year (the window of ``last_year``)."""
    window = iso_window(last_year(sandbox))
    return [e for e in sandbox.store.iter_records(name) if window["from"] <= e["spent_date"] <= window["to"]]


@pytest.mark.parametrize(
    ("report", "subject"), [("clients", "client"), ("projects", "project"), ("tasks", "task"), ("team", "user")]
)
def test_given_time_report_then_totals_equal_sums_of_time_entries(
    sandbox: SandboxServer, report: str, subject: str
) -> None:
    expected: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for entry in _entries(sandbox):
        sums = expected[(entry[subject]["id"], entry["client"]["currency"])]
        sums[0] += entry["hours"]
        if entry["billable"]:
            sums[1] += entry["hours"]
            sums[2] += entry["hours"] * entry["billable_rate"]

    rows = _rows(sandbox, f"time/{report}", **last_year(sandbox))

    got = {
        (r[f"{subject}_id"], r["currency"]): [r["total_hours"], r["billable_hours"], r["billable_amount"]] for r in rows
    }
    assert got.keys() == expected.keys()
    for key, sums in expected.items():
        assert got[key] == pytest.approx([round(s, 2) for s in sums], abs=0.01)
    assert all("id" not in r and "created_at" not in r for r in rows)


@pytest.mark.parametrize(
    ("report", "subject"),
    [("clients", "client"), ("projects", "project"), ("categories", "expense_category"), ("team", "user")],
)
def test_given_expense_report_then_totals_equal_sums_of_expenses(
    sandbox: SandboxServer, report: str, subject: str
) -> None:
    expected: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for expense in _entries(sandbox, "expenses"):
        sums = expected[(expense[subject]["id"], expense["client"]["currency"])]
        sums[0] += expense["total_cost"]
        if expense["billable"]:
            sums[1] += expense["total_cost"]

    rows = _rows(sandbox, f"expenses/{report}", **last_year(sandbox))

    got = {(r[f"{subject}_id"], r["currency"]): [r["total_amount"], r["billable_amount"]] for r in rows}
    assert got == {k: pytest.approx([round(v, 2) for v in sums], abs=0.01) for k, sums in expected.items()}


def test_given_uninvoiced_report_then_counts_unbilled_billable_time_and_expenses(sandbox: SandboxServer) -> None:
    rows = _rows(sandbox, "uninvoiced", **last_year(sandbox))

    for row in rows:
        entries = [e for e in _entries(sandbox) if e["project"]["id"] == row["project_id"]]
        open_entries = [e for e in entries if e["billable"] and not e["is_billed"]]
        open_expenses = [
            x
            for x in _entries(sandbox, "expenses")
            if x["project"]["id"] == row["project_id"] and x["billable"] and not x["is_billed"]
        ]
        assert row["total_hours"] == pytest.approx(sum(e["hours"] for e in entries), abs=0.01)
        assert row["uninvoiced_hours"] == pytest.approx(sum(e["hours"] for e in open_entries), abs=0.01)
        assert row["uninvoiced_expenses"] == pytest.approx(sum(x["total_cost"] for x in open_expenses), abs=0.01)
        amount = sum(e["hours"] * e["billable_rate"] for e in open_entries) + row["uninvoiced_expenses"]
        assert row["uninvoiced_amount"] == pytest.approx(amount, abs=0.02)
    assert rows


def test_given_include_fixed_fee_false_then_fixed_fee_projects_are_left_out(sandbox: SandboxServer) -> None:
    fixed = {p["id"] for p in sandbox.store.iter_records("projects") if p["is_fixed_fee"]}

    rows = _rows(sandbox, "time/projects", include_fixed_fee="false", **last_year(sandbox))

    assert fixed, "tiny dataset should have a fixed-fee project"
    assert not {r["project_id"] for r in rows} & fixed


def test_given_project_budget_then_only_budgeted_projects_with_remaining(sandbox: SandboxServer) -> None:
    rows = _rows(sandbox, "project_budget")

    budgeted = {p["id"] for p in sandbox.store.iter_records("projects") if p["budget"] is not None}
    assert {r["project_id"] for r in rows} == budgeted
    assert all(r["budget_remaining"] == pytest.approx(r["budget"] - r["budget_spent"]) for r in rows)
    assert {r["is_active"] for r in _rows(sandbox, "project_budget", is_active="true")} == {True}


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("20200102", "20210101", 200),
        ("20200101", "20210101", 400),
        ("2021-01-01", "2022-01-01", 200),
        ("20120101", "20130101", 400),
    ],
)
def test_given_window_length_then_365_days_ok_and_366_rejected(
    sandbox: SandboxServer, start: str, end: str, status: int
) -> None:
    response = api(sandbox, "/v2/reports/time/clients", **{"from": start, "to": end})

    assert response.status_code == status
    if status == 400:
        assert response.json() == {"message": "Invalid timeframe: must not exceed 1 year"}


@pytest.mark.parametrize("missing", ["from", "to"])
def test_given_missing_window_bound_then_422(sandbox: SandboxServer, missing: str) -> None:
    params = {k: v for k, v in last_year(sandbox).items() if k != missing}

    response = api(sandbox, "/v2/reports/uninvoiced", **params)

    assert response.status_code == 422
    assert missing in response.json()["message"]


def test_given_manager_when_reading_time_report_then_only_visible_time_counts(sandbox: SandboxServer) -> None:
    admin = sum(r["total_hours"] for r in _rows(sandbox, "time/team", **last_year(sandbox)))
    manager = sum(r["total_hours"] for r in _rows(sandbox, "time/team", "manager", **last_year(sandbox)))
    expected = sum(
        e["hours"] for e in sandbox.store.list("time_entries", role="manager", **iso_window(last_year(sandbox)))
    )

    assert manager == pytest.approx(expected, abs=0.05)
    assert manager < admin


def test_given_a_time_entry_edit_when_report_reread_then_totals_follow(sandbox: SandboxServer) -> None:
    entry = _entries(sandbox)[0]
    before = {
        r["client_id"]: r["total_hours"]
        for r in _rows(sandbox, "time/clients", **last_year(sandbox))
        if r["currency"] == entry["client"]["currency"]
    }

    sandbox.store.update("time_entries", entry["id"], {"hours": entry["hours"] + 1.0})

    after = {
        r["client_id"]: r["total_hours"]
        for r in _rows(sandbox, "time/clients", **last_year(sandbox))
        if r["currency"] == entry["client"]["currency"]
    }
    assert after[entry["client"]["id"]] == pytest.approx(before[entry["client"]["id"]] + 1.0)
