"""What a child does to its parent, as real Harvest records show (harvest-api/README.md section 9).

A payment moves its invoice (`due_amount`, `updated_at` equal to the payment's, open <-> paid); sending stamps
`sent_at` (and `updated_at`), a draft becoming open (invoice) or sent (estimate); reminders, thank-you messages and
estimate views leave the parent untouched; a project assignment is a user assignment seen from its user. The same
holds in the generated history, through the store API, through the HTTP write routes and in random batches.
"""

from __future__ import annotations

from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.datagen import generate
from harvest_sandbox.tests.client import api


def _an_open_invoice(sandbox: SandboxServer) -> dict[str, Any]:
    return next(i for i in sandbox.store.iter_records("invoices") if i["state"] == "open" and i["due_amount"] > 0)


def _one(sandbox: SandboxServer, state: str, resource: str = "invoices") -> dict[str, Any]:
    return next(r for r in sandbox.store.iter_records(resource) if r["state"] == state)


def _sends(message: dict[str, Any]) -> bool:
    return message.get("event_type") in (None, "send") and not message.get("reminder") and not message.get("thank_you")


# -- payments ---------------------------------------------------------------------------------------------------------
def test_given_a_part_payment_on_an_open_invoice_then_its_due_amount_and_updated_at_move_and_it_stays_open(
    sandbox: SandboxServer,
) -> None:
    invoice = _an_open_invoice(sandbox)
    part = round(invoice["due_amount"] / 2, 2)

    payment = sandbox.store.create("invoice_payments", {"amount": part}, parent_id=invoice["id"])

    after = sandbox.store.get("invoices", invoice["id"])
    assert after["due_amount"] == pytest.approx(invoice["due_amount"] - part, abs=0.01)
    assert after["updated_at"] == payment["updated_at"] > invoice["updated_at"]
    assert after["state"] == "open"
    listed = api(sandbox, "/v2/invoices", updated_since=invoice["updated_at"]).json()["invoices"]
    assert invoice["id"] in {i["id"] for i in listed}


def test_given_a_payment_of_what_is_due_over_http_then_the_invoice_is_paid_and_deleting_it_reopens_it(
    sandbox: SandboxServer,
) -> None:
    invoice = _an_open_invoice(sandbox)
    body = {"amount": invoice["due_amount"], "paid_at": "2026-11-02T00:00:00Z", "paid_date": "2026-11-02"}

    created = api(sandbox, f"/v2/invoices/{invoice['id']}/payments", method="POST", json_body=body)

    assert created.status_code == 201, created.text
    paid = sandbox.store.get("invoices", invoice["id"])
    assert (paid["state"], paid["due_amount"], paid["paid_date"]) == ("paid", 0.0, "2026-11-02")
    assert paid["updated_at"] == created.json()["updated_at"]

    deleted = api(sandbox, f"/v2/invoices/{invoice['id']}/payments/{created.json()['id']}", method="DELETE")

    assert deleted.status_code == 200, deleted.text
    reopened = sandbox.store.get("invoices", invoice["id"])
    assert (reopened["state"], reopened["due_amount"], reopened["paid_date"]) == ("open", invoice["due_amount"], None)
    assert reopened["updated_at"] >= paid["updated_at"]


def test_given_a_payment_changed_through_the_store_then_the_invoice_due_amount_follows(sandbox: SandboxServer) -> None:
    invoice = _an_open_invoice(sandbox)
    payment = sandbox.store.create("invoice_payments", {"amount": 1.0}, parent_id=invoice["id"])

    changed = sandbox.store.update("invoice_payments", payment["id"], {"amount": 2.0})

    after = sandbox.store.get("invoices", invoice["id"])
    assert after["due_amount"] == pytest.approx(invoice["due_amount"] - 2.0, abs=0.01)
    assert after["updated_at"] == changed["updated_at"]


# -- messages ---------------------------------------------------------------------------------------------------------
def test_given_a_draft_invoice_sent_over_http_then_it_is_open_and_stamped_with_the_message_time(
    sandbox: SandboxServer,
) -> None:
    draft = _one(sandbox, "draft")
    body = {"event_type": None, "reminder": False, "thank_you": False, "subject": "Invoice"}

    response = api(sandbox, f"/v2/invoices/{draft['id']}/messages", method="POST", json_body=body)

    assert response.status_code == 201, response.text
    sent = sandbox.store.get("invoices", draft["id"])
    message = response.json()
    assert (sent["state"], sent["sent_at"], sent["updated_at"]) == (
        "open",
        message["created_at"],
        message["created_at"],
    )


@pytest.mark.parametrize("fields", [{"reminder": True}, {"thank_you": True}], ids=["reminder", "thank_you"])
def test_given_a_reminder_or_a_thank_you_on_an_open_invoice_then_the_invoice_is_untouched(
    sandbox: SandboxServer, fields: dict[str, Any]
) -> None:
    invoice = _one(sandbox, "open")

    sandbox.store.create(
        "invoice_messages",
        {"event_type": None, "reminder": False, "thank_you": False, **fields},
        parent_id=invoice["id"],
    )

    assert sandbox.store.get("invoices", invoice["id"]) == invoice


@pytest.mark.parametrize("event", [None, "send"])
def test_given_a_draft_estimate_sent_then_it_is_sent_and_stamped(sandbox: SandboxServer, event: str | None) -> None:
    draft = _one(sandbox, "draft", "estimates")

    message = sandbox.store.create("estimate_messages", {"event_type": event}, parent_id=draft["id"])

    sent = sandbox.store.get("estimates", draft["id"])
    assert (sent["state"], sent["sent_at"], sent["updated_at"]) == (
        "sent",
        message["created_at"],
        message["created_at"],
    )


