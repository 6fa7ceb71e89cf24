"""Harvest's Reports API as model functions: rows computed from time entries, expenses and projects.

The store chooses the records (the report window, the role's scope) and caches the rows (``Store.report``); this
module only validates the parameters and adds the records up. One row per subject per currency (the client's
currency), Harvest's row fields per report, no ids or timestamps. ``billable_amount`` is ``sum(hours *
billable_rate)`` over billable entries; uninvoiced counts billable entries and expenses that are not billed;
``project_budget`` lists projects that have a budget (spent = hours for hour budgets, billable amount for money
budgets). Rows are ordered by subject name, then currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .errors import BadRequest, Unprocessable
from .resources import Record, normalise_date

TIME_REPORTS = ("time/clients", "time/projects", "time/tasks", "time/team")
EXPENSE_REPORTS = ("expenses/clients", "expenses/projects", "expenses/categories", "expenses/team")
REPORTS = (*TIME_REPORTS, *EXPENSE_REPORTS, "uninvoiced", "project_budget")
MAX_WINDOW_DAYS = 365


def family_of(name: str) -> str:
    if name in TIME_REPORTS:
        return "reports_time"
    if name in EXPENSE_REPORTS:
        return "reports_expenses"
    return "reports_uninvoiced" if name == "uninvoiced" else "reports_project_budget"


def params_of(name: str) -> tuple[str, ...]:
    if name == "project_budget":
        return ("is_active",)
    if name in EXPENSE_REPORTS:
        return ("from", "to")
    return ("from", "to", "include_fixed_fee")


def window(params: Mapping[str, str]) -> tuple[str, str]:
    """Validate ``from``/``to``: both required (422), ``to - from <= 365`` days (else Harvest's 400)."""
    for name in ("from", "to"):
        if not params.get(name):
            raise Unprocessable(f"Missing required parameter: {name}")
    start, end = normalise_date("from", params["from"]), normalise_date("to", params["to"])
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    if days < 0:
        raise Unprocessable("Invalid timeframe: from must be on or before to")
    if days > MAX_WINDOW_DAYS:
        raise BadRequest("Invalid timeframe: must not exceed 1 year")
    return start, end


def flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() not in ("false", "0", "no")


def _project_label(project: Mapping[str, Any]) -> str:
    return f"[{project['code']}] {project['name']}" if project.get("code") else project["name"]


def uses_time(name: str) -> bool:
    """Whether report ``name`` adds up time entries (else expenses only, or projects for ``project_budget``)."""
    return name in TIME_REPORTS or name == "uninvoiced"


def uses_expenses(name: str) -> bool:
    return name in EXPENSE_REPORTS or name == "uninvoiced"


def rows(
    name: str,
    *,
    entries: Iterable[Record],
    expenses: Iterable[Record],
    projects: Mapping[int, Record],
    users: Mapping[int, Record],
    fixed_fee: bool,
) -> list[Record]:
    """The rows of a time, expense or uninvoiced report over ``entries`` and ``expenses`` (already limited to the
    window and to what the role sees); ``fixed_fee=False`` leaves fixed-fee projects out."""

    def keep(record: Record) -> bool:
        if fixed_fee:
            return True
        project = projects.get(record["project"]["id"])
        return not (project and project["is_fixed_fee"])

    grouped: dict[tuple[Any, ...], Record] = {}

    if uses_time(name):
        for entry in entries:
            if not keep(entry):
                continue
            currency = entry["client"]["currency"]
            hours = entry["hours"]
            billable = bool(entry["billable"])
            amount = hours * (entry["billable_rate"] or 0.0) if billable else 0.0
            if name == "uninvoiced":
                key = ("p", entry["project"]["id"], currency)
                target = grouped.get(key) or grouped.setdefault(key, _uninvoiced_row(entry, currency))
                target["total_hours"] += hours
                if billable and not entry["is_billed"]:
                    target["uninvoiced_hours"] += hours
                    target["uninvoiced_amount"] += amount
                continue
            key = _time_key(name, entry, currency)
            target = grouped.get(key) or grouped.setdefault(key, _time_row(name, entry, currency, users))
            target["total_hours"] += hours
            if billable:
                target["billable_hours"] += hours
                target["billable_amount"] += amount
    if uses_expenses(name):
        for expense in expenses:
            if name == "uninvoiced":
                if not keep(expense):
                    continue
                currency = expense["client"]["currency"]
                key = ("p", expense["project"]["id"], currency)
                target = grouped.get(key) or grouped.setdefault(key, _uninvoiced_row(expense, currency))
                if expense["billable"] and not expense["is_billed"]:
                    target["uninvoiced_expenses"] += expense["total_cost"]
                    target["uninvoiced_amount"] += expense["total_cost"]
                continue
            currency = expense["client"]["currency"]
            key = _expense_key(name, expense, currency)
            target = grouped.get(key) or grouped.setdefault(key, _expense_row(name, expense, currency, users))
            target["total_amount"] += expense["total_cost"]
            if expense["billable"]:
                target["billable_amount"] += expense["total_cost"]

    out = list(grouped.values())
    for record in out:
        for field, value in record.items():
            if isinstance(value, float):
                record[field] = round(value, 2)
    label = _label_field(name)
    out.sort(key=lambda r: (str(r.get(label) or ""), r["currency"]))
    return out


def _label_field(name: str) -> str:
    return {
        "time/clients": "client_name",
        "expenses/clients": "client_name",
        "time/projects": "project_name",
        "expenses/projects": "project_name",
        "uninvoiced": "project_name",
        "time/tasks": "task_name",
        "expenses/categories": "expense_category_name",
        "time/team": "user_name",
        "expenses/team": "user_name",
    }[name]


def _time_key(name: str, entry: Record, currency: str) -> tuple[Any, ...]:
    subject = {"time/clients": "client", "time/projects": "project", "time/tasks": "task", "time/team": "user"}[name]
    return (entry[subject]["id"], currency)


def _time_row(name: str, entry: Record, currency: str, users: Mapping[int, Record]) -> Record:
    totals: Record = {"total_hours": 0.0, "billable_hours": 0.0, "currency": currency, "billable_amount": 0.0}
    client, project = entry["client"], entry["project"]
    if name == "time/clients":
        return {"client_id": client["id"], "client_name": client["name"], **totals}
    if name == "time/projects":
        return {
            "project_id": project["id"],
            "project_name": _project_label(project),
            "client_id": client["id"],
            "client_name": client["name"],
            **totals,
        }
    if name == "time/tasks":
        return {"task_id": entry["task"]["id"], "task_name": entry["task"]["name"], **totals}
    user = users.get(entry["user"]["id"], {})
    return {
        "user_id": entry["user"]["id"],
        "user_name": entry["user"]["name"],
        "is_contractor": bool(user.get("is_contractor")),
        **totals,
        "weekly_capacity": user.get("weekly_capacity"),
        "avatar_url": user.get("avatar_url"),
    }


def _expense_key(name: str, expense: Record, currency: str) -> tuple[Any, ...]:
    subject = {
        "expenses/clients": "client",
        "expenses/projects": "project",
        "expenses/categories": "expense_category",
        "expenses/team": "user",
    }[name]
    return (expense[subject]["id"], currency)


def _expense_row(name: str, expense: Record, currency: str, users: Mapping[int, Record]) -> Record:
    totals: Record = {"total_amount": 0.0, "billable_amount": 0.0, "currency": currency}
    client, project = expense["client"], expense["project"]
    if name == "expenses/clients":
        return {"client_id": client["id"], "client_name": client["name"], **totals}
    if name == "expenses/projects":
        return {
            "client_id": client["id"],
            "client_name": client["name"],
            "project_id": project["id"],
            "project_name": _project_label(project),
            **totals,
        }
    if name == "expenses/categories":
        category = expense["expense_category"]
        return {"expense_category_id": category["id"], "expense_category_name": category["name"], **totals}
    user = users.get(expense["user"]["id"], {})
    return {
        "user_id": expense["user"]["id"],
        "user_name": expense["user"]["name"],
        "is_contractor": bool(user.get("is_contractor")),
        **totals,
    }


def _uninvoiced_row(record: Record, currency: str) -> Record:
    return {
        "client_id": record["client"]["id"],
        "client_name": record["client"]["name"],
        "project_id": record["project"]["id"],
        "project_name": record["project"]["name"],
        "currency": currency,
        "total_hours": 0.0,
        "uninvoiced_hours": 0.0,
        "uninvoiced_expenses": 0.0,
        "uninvoiced_amount": 0.0,
    }


HOUR_BUDGETS = ("project", "task", "person")


def project_budget(projects: Iterable[Record], entries: Iterable[Record]) -> list[Record]:
    """One row per project with a budget, among ``projects``; what is spent comes from all of ``entries``."""
    spent_hours: dict[int, float] = {}
    spent_money: dict[int, float] = {}
    for entry in entries:
        pid = entry["project"]["id"]
        spent_hours[pid] = spent_hours.get(pid, 0.0) + entry["hours"]
        if entry["billable"]:
            spent_money[pid] = spent_money.get(pid, 0.0) + entry["hours"] * (entry["billable_rate"] or 0.0)
    out = []
    for project in projects:
        if project["budget"] is None or project["budget_by"] == "none":
            continue
        spent = (spent_hours if project["budget_by"] in HOUR_BUDGETS else spent_money).get(project["id"], 0.0)
        out.append(
            {
                "project_id": project["id"],
                "project_name": project["name"],
                "client_id": project["client"]["id"],
                "client_name": project["client"]["name"],
                "budget_is_monthly": project["budget_is_monthly"],
                "budget_by": project["budget_by"],
                "is_active": project["is_active"],
                "budget": project["budget"],
                "budget_spent": round(spent, 2),
                "budget_remaining": round(project["budget"] - spent, 2),
            }
        )
    out.sort(key=lambda r: (r["project_name"], r["project_id"]))
    return out
