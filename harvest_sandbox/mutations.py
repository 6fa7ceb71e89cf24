"""Realistic random batches of changes (:func:`mutate`), each with fresh timestamps from the store's clock.

The mix (:data:`OPERATIONS`, with weights) mirrors what people do in a live Harvest account between two syncs. Most
of it is time: logged today, edited, moved to another project or task, deleted (recent entries, now and then an old
one), an old timesheet corrected; weeks submitted and approved. Then money: expenses logged and deleted, invoices
paid in part or in full, a payment deleted, drafts sent, reminders sent, estimates viewed, a message deleted, a draft
invoice deleted. Then the account: people assigned to projects and removed from them, new billable rates, clients,
projects, users, tasks and contacts edited.

Only what a person may do is done: locked records (approved or invoiced) are never edited, moved or deleted, and
time is edited only while its week is unsubmitted. "Recent" and "weeks back" count from the dataset's anchor (the
day its history ends), so the picks do not depend on the wall clock. What a change does to other records is the
store's job (a payment moves its invoice, a deleted invoice takes its messages and payments, an approval locks its
records: harvest-api/README.md sections 9 and 10).

Each operation returns the :class:`~harvest_sandbox.resources.Change` records it made (an approval: one per time
entry or expense), or None when the account has nothing it could apply to. Randomness comes from a
``random.Random`` seeded with the dataset seed and the batch number, so the same history gives the same changes.
This module sits on top of the store: the control plane (``POST /_sandbox/mutate``) and ``SandboxServer.mutate``
call :func:`mutate`; the store knows nothing of it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .resources import SPECS, Change, Record
from .store import Store

#: Operation -> weight (of 120). Most changes are time logged and edited in the current week.
OPERATIONS: tuple[tuple[str, int], ...] = (
    ("log_time", 30),
    ("edit_time", 22),
    ("move_time", 3),
    ("fix_old_time", 1),
    ("delete_recent_time", 4),
    ("delete_old_time", 1),
    ("approve_week", 4),
    ("log_expense", 8),
    ("delete_expense", 1),
    ("pay_invoice", 6),
    ("delete_payment", 1),
    ("remind_invoice", 6),
    ("delete_invoice_message", 1),
    ("send_invoice", 2),
    ("delete_invoice", 1),
    ("view_estimate", 5),
    ("send_estimate", 2),
    ("delete_estimate_message", 1),
    ("assign_user", 2),
    ("unassign_user", 1),
    ("change_rate", 2),
    ("edit_client", 4),
    ("edit_project", 4),
    ("edit_user", 3),
    ("edit_task", 2),
    ("edit_contact", 2),
)
#: Time "recent" enough to be edited, moved or deleted as a correction: the last two weeks.
RECENT_DAYS = 14
#: A deleted "old" time entry is older than this: outside a 90-day reconciliation window.
OLD_DAYS = 90
#: An "old timesheet" fixed is older than this many months.
OLD_TIMESHEET_MONTHS = 14
#: Payments and messages deleted are among the newest this many (mistakes are noticed soon).
NEWEST = 50

Outcome = Change | list[Change] | None


def mutate(store: Store, n: int = 10) -> list[Change]:
    """A realistic random batch of ``n`` operations (deterministic for a given seed and history); an operation makes
    no change when nothing fits it, and an approval makes one change per record."""
    with store.lock:
        return random_changes(store, n, seed=(store.dataset.seed, store.next_batch()))


def random_changes(store: Store, n: int, *, seed: Any) -> list[Change]:
    rng = random.Random(repr(seed))
    names = [name for name, _ in OPERATIONS]
    weights = [weight for _, weight in OPERATIONS]
    changes: list[Change] = []
    for _ in range(n):
        changes += apply(store, rng.choices(names, weights)[0], rng)
    return changes


def apply(store: Store, operation: str, rng: random.Random) -> list[Change]:
    """One operation of :data:`OPERATIONS` by name (a test that needs every kind of change applies each); what it
    changed, empty when nothing in the account fits it."""
    if operation not in dict(OPERATIONS):
        raise KeyError(f"unknown operation {operation!r}")
    with store.lock:
        outcome: Outcome = globals()[f"_{operation}"](store, rng)
    if isinstance(outcome, Change):
        return [outcome]
    return list(outcome or [])


def _pick(
    store: Store,
    name: str,
    rng: random.Random,
    where: Callable[[Record], bool] | None = None,
    *,
    since: str | None = None,
    before: str | None = None,
    newest: int | None = None,
) -> Record | None:
    """A random record (satisfying ``where``) without scanning 200k records: sample the sorted index first.

    ``since``/``before`` bound the list's date (``spent_date``, ``issue_date``: ``since <= date < before``);
    ``newest`` keeps the last ``newest`` records of an id-ordered collection."""
    with store.lock:
        records = store._ascending(name)
        order = SPECS[name].order
        low = bisect.bisect_left(records, (since, 0), key=order) if since else 0
        high = bisect.bisect_left(records, (before, 0), key=order) if before else len(records)
        if newest is not None:
            low = max(low, high - newest)
        if low >= high:
            return None
        for _ in range(64):
            record = records[low + int(rng.random() * (high - low))]
            if where is None or where(record):
                return record
        assert where is not None
        matching = [r for r in records[low:high] if where(r)]
        return matching[int(rng.random() * len(matching))] if matching else None


def _anchor_day(store: Store) -> date:
    """The day the dataset's history ends: "recent" and "weeks back" count from it."""
    return store.dataset.anchor.date()


