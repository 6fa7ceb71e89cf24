"""What the demo prints at the end: plain-text tables, and one real question answered in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airbyte.caches import DuckDBCache

    from .pyairbyte_runner import SyncRun

# Billable hours per client and month, over the six whole months before the month of the newest time entry. Anchoring
# on the data rather than on today keeps the answer meaningful for an idle account too; leaving out the newest month,
# which is usually still running (the sandbox's history ends today), keeps every month shown comparable.
# Rows whose `_ab_cdc_deleted_at` is set are time entries Harvest deleted (the connector's tombstones; PyAirbyte keeps
# the row): they are left out, as any query of an append or PyAirbyte table should.
NOT_DELETED = "_ab_cdc_deleted_at IS NULL"
BILLABLE_HOURS_SQL = f"""
WITH entries AS (
    SELECT
        TRY_CAST(spent_date AS DATE) AS spent_on,
        coalesce(json_extract_string(client, '$.name'), '(no client)') AS client,
        TRY_CAST(hours AS DOUBLE) AS hours
    FROM main.time_entries
    WHERE TRY_CAST(billable AS BOOLEAN) AND {NOT_DELETED}
),
newest AS (SELECT date_trunc('month', max(spent_on)) AS month FROM entries)
SELECT
    strftime(date_trunc('month', spent_on), '%Y-%m') AS month,
    client,
    round(sum(hours), 2) AS billable_hours
FROM entries, newest
WHERE spent_on >= newest.month - INTERVAL 6 MONTH AND spent_on < newest.month
GROUP BY ALL
ORDER BY month, billable_hours DESC
"""

TOP_CLIENTS = 8


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, footer: Sequence[Any] | None = None) -> str:
    """A monospace table; numbers are right-aligned with thousands separators."""

    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "" if value is None else str(value)
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.1f}"
        return str(value)

    body = [[cell(value) for value in row] for row in rows]
    foot = [cell(value) for value in footer] if footer else None
    numeric = [
        all(isinstance(row[i], int | float) or row[i] in (None, "") for row in rows) and bool(rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(r[i]) for r in body), len(foot[i]) if foot else 0]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True))

    rule = "  ".join("-" * w for w in widths)
    out = [line(list(headers)), rule, *(line(r) for r in body)]
    if foot:
        out += [rule, line(foot)]
    return "\n".join(text.rstrip() for text in out)


def streams_table(
    streams: Sequence[str],
    rows_after_full: Mapping[str, int],
    incremental: SyncRun | None,
    rows_after_incremental: Mapping[str, int] | None,
    marked_deleted: Mapping[str, int] | None = None,
) -> str:
    """Per stream: rows after the full sync, records the incremental sync re-read, rows it added, and rows its
    tombstones marked deleted."""
    headers = ["stream", "rows after full sync"]
    if incremental is not None and rows_after_incremental is not None:
        headers += ["new/updated records (2nd sync)", "new rows", "marked deleted"]
    deleted = marked_deleted or {}
    rows = []
    for stream in streams:
        row: list[Any] = [stream, rows_after_full.get(stream, 0)]
        if incremental is not None and rows_after_incremental is not None:
            row += [
                incremental.records_read.get(stream, 0),
                rows_after_incremental.get(stream, 0) - rows_after_full.get(stream, 0),
                deleted.get(stream, 0),
            ]
        rows.append(row)
    footer: list[Any] = ["total", sum(rows_after_full.values())]
    if incremental is not None and rows_after_incremental is not None:
        footer += [
            incremental.total_records,
            sum(rows_after_incremental.values()) - sum(rows_after_full.values()),
            sum(deleted.values()),
        ]
    return format_table(headers, rows, footer=footer)


def sync_table(
    streams: Sequence[str], run: SyncRun, rows_before: Mapping[str, int], rows_after: Mapping[str, int]
) -> str:
    """For ``make sync``: per stream, rows before, records this sync read, rows after."""
    headers = ["stream", "rows before", "records read (this sync)", "rows after"]
    rows = [[s, rows_before.get(s, 0), run.records_read.get(s, 0), rows_after.get(s, 0)] for s in streams]
    footer = ["total", sum(rows_before.values()), run.total_records, sum(rows_after.values())]
    return format_table(headers, rows, footer=footer)


def requests_table(full: Mapping[str, int], incremental: Mapping[str, int], *, limit: int = 12) -> str:
    """The busiest endpoints (full and incremental sync side by side), then the rest and the totals."""
    endpoints = sorted(set(full) | set(incremental), key=lambda e: (-(full.get(e, 0) + incremental.get(e, 0)), e))
    rows: list[list[Any]] = [[e, full.get(e, 0), incremental.get(e, 0)] for e in endpoints[:limit]]
    rest = endpoints[limit:]
    if rest:
        rows.append(
            [
                f"({len(rest)} other endpoints)",
                sum(full.get(e, 0) for e in rest),
                sum(incremental.get(e, 0) for e in rest),
            ]
        )
    footer = ["total", sum(full.values()), sum(incremental.values())]
    return format_table(["endpoint", "full sync", "incremental sync"], rows, footer=footer)


@dataclass(frozen=True)
class BillableHours:
    """The SQL answer: one row per (month, client)."""

    rows: list[dict[str, Any]]

    @property
    def months(self) -> list[str]:
        return sorted({str(row["month"]) for row in self.rows})

    def as_table(self) -> str:
        """Clients as rows (the busiest first), months as columns."""
        if not self.rows:
            return "(no billable time entries)"
        hours: dict[str, dict[str, float]] = defaultdict(dict)
        for row in self.rows:
            hours[str(row["client"])][str(row["month"])] = float(row["billable_hours"] or 0.0)
        ranked = sorted(hours, key=lambda client: -sum(hours[client].values()))
        shown, others = ranked[:TOP_CLIENTS], ranked[TOP_CLIENTS:]
        table_rows: list[list[Any]] = [
            [client, *(hours[client].get(m, 0.0) for m in self.months), sum(hours[client].values())] for client in shown
        ]
        if others:
            table_rows.append(
                [
                    f"({len(others)} other clients)",
                    *(sum(hours[c].get(m, 0.0) for c in others) for m in self.months),
                    sum(sum(hours[c].values()) for c in others),
                ]
            )
        footer = ["total", *(sum(h.get(m, 0.0) for h in hours.values()) for m in self.months)]
        footer.append(sum(sum(h.values()) for h in hours.values()))
        return format_table(["client", *self.months, "total"], table_rows, footer=footer)


def billable_hours_per_client_month(cache: DuckDBCache) -> BillableHours:
    """Answer the question with SQL against the DuckDB file."""
    columns = {
        row["column_name"]
        for row in cache.run_sql_query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'time_entries'"
        )
    }
    if not columns:
        return BillableHours(rows=[])
    return BillableHours(rows=cache.run_sql_query(billable_hours_sql(columns)))


def billable_hours_sql(time_entry_columns: set[str]) -> str:
    """BILLABLE_HOURS_SQL; without its deletion filter for a table synced with `emit_deletions: false` (no column)."""
    if "_ab_cdc_deleted_at" in time_entry_columns:
        return BILLABLE_HOURS_SQL
    return BILLABLE_HOURS_SQL.replace(f" AND {NOT_DELETED}", "")