def test_given_a_view_of_a_sent_estimate_then_the_estimate_is_untouched(sandbox: SandboxServer) -> None:
    estimate = _one(sandbox, "sent", "estimates")

    sandbox.store.create("estimate_messages", {"event_type": "view"}, parent_id=estimate["id"])

    assert sandbox.store.get("estimates", estimate["id"]) == estimate


# -- project assignments ------------------------------------------------------------------------------------------------
def test_given_a_new_user_assignment_then_it_is_listed_as_changed_and_is_the_users_project_assignment(
    sandbox: SandboxServer,
) -> None:
    store = sandbox.store
    before = sandbox.store.dataset.anchor.strftime("%Y-%m-%dT%H:%M:%SZ")  # every change is stamped after it
    project = next(p for p in store.iter_records("projects") if p["is_active"])
    on_project = {
        ua["user"]["id"] for ua in store.iter_records("user_assignments") if ua["project"]["id"] == project["id"]
    }
    user = next(u for u in store.iter_records("users") if u["is_active"] and u["id"] not in on_project)
    fields = {"project": {"id": project["id"], "name": project["name"], "code": project["code"]}, "is_active": True}
    assignment = store.create("user_assignments", {**fields, "user": {"id": user["id"], "name": "x"}})

    changed = api(sandbox, "/v2/user_assignments", updated_since=before).json()["user_assignments"]
    assert [(ua["id"], ua["user"]["id"]) for ua in changed] == [(assignment["id"], user["id"])]
    mine = api(sandbox, f"/v2/users/{user['id']}/project_assignments", updated_since=before).json()
    assert [(pa["id"], pa["updated_at"]) for pa in mine["project_assignments"]] == [
        (assignment["id"], assignment["updated_at"])
    ]


def test_given_project_assignments_then_each_is_an_active_user_assignment_with_its_id_and_updated_at(
    sandbox: SandboxServer,
) -> None:
    store = sandbox.store
    assignments = {ua["id"]: ua for ua in store.iter_records("user_assignments")}
    for user in store.iter_records("users"):
        for pa in store.list("project_assignments", parent_id=user["id"]):
            ua = assignments[pa["id"]]
            assert (ua["user"]["id"], ua["updated_at"], ua["is_active"]) == (user["id"], pa["updated_at"], True)


# -- generated history and random batches ---------------------------------------------------------------------------------
def _assert_children_agree_with_parents(
    invoices: list[dict[str, Any]],
    estimates: list[dict[str, Any]],
    children: dict[str, dict[int, list[dict[str, Any]]]],
    *,
    deletions: bool = False,
) -> None:
    """``deletions``: children may have been deleted since, which moves an invoice past its remaining payments (a
    deleted payment stamps it) and leaves a parent's ``sent_at`` after its remaining messages (a deleted message
    does not change it)."""
    problems = []
    for invoice in invoices:
        payments = children["invoice_payments"].get(invoice["id"], [])
        if payments:
            newest = max(p["updated_at"] for p in payments)
            if newest > invoice["updated_at"] or (newest != invoice["updated_at"] and not deletions):
                problems.append(f"invoice {invoice['id']}: newest payment {newest}, updated_at {invoice['updated_at']}")
            due = round(invoice["amount"] - sum(p["amount"] for p in payments), 2)
            if abs(due - invoice["due_amount"]) > 0.01:
                problems.append(f"invoice {invoice['id']}: due_amount {invoice['due_amount']}, payments leave {due}")
    for name, parents in (("invoice_messages", invoices), ("estimate_messages", estimates)):
        for parent in parents:
            messages = children[name].get(parent["id"], [])
            sends = [m["created_at"] for m in messages if _sends(m)]
            if sends and (max(sends) > parent["sent_at"] or (max(sends) != parent["sent_at"] and not deletions)):
                problems.append(f"{name} of {parent['id']}: last send {max(sends)}, sent_at {parent['sent_at']}")
            if parent["state"] == "draft" and any(m["created_at"] > parent["updated_at"] for m in messages):
                problems.append(f"{name} of draft {parent['id']}: a message after its updated_at")
    assert problems == [], "\n".join(problems[:10])


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_given_generated_history_then_payments_and_messages_agree_with_their_parents(size: str) -> None:
    data = generate(42, size)
    children: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for name in ("invoice_payments", "invoice_messages", "estimate_messages"):
        for record in data.collections[name]:
            children.setdefault(name, {}).setdefault(data.parents[name][record["id"]], []).append(record)
    _assert_children_agree_with_parents(data.collections["invoices"], data.collections["estimates"], children)


def test_given_random_batches_then_payments_and_messages_still_agree_with_their_parents(sandbox: SandboxServer) -> None:
    store = sandbox.store
    changes = sandbox.mutate(n=120) + sandbox.mutate(n=120)

    assert {c.resource for c in changes} >= {
        "invoice_payments",
        "invoice_messages",
        "estimate_messages",
        "user_assignments",
        "billable_rates",
    }
    children = {
        name: {parent["id"]: store.list(name, parent_id=parent["id"]) for parent in store.iter_records(parents)}
        for name, parents in (
            ("invoice_payments", "invoices"),
            ("invoice_messages", "invoices"),
            ("estimate_messages", "estimates"),
        )
    }
    _assert_children_agree_with_parents(
        store.iter_records("invoices"), store.iter_records("estimates"), children, deletions=True
    )
