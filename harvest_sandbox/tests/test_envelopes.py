"""Every GET endpoint answers with the same shape as Harvest's documented example (examples.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api, iso_window, last_year

SHAPES: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "example_shapes.json").read_text())
ENVELOPE_KEYS = ["per_page", "total_pages", "total_entries", "next_page", "previous_page", "page", "links"]
NOT_EMULATED: set[str] = set()


def _concrete(sandbox: SandboxServer, template: str) -> str:
    """Fill the documented path template with ids of records that exist (and have children)."""
    store = sandbox.store
    invoice = next(iter(store.iter_records("invoice_payments")))
    invoice_id = store.parent_of("invoice_payments", invoice["id"])
    estimate_id = store.parent_of("estimate_messages", store.iter_records("estimate_messages")[0]["id"])
    user_id = sandbox.users["manager" if template.endswith("/teammates") else "administrator"]
    project = store.iter_records("projects")[0]
    values = {
        "{clientId}": store.iter_records("clients")[0]["id"],
        "{contactId}": store.iter_records("contacts")[0]["id"],
        "{estimateItemCategoryId}": store.iter_records("estimate_item_categories")[0]["id"],
        "{estimateId}": estimate_id,
        "{expenseCategoryId}": store.iter_records("expense_categories")[0]["id"],
        "{expenseId}": store.iter_records("expenses")[0]["id"],
        "{invoiceItemCategoryId}": store.iter_records("invoice_item_categories")[0]["id"],
        "{invoiceId}": invoice_id,
        "{projectId}": project["id"],
        "{taskAssignmentId}": store.list("task_assignments", parent_id=project["id"])[0]["id"],
        "{userAssignmentId}": store.list("user_assignments", parent_id=project["id"])[0]["id"],
        "{roleId}": store.iter_records("roles")[0]["id"],
        "{taskId}": store.iter_records("tasks")[0]["id"],
        "{timeEntryId}": store.iter_records("time_entries")[0]["id"],
        "{userId}": user_id,
        "{billableRateId}": store.list("billable_rates", parent_id=user_id)[0]["id"],
        "{costRateId}": store.list("cost_rates", parent_id=user_id)[0]["id"],
    }
    path = template
    for placeholder, value in values.items():
        path = path.replace(placeholder, str(value))
    return "/v2" + path


def _assert_covers(expected: Any, actual: Any, where: str) -> None:
    """Every key Harvest documents is present (extras observed in real payloads are allowed)."""
    if isinstance(expected, dict) and actual is not None:
        assert isinstance(actual, dict), where
        missing = set(expected) - set(actual)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key, sub in expected.items():
            _assert_covers(sub, actual[key], f"{where}.{key}")
    elif isinstance(expected, list) and expected and actual:
        for i, item in enumerate(actual):
            _assert_covers(expected[0], item, f"{where}[{i}]")


@pytest.mark.parametrize("template", sorted(set(SHAPES) - NOT_EMULATED))
def test_given_documented_example_when_getting_endpoint_then_shape_matches(
    sandbox: SandboxServer, template: str
) -> None:
    params: dict[str, Any] = last_year(sandbox) if template.startswith("/reports/") and "budget" not in template else {}
    response = api(sandbox, _concrete(sandbox, template), **params)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    expected = SHAPES[template]
    if "links" in expected:
        key = next(k for k, v in expected.items() if isinstance(v, list))
        assert list(body) == [key, *ENVELOPE_KEYS]
        assert list(body["links"]) == ["first", "next", "previous", "last"]
        assert body[key], f"{template} has no records in the tiny dataset"
        key_sets = {tuple(sorted(record)) for record in body[key]}
        assert len(key_sets) == 1, f"{template}: records differ in keys"
    _assert_covers(expected, body, template)


def test_given_time_entry_when_listed_then_observed_extras_are_present(sandbox: SandboxServer) -> None:
    entry = api(sandbox, "/v2/time_entries", per_page=1).json()["time_entries"][0]

    assert set(entry["client"]) == {"id", "name", "currency"}
    assert set(entry["project"]) == {"id", "name", "code"}
    assert "use_default_rates" in entry["user_assignment"]


def test_given_payments_when_listed_then_gateway_is_an_object_even_when_empty(sandbox: SandboxServer) -> None:
    payments = [p for name in ("invoice_payments",) for p in sandbox.store.iter_records(name)]

    assert all(isinstance(p["payment_gateway"], dict) for p in payments)
    assert any(p["payment_gateway"] == {"id": None, "name": None} for p in payments)


def test_given_users_when_listed_then_observed_permission_fields_are_present(sandbox: SandboxServer) -> None:
    user = api(sandbox, "/v2/users").json()["users"][0]

    for key in (
        "permissions_claims",
        "calendar_integration_enabled",
        "calendar_integration_source",
        "can_create_projects",
    ):
        assert key in user


def test_given_project_assignment_when_listed_then_project_and_client_carry_extras(sandbox: SandboxServer) -> None:
    assignment = api(sandbox, "/v2/users/me/project_assignments").json()["project_assignments"][0]

    assert "is_billable" in assignment["project"]
    assert "currency" in assignment["client"]


def test_given_company_when_read_then_it_is_a_bare_object_without_id_or_timestamps(sandbox: SandboxServer) -> None:
    company = api(sandbox, "/v2/company").json()

    assert "id" not in company and "created_at" not in company and "updated_at" not in company
    assert company["currency"] in ("USD", "EUR", "GBP")


def test_given_tiny_dataset_then_every_connector_stream_has_records(sandbox: SandboxServer) -> None:
    store = sandbox.store
    window = iso_window(last_year(sandbox))
    for name, count in store.counts().items():
        assert count > 0, name
    for report in (
        "time/clients",
        "time/projects",
        "time/tasks",
        "time/team",
        "expenses/clients",
        "expenses/projects",
        "expenses/categories",
        "expenses/team",
        "uninvoiced",
    ):
        assert store.report(report, from_=window["from"], to=window["to"]), report
    assert store.report("project_budget")
    assert len({store.parent_of("invoice_messages", m["id"]) for m in store.iter_records("invoice_messages")}) > 1
    assert len({store.parent_of("estimate_messages", m["id"]) for m in store.iter_records("estimate_messages")}) > 1
    assert len(store.iter_records("time_entries")) > 10
    assert max(e["id"] for e in store.iter_records("time_entries")) > 2**31
    assert {i["state"] for i in store.iter_records("invoices")} == {"draft", "open", "paid", "closed"}
    assert {e["state"] for e in store.iter_records("estimates")} == {"draft", "sent", "accepted", "declined"}
    assert {c["currency"] for c in store.iter_records("clients")} >= {"USD", "EUR", "GBP"}
    assert any(not c["is_active"] for c in store.iter_records("projects"))
    assert min(c["updated_at"] for c in store.iter_records("clients")) < "2017-01-01"


def test_given_unknown_route_when_requested_then_html_404(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/projects//user_assignments")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_given_unknown_record_when_requested_then_json_404(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/time_entries/1")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_given_deleted_invoice_when_listing_its_messages_then_json_404(sandbox: SandboxServer) -> None:
    invoice_id = sandbox.store.parent_of("invoice_messages", sandbox.store.iter_records("invoice_messages")[0]["id"])
    assert invoice_id is not None
    sandbox.store.delete("invoices", invoice_id)

    response = api(sandbox, f"/v2/invoices/{invoice_id}/messages")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}


def test_given_manager_when_listing_teammates_then_users_of_managed_projects(sandbox: SandboxServer) -> None:
    manager = sandbox.users["manager"]
    managed = sandbox.store.managed_projects(manager)
    expected = {
        ua["user"]["id"]
        for ua in sandbox.store.iter_records("user_assignments")
        if ua["project"]["id"] in managed and ua["user"]["id"] != manager
    }

    page = api(sandbox, f"/v2/users/{manager}/teammates").json()

    assert {t["id"] for t in page["teammates"]} == expected
    assert all(set(t) == {"id", "first_name", "last_name", "email"} for t in page["teammates"])
    assert api(sandbox, f"/v2/users/{sandbox.users['member']}/teammates").status_code == 422


def test_given_invoice_when_asking_for_a_new_message_then_template_subject(sandbox: SandboxServer) -> None:
    invoice = sandbox.store.iter_records("invoices")[0]

    body = api(sandbox, f"/v2/invoices/{invoice['id']}/messages/new", reminder="true").json()

    assert body["invoice_id"] == invoice["id"] and body["reminder"] is True and body["thank_you"] is False
    assert invoice["number"] in body["subject"]


_EXAMPLES = Path("/work/shared/harvest-api/examples.json")


@pytest.mark.skipif(not _EXAMPLES.exists(), reason="Harvest's examples.json is not available on this machine")
def test_given_examples_json_then_the_shape_file_is_derived_from_it() -> None:
    """data/example_shapes.json keeps the keys (first list item) of every documented example, values nulled."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value and isinstance(value[0], dict | list) else []
        return None

    examples = json.loads(_EXAMPLES.read_text())
    assert {path: shape(example) for path, example in examples.items() if example is not None} == SHAPES
