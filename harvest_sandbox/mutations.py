"""Realistic random batches of changes (:func:`mutate`), each with fresh timestamps from the store's clock.

The mix mirrors what happens in a live Harvest account between two syncs: time is logged, edited and deleted;
invoices get paid, in part or in full (a payment is added and the store moves the invoice's ``due_amount`` and
``updated_at``); drafts are sent (a message is added and the store stamps the parent's ``sent_at``); reminders are
sent to open invoices and clients view sent estimates (a message is added, the parent does not change); people are
assigned to projects and get new billable rates; clients, projects, users and tasks are edited; expenses are logged.
What a child does to its parent is the store's job (``Store._move_parent``, harvest-api/README.md section 9).
Randomness comes from a ``random.Random`` seeded with the dataset seed and the batch number, so the same history
gives the same changes. This module sits on top of the store: the control plane (``POST /_sandbox/mutate``) and
``SandboxServer.mutate`` call :func:`mutate`; the store knows nothing of it.
"""

from __future__ import annotations

import random
from typing import Any

from .resources import Change
from .store import Store

OPERATIONS = (
    ("log_time", 30),
    ("edit_time", 25),
    ("delete_time", 5),
    ("log_expense", 8),
    ("pay_invoice", 6),
    ("remind_invoice", 6),
    ("view_estimate", 5),
    ("send_invoice", 2),
    ("send_estimate", 2),
    ("assign_user", 2),
    ("change_rate", 2),
    ("edit_client", 4),
    ("edit_project", 4),
    ("edit_user", 3),
    ("edit_task", 2),
    ("edit_contact", 2),
)


def mutate(store: Store, n: int = 10) -> list[Change]:
    """A realistic random batch of ``n`` changes (deterministic for a given seed and history)."""
    with store.lock:
        return random_changes(store, n, seed=(store.dataset.seed, store.next_batch()))


def random_changes(store: Store, n: int, *, seed: Any) -> list[Change]:
    rng = random.Random(repr(seed))
    names = [name for name, _ in OPERATIONS]
    weights = [weight for _, weight in OPERATIONS]
    changes: list[Change] = []
    for _ in range(n):
        op = rng.choices(names, weights)[0]
        change = globals()[f"_{op}"](store, rng)
        if change is not None:
            changes.append(change)
    return changes


def _pick(store: Store, name: str, rng: random.Random, where: Any = None) -> dict[str, Any] | None:
    """A random record (satisfying ``where``) without scanning 200k records: sample the sorted index first."""
    with store.lock:
        records = store._ascending(name)
        if not records:
            return None
        for _ in range(64):
            record = records[int(rng.random() * len(records))]
            if where is None or where(record):
                return record
        matching = [r for r in records if where(r)]
        return matching[int(rng.random() * len(matching))] if matching else None


def _log_time(store: Store, rng: random.Random) -> Change | None:
    template = _pick(store, "time_entries", rng, lambda r: not r["is_running"])
    if template is None:
        return None
    today = store.now()[:10]
    hours = round(rng.randint(1, 24) * 0.25, 2)
    record = store.create(
        "time_entries",
        {
            **{k: template[k] for k in ("user", "client", "project", "task", "user_assignment", "task_assignment")},
            "spent_date": today,
            "hours": hours,
            "hours_without_timer": hours,
            "rounded_hours": hours,
            "notes": rng.choice(("Follow-up", "New work", "Call")),
            "is_locked": False,
            "locked_reason": None,
            "is_closed": False,
            "is_billed": False,
            "invoice": None,
            "is_running": False,
            "timer_started_at": None,
            "billable": template["billable"],
            "billable_rate": template["billable_rate"],
            "cost_rate": template["cost_rate"],
        },
    )
    return Change("create", "time_entries", record["id"])


def _edit_time(store: Store, rng: random.Random) -> Change | None:
    record = _pick(store, "time_entries", rng, lambda r: not r["is_locked"])
    if record is None:
        return None
    hours = round(record["hours"] + rng.choice((-0.25, 0.25, 0.5)), 2)
    hours = max(hours, 0.25)
    store.update("time_entries", record["id"], {"hours": hours, "hours_without_timer": hours, "rounded_hours": hours})
    return Change("update", "time_entries", record["id"])


def _delete_time(store: Store, rng: random.Random) -> Change | None:
    record = _pick(store, "time_entries", rng, lambda r: not r["is_locked"] and not r["is_running"])
    if record is None:
        return None
    store.delete("time_entries", record["id"])
    return Change("delete", "time_entries", record["id"])


def _log_expense(store: Store, rng: random.Random) -> Change | None:
    template = _pick(store, "expenses", rng)
    if template is None:
        return None
    record = store.create(
        "expenses",
        {
            **{k: template[k] for k in ("user", "user_assignment", "project", "client", "expense_category")},
            "spent_date": store.now()[:10],
            "total_cost": round(rng.uniform(5, 300), 2),
            "units": 1.0,
            "is_closed": False,
            "is_locked": False,
            "is_billed": False,
            "locked_reason": None,
            "invoice": None,
            "receipt": None,
            "notes": "Logged after the last sync",
        },
    )
    return Change("create", "expenses", record["id"])