def _days_back(store: Store, days: int) -> str:
    return (_anchor_day(store) - timedelta(days=days)).isoformat()


def _months_back(day: date, months: int) -> date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    return date(year, month + 1, min(day.day, 28))


def _correctable(record: Record) -> bool:
    """Time its owner may still change: unsubmitted, not locked (approved or invoiced), not a running timer."""
    return record["approval_status"] == "unsubmitted" and not record["is_locked"] and not record["is_running"]


def _deletable(store: Store) -> Callable[[Record], bool]:
    """Time its owner may delete: correctable, on a project that is not archived ("only possible if it's not closed
    and the associated project and task haven't been archived", Harvest's docs of DELETE /v2/time_entries/{id})."""
    projects = store.collection("projects")

    def deletable(record: Record) -> bool:
        project = projects.get(record["project"]["id"])
        return _correctable(record) and project is not None and bool(project["is_active"])

    return deletable


def _log_time(store: Store, rng: random.Random) -> Outcome:
    """Time logged today, on a task the template entry's user was on (unsubmitted: today's week is open)."""
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
            "approval_status": "unsubmitted",
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


def _edit_time(store: Store, rng: random.Random) -> Outcome:
    """Hours corrected on an entry of the last two weeks whose week is not submitted yet."""
    record = _pick(store, "time_entries", rng, _correctable, since=_days_back(store, RECENT_DAYS))
    if record is None:
        return None
    hours = round(record["hours"] + rng.choice((-0.25, 0.25, 0.5)), 2)
    hours = max(hours, 0.25)
    store.update("time_entries", record["id"], {"hours": hours, "hours_without_timer": hours, "rounded_hours": hours})
    return Change("update", "time_entries", record["id"])


def _move_time(store: Store, rng: random.Random) -> Outcome:
    """A recent entry booked on the wrong project or task moved to another active one of the same user: the
    project, client, task, both assignments, billable flag and rate follow the new task assignment."""
    record = _pick(store, "time_entries", rng, _correctable, since=_days_back(store, RECENT_DAYS))
    if record is None:
        return None
    user_id = record["user"]["id"]
    targets = []
    for ua in store.list("user_assignments", user_id=user_id, is_active=True):
        project = store.collection("projects").get(ua["project"]["id"])
        if project is None or not project["is_active"]:
            continue
        for ta in store.list("task_assignments", parent_id=project["id"], is_active=True):
            if (project["id"], ta["task"]["id"]) != (record["project"]["id"], record["task"]["id"]):
                targets.append((ua, project, ta))
    if not targets:
        return None
    ua, project, ta = targets[int(rng.random() * len(targets))]
    client = store.get("clients", project["client"]["id"])
    billable = bool(ta["billable"])
    rate = ua["hourly_rate"] if not ua["use_default_rates"] else ta["hourly_rate"]
    store.update(
        "time_entries",
        record["id"],
        {
            "client": {"id": client["id"], "name": client["name"], "currency": client["currency"]},
            "project": {"id": project["id"], "name": project["name"], "code": project["code"]},
            "task": dict(ta["task"]),
            "user_assignment": {key: ua.get(key) for key in record["user_assignment"]},
            "task_assignment": {key: ta.get(key) for key in record["task_assignment"]},
            "billable": billable,
            "budgeted": project["budget"] is not None,
            "billable_rate": rate if billable else None,
        },
    )
    return Change("update", "time_entries", record["id"])


