"""The connector's 32 streams by family, with the names of Airbyte's source-harvest 1.2.38.

These names are a compatibility contract (saved catalogs and states refer to them), so they are written down once
here; unit_tests/test_manifest.py fails when manifest.yaml's streams differ from them, and the tests, the benchmark
and the demo take their stream lists from this module.
"""

#: Read from one list endpoint, incremental on `updated_at` (sent as `updated_since`; roles filtered client-side).
ENTITY_STREAMS: tuple[str, ...] = (
    "clients",
    "contacts",
    "estimate_item_categories",
    "estimates",
    "expense_categories",
    "expenses",
    "invoice_item_categories",
    "invoices",
    "projects",
    "roles",
    "task_assignments",
    "tasks",
    "time_entries",
    "user_assignments",
    "users",
)

#: Read in full on every sync: one object, and a budget report that is a snapshot.
SNAPSHOT_STREAMS: tuple[str, ...] = ("company", "project_budget")

#: Reports read for `from`/`to` windows.
WINDOWED_REPORT_STREAMS: tuple[str, ...] = (
    "expenses_categories",
    "expenses_clients",
    "expenses_projects",
    "expenses_team",
    "time_clients",
    "time_projects",
    "time_tasks",
    "time_team",
    "uninvoiced",
)

#: Child stream -> the parent list whose records it is read for (each child record carries `parent_id`).
CHILD_STREAMS: dict[str, str] = {
    "estimate_messages": "estimates",
    "invoice_messages": "invoices",
    "invoice_payments": "invoices",
    "project_assignments": "users",
    "billable_rates": "users",
    "cost_rates": "users",
}

ALL_STREAMS: tuple[str, ...] = (*ENTITY_STREAMS, *SNAPSHOT_STREAMS, *WINDOWED_REPORT_STREAMS, *CHILD_STREAMS)
