"""Seeded generator of a realistic Harvest account.

Every random choice goes through ONE ``random.Random(seed)``; every date is relative to the dataset's anchor, its
"now" (by default the moment it is generated; :data:`~harvest_sandbox.clock.REFERENCE_ANCHOR` where a test needs
fixed bytes). The same seed, size and anchor give the same bytes on every machine; another anchor moves every date
by the same number of days, so the shape of the data (counts, states, ids) is the same at any date.

Sizes (see :data:`SIZES`): ``tiny`` for unit-speed tests (every connector stream has records, child endpoints have
several parents, some lists are longer than a small ``per_page``), ``small`` for the demo, ``large`` for the
benchmark (~200k time entries). The account was opened in 2016 (records older than typical start dates); time
and expenses run from 2019 to "now"; three currencies; archived records; invoices and estimates in every state;
time entry ids cross 2^31. Timesheet approval (:meth:`Generator.approvals`): weeks before the account adopted it
were never submitted, later weeks are approved, the last three weeks are mixed, the current week is unsubmitted.
"""

from __future__ import annotations

import bisect
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .clock import REFERENCE_ANCHOR, as_anchor, week_start
from .resources import APPROVABLE, APPROVAL_STATUSES, Dataset, Record, lock_fields

# The calendar below is written as of REFERENCE_ANCHOR (2026-11-01); a dataset anchored elsewhere moves every one of
# these dates by its anchor's offset (Generator.on).
ACCOUNT_OPENED = date(2016, 6, 1)
HISTORY_START = date(2019, 1, 2)
#: How far back a record stamped "today" may go (working hours before the anchor).
TODAY_SPAN_SECONDS = 6 * 3600
#: The company's ``week_start_day``: timesheets are submitted and approved per week starting on this day.
WEEK_START_DAY = "Monday"
#: The account switched timesheet approval on in this week: earlier weeks were never submitted (their invoiced time
#: is locked by the invoice alone, as in the real records of an account without approvals, harvest-api §10 [V]).
APPROVALS_FROM = date(2024, 1, 1)
#: Weeks back from the anchor's week -> (P(approved), P(submitted)) per user; the rest of the draw is unsubmitted.
#: Older weeks (since APPROVALS_FROM) are approved, the anchor's own week is unsubmitted.
RECENT_APPROVALS: dict[int, tuple[float, float]] = {1: (0.0, 0.6), 2: (0.6, 0.3), 3: (0.85, 0.15)}


@dataclass(frozen=True)
class Size:
    users: int
    clients: int
    projects: int
    tasks: int
    time_entries: int
    expenses: int
    invoices: int
    estimates: int


SIZES: dict[str, Size] = {
    "tiny": Size(users=6, clients=5, projects=8, tasks=6, time_entries=60, expenses=24, invoices=12, estimates=8),
    "small": Size(
        users=20, clients=30, projects=60, tasks=12, time_entries=5000, expenses=1000, invoices=300, estimates=100
    ),
    "large": Size(
        users=150,
        clients=400,
        projects=1200,
        tasks=30,
        time_entries=200_000,
        expenses=20_000,
        invoices=5000,
        estimates=1000,
    ),
}

FIRST_NAMES = [
    "Ada",
    "Bob",
    "Carla",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kim",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Alan",
    "Bea",
    "Chen",
    "Dana",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lior",
    "Maya",
    "Nils",
]
LAST_NAMES = [
    "Allen",
    "Baker",
    "Costa",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
    "Berg",
    "Clark",
    "Dubois",
    "Eriksen",
]
COMPANY_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Aperture",
    "Black",
    "Mesa",
    "Nakatomi",
    "Dunder",
    "Sterling",
    "Cooper",
    "Pied",
    "Piper",
    "Massive",
    "Dynamic",
    "Bluth",
    "Prestige",
]
COMPANY_SUFFIXES = ("Inc.", "Ltd", "GmbH", "LLC", "SARL", "& Co", "Group", "Labs", "Industries", "Partners")
PROJECT_WORDS = [
    "Website Redesign",
    "Mobile App",
    "Online Store",
    "Brand Refresh",
    "Data Migration",
    "Marketing Campaign",
    "Annual Report",
    "API Integration",
    "Support Retainer",
    "Security Audit",
    "Onboarding Flow",
    "Analytics Dashboard",
    "Intranet",
    "Product Launch",
    "SEO Sprint",
    "Cloud Migration",
    "Design System",
    "Video Series",
    "Research Study",
    "CRM Rollout",
]
TASK_NAMES = [
    "Design",
    "Programming",
    "Project Management",
    "Research",
    "Testing",
    "Meetings",
    "Marketing",
    "Business Development",
    "Writing",
    "Support",
    "Consulting",
    "Training",
    "Illustration",
    "Copy Editing",
    "DevOps",
    "QA Review",
    "Planning",
    "Analysis",
    "Documentation",
    "Recruiting",
    "Photography",
    "Video Editing",
    "Translation",
    "Accounting",
    "Legal Review",
    "Sales",
    "Hosting",
    "Maintenance",
    "Workshops",
    "Travel Time",
]
NOTES = (
    "Planning meeting",
    "Implemented feature",
    "Code review",
    "Client call",
    "Fixed bugs",
    "Wrote documentation",
    "Design iteration",
    "Deployment",
    "Research",
    "Status report",
    "",
    "",
)
ROLE_NAMES = ("Developer", "Designer", "Sales", "Management", "QA")
TIMEZONES = ("Eastern Time (US & Canada)", "Pacific Time (US & Canada)", "London", "Berlin", "Paris")
CURRENCIES = ("USD", "USD", "USD", "USD", "EUR", "EUR", "GBP")
EXPENSE_CATEGORIES = (
    ("Lodging", None, None),
    ("Meals", None, None),
    ("Mileage", "mile", 0.655),
    ("Transportation", None, None),
    ("Entertainment", None, None),
    ("Software", None, None),
)
INVOICE_ITEM_CATEGORIES = (("Service", True, False), ("Product", False, True), ("Hosting", True, False))
ESTIMATE_ITEM_CATEGORIES = ("Service", "Product", "Discovery")
MANAGER_CLAIMS = [
    "billable_rates:read:all",
    "expenses:read:managed",
    "expenses:write:managed",
    "projects:read:managed",
    "timers:read:managed",
    "timers:write:managed",
    "users:read:all",
]
MEMBER_CLAIMS = ["expenses:read:own", "expenses:write:own", "timers:read:own", "timers:write:own"]
ADMIN_CLAIMS = [
    "billable_rates:read:all",
    "billable_rates:write:all",
    "clients:read:all",
    "estimates:read:all",
    "expenses:read:all",
    "invoices:read:all",
    "projects:read:all",
    "timers:read:all",
    "timers:write:all",
    "users:read:all",
]