def _fix_old_time(store: Store, rng: random.Random) -> Outcome:
    """An old timesheet corrected: an entry more than 14 months back that nothing locks (before the account
    approved timesheets, never invoiced) gets its hours and notes fixed."""
    before = _months_back(_anchor_day(store), OLD_TIMESHEET_MONTHS).isoformat()
    record = _pick(store, "time_entries", rng, _correctable, before=before)
    if record is None:
        return None
    hours = max(round(record["hours"] + rng.choice((-0.5, -0.25, 0.25, 0.5)), 2), 0.25)
    notes = f"{record.get('notes') or ''}".split(" (corrected")[0] + " (corrected)"
    store.update(
        "time_entries",
        record["id"],
        {"hours": hours, "hours_without_timer": hours, "rounded_hours": hours, "notes": notes},
    )
    return Change("update", "time_entries", record["id"])


def _delete_recent_time(store: Store, rng: random.Random) -> Outcome:
    """An entry of the last two weeks deleted before its week is submitted."""
    return _delete_time(store, rng, since=_days_back(store, RECENT_DAYS), before=None)


def _delete_old_time(store: Store, rng: random.Random) -> Outcome:
    """An entry more than 90 days back deleted (nothing locks it: never approved, never invoiced)."""
    return _delete_time(store, rng, since=None, before=_days_back(store, OLD_DAYS))


def _delete_time(store: Store, rng: random.Random, *, since: str | None, before: str | None) -> Outcome:
    record = _pick(store, "time_entries", rng, _deletable(store), since=since, before=before)
    if record is None:
        return None
    store.delete("time_entries", record["id"])
    return Change("delete", "time_entries", record["id"])


def _approve_week(store: Store, rng: random.Random) -> Outcome:
    """A week one to three weeks back moves on: a user submits it (if unsubmitted) or a manager approves it (if
    submitted). Every time entry and expense of that user and week changes (``Store.set_approval``); whether their
    ``updated_at`` moves is the ``approval_moves_updated_at`` switch."""
    this_week = store.week_of(_anchor_day(store))
    since = (this_week - timedelta(weeks=3)).isoformat()
    record = _pick(
        store, "time_entries", rng, lambda r: r["approval_status"] != "approved", since=since, before=str(this_week)
    )
    if record is None:
        return None
    status = "submitted" if record["approval_status"] == "unsubmitted" else "approved"
    return store.set_approval(record["user"]["id"], record["spent_date"], status) or None


def _log_expense(store: Store, rng: random.Random) -> Outcome:
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
            "approval_status": "unsubmitted",
            "is_locked": False,
            "is_billed": False,
            "locked_reason": None,
            "invoice": None,
            "receipt": None,
            "notes": "Logged after the last sync",
        },
    )
    return Change("create", "expenses", record["id"])


def _delete_expense(store: Store, rng: random.Random) -> Outcome:
    """An expense of the last two months deleted while its week is unsubmitted and nothing locks it."""
    record = _pick(
        store,
        "expenses",
        rng,
        lambda r: r["approval_status"] == "unsubmitted" and not r["is_locked"],
        since=_days_back(store, 60),
    )
    if record is None:
        return None
    store.delete("expenses", record["id"])
    return Change("delete", "expenses", record["id"])


def _pay_invoice(store: Store, rng: random.Random) -> Outcome:
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


def _delete_payment(store: Store, rng: random.Random) -> Outcome:
    """A payment recorded by mistake deleted (one of the newest): the store moves its invoice (``due_amount``,
    ``updated_at``; a paid invoice with something due again is open)."""
    payment = _pick(store, "invoice_payments", rng, newest=NEWEST)
    if payment is None:
        return None
    invoice_id = store.parent_of("invoice_payments", payment["id"])
    store.delete("invoice_payments", payment["id"])
    return Change("delete", "invoice_payments", payment["id"], invoice_id)


def _delete_invoice_message(store: Store, rng: random.Random) -> Outcome:
    """A message of an invoice deleted (one of the newest): the invoice does not change."""
    return _delete_message(store, rng, "invoice_messages")


def _delete_estimate_message(store: Store, rng: random.Random) -> Outcome:
    """A message of an estimate deleted (one of the newest): the estimate does not change."""
    return _delete_message(store, rng, "estimate_messages")


