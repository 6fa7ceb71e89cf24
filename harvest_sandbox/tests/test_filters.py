"""Documented filters and Harvest's ordering."""

from __future__ import annotations

from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api


def _get(
    sandbox: SandboxServer, path: str, key: str, role: str = "administrator", **params: Any
) -> list[dict[str, Any]]:
    response = api(sandbox, path, role, **params)
    assert response.status_code == 200, response.text
    return list(response.json()[key])


def test_given_time_entries_then_ordered_by_spent_date_newest_first_not_updated_at(sandbox: SandboxServer) -> None:
    oldest = sandbox.store.iter_records("time_entries")[-1]
    sandbox.store.update("time_entries", oldest["id"], {"notes": "edited today"})

    entries = _get(sandbox, "/v2/time_entries", "time_entries")

    keys = [(e["spent_date"], e["id"]) for e in entries]
    assert keys == sorted(keys, reverse=True)
    assert entries[-1]["id"] == oldest["id"], "a fresh updated_at does not move a record"


@pytest.mark.parametrize(
    ("path", "field"), [("/v2/invoices", "issue_date"), ("/v2/estimates", "issue_date"), ("/v2/expenses", "spent_date")]
)
def test_given_dated_resources_then_ordered_by_their_date_newest_first(
    sandbox: SandboxServer, path: str, field: str
) -> None:
    key = path.rsplit("/", 1)[1]
    rows = _get(sandbox, path, key)

    assert [(r[field], r["id"]) for r in rows] == sorted(((r[field], r["id"]) for r in rows), reverse=True)


def test_given_cursor_resources_then_newest_created_first(sandbox: SandboxServer) -> None:
    clients = _get(sandbox, "/v2/clients", "clients")

    assert [c["created_at"] for c in clients] == sorted((c["created_at"] for c in clients), reverse=True)


def test_given_billable_rates_then_ordered_by_start_date_ascending(sandbox: SandboxServer) -> None:
    for user_id in sandbox.users.values():
        rates = _get(sandbox, f"/v2/users/{user_id}/billable_rates", "billable_rates")
        starts = [r["start_date"] or "" for r in rates]
        assert starts == sorted(starts)


def test_given_updated_since_when_strict_then_boundary_record_is_excluded(sandbox: SandboxServer) -> None:
    entry = sandbox.store.iter_records("time_entries")[5]
    stamp = entry["updated_at"]

    ids = {e["id"] for e in _get(sandbox, "/v2/time_entries", "time_entries", updated_since=stamp)}

    assert entry["id"] not in ids
    assert ids == {e["id"] for e in sandbox.store.iter_records("time_entries") if e["updated_at"] > stamp}


def test_given_updated_since_when_inclusive_then_boundary_record_is_included(sandbox: SandboxServer) -> None:
    sandbox.configure(updated_since="inclusive")
    entry = sandbox.store.iter_records("time_entries")[5]

    ids = {e["id"] for e in _get(sandbox, "/v2/time_entries", "time_entries", updated_since=entry["updated_at"])}

    assert entry["id"] in ids
    assert all(
        e["updated_at"] >= entry["updated_at"]
        for e in sandbox.store.list("time_entries", updated_since=entry["updated_at"])
    )


def test_given_roles_when_updated_since_is_sent_then_it_is_ignored(sandbox: SandboxServer) -> None:
    everything = _get(sandbox, "/v2/roles", "roles")

    assert _get(sandbox, "/v2/roles", "roles", updated_since="2100-01-01T00:00:00Z") == everything


@pytest.mark.parametrize("value", ["true", "false"])
def test_given_is_active_filter_then_only_matching_projects(sandbox: SandboxServer, value: str) -> None:
    projects = _get(sandbox, "/v2/projects", "projects", is_active=value)

    assert projects and all(p["is_active"] is (value == "true") for p in projects)


@pytest.mark.parametrize(("start", "end"), [("2024-01-01", "2024-12-31"), ("20240101", "20241231")])
def test_given_from_to_in_either_format_then_inclusive_on_spent_date(
    sandbox: SandboxServer, start: str, end: str
) -> None:
    entries = _get(sandbox, "/v2/time_entries", "time_entries", **{"from": start, "to": end})

    expected = [
        e["id"] for e in sandbox.store.iter_records("time_entries") if "2024-01-01" <= e["spent_date"] <= "2024-12-31"
    ]
    assert [e["id"] for e in entries] == expected


def test_given_from_equal_to_then_that_day_is_included(sandbox: SandboxServer) -> None:
    day = sandbox.store.iter_records("invoices")[3]["issue_date"]

    invoices = _get(sandbox, "/v2/invoices", "invoices", **{"from": day, "to": day})

    assert invoices and all(i["issue_date"] == day for i in invoices)


@pytest.mark.parametrize("state", ["draft", "open", "paid", "closed"])
def test_given_state_filter_then_only_invoices_in_that_state(sandbox: SandboxServer, state: str) -> None:
    invoices = _get(sandbox, "/v2/invoices", "invoices", state=state)

    assert invoices and {i["state"] for i in invoices} == {state}


def test_given_id_filters_then_time_entries_match_every_one(sandbox: SandboxServer) -> None:
    sample = sandbox.store.iter_records("time_entries")[7]
    params = {
        "user_id": sample["user"]["id"],
        "project_id": sample["project"]["id"],
        "client_id": sample["client"]["id"],
    }

    entries = _get(sandbox, "/v2/time_entries", "time_entries", **params)

    assert sample["id"] in {e["id"] for e in entries}
    assert all(e["user"]["id"] == params["user_id"] and e["project"]["id"] == params["project_id"] for e in entries)


def test_given_invoice_project_filter_then_invoices_with_a_line_on_that_project(sandbox: SandboxServer) -> None:
    invoice = next(i for i in sandbox.store.iter_records("invoices") if i["line_items"][0]["project"])
    project_id = invoice["line_items"][0]["project"]["id"]

    invoices = _get(sandbox, "/v2/invoices", "invoices", project_id=project_id)

    assert invoice["id"] in {i["id"] for i in invoices}
    assert all(any(li["project"] and li["project"]["id"] == project_id for li in i["line_items"]) for i in invoices)


def test_given_is_running_filter_then_only_the_running_timer(sandbox: SandboxServer) -> None:
    running = _get(sandbox, "/v2/time_entries", "time_entries", is_running="true")

    assert running and all(e["is_running"] and e["timer_started_at"] for e in running)


def test_given_bad_date_filter_then_422(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/time_entries", **{"from": "last tuesday"})

    assert response.status_code == 422
    assert "message" in response.json()