_DAY_TEXT: dict[date, str] = {}


def _iso(day: date, seconds: int) -> str:
    seconds = max(0, min(seconds, 86399))
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = day.isoformat()
    return f"{text}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


class Generator:
    """One pass over the account, in dependency order. Use :func:`generate`."""

    def __init__(self, seed: int, size: Size, name: str, anchor: datetime) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.size = size
        self.name = name
        self.now: datetime = anchor
        self.today: date = anchor.date()
        self.shift = self.today - REFERENCE_ANCHOR.date()
        self.opened = self.on(ACCOUNT_OPENED)
        self.history_start = self.on(HISTORY_START)
        self.c: dict[str, list[Record]] = {}
        self.parents: dict[str, dict[int, int]] = {}

    # -- helpers -------------------------------------------------------------------------------------------------
    def randint(self, low: int, high: int) -> int:
        """``low <= n <= high`` from the one generator (``random()`` is C-fast; ``randint`` is not)."""
        return low + int(self.rng.random() * (high - low + 1))

    def pick(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.random() * len(options))]

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(n * 4):0{n}x}"

    def token(self, n: int) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        return "".join(self.pick(alphabet) for _ in range(n))

    def day_between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.randint(0, (end - start).days))

    def on(self, day: date) -> date:
        """A day of the reference calendar (as of 2026-11-01) on this dataset's calendar."""
        return day + self.shift

    def stamp(self, day: date) -> str:
        """A working-hours timestamp on ``day``; from ``day`` on the anchor's: in the hours before it, never after."""
        if day >= self.today:
            return self.before_now(self.randint(1, TODAY_SPAN_SECONDS))
        return _iso(day, self.randint(7 * 3600, 19 * 3600))

    def before_now(self, seconds: int) -> str:
        return (self.now - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def maintained(self, index: int, created: str) -> str:
        """``updated_at`` of an account setting (a role, a category) that is still edited years after its creation:
        the first of its list, and 40% of the others, last changed in the two years before the anchor."""
        if index > 0 and self.rng.random() >= 0.4:
            return self.later_stamp(created)
        recent = self.day_between(self.today - timedelta(days=730), self.today)
        return max(created, self.stamp(recent))

    def later_stamp(self, created: str, p_edit: float = 0.25, max_days: int = 400) -> str:
        """``updated_at`` for a record created at ``created``: usually the same, sometimes a later edit."""
        if self.rng.random() >= p_edit:
            return created
        day = date.fromisoformat(created[:10]) + timedelta(days=self.randint(0, max_days))
        stamp = self.stamp(min(day, self.today))
        return max(stamp, created)

    def ids(self, start: int, count: int, gap: int = 7) -> list[int]:
        out, current = [], start
        for _ in range(count):
            current += self.randint(1, gap)
            out.append(current)
        return out

    def assign_ids(self, records: list[Record], start: int, gap: int = 7) -> None:
        """Ids in creation order (ties keep generation order), as Harvest allocates them."""
        records.sort(key=lambda r: r["created_at"])
        for record, new_id in zip(records, self.ids(start, len(records), gap), strict=True):
            record["id"] = new_id

    # -- the account ---------------------------------------------------------------------------------------------
    def run(self) -> Dataset:
        account_id = self.randint(1_000_000, 9_999_999)
        tokens = {role: f"{account_id}.pt.{self.token(86)}" for role in ("administrator", "manager", "member")}
        oauth_client_id = self.token(24)
        oauth_client_secret = self.token(86)
        refresh_token = f"{account_id}.rt.{self.token(86)}"
        subdomain = self.pick(COMPANY_WORDS).lower() + "-" + self.hex(4)
        company = {
            "base_uri": f"https://{subdomain}.harvestapp.com",
            "full_domain": f"{subdomain}.harvestapp.com",
            "name": f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_SUFFIXES)} (Sandbox)",
            "is_active": True,
            "week_start_day": WEEK_START_DAY,
            "wants_timestamp_timers": False,
            "time_format": "hours_minutes",
            "date_format": "%Y-%m-%d",
            "plan_type": "business-v4",
            "expense_feature": True,
            "invoice_feature": True,
            "estimate_feature": True,
            "approval_feature": True,
            "team_feature": True,
            "clock": "12h",
            "currency_code_display": "iso_code_none",
            "currency_symbol_display": "symbol_before",
            "decimal_symbol": ".",
            "thousands_separator": ",",
            "color_scheme": "orange",
            "weekly_capacity": 126000,
            "currency": "USD",
        }
        self.users()
        self.roles()
        self.clients()
        self.contacts()
        self.tasks()
        self.projects()
        self.assignments()
        self.rates()
        self.categories()
        self.estimates()
        self.invoices()
        self.time_entries()
        self.expenses()
        self.messages_and_payments()
        self.approvals()
        principals = {
            "administrator": self.principal_admin["id"],
            "manager": self.principal_manager["id"],
            "member": self.principal_member["id"],
        }
        return Dataset(
            name=self.name,
            seed=self.seed,
            account_id=account_id,
            company=company,
            collections=self.c,
            parents=self.parents,
            principals=principals,
            tokens=tokens,
            oauth_client_id=oauth_client_id,
            oauth_client_secret=oauth_client_secret,
            oauth_refresh_token=refresh_token,
            anchor=self.now,
        )

    def users(self) -> None:
        rng, n = self.rng, self.size.users
        users: list[Record] = []
        for i in range(n):
            first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
            if i == 0:
                access = ["administrator"]
            elif i == 1:
                access = ["manager", "project_creator", "billable_rates_manager", "time_and_expenses_manager"]
            elif i == 2:
                access = ["member"]
            else:
                pick = rng.random()
                access = (
                    ["administrator"] if pick < 0.08 else ["manager", "project_creator"] if pick < 0.3 else ["member"]
                )
            created_day = self.opened if i == 0 else self.day_between(self.opened, self.today - timedelta(days=200))
            if i < 3:
                created_day = min(created_day, self.on(date(2016, 9, 1)))
            created = self.stamp(created_day)
            is_active = i < 3 or rng.random() > 0.15
            claims = (
                ADMIN_CLAIMS
                if access[0] == "administrator"
                else MANAGER_CLAIMS
                if access[0] == "manager"
                else MEMBER_CLAIMS
            )
            users.append(
                {
                    "id": 0,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first}.{last}{i}@example.com".lower(),
                    "telephone": "" if rng.random() < 0.6 else f"+1 555 01{self.randint(10, 99)}",
                    "timezone": self.pick(TIMEZONES),
                    "has_access_to_all_future_projects": access[0] == "administrator",
                    "is_contractor": i >= 3 and rng.random() < 0.15,
                    "is_active": is_active,
                    "created_at": created,
                    "updated_at": created if i < 3 else self.later_stamp(created, 0.5),
                    "weekly_capacity": self.pick((126000, 144000, 72000)),
                    "default_hourly_rate": float(self.pick((75, 90, 100, 120, 150))),
                    "cost_rate": float(self.pick((40, 50, 60, 75))),
                    "roles": [],
                    "access_roles": access,
                    "permissions_claims": list(claims),
                    "calendar_integration_enabled": rng.random() < 0.2,
                    "calendar_integration_source": None,
                    "can_create_projects": access[0] != "member",
                    "avatar_url": f"https://d3s3969qhosaug.cloudfront.net/v2/{self.hex(8)}/avatar.png",
                }
            )
        self.principal_admin, self.principal_manager, self.principal_member = users[0], users[1], users[2]
        self.assign_ids(users, 1_780_000, 900)
        self.c["users"] = users

    def roles(self) -> None:
        rng = self.rng
        roles: list[Record] = []
        users = self.c["users"]
        for i, name in enumerate(ROLE_NAMES[: max(3, min(len(ROLE_NAMES), len(users) // 2))]):
            members = sorted(u["id"] for u in users if rng.random() < 0.35)
            created = self.stamp(self.day_between(self.opened, self.on(date(2020, 6, 1))))
            roles.append(
                {
                    "id": 0,
                    "name": name,
                    "created_at": created,
                    "updated_at": self.maintained(i, created),
                    "user_ids": members,
                }
            )
            for user in users:
                if user["id"] in members:
                    user["roles"].append(name)
        self.assign_ids(roles, 617_000)
        self.c["roles"] = roles

    def clients(self) -> None:
        rng = self.rng
        clients: list[Record] = []
        for i in range(self.size.clients):
            created_day = (
                self.day_between(self.opened, self.on(date(2016, 12, 31)))
                if i < 2
                else self.day_between(self.opened, self.today - timedelta(days=90))
            )
            created = self.stamp(created_day)
            currency = ("USD", "EUR", "GBP")[i] if i < 3 else self.pick(CURRENCIES)
            clients.append(
                {
                    "id": 0,
                    "name": f"{self.pick(COMPANY_WORDS)} {self.pick(COMPANY_SUFFIXES)} {i + 1}",
                    "is_active": i < 3 or rng.random() > 0.15,
                    "address": f"{self.randint(1, 999)} Main St.\nSpringfield, ST {self.randint(10000, 99999)}",
                    "statement_key": self.hex(32),
                    "created_at": created,
                    "updated_at": created if i < 2 else self.later_stamp(created),
                    "currency": currency,
                }
            )
        self.assign_ids(clients, 5_735_000, 40)
        self.c["clients"] = clients

    def contacts(self) -> None:
        rng = self.rng
        contacts: list[Record] = []
        for client in self.c["clients"]:
            for _ in range(self.randint(1, 2)):
                first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
                created = max(
                    client["created_at"],
                    self.stamp(self.day_between(date.fromisoformat(client["created_at"][:10]), self.today)),
                )
                contacts.append(
                    {
                        "id": 0,
                        "title": self.pick(("CEO", "CFO", "Project Lead", "Accounts Payable", "")),
                        "first_name": first,
                        "last_name": last,
                        "email": f"{first}.{last}@client.example".lower(),
                        "phone_office": "" if rng.random() < 0.5 else f"+44 20 7946 0{self.randint(100, 999)}",
                        "phone_mobile": "" if rng.random() < 0.5 else f"+1 555 02{self.randint(10, 99)}",
                        "fax": "",
                        "created_at": created,
                        "updated_at": self.later_stamp(created),
                        "client": {"id": client["id"], "name": client["name"]},
                    }
                )
        self.assign_ids(contacts, 4_706_000, 30)
        self.c["contacts"] = contacts

    def tasks(self) -> None:
        rng = self.rng
        tasks: list[Record] = []
        for i, name in enumerate(TASK_NAMES[: self.size.tasks]):
            created = self.stamp(self.opened if i < 4 else self.day_between(self.opened, self.on(date(2022, 1, 1))))
            tasks.append(
                {
                    "id": 0,
                    "name": name,
                    "billable_by_default": rng.random() < 0.75,
                    "default_hourly_rate": float(self.pick((0, 90, 100, 125))),
                    "is_default": i < 3,
                    "is_active": i < 4 or rng.random() > 0.15,
                    "created_at": created,
                    "updated_at": self.later_stamp(created),
                }
            )
        self.assign_ids(tasks, 8_083_000, 60)
        self.c["tasks"] = tasks

    def projects(self) -> None:
        rng = self.rng
        projects: list[Record] = []
        clients = self.c["clients"]
        self.project_period: dict[int, tuple[date, date]] = {}
        self.client_of: dict[int, Record] = {}
        for i in range(self.size.projects):
            client = clients[i % len(clients)] if i < len(clients) else self.pick(clients)
            client_day = date.fromisoformat(client["created_at"][:10])
            start = self.day_between(
                max(client_day, self.history_start - timedelta(days=30)), self.today - timedelta(days=45)
            )
            is_active = client["is_active"] and (i < 4 or rng.random() > 0.2)
            end = (
                self.today
                if is_active
                else self.day_between(start + timedelta(days=30), self.today - timedelta(days=10))
            )
            created = max(client["created_at"], self.stamp(start - timedelta(days=self.randint(0, 20))))
            is_fixed_fee = i != 0 and rng.random() < 0.15
            has_budget = i in (0, 1) or rng.random() < 0.5
            budget_by = self.pick(("project", "project_cost", "task", "person")) if has_budget else "none"
            code = f"{client['name'][:3].upper()}-{i + 1:03d}" if rng.random() < 0.8 else None
            name = f"{self.pick(PROJECT_WORDS)} {start.year}"
            record = {
                "id": 0,
                "name": name,
                "code": code,
                "is_active": is_active,
                "bill_by": "none" if is_fixed_fee else self.pick(("Project", "Tasks", "People")),
                "budget": float(self.pick((40, 120, 200, 500, 1000)) * (100 if budget_by == "project_cost" else 1))
                if has_budget
                else None,
                "budget_by": budget_by,
                "budget_is_monthly": has_budget and rng.random() < 0.15,
                "notify_when_over_budget": has_budget,
                "over_budget_notification_percentage": 80.0,
                "over_budget_notification_date": None,
                "show_budget_to_all": rng.random() < 0.3,
                "created_at": created,
                "updated_at": self.later_stamp(created, 0.4),
                "starts_on": start.isoformat() if rng.random() < 0.85 else None,
                "ends_on": None if is_active else end.isoformat(),
                "is_billable": i == 0 or rng.random() < 0.9,
                "is_fixed_fee": is_fixed_fee,
                "notes": "",
                "client": {"id": client["id"], "name": client["name"], "currency": client["currency"]},
                "cost_budget": None,
                "cost_budget_include_expenses": False,
                "hourly_rate": float(self.pick((90, 100, 120, 150))),
                "fee": float(self.pick((5000, 12000, 25000))) if is_fixed_fee else None,
            }
            projects.append(record)
        self.assign_ids(projects, 14_307_000, 50)
        for record in projects:
            start = date.fromisoformat(record["starts_on"] or record["created_at"][:10])
            end = date.fromisoformat(record["ends_on"]) if record["ends_on"] else self.today
            self.project_period[record["id"]] = (max(start, self.history_start), max(end, self.history_start))
            self.client_of[record["id"]] = next(c for c in clients if c["id"] == record["client"]["id"])
        self.c["projects"] = projects

    def assignments(self) -> None:
        rng = self.rng
        users = self.c["users"]
        tasks = self.c["tasks"]
        user_assignments: list[Record] = []
        task_assignments: list[Record] = []
        managers = [u for u in users if u["access_roles"][0] in ("administrator", "manager")]
        for index, project in enumerate(self.c["projects"]):
            mini = {"id": project["id"], "name": project["name"], "code": project["code"]}
            created = project["created_at"]
            for task in rng.sample(tasks, k=min(len(tasks), self.randint(2, 4))):
                stamp = self.later_stamp(created, 0.1, 5)
                task_assignments.append(
                    {
                        "id": 0,
                        "billable": project["is_billable"] and task["billable_by_default"],
                        "is_active": task["is_active"] and rng.random() > 0.1,
                        "created_at": stamp,
                        "updated_at": self.later_stamp(stamp, 0.2),
                        "hourly_rate": project["hourly_rate"],
                        "budget": None,
                        "project": mini,
                        "task": {"id": task["id"], "name": task["name"]},
                    }
                )
            team = set(rng.sample(range(len(users)), k=min(len(users), self.randint(2, 5))))
            pm = self.principal_manager if index % 3 == 0 else self.pick(managers)
            team.add(users.index(pm))
            if index % 2 == 0 or index < 3:
                team.add(users.index(self.principal_member))
            for ui in sorted(team):
                user = users[ui]
                stamp = self.later_stamp(created, 0.1, 5)
                user_assignments.append(
                    {
                        "id": 0,
                        "is_project_manager": user is pm,
                        "is_active": project["is_active"] and user["is_active"] and rng.random() > 0.05,
                        "use_default_rates": rng.random() < 0.7,
                        "budget": None,
                        "created_at": stamp,
                        "updated_at": self.later_stamp(stamp, 0.2),
                        "hourly_rate": user["default_hourly_rate"],
                        "project": mini,
                        "user": {"id": user["id"], "name": f"{user['first_name']} {user['last_name']}"},
                    }
                )
        self.assign_ids(task_assignments, 155_500_000, 9)
        self.assign_ids(user_assignments, 125_060_000, 9)
        self.c["task_assignments"] = task_assignments
        self.c["user_assignments"] = user_assignments

    def rates(self) -> None:
        rng = self.rng
        for kind, base in (("billable_rates", 1_836_000), ("cost_rates", 825_000)):
            records: list[Record] = []
            parents: dict[int, int] = {}
            for user in self.c["users"]:
                created_day = date.fromisoformat(user["created_at"][:10])
                starts: list[date | None] = [None if rng.random() < 0.3 else created_day]
                day = created_day
                for _ in range(self.randint(0, 2)):
                    day = self.day_between(day + timedelta(days=60), self.today - timedelta(days=1))
                    if day >= self.today - timedelta(days=1):
                        break
                    starts.append(day)
                amount = user["default_hourly_rate"] if kind == "billable_rates" else user["cost_rate"]
                group: list[Record] = []
                for k, start in enumerate(starts):
                    following = starts[k + 1] if k + 1 < len(starts) else None
                    end = following - timedelta(days=1) if following is not None else None
                    created = self.stamp(start or created_day)
                    group.append(
                        {
                            "id": 0,
                            "amount": float(amount - 10 * (len(starts) - 1 - k)),
                            "start_date": start.isoformat() if start else None,
                            "end_date": end.isoformat() if end else None,
                            "created_at": created,
                            "updated_at": created,
                            "_user": user["id"],
                        }
                    )
                records.extend(group)
            # Ids follow start_date (the list order Harvest documents), across all users.
            records.sort(key=lambda r: (r["start_date"] or "", r["created_at"]))
            for record, new_id in zip(records, self.ids(base, len(records), 5), strict=True):
                record["id"] = new_id
                parents[new_id] = record.pop("_user")
            self.c[kind] = records
            self.parents[kind] = parents

    def categories(self) -> None:
        rng = self.rng
        expense: list[Record] = []
        for i, (name, unit_name, unit_price) in enumerate(EXPENSE_CATEGORIES):
            created = self.stamp(self.opened + timedelta(days=i))
            expense.append(
                {
                    "id": 0,
                    "name": name,
                    "unit_name": unit_name,
                    "unit_price": unit_price,
                    "is_active": i < 4 or rng.random() > 0.5,
                    "created_at": created,
                    "updated_at": self.maintained(i, created),
                }
            )
        self.assign_ids(expense, 4_195_900, 20)
        self.c["expense_categories"] = expense
        invoice: list[Record] = []
        for i, (name, service, exp) in enumerate(INVOICE_ITEM_CATEGORIES):
            created = self.stamp(self.opened + timedelta(days=i))
            invoice.append(
                {
                    "id": 0,
                    "name": name,
                    "use_as_service": service,
                    "use_as_expense": exp,
                    "created_at": created,
                    "updated_at": self.maintained(i, created),
                }
            )
        self.assign_ids(invoice, 1_466_290, 5)
        self.c["invoice_item_categories"] = invoice
        estimate: list[Record] = []
        for i, name in enumerate(ESTIMATE_ITEM_CATEGORIES):
            created = self.stamp(self.opened + timedelta(days=i))
            estimate.append({"id": 0, "name": name, "created_at": created, "updated_at": self.maintained(i, created)})
        self.assign_ids(estimate, 1_378_700, 5)
        self.c["estimate_item_categories"] = estimate

    def _creator(self) -> dict[str, Any]:
        admin = self.principal_admin
        return {"id": admin["id"], "name": f"{admin['first_name']} {admin['last_name']}"}

    def _amounts(self, items: Sequence[Record]) -> dict[str, Any]:
        subtotal = round(sum(item["amount"] for item in items), 2)
        tax = self.pick((None, None, 5.0, 10.0, 20.0))
        discount = self.pick((None, None, None, 10.0))
        discount_amount = round(subtotal * (discount or 0) / 100, 2)
        tax_amount = round((subtotal - discount_amount) * (tax or 0) / 100, 2)
        return {
            "amount": round(subtotal - discount_amount + tax_amount, 2),
            "tax": tax,
            "tax_amount": tax_amount,
            "tax2": None,
            "tax2_amount": 0.0,
            "discount": discount,
            "discount_amount": discount_amount,
        }

    def estimates(self) -> None:
        rng = self.rng
        clients = self.c["clients"]
        kinds = ESTIMATE_ITEM_CATEGORIES
        estimates: list[Record] = []
        states = ("draft", "sent", "accepted", "declined")
        for i in range(self.size.estimates):
            client = self.pick(clients)
            issue = self.day_between(max(self.history_start, date.fromisoformat(client["created_at"][:10])), self.today)
            state = states[i] if i < 4 else self.pick(("draft", "sent", "sent", "accepted", "accepted", "declined"))
            items = []
            for _ in range(self.randint(1, 3)):
                quantity = float(self.randint(1, 40))
                price = float(self.pick((90, 100, 150, 1000)))
                items.append(
                    {
                        "id": 0,
                        "kind": self.pick(kinds),
                        "description": self.pick(PROJECT_WORDS),
                        "quantity": quantity,
                        "unit_price": price,
                        "amount": round(quantity * price, 2),
                        "taxed": rng.random() < 0.5,
                        "taxed2": False,
                    }
                )
            created = self.stamp(issue)
            sent_at = self.later_stamp(created, 1.0, 3) if state != "draft" else None
            decided = self.later_stamp(sent_at, 1.0, 20) if sent_at and state in ("accepted", "declined") else None
            updated = max(s for s in (created, sent_at, decided) if s)
            record = {
                "id": 0,
                "client_key": self.hex(40),
                "number": "",
                "purchase_order": "" if rng.random() < 0.7 else str(self.randint(1000, 9999)),
                **self._amounts(items),
                "subject": f"Estimate for {self.pick(PROJECT_WORDS)}",
                "notes": "",
                "state": state,
                "issue_date": issue.isoformat(),
                "sent_at": sent_at,
                "created_at": created,
                "updated_at": updated,
                "accepted_at": decided if state == "accepted" else None,
                "declined_at": decided if state == "declined" else None,
                "currency": client["currency"],
                "client": {"id": client["id"], "name": client["name"]},
                "creator": self._creator(),
                "line_items": items,
            }
            estimates.append(record)
        self.assign_ids(estimates, 1_439_000, 11)
        line_id = 53_334_000
        for number, record in enumerate(estimates, start=1001):
            record["number"] = str(number)
            for item in record["line_items"]:
                line_id += self.randint(1, 5)
                item["id"] = line_id
        self.c["estimates"] = estimates

    def invoices(self) -> None:
        rng = self.rng
        clients = self.c["clients"]
        projects_of: dict[int, list[Record]] = {}
        for proj in self.c["projects"]:
            projects_of.setdefault(proj["client"]["id"], []).append(proj)
        accepted = [e for e in self.c["estimates"] if e["state"] == "accepted"]
        invoices: list[Record] = []
        forced = ("draft", "open", "paid", "closed")
        for i in range(self.size.invoices):
            client = clients[i % len(clients)] if i < len(clients) else self.pick(clients)
            issue = self.day_between(max(self.history_start, date.fromisoformat(client["created_at"][:10])), self.today)
            age = (self.today - issue).days
            if i < len(forced):
                state = forced[i]
            elif age > 90:
                state = rng.choices(("paid", "closed", "open", "draft"), (70, 15, 10, 5))[0]
            else:
                state = rng.choices(("draft", "open", "paid"), (30, 50, 20))[0]
            items = []
            for _ in range(self.randint(1, 4)):
                quantity = float(self.randint(1, 60))
                price = float(self.pick((90, 100, 120, 150)))
                candidates = projects_of.get(client["id"])
                project: Record | None = self.pick(candidates) if candidates else None
                items.append(
                    {
                        "id": 0,
                        "kind": self.pick(("Service", "Service", "Product")),
                        "description": f"{self.pick(TASK_NAMES)} ({issue.strftime('%B %Y')})",
                        "quantity": quantity,
                        "unit_price": price,
                        "amount": round(quantity * price, 2),
                        "taxed": rng.random() < 0.5,
                        "taxed2": False,
                        "project": {"id": project["id"], "name": project["name"], "code": project["code"]}
                        if project
                        else None,
                    }
                )
            amounts = self._amounts(items)
            created = self.stamp(issue)
            sent_at = self.later_stamp(created, 1.0, 2) if state != "draft" else None
            paid_day = issue + timedelta(days=self.randint(1, 45)) if state == "paid" else None
            if paid_day is not None and paid_day > self.today:
                paid_day = self.today
            closed_at = self.later_stamp(sent_at or created, 1.0, 60) if state == "closed" else None
            paid_stamp = self.stamp(paid_day) if paid_day else None
            updated = max(s for s in (created, sent_at, closed_at, paid_stamp) if s)
            term_days = self.pick((0, 15, 30, 45))
            estimate = self.pick(accepted) if accepted and rng.random() < 0.1 else None
            record = {
                "id": 0,
                "client_key": self.hex(40),
                "number": "",
                "purchase_order": "" if rng.random() < 0.7 else str(self.randint(1000, 9999)),
                **amounts,
                "due_amount": 0.0 if state in ("paid", "closed") else amounts["amount"],
                "subject": f"Invoice for {issue.strftime('%B %Y')}",
                "notes": "",
                "state": state,
                "period_start": (issue - timedelta(days=30)).isoformat() if rng.random() < 0.5 else None,
                "period_end": (issue - timedelta(days=1)).isoformat() if rng.random() < 0.5 else None,
                "issue_date": issue.isoformat(),
                "due_date": (issue + timedelta(days=term_days)).isoformat(),
                "payment_term": "upon receipt" if term_days == 0 else f"net {term_days}",
                "sent_at": sent_at,
                "paid_at": f"{paid_day.isoformat()}T00:00:00Z" if paid_day else None,
                "paid_date": paid_day.isoformat() if paid_day else None,
                "closed_at": closed_at,
                "recurring_invoice_id": None,
                "created_at": created,
                "updated_at": updated,
                "currency": client["currency"],
                "payment_options": self.pick((["credit_card"], ["ach", "credit_card"], [])),
                "client": {"id": client["id"], "name": client["name"]},
                "estimate": {"id": estimate["id"]} if estimate else None,
                "retainer": None,
                "creator": self._creator(),
                "line_items": items,
            }
            invoices.append(record)
        self.assign_ids(invoices, 13_150_000, 13)
        line_id = 53_341_000
        for number, record in enumerate(sorted(invoices, key=lambda r: r["issue_date"]), start=1001):
            record["number"] = str(number)
        for record in invoices:
            for item in record["line_items"]:
                line_id += self.randint(1, 5)
                item["id"] = line_id
        self.c["invoices"] = invoices
        # For linking billed time and expenses: per client, issued (non-draft) invoices by issue date.
        self.billing: dict[int, tuple[list[str], list[Record]]] = {}
        for record in sorted(invoices, key=lambda r: r["issue_date"]):
            if record["state"] != "draft":
                days, recs = self.billing.setdefault(record["client"]["id"], ([], []))
                days.append(record["issue_date"])
                recs.append(record)

    def _invoice_for(self, client_id: int, spent: str) -> Record | None:
        days, recs = self.billing.get(client_id, ([], []))
        index = bisect.bisect_left(days, spent)
        return recs[index] if index < len(recs) else None

    def _rows_to_pick(self) -> list[tuple[Record, Record, list[Record], date, int]]:
        """Per user assignment: (ua, project, task assignments, first day, span in days)."""
        tas: dict[int, list[Record]] = {}
        for ta in self.c["task_assignments"]:
            tas.setdefault(ta["project"]["id"], []).append(ta)
        projects = {p["id"]: p for p in self.c["projects"]}
        out = []
        for ua in self.c["user_assignments"]:
            project = projects[ua["project"]["id"]]
            start, end = self.project_period[project["id"]]
            end = min(end, self.today)
            out.append((ua, project, tas[project["id"]], start, max(0, (end - start).days)))
        return out

    def time_entries(self) -> None:
        rng = self.rng
        users = {u["id"]: u for u in self.c["users"]}
        picks = self._rows_to_pick()
        member_picks = [
            p for p in picks if p[0]["user"]["id"] in (self.principal_member["id"], self.principal_manager["id"])
        ]
        weights = [1.0 + p[4] / 365 for p in picks]
        cum = list(_accumulate(weights))
        minis: dict[int, tuple[dict[str, Any], ...]] = {}
        ta_minis: dict[int, dict[str, Any]] = {}
        entries: list[Record] = []
        today = self.today
        recent = today - timedelta(days=45)
        day_cache: dict[int, date] = {}
        for i in range(self.size.time_entries):
            pick = (
                member_picks[i % len(member_picks)]
                if i < 8 and member_picks
                else picks[bisect.bisect_left(cum, rng.random() * cum[-1])]
            )
            ua, project, task_list, start, span = pick
            offset = self.randint(0, span)
            key = start.toordinal() + offset
            day = day_cache.get(key)
            if day is None:
                day = date.fromordinal(key)
                day_cache[key] = day
            ta = task_list[int(rng.random() * len(task_list))]
            if ua["id"] not in minis:
                client = self.client_of[project["id"]]
                minis[ua["id"]] = (
                    ua["user"],
                    {"id": client["id"], "name": client["name"], "currency": client["currency"]},
                    {"id": project["id"], "name": project["name"], "code": project["code"]},
                    {
                        "id": ua["id"],
                        "is_project_manager": ua["is_project_manager"],
                        "is_active": ua["is_active"],
                        "use_default_rates": ua["use_default_rates"],
                        "budget": ua["budget"],
                        "created_at": ua["created_at"],
                        "updated_at": ua["updated_at"],
                        "hourly_rate": ua["hourly_rate"],
                    },
                )
            if ta["id"] not in ta_minis:
                ta_minis[ta["id"]] = {
                    "id": ta["id"],
                    "billable": ta["billable"],
                    "is_active": ta["is_active"],
                    "created_at": ta["created_at"],
                    "updated_at": ta["updated_at"],
                    "hourly_rate": ta["hourly_rate"],
                    "budget": ta["budget"],
                }
            user_mini, client_mini, project_mini, ua_mini = minis[ua["id"]]
            hours = round(self.randint(1, 32) * 0.25 + self.pick((0.0, 0.0, 0.03, 0.11)), 2)
            rounded = round(-(-hours // 0.25) * 0.25, 2)
            billable = ta["billable"]
            spent = day.isoformat()
            created = self.stamp(day + timedelta(days=self.pick((0, 0, 0, 1, 2))))
            invoice = None
            if billable and day < recent and rng.random() < 0.7:
                found = self._invoice_for(client_mini["id"], spent)
                if found is not None:
                    invoice = {"id": found["id"], "number": found["number"]}
            if invoice is None and day < recent:
                rng.random()  # once a random lock; drawn still, so every later draw (ids, dates) stays as it was
            running = i == 0 or (day == today and rng.random() < 0.02)
            if running:
                day, spent = today, today.isoformat()
                created = self.before_now(1800)
            external = None
            if rng.random() < 0.04:
                external = {
                    "id": str(self.randint(10_000, 99_999)),
                    "group_id": str(self.randint(100, 999)),
                    "account_id": str(self.randint(100, 999)),
                    "permalink": f"https://github.com/example/repo/issues/{self.randint(1, 999)}",
                    "service": "github.com",
                    "service_icon_url": "https://proxy.harvestfiles.com/production_harvestapp_public/uploads/platform_icons/github.com.png",
                }
            entries.append(
                {
                    "id": 0,
                    "spent_date": spent,
                    "user": user_mini,
                    "client": client_mini,
                    "project": project_mini,
                    "task": ta["task"],
                    "user_assignment": ua_mini,
                    "task_assignment": ta_minis[ta["id"]],
                    "hours": hours,
                    "hours_without_timer": hours,
                    "rounded_hours": rounded,
                    "notes": NOTES[int(rng.random() * len(NOTES))],
                    "created_at": created,
                    "updated_at": created if running else self.later_stamp(created, 0.15, 60),
                    "is_locked": False,  # is_locked, locked_reason, is_closed, approval_status: see approvals()
                    "locked_reason": None,
                    "is_closed": False,
                    "approval_status": "unsubmitted",
                    "is_billed": invoice is not None,
                    "timer_started_at": created if running else None,
                    "started_time": None,
                    "ended_time": None,
                    "is_running": running,
                    "invoice": invoice,
                    "external_reference": external,
                    "billable": billable,
                    "budgeted": project["budget"] is not None,
                    "billable_rate": (ua["hourly_rate"] if not ua["use_default_rates"] else ta["hourly_rate"])
                    if billable
                    else None,
                    "cost_rate": users[user_mini["id"]]["cost_rate"],
                }
            )
        first_id = 2_147_483_647 - min(25, len(entries) // 2) * 3
        self.assign_ids(entries, first_id, 3)
        self.c["time_entries"] = entries

    def expenses(self) -> None:
        rng = self.rng
        picks = self._rows_to_pick()
        categories = self.c["expense_categories"]
        entries: list[Record] = []
        recent = self.today - timedelta(days=45)
        for i in range(self.size.expenses):
            ua, project, _, start, span = picks[i % len(picks)] if i < len(picks) and i < 6 else self.pick(picks)
            day = start + timedelta(days=self.randint(0, span))
            category = self.pick(categories)
            if category["unit_price"]:
                units = float(self.randint(10, 300))
                total = round(units * category["unit_price"], 2)
            else:
                units = 1.0
                total = round(rng.uniform(5, 800), 2)
            billable = project["is_billable"] and rng.random() < 0.7
            client = self.client_of[project["id"]]
            invoice = None
            if billable and day < recent and rng.random() < 0.6:
                found = self._invoice_for(client["id"], day.isoformat())
                if found is not None:
                    invoice = {"id": found["id"], "number": found["number"]}
            if invoice is None and day < recent:
                rng.random()  # once a random lock; drawn still, so every later draw (ids, dates) stays as it was
            created = self.stamp(day + timedelta(days=self.pick((0, 1, 3))))
            entries.append(
                {
                    "id": 0,
                    "notes": self.pick(("Taxi to client", "Team lunch", "Hotel", "Software license", "Mileage", "")),
                    "total_cost": total,
                    "units": units,
                    "is_closed": False,  # is_closed, approval_status, is_locked, locked_reason: see approvals()
                    "approval_status": "unsubmitted",
                    "is_locked": False,
                    "is_billed": invoice is not None,
                    "locked_reason": None,
                    "spent_date": day.isoformat(),
                    "created_at": created,
                    "updated_at": self.later_stamp(created, 0.2, 60),
                    "billable": billable,
                    "receipt": {
                        "url": f"https://example.harvestapp.com/expenses/receipt/{self.hex(8)}",
                        "file_name": "receipt.pdf",
                        "file_size": self.randint(10_000, 900_000),
                        "content_type": "application/pdf",
                    }
                    if rng.random() < 0.4
                    else None,
                    "user": ua["user"],
                    "user_assignment": {
                        "id": ua["id"],
                        "is_project_manager": ua["is_project_manager"],
                        "is_active": ua["is_active"],
                        "use_default_rates": ua["use_default_rates"],
                        "budget": ua["budget"],
                        "created_at": ua["created_at"],
                        "updated_at": ua["updated_at"],
                        "hourly_rate": ua["hourly_rate"],
                    },
                    "project": {"id": project["id"], "name": project["name"], "code": project["code"]},
                    "expense_category": {
                        "id": category["id"],
                        "name": category["name"],
                        "unit_price": category["unit_price"],
                        "unit_name": category["unit_name"],
                    },
                    "client": {"id": client["id"], "name": client["name"], "currency": client["currency"]},
                    "invoice": invoice,
                }
            )
        self.assign_ids(entries, 15_296_000, 9)
        self.c["expenses"] = entries

    def approvals(self) -> None:
        """Each time entry's and expense's ``approval_status`` and locks, per user and week (``WEEK_START_DAY``).

        Weeks before ``APPROVALS_FROM`` were never submitted; later weeks are approved, except the three before the
        anchor's week, drawn per user from ``RECENT_APPROVALS`` (last week: submitted or not yet; two and three weeks
        back: mostly approved, some still waiting), and the anchor's week, unsubmitted. Runs last, so its draws move
        nothing generated before it."""
        this_week = week_start(self.today, WEEK_START_DAY).toordinal()
        adopted = week_start(self.on(APPROVALS_FROM), WEEK_START_DAY).toordinal()
        recent: dict[tuple[int, int], str] = {}
        for user in sorted(self.c["users"], key=lambda u: u["id"]):
            for weeks, (p_approved, p_submitted) in RECENT_APPROVALS.items():
                draw = self.rng.random()
                drawn = "approved" if draw < p_approved else "submitted" if draw < p_approved + p_submitted else None
                recent[(user["id"], weeks)] = drawn or "unsubmitted"
        weeks_back: dict[str, int] = {}
        fields = {
            (name, status, invoiced): {"approval_status": status, **lock_fields(name, status, invoiced)}
            for name in APPROVABLE
            for status in APPROVAL_STATUSES
            for invoiced in (False, True)
        }
        for name in APPROVABLE:
            for record in self.c[name]:
                spent = record["spent_date"]
                back = weeks_back.get(spent)
                if back is None:
                    start = week_start(date.fromisoformat(spent), WEEK_START_DAY).toordinal()
                    back = weeks_back[spent] = (this_week - start) // 7
                if back <= 0:
                    status = "unsubmitted"
                elif back in RECENT_APPROVALS:
                    status = recent[(record["user"]["id"], back)]
                else:
                    status = "approved" if this_week - 7 * back >= adopted else "unsubmitted"
                record.update(fields[(name, status, bool(record["is_billed"]))])

    def messages_and_payments(self) -> None:
        rng = self.rng
        admin = self.principal_admin
        sender = f"{admin['first_name']} {admin['last_name']}"
        invoice_messages: list[Record] = []
        payments: list[Record] = []
        msg_parent: list[int] = []
        pay_parent: list[int] = []

        def invoice_message(invoice: Record, stamp: str, event: str | None, reminder: bool, thanks: bool) -> None:
            invoice_messages.append(
                {
                    "id": 0,
                    "sent_by": sender,
                    "sent_by_email": admin["email"],
                    "sent_from": sender,
                    "sent_from_email": admin["email"],
                    "include_link_to_client_invoice": False,
                    "send_me_a_copy": rng.random() < 0.3,
                    "thank_you": thanks,
                    "reminder": reminder,
                    "send_reminder_on": None,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "attach_pdf": True,
                    "event_type": event,
                    "recipients": [{"name": invoice["client"]["name"], "email": "billing@client.example"}],
                    "subject": f"Invoice #{invoice['number']} from {sender}",
                    "body": "Please find the invoice attached. Thank you for your business.",
                }
            )
            msg_parent.append(invoice["id"])

        for invoice in self.c["invoices"]:
            if invoice["state"] == "draft":
                if rng.random() < 0.2:
                    invoice_message(invoice, invoice["created_at"], "draft", False, False)
                continue
            invoice_message(invoice, invoice["sent_at"], None, False, False)
            if invoice["state"] == "open" and rng.random() < 0.5:
                invoice_message(invoice, self.later_stamp(invoice["sent_at"], 1.0, 60), None, True, False)
            if invoice["state"] == "closed":
                invoice_message(invoice, invoice["closed_at"], "close", False, False)
            paid_total = 0.0
            if invoice["state"] == "paid":
                parts = 1 if rng.random() < 0.8 else 2
                for k in range(parts):
                    amount = (
                        round(invoice["amount"] / parts, 2)
                        if k < parts - 1
                        else round(invoice["amount"] - paid_total, 2)
                    )
                    paid_total += amount
                    day = invoice["paid_date"]
                    stamp = max(invoice["sent_at"], self.stamp(date.fromisoformat(day)))
                    if k == parts - 1:  # the payment that settles the invoice moves it: one updated_at for both
                        earlier = [p["updated_at"] for p in payments[len(payments) - k :]]
                        stamp = invoice["updated_at"] = max(stamp, invoice["updated_at"], *earlier)
                    payments.append(self._payment(amount, day, stamp))
                    pay_parent.append(invoice["id"])
                if rng.random() < 0.3:
                    invoice_message(invoice, payments[-1]["created_at"], None, False, True)
            elif invoice["state"] == "open" and rng.random() < 0.3:
                amount = round(invoice["amount"] * 0.5, 2)
                day = min(self.today, date.fromisoformat(invoice["issue_date"]) + timedelta(days=10)).isoformat()
                stamp = max(invoice["sent_at"], self.stamp(date.fromisoformat(day)))
                payments.append(self._payment(amount, day, stamp))
                pay_parent.append(invoice["id"])
                # a part payment moves its invoice: due_amount, and updated_at to the payment's
                invoice["due_amount"] = round(invoice["amount"] - amount, 2)
                invoice["updated_at"] = max(invoice["updated_at"], stamp)
        self._children("invoice_messages", invoice_messages, msg_parent, 27_835_000)
        self._children("invoice_payments", payments, pay_parent, 10_112_000)

        estimate_messages: list[Record] = []
        est_parent: list[int] = []
        for estimate in self.c["estimates"]:
            events: list[tuple[str | None, str]] = []
            if estimate["sent_at"]:
                events.append((None, estimate["sent_at"]))
                if rng.random() < 0.5:
                    events.append(("view", self.later_stamp(estimate["sent_at"], 1.0, 5)))
            if estimate["accepted_at"]:
                events.append(("accept", estimate["accepted_at"]))
            if estimate["declined_at"]:
                events.append(("decline", estimate["declined_at"]))
            for event, stamp in events:
                estimate_messages.append(
                    {
                        "id": 0,
                        "sent_by": sender,
                        "sent_by_email": admin["email"],
                        "sent_from": sender,
                        "sent_from_email": admin["email"],
                        "send_me_a_copy": rng.random() < 0.3,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "recipients": [{"name": estimate["client"]["name"], "email": "buyer@client.example"}],
                        "event_type": event,
                        "subject": f"Estimate #{estimate['number']} from {sender}",
                        "body": "Here is the estimate we discussed.",
                    }
                )
                est_parent.append(estimate["id"])
        self._children("estimate_messages", estimate_messages, est_parent, 2_666_000)

    def _payment(self, amount: float, day: str, stamp: str) -> Record:
        rng = self.rng
        gateway = rng.random() < 0.2
        return {
            "id": 0,
            "amount": amount,
            "paid_at": f"{day}T00:00:00Z",
            "paid_date": day,
            "recorded_by": f"{self.principal_admin['first_name']} {self.principal_admin['last_name']}",
            "recorded_by_email": self.principal_admin["email"],
            "notes": self.pick(("", "Paid by check", "Bank transfer")),
            "transaction_id": self.hex(12) if gateway else None,
            "created_at": stamp,
            "updated_at": stamp,
            "payment_gateway": {"id": 1234, "name": "Stripe"} if gateway else {"id": None, "name": None},
        }

    def _children(self, name: str, records: list[Record], parent_ids: list[int], base: int) -> None:
        for record, parent in zip(records, parent_ids, strict=True):
            record["_parent"] = parent
        self.assign_ids(records, base, 7)
        self.parents[name] = {r["id"]: r.pop("_parent") for r in records}
        self.c[name] = records


def _accumulate(values: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for value in values:
        total += value
        out.append(total)
    return out


def generate(seed: int = 42, dataset: str = "tiny", anchor: datetime | str | None = None) -> Dataset:
    """Generate the named dataset size (``tiny``, ``small``, ``large``) for ``seed``, its history ending at ``anchor``
    (default: now, whole seconds)."""
    if dataset not in SIZES:
        raise ValueError(f"unknown dataset size {dataset!r}; expected one of {', '.join(SIZES)} or a .json path")
    return Generator(seed, SIZES[dataset], dataset, as_anchor(anchor)).run()