def _delete_message(store: Store, rng: random.Random, name: str) -> Outcome:
    message = _pick(store, name, rng, newest=NEWEST)
    if message is None:
        return None
    parent = store.parent_of(name, message["id"])
    store.delete(name, message["id"])
    return Change("delete", name, message["id"], parent)


def _delete_invoice(store: Store, rng: random.Random) -> Outcome:
    """A draft invoice deleted, with its messages and payments (the store deletes a parent's children). Only a draft
    no time entry or expense is billed on: what Harvest does to billed items of a deleted invoice is not emulated."""

    def unbilled_draft(invoice: Record) -> bool:
        if invoice["state"] != "draft":
            return False
        for name in ("time_entries", "expenses"):
            for record in store.collection(name).values():
                billed_on = record["invoice"]
                if billed_on is not None and billed_on["id"] == invoice["id"]:
                    return False
        return True

    invoice = _pick(store, "invoices", rng, unbilled_draft)
    if invoice is None:
        return None
    store.delete("invoices", invoice["id"])
    return Change("delete", "invoices", invoice["id"])


def _remind_invoice(store: Store, rng: random.Random) -> Outcome:
    """A reminder on an open invoice: the invoice does not change."""
    return _invoice_message(store, rng, "open", "Reminder: invoice #{number}", reminder=True)


def _send_invoice(store: Store, rng: random.Random) -> Outcome:
    """A draft invoice sent to its client: the store stamps its ``sent_at`` and it becomes open."""
    return _invoice_message(store, rng, "draft", "Invoice #{number}", reminder=False)


def _invoice_message(store: Store, rng: random.Random, state: str, subject: str, *, reminder: bool) -> Outcome:
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


def _view_estimate(store: Store, rng: random.Random) -> Outcome:
    """A client opens a sent estimate: a ``view`` event, the estimate does not change."""
    return _estimate_message(store, rng, "sent", "view")


def _send_estimate(store: Store, rng: random.Random) -> Outcome:
    """A draft estimate sent to its client: the store stamps its ``sent_at`` and it becomes sent."""
    return _estimate_message(store, rng, "draft", None)


def _estimate_message(store: Store, rng: random.Random, state: str, event: str | None) -> Outcome:
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


def _assign_user(store: Store, rng: random.Random) -> Outcome:
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


def _unassign_user(store: Store, rng: random.Random) -> Outcome:
    """A person removed from a project: a user assignment (not the project's manager) with no time entries or
    expenses ("Deleting a user assignment is only possible if it has no time entries or expenses associated with
    it", Harvest's docs) goes, and with it the user's project assignment (the same record seen from the user). Whether
    Harvest moves anything else is unknown, so nothing else moves; the project's task assignments stay (they are the
    project's, not the user's)."""
    booked = {
        r["user_assignment"]["id"] for name in ("time_entries", "expenses") for r in store.collection(name).values()
    }
    assignment = _pick(store, "user_assignments", rng, lambda r: not r["is_project_manager"] and r["id"] not in booked)
    if assignment is None:
        return None
    store.delete("user_assignments", assignment["id"])
    return Change("delete", "user_assignments", assignment["id"], assignment["project"]["id"])


def _change_rate(store: Store, rng: random.Random) -> Outcome:
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


def _edit_simple(store: Store, rng: random.Random, name: str, field: str, values: tuple[Any, ...]) -> Outcome:
    record = _pick(store, name, rng)
    if record is None:
        return None
    value = rng.choice(values)
    if isinstance(value, str) and field in ("name", "notes", "address", "title"):
        value = f"{record.get(field) or ''}".split(" (edited")[0] + f" (edited {store.now()[:10]})"
    store.update(name, record["id"], {field: value})
    return Change("update", name, record["id"])


def _edit_client(store: Store, rng: random.Random) -> Outcome:
    return _edit_simple(store, rng, "clients", "address", ("x",))


def _edit_project(store: Store, rng: random.Random) -> Outcome:
    return _edit_simple(store, rng, "projects", "notes", ("x",))


def _edit_user(store: Store, rng: random.Random) -> Outcome:
    return _edit_simple(store, rng, "users", "weekly_capacity", (108000, 126000, 144000))


def _edit_task(store: Store, rng: random.Random) -> Outcome:
    return _edit_simple(store, rng, "tasks", "default_hourly_rate", (95.0, 110.0, 130.0))


def _edit_contact(store: Store, rng: random.Random) -> Outcome:
    return _edit_simple(store, rng, "contacts", "title", ("x",))
