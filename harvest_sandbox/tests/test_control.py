"""Mutations (Python and control plane), ground truth, the request log and loud failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from harvest_sandbox import SandboxServer
from harvest_sandbox.clock import fmt_datetime
from harvest_sandbox.testing import fail_on_handler_errors
from harvest_sandbox.tests.client import api


def _anchor(sandbox: SandboxServer) -> str:
    """The dataset's "now": every seeded record was updated at or before it, every mutation after it."""
    return fmt_datetime(sandbox.store.dataset.anchor)


def _control(sandbox: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, sandbox.url + "/_sandbox/" + path, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_given_update_when_listing_updated_since_anchor_then_only_the_changed_record(sandbox: SandboxServer) -> None:
    client = sandbox.store.iter_records("clients")[2]
    anchor = _anchor(sandbox)

    sandbox.store.update("clients", client["id"], {"name": "Renamed Ltd"})

    changed = api(sandbox, "/v2/clients", updated_since=anchor).json()["clients"]
    assert [(c["id"], c["name"]) for c in changed] == [(client["id"], "Renamed Ltd")]
    assert changed[0]["updated_at"] > anchor


def test_given_injected_clock_when_mutating_then_timestamps_come_from_it(sandbox: SandboxServer) -> None:
    sandbox.store.clock = lambda: datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    created = sandbox.store.create("tasks", {"name": "Time travel"})

    assert created["created_at"] == created["updated_at"] == "2030-01-02T03:04:05Z"
    assert api(sandbox, f"/v2/tasks/{created['id']}").json()["name"] == "Time travel"
    assert api(sandbox, "/v2/tasks").json()["tasks"][0]["id"] == created["id"], "newest first"


def test_given_delete_when_getting_record_then_404(sandbox: SandboxServer) -> None:
    entry = sandbox.store.iter_records("time_entries")[0]

    sandbox.store.delete("time_entries", entry["id"])

    assert api(sandbox, f"/v2/time_entries/{entry['id']}").status_code == 404
    assert entry["id"] not in {e["id"] for e in sandbox.store.list("time_entries")}


def test_given_mutate_batch_then_every_change_is_visible(sandbox: SandboxServer) -> None:
    sandbox.configure(approval_moves_updated_at=True)  # else an approval in the batch keeps its records' updated_at

    changes = sandbox.mutate(n=30)

    assert len(changes) >= 20
    last = {(change.resource, change.id): change for change in changes}
    for change in last.values():
        exists = sandbox.store.exists(change.resource, change.id)
        assert exists is (change.op != "delete")
        if change.op != "delete":
            assert sandbox.store.get(change.resource, change.id)["updated_at"] > _anchor(sandbox)
    assert {c.op for c in changes} >= {"create", "update"}


def test_given_same_seed_when_mutating_after_reset_then_same_changes(sandbox: SandboxServer) -> None:
    first = [c.as_dict() for c in sandbox.mutate(n=15)]
    sandbox.reset()

    assert [c.as_dict() for c in sandbox.mutate(n=15)] == first


def test_given_new_message_on_open_invoice_then_invoice_updated_at_is_unchanged(sandbox: SandboxServer) -> None:
    invoice = next(i for i in sandbox.store.iter_records("invoices") if i["state"] == "open")

    message = sandbox.store.create("invoice_messages", {"reminder": True}, parent_id=invoice["id"])

    assert sandbox.store.get("invoices", invoice["id"])["updated_at"] == invoice["updated_at"]
    listed = api(sandbox, f"/v2/invoices/{invoice['id']}/messages").json()["invoice_messages"]
    assert listed[0]["id"] == message["id"]


def test_given_control_plane_records_when_create_update_delete_then_applied(sandbox: SandboxServer) -> None:
    created = _control(
        sandbox, "POST", "records", {"op": "create", "resource": "clients", "fields": {"name": "New Co"}}
    )
    updated = _control(
        sandbox,
        "POST",
        "records",
        {"op": "update", "resource": "clients", "id": created["id"], "fields": {"is_active": False}},
    )
    deleted = _control(sandbox, "POST", "records", {"op": "delete", "resource": "clients", "id": created["id"]})

    assert created["name"] == "New Co" and updated["is_active"] is False and deleted["id"] == created["id"]
    assert api(sandbox, f"/v2/clients/{created['id']}").status_code == 404


def test_given_control_plane_mutate_then_changes_listed(sandbox: SandboxServer) -> None:
    body = _control(sandbox, "POST", "mutate", {"n": 5})

    assert body["changes"] and set(body["changes"][0]) == {"op", "resource", "id", "parent_id"}


def test_given_reset_then_dataset_config_and_log_are_back(sandbox: SandboxServer) -> None:
    sandbox.mutate(n=5)
    sandbox.configure(updated_since="inclusive")
    api(sandbox, "/v2/company")

    _control(sandbox, "POST", "reset")

    assert not api(sandbox, "/v2/time_entries", updated_since=_anchor(sandbox)).json()["time_entries"]
    assert _control(sandbox, "GET", "config")["updated_since"] == "strict"
    assert len(_control(sandbox, "GET", "requests")["requests"]) == 1


def test_given_seed_endpoint_then_new_account_and_info(sandbox: SandboxServer) -> None:
    before = sandbox.account_id

    info = _control(sandbox, "POST", "seed", {"seed": 7, "dataset": "tiny"})

    assert info["seed"] == 7 and str(info["account_id"]) != before
    assert api(sandbox, "/v2/users/me").status_code == 200
    assert set(info["tokens"]) == {"administrator", "manager", "member"}


def test_given_requests_when_reading_log_and_counts_then_role_status_and_totals(sandbox: SandboxServer) -> None:
    api(sandbox, "/v2/clients", "manager", per_page=1)
    api(sandbox, "/v2/invoices", "member")

    log = _control(sandbox, "GET", "requests")["requests"]
    counts = _control(sandbox, "GET", "counts")

    assert [(e["method"], e["path"], e["query"], e["status"], e["role"]) for e in log] == [
        ("GET", "/v2/clients", {"per_page": "1"}, 200, "manager"),
        ("GET", "/v2/invoices", {}, 403, "member"),
    ]
    assert counts["endpoints"]["GET /v2/clients"] == {"total": 1, "200": 1}
    assert counts["total"] == 2


def test_given_truth_endpoint_then_equals_api_for_role(sandbox: SandboxServer) -> None:
    truth = _control(sandbox, "GET", "truth/time_entries?role=member")["time_entries"]

    assert truth == api(sandbox, "/v2/time_entries", "member").json()["time_entries"]


def test_given_store_list_for_forbidden_role_then_raises(sandbox: SandboxServer) -> None:
    from harvest_sandbox.errors import Forbidden

    with pytest.raises(Forbidden):
        sandbox.store.list("invoices", role="member")


def test_given_handler_bug_when_requested_then_500_recorded_and_test_would_fail(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.app.store, "company", {"broken": object()})

    response = api(sandbox, "/v2/company")

    assert response.status_code == 500
    with pytest.raises(pytest.fail.Exception, match="TypeError"):
        fail_on_handler_errors(sandbox)


def test_given_injected_server_error_then_not_recorded_as_a_sandbox_bug(sandbox: SandboxServer) -> None:
    sandbox.add_fault("server_error", status=500, count=1)

    assert api(sandbox, "/v2/company").status_code == 500
    assert sandbox.take_errors() == []


def test_given_concurrent_requests_then_all_served(sandbox: SandboxServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    requests.get(sandbox.url + "/v2/time_entries", headers=sandbox.headers(), timeout=10).status_code
                ),
                range(40),
            )
        )

    assert statuses == [200] * 40