def _pay_invoice(store: Store, rng: random.Random) -> Change | None:
    """A payment on an open invoice: half of what is due, or all of it (the invoice becomes paid)."""
    invoice = _pick(store, "invoices", rng, lambda r: r["state"] == "open" and r["due_amount"] > 0)
    if invoice is None or not store.collection("invoice_payments"):
        return None
    day = store.now()[:10]
    in_full = rng.random() < 0.6
    payment = store.create(
        "invoice_payments",
        {
            "amount": invoice["due_amount"] if in_full else round(invoice["due_amount"] / 2, 2),
            "paid_at": f"{day}T00:00:00Z",
            "paid_date": day,
            "notes": "Paid in full" if in_full else "Part payment",
            "transaction_id": None,
            "payment_gateway": {"id": None, "name": None},
        },
        parent_id=invoice["id"],
    )
    return Change("create", "invoice_payments", payment["id"], invoice["id"])


def _remind_invoice(store: Store, rng: random.Random) -> Change | None:
    """A reminder on an open invoice: the invoice does not change."""
    return _invoice_message(store, rng, "open", "Reminder: invoice #{number}", reminder=True)


def _send_invoice(store: Store, rng: random.Random) -> Change | None:
    """A draft invoice sent to its client: the store stamps its ``sent_at`` and it becomes open."""
    return _invoice_message(store, rng, "draft", "Invoice #{number}", reminder=False)


def _invoice_message(store: Store, rng: random.Random, state: str, subject: str, *, reminder: bool) -> Change | None:
    invoice = _pick(store, "invoices", rng, lambda r: r["state"] == state)
    if invoice is None or not store.collection("invoice_messages"):
        return None
    message = store.create(
        "invoice_messages",
        {
            "reminder": reminder,
            "thank_you": False,
            "event_type": None,
            "subject": subject.format(number=invoice["number"]),
            "recipients": [{"name": invoice["client"]["name"], "email": "billing@client.example"}],
        },
        parent_id=invoice["id"],
    )
    return Change("create", "invoice_messages", message["id"], invoice["id"])


def _view_estimate(store: Store, rng: random.Random) -> Change | None:
    """A client opens a sent estimate: a ``view`` event, the estimate does not change."""
    return _estimate_message(store, rng, "sent", "view")


def _send_estimate(store: Store, rng: random.Random) -> Change | None:
    """A draft estimate sent to its client: the store stamps its ``sent_at`` and it becomes sent."""
    return _estimate_message(store, rng, "draft", None)


def _estimate_message(store: Store, rng: random.Random, state: str, event: str | None) -> Change | None:
    estimate = _pick(store, "estimates", rng, lambda r: r["state"] == state)
    if estimate is None or not store.collection("estimate_messages"):
        return None
    message = store.create(
        "estimate_messages",
        {
            "event_type": event,
            "subject": f"Estimate #{estimate['number']}",
            "recipients": [{"name": estimate["client"]["name"], "email": "buyer@client.example"}],
        },
        parent_id=estimate["id"],
    )
    return Change("create", "estimate_messages", message["id"], estimate["id"])


def _assign_user(store: Store, rng: random.Random) -> Change | None:
    """An active user put on an active project they are not on yet (a new project assignment for that user)."""
    project = _pick(store, "projects", rng, lambda r: r["is_active"])
    if project is None:
        return None
    on_project = {
        ua["user"]["id"] for ua in store.collection("user_assignments").values() if ua["project"]["id"] == project["id"]
    }
    user = _pick(store, "users", rng, lambda r: r["is_active"] and r["id"] not in on_project)
    if user is None:
        return None
    record = store.create(
        "user_assignments",
        {
            "project": {"id": project["id"], "name": project["name"], "code": project["code"]},
            "user": {"id": user["id"], "name": f"{user['first_name']} {user['last_name']}"},
            "is_active": True,
            "is_project_manager": False,
            "use_default_rates": True,
            "hourly_rate": user["default_hourly_rate"],
            "budget": None,
        },
    )
    return Change("create", "user_assignments", record["id"])


def _change_rate(store: Store, rng: random.Random) -> Change | None:
    """A user's new billable rate from today (the user record does not change)."""
    user = _pick(store, "users", rng, lambda r: r["is_active"])
    if user is None:
        return None
    rate = store.create(
        "billable_rates",
        {"amount": float(rng.choice((110, 125, 150))), "start_date": store.now()[:10], "end_date": None},
        parent_id=user["id"],
    )
    return Change("create", "billable_rates", rate["id"], user["id"])


def _edit_simple(store: Store, rng: random.Random, name: str, field: str, values: tuple[Any, ...]) -> Change | None:
    record = _pick(store, name, rng)
    if record is None:
        return None
    value = rng.choice(values)
    if isinstance(value, str) and field in ("name", "notes", "address", "title"):
        value = f"{record.get(field) or ''}".split(" (edited")[0] + f" (edited {store.now()[:10]})"
    store.update(name, record["id"], {field: value})
    return Change("update", name, record["id"])


def _edit_client(store: Store, rng: random.Random) -> Change | None:
    return _edit_simple(store, rng, "clients", "address", ("x",))


def _edit_project(store: Store, rng: random.Random) -> Change | None:
    return _edit_simple(store, rng, "projects", "notes", ("x",))


def _edit_user(store: Store, rng: random.Random) -> Change | None:
    return _edit_simple(store, rng, "users", "weekly_capacity", (108000, 126000, 144000))


def _edit_task(store: Store, rng: random.Random) -> Change | None:
    return _edit_simple(store, rng, "tasks", "default_hourly_rate", (95.0, 110.0, 130.0))


def _edit_contact(store: Store, rng: random.Random) -> Change | None:
    return _edit_simple(store, rng, "contacts", "title", ("x",))