def test_given_admin_when_posting_patching_deleting_a_time_entry_then_harvest_style_answers(
    sandbox: SandboxServer,
) -> None:
    project = sandbox.store.iter_records("projects")[0]
    task = sandbox.store.list("task_assignments", parent_id=project["id"])[0]["task"]
    body = {"project_id": project["id"], "task_id": task["id"], "spent_date": "2026-11-02", "hours": 1.5}

    created = api(sandbox, "/v2/time_entries", method="POST", json_body=body)
    record = created.json()
    patched = api(sandbox, f"/v2/time_entries/{record['id']}", method="PATCH", json_body={"notes": "edited"})
    deleted = api(sandbox, f"/v2/time_entries/{record['id']}", method="DELETE")

    assert created.status_code == 201
    assert created.headers["Location"] == f"{sandbox.url}/api/v2/time_entries/{record['id']}"
    assert record["project"]["id"] == project["id"] and record["client"]["id"] == project["client"]["id"]
    assert record["task"] == {"id": task["id"], "name": task["name"]} and record["hours"] == 1.5
    assert patched.status_code == 200 and patched.json()["notes"] == "edited"
    assert deleted.status_code == 200 and deleted.json()["id"] == record["id"]
    assert api(sandbox, f"/v2/time_entries/{record['id']}").status_code == 404


def test_given_member_when_logging_time_then_entry_is_theirs_and_others_are_untouchable(sandbox: SandboxServer) -> None:
    mine = api(sandbox, "/v2/time_entries", "member", method="POST", json_body={"hours": 2.0}).json()
    other = next(e for e in sandbox.store.iter_records("time_entries") if e["user"]["id"] != sandbox.users["member"])

    assert mine["user"]["id"] == sandbox.users["member"]
    assert api(sandbox, f"/v2/time_entries/{other['id']}", "member", method="DELETE").status_code == 404
    assert api(sandbox, "/v2/clients", "member", method="POST", json_body={"name": "x"}).status_code == 403


def test_given_client_with_projects_when_deleting_then_422_with_hint(sandbox: SandboxServer) -> None:
    client_id = sandbox.store.iter_records("projects")[0]["client"]["id"]

    response = api(sandbox, f"/v2/clients/{client_id}", method="DELETE")

    assert response.status_code == 422
    assert response.headers["Hint"] == response.json()["message"]


def test_given_unknown_project_when_logging_time_then_422(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/time_entries", method="POST", json_body={"project_id": 1, "hours": 1})

    assert response.status_code == 422
    assert response.json() == {"message": "Project can't be blank"}


def test_given_newest_record_deleted_when_creating_then_its_id_is_not_reused(sandbox: SandboxServer) -> None:
    newest = max(sandbox.store.iter_records("clients"), key=lambda c: c["id"])
    sandbox.store.delete("clients", newest["id"])

    created = sandbox.store.create("clients", {"name": "After the delete"})

    assert created["id"] > newest["id"]
