"""Helpers for the end-to-end tests: run the real connector command, parse the Airbyte protocol, compute ground truth.

The connector always runs as a subprocess (``source-harvest`` or the CDK's ``source-declarative-manifest``) against
a :class:`~harvest_sandbox.SandboxServer` in the test process. Ground truth comes from the sandbox's store (its raw
records and list filters); report rows are recomputed here from the raw time entries and expenses, never from the
sandbox's own report code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from harvest_sandbox import SandboxServer
from harvest_sandbox.errors import Forbidden
from source_harvest.streams import CHILD_STREAMS, ENTITY_STREAMS

REPO_ROOT = Path(__file__).resolve().parents[2]

BIN = Path(sys.executable).parent
SOURCE_HARVEST = BIN / "source-harvest"
SOURCE_DECLARATIVE_MANIFEST = BIN / "source-declarative-manifest"

#: report stream -> (sandbox report family, subject key in the time entry / expense, id field in the row)
TIME_REPORTS = {
    "time_clients": ("client", "client_id"),
    "time_projects": ("project", "project_id"),
    "time_tasks": ("task", "task_id"),
    "time_team": ("user", "user_id"),
}
EXPENSE_REPORTS = {
    "expenses_clients": ("client", "client_id"),
    "expenses_projects": ("project", "project_id"),
    "expenses_categories": ("expense_category", "expense_category_id"),
    "expenses_team": ("user", "user_id"),
}
WINDOWED_REPORTS = (*TIME_REPORTS, *EXPENSE_REPORTS, "uninvoiced")
ALL_STREAMS = (*ENTITY_STREAMS, "company", *WINDOWED_REPORTS, "project_budget", *CHILD_STREAMS)
#: stream -> the sandbox permission family that decides a 403
FAMILY = {
    **{name: name for name in (*ENTITY_STREAMS, *CHILD_STREAMS)},
    **{name: "reports_time" for name in TIME_REPORTS},
    **{name: "reports_expenses" for name in EXPENSE_REPORTS},
    "uninvoiced": "reports_uninvoiced",
    "project_budget": "reports_project_budget",
    "company": "company",
}


# --------------------------------------------------------------------------------------------------------------------
# Running the connector
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """One connector invocation: its exit code, raw output and parsed Airbyte messages."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    messages: list[dict[str, Any]] = field(default_factory=list)
    non_json_lines: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, command: list[str], returncode: int, stdout: str, stderr: str, elapsed: float) -> Run:
        run = cls(command, returncode, stdout, stderr, elapsed)
        for line in stdout.splitlines():
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                run.non_json_lines.append(line)
                continue
            if isinstance(message, dict) and "type" in message:
                run.messages.append(message)
            else:
                run.non_json_lines.append(line)
        return run

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.of_type("RECORD"):
            out[message["record"]["stream"]].append(message["record"]["data"])
        return out

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def final_state(self) -> list[dict[str, Any]]:
        """The last STATE of every stream, in the shape ``--state`` takes."""
        latest: dict[str, dict[str, Any]] = {}
        for state in self.states:
            if state.get("type") == "STREAM":
                latest[state["stream"]["stream_descriptor"]["name"]] = state
        return [
            {
                "type": "STREAM",
                "stream": {k: v for k, v in s["stream"].items() if k in ("stream_descriptor", "stream_state")},
            }
            for s in latest.values()
        ]

    def logs(self, *levels: str) -> list[str]:
        wanted = {level.upper() for level in levels}
        return [m["log"]["message"] for m in self.of_type("LOG") if not wanted or m["log"]["level"] in wanted]

    @property
    def warnings(self) -> list[str]:
        return self.logs("WARN", "WARNING")

    @property
    def trace_errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    def stream_statuses(self, stream: str) -> list[str]:
        out = []
        for message in self.of_type("TRACE"):
            trace = message["trace"]
            if trace.get("type") == "STREAM_STATUS" and trace["stream_status"]["stream_descriptor"]["name"] == stream:
                out.append(trace["stream_status"]["status"])
        return out

    @property
    def connection_status(self) -> dict[str, Any]:
        statuses = [m["connectionStatus"] for m in self.of_type("CONNECTION_STATUS")]
        assert statuses, f"no CONNECTION_STATUS in the output:\n{self.tail()}"
        return statuses[-1]

    @property
    def catalog(self) -> dict[str, Any]:
        catalogs = [m["catalog"] for m in self.of_type("CATALOG")]
        assert catalogs, f"no CATALOG in the output:\n{self.tail()}"
        return catalogs[-1]

    def tail(self, n: int = 40) -> str:
        lines = [*self.stdout.splitlines()[-n:], "--- stderr ---", *self.stderr.splitlines()[-n:]]
        return "\n".join(line[:400] for line in lines)

    def describe_failure(self) -> str:
        errors = "\n".join(json.dumps(e)[:600] for e in self.trace_errors)
        return f"rc={self.returncode}\ntrace errors:\n{errors}\n{self.tail()}"


def connector_command(verb: str, runner: str = "source-harvest") -> tuple[list[str], dict[str, str]]:
    """The argv prefix and extra environment for ``verb`` through ``runner``."""
    if runner == "source-harvest":
        return [str(SOURCE_HARVEST), verb], {}
    if runner == "source-declarative-manifest":
        return (
            [
                str(SOURCE_DECLARATIVE_MANIFEST),
                verb,
                "--manifest-path",
                str(REPO_ROOT / "manifest.yaml"),
                "--components-path",
                str(REPO_ROOT / "components.py"),
            ],
            {"AIRBYTE_ENABLE_UNSAFE_CODE": "true"},
        )
    raise ValueError(runner)


def _write(workdir: Path, name: str, payload: Any) -> str:
    path = workdir / name
    path.write_text(json.dumps(payload))
    return str(path)


def build_args(
    workdir: Path,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any] | None,
    state: list[dict[str, Any]] | None,
    tag: str,
) -> list[str]:
    args = ["--config", _write(workdir, f"config-{tag}.json", config)]
    if catalog is not None:
        args += ["--catalog", _write(workdir, f"catalog-{tag}.json", catalog)]
    if state is not None:
        args += ["--state", _write(workdir, f"state-{tag}.json", state)]
    return args


_counter = iter(range(1_000_000))


def run_connector(
    verb: str,
    workdir: Path,
    config: Mapping[str, Any],
    *,
    catalog: Mapping[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    runner: str = "source-harvest",
    timeout: float = 300,
) -> Run:
    """Run ``<runner> <verb>`` as a subprocess with files written to ``workdir``; parse stdout."""
    prefix, extra_env = connector_command(verb, runner)
    command = prefix + build_args(workdir, config, catalog, state, f"{verb}-{next(_counter)}")
    env = {**os.environ, **extra_env}
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir, check=False)
    return Run.parse(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def run_until(
    workdir: Path,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any],
    stop: Callable[[dict[str, Any]], bool],
    *,
    state: list[dict[str, Any]] | None = None,
    timeout: float = 300,
) -> Run:
    """Run ``source-harvest read`` and SIGKILL it as soon as ``stop(message)`` is true for an emitted message."""
    prefix, extra_env = connector_command("read")
    command = prefix + build_args(workdir, config, catalog, state, f"killed-{next(_counter)}")
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **extra_env},
        cwd=workdir,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if stop(message):
                process.send_signal(signal.SIGKILL)
                break
            if time.monotonic() - started > timeout:
                process.kill()
                raise TimeoutError("the connector did not reach the stop condition in time")
        returncode = process.wait()
    return Run.parse(command, returncode, "".join(lines), "", time.monotonic() - started)


def configured_catalog(
    discovered: Mapping[str, Any], streams: Iterable[str] | None = None, *, full_refresh: bool = False
) -> dict[str, Any]:
    """A configured catalog of ``streams`` (default: all), incremental where the stream supports it."""
    wanted = set(streams) if streams is not None else None
    configured = []
    for stream in discovered["streams"]:
        if wanted is not None and stream["name"] not in wanted:
            continue
        incremental = not full_refresh and "incremental" in stream["supported_sync_modes"]
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
        )
    if wanted is not None:
        missing = wanted - {c["stream"]["name"] for c in configured}
        assert not missing, f"streams not discovered: {sorted(missing)}"
    return {"streams": configured}


def schemas_of(discovered: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s["json_schema"] for s in discovered["streams"]}


# --------------------------------------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------------------------------------
def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def fmt_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def forbidden(server: SandboxServer, stream: str, role: str) -> str | None:
    """The sandbox's 403 message for ``role`` on ``stream``, or None when the role can read it."""
    from harvest_sandbox import auth

    try:
        auth.access_level(FAMILY[stream], role, server.store.company)
    except Forbidden as error:
        return str(error.body if hasattr(error, "body") else error)
    return None


def _is_forbidden(server: SandboxServer, stream: str, role: str) -> bool:
    return forbidden(server, stream, role) is not None


def user_parents(server: SandboxServer, role: str) -> list[int]:
    """The users whose children ``role`` can read: every user it can list, or only itself."""
    store = server.store
    if not _is_forbidden(server, "users", role):
        return [u["id"] for u in store.list("users", role=role)]
    return [server.users[role]]


def expected_entities(server: SandboxServer, stream: str, role: str, start: str) -> list[dict[str, Any]]:
    """What ``stream`` must emit on a first sync from ``start`` for ``role`` (empty when the role gets a 403)."""
    store = server.store
    if _is_forbidden(server, stream, role):
        return []
    if stream == "company":
        return [dict(store.company)]
    if stream == "roles":
        return [r for r in store.list("roles", role=role) if r["updated_at"] >= start]
    if stream in ENTITY_STREAMS:
        return store.list(stream, role=role, updated_since=start)
    if stream in CHILD_STREAMS:
        parent = CHILD_STREAMS[stream]
        if parent == "users":
            parent_ids = user_parents(server, role)
        else:
            parent_ids = [] if _is_forbidden(server, parent, role) else [p["id"] for p in store.list(parent, role=role)]
        out = []
        for pid in parent_ids:
            for child in store.list(stream, role=role, parent_id=pid):
                if child["updated_at"] >= start:  # the child streams keep what was updated since the start date
                    out.append({**child, "parent_id": pid})
        return out
    raise KeyError(stream)


def report_windows(start: str, today: date) -> list[tuple[date, date]]:
    """One-year windows anchored on the start date's day (29 Feb -> 1 Mar), up to the one that contains today."""
    day = date.fromisoformat(start[:10].replace("-02-29", "-03-01"))
    out = []
    while day <= today:
        nxt = day.replace(year=day.year + 1)
        out.append((day, nxt - timedelta(days=1)))
        day = nxt
    return out


def _in_window(record: Mapping[str, Any], window: tuple[date, date]) -> bool:
    return window[0].isoformat() <= record["spent_date"] <= window[1].isoformat()


def expected_report_rows(
    server: SandboxServer, stream: str, start: str, today: date, *, role: str = "administrator"
) -> dict[tuple[str, str, int, str], dict[str, float]]:
    """Report rows recomputed from the raw time entries / expenses, keyed by (from, to, subject id, currency)."""
    store = server.store
    entries = store.list("time_entries", role=role)
    expenses = store.list("expenses", role=role)
    rows: dict[tuple[str, str, int, str], dict[str, float]] = {}
    for window in report_windows(start, today):
        key_window = (window[0].strftime("%Y%m%d"), window[1].strftime("%Y%m%d"))
        if stream in TIME_REPORTS:
            subject, _ = TIME_REPORTS[stream]
            for entry in (e for e in entries if _in_window(e, window)):
                key = (*key_window, entry[subject]["id"], entry["client"]["currency"])
                row = rows.setdefault(key, {"total_hours": 0.0, "billable_hours": 0.0, "billable_amount": 0.0})
                row["total_hours"] += entry["hours"]
                if entry["billable"]:
                    row["billable_hours"] += entry["hours"]
                    row["billable_amount"] += entry["hours"] * (entry["billable_rate"] or 0.0)
        elif stream in EXPENSE_REPORTS:
            subject, _ = EXPENSE_REPORTS[stream]
            for expense in (e for e in expenses if _in_window(e, window)):
                key = (*key_window, expense[subject]["id"], expense["client"]["currency"])
                row = rows.setdefault(key, {"total_amount": 0.0, "billable_amount": 0.0})
                row["total_amount"] += expense["total_cost"]
                if expense["billable"]:
                    row["billable_amount"] += expense["total_cost"]
        elif stream == "uninvoiced":
            zero = {"total_hours": 0.0, "uninvoiced_hours": 0.0, "uninvoiced_expenses": 0.0, "uninvoiced_amount": 0.0}
            for entry in (e for e in entries if _in_window(e, window)):
                row = rows.setdefault((*key_window, entry["project"]["id"], entry["client"]["currency"]), dict(zero))
                row["total_hours"] += entry["hours"]
                if entry["billable"] and not entry["is_billed"]:
                    row["uninvoiced_hours"] += entry["hours"]
                    row["uninvoiced_amount"] += entry["hours"] * (entry["billable_rate"] or 0.0)
            for expense in (e for e in expenses if _in_window(e, window)):
                row = rows.setdefault(
                    (*key_window, expense["project"]["id"], expense["client"]["currency"]), dict(zero)
                )
                if expense["billable"] and not expense["is_billed"]:
                    row["uninvoiced_expenses"] += expense["total_cost"]
                    row["uninvoiced_amount"] += expense["total_cost"]
        else:
            raise KeyError(stream)
    return rows


def report_id_field(stream: str) -> str:
    if stream in TIME_REPORTS:
        return TIME_REPORTS[stream][1]
    if stream in EXPENSE_REPORTS:
        return EXPENSE_REPORTS[stream][1]
    return "project_id"


def actual_report_rows(records: list[dict[str, Any]], stream: str) -> dict[tuple[str, str, int, str], dict[str, Any]]:
    id_field = report_id_field(stream)
    out: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    for row in records:
        key = (row["from"], row["to"], row[id_field], row["currency"])
        assert key not in out, f"{stream}: report row {key} emitted twice"
        out[key] = row
    return out


def compare_report(
    stream: str,
    actual: dict[tuple[str, str, int, str], dict[str, Any]],
    expected: dict[tuple[str, str, int, str], dict[str, float]],
) -> list[str]:
    problems = []
    if set(actual) != set(expected):
        problems.append(
            f"{stream}: row keys differ: missing {sorted(set(expected) - set(actual))[:5]}, "
            f"unexpected {sorted(set(actual) - set(expected))[:5]}"
        )
    for key in set(actual) & set(expected):
        for name, value in expected[key].items():
            got = actual[key].get(name)
            if not isinstance(got, (int, float)) or abs(got - value) > 0.011:
                problems.append(f"{stream} {key}: {name} = {got!r}, expected {round(value, 2)}")
    return problems


def expected_project_budget(server: SandboxServer, role: str = "administrator") -> dict[int, dict[str, Any]]:
    """Projects that have a budget, with the budget and the spend recomputed from the raw time entries."""
    if _is_forbidden(server, "project_budget", role):
        return {}
    store = server.store
    hours: dict[int, float] = defaultdict(float)
    money: dict[int, float] = defaultdict(float)
    for entry in store.iter_records("time_entries"):
        hours[entry["project"]["id"]] += entry["hours"]
        if entry["billable"]:
            money[entry["project"]["id"]] += entry["hours"] * (entry["billable_rate"] or 0.0)
    out = {}
    for project in store.list("projects", role=role):
        if project["budget"] is None or project["budget_by"] == "none":
            continue
        spent = (hours if project["budget_by"] in ("project", "task", "person") else money)[project["id"]]
        out[project["id"]] = {"budget": project["budget"], "budget_spent": spent}
    return out


def strip_nulls(value: Any) -> Any:
    """``value`` without null-valued object keys, at any depth (how the CDK serializes records)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def compare_records(
    stream: str, actual: list[dict[str, Any]], expected: list[dict[str, Any]], key: str = "id"
) -> list[str]:
    """Every expected id exactly once, no other id, and every expected field equal."""
    problems: list[str] = []
    counts: dict[Any, int] = defaultdict(int)
    for record in actual:
        counts[record.get(key)] += 1
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        problems.append(f"{stream}: ids emitted more than once: {duplicates[:10]}")
    want = {r[key]: r for r in expected}
    missing = sorted(set(want) - set(counts))
    extra = sorted(set(counts) - set(want), key=str)
    if missing:
        problems.append(f"{stream}: {len(missing)} id(s) missing: {missing[:10]}")
    if extra:
        problems.append(f"{stream}: {len(extra)} unexpected id(s): {extra[:10]}")
    by_id = {r.get(key): r for r in actual}
    for rid, truth in want.items():
        got = by_id.get(rid)
        if got is None:
            continue
        for name, value in truth.items():
            # The CDK's message serializer omits null values, even inside record data: absent means null.
            if strip_nulls(got.get(name)) != strip_nulls(value):
                problems.append(f"{stream} {key}={rid}: {name} = {got.get(name, '<absent>')!r}, expected {value!r}")
                break
    return problems


def schema_problems(stream: str, records: list[dict[str, Any]], schema: Mapping[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    problems = []
    for record in records:
        for error in validator.iter_errors(record):
            problems.append(f"{stream}: {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
            break
        if len(problems) >= 5:
            break
    return problems


def check_full_sync(
    server: SandboxServer,
    run: Run,
    discovered: Mapping[str, Any],
    start: str,
    *,
    role: str = "administrator",
    streams: Iterable[str] = ALL_STREAMS,
    today: date | None = None,
) -> list[str]:
    """All problems of a first sync of ``streams`` against the ground truth (an empty list means it is exact)."""
    return check_records(server, run.records, discovered, start, role=role, streams=streams, today=today)


def check_records(
    server: SandboxServer,
    records: Mapping[str, list[dict[str, Any]]],
    discovered: Mapping[str, Any],
    start: str,
    *,
    role: str = "administrator",
    streams: Iterable[str] = ALL_STREAMS,
    today: date | None = None,
) -> list[str]:
    """All problems of ``records`` (per stream: a full sync's, or a destination's rows) against the ground truth: what
    a full refresh of ``streams`` from ``start`` for ``role`` must hold (an empty list means it is exact)."""
    today = today or datetime.now(UTC).date()
    schemas = schemas_of(discovered)
    problems: list[str] = []
    for stream in streams:
        got = records.get(stream, [])
        problems += schema_problems(stream, got, schemas[stream])
        if stream in WINDOWED_REPORTS:
            if _is_forbidden(server, stream, role):
                expected_rows: dict[Any, Any] = {}
            else:
                expected_rows = expected_report_rows(server, stream, start, today, role=role)
            problems += compare_report(stream, actual_report_rows(got, stream), expected_rows)
        elif stream == "project_budget":
            want = expected_project_budget(server, role)
            have = {r["project_id"]: r for r in got}
            if set(have) != set(want) or len(have) != len(got):
                problems.append(
                    f"project_budget: projects {sorted(have)} (of {len(got)} rows), expected {sorted(want)}"
                )
            for pid in set(have) & set(want):
                for name, value in want[pid].items():
                    if abs(float(have[pid][name]) - value) > 0.011:
                        problems.append(f"project_budget {pid}: {name} = {have[pid][name]}, expected {value}")
        elif stream == "company":
            expected = expected_entities(server, stream, role, start)
            if len(got) != len(expected) or (expected and strip_nulls(got[0]) != strip_nulls(expected[0])):
                problems.append(f"company: {got!r} != {expected!r}")
        else:
            problems += compare_records(stream, got, expected_entities(server, stream, role, start))
    return problems


class Destination:
    """A destination fed by syncs: append + dedup by each stream's primary key (the newest record wins, a tombstone,
    a record with ``_ab_cdc_deleted_at``, deletes its row), full-refresh streams overwritten by each sync."""

    def __init__(self, discovered: Mapping[str, Any], catalog: Mapping[str, Any]) -> None:
        self.keys = {
            s["name"]: [k[0] for k in s.get("source_defined_primary_key") or []] for s in discovered["streams"]
        }
        self.modes = {c["stream"]["name"]: c["destination_sync_mode"] for c in catalog["streams"]}
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def apply(self, run: Run) -> None:
        for stream, mode in self.modes.items():
            if mode == "overwrite":
                self.tables[stream] = {}
        for stream, records in run.records.items():
            table = self.tables.setdefault(stream, {})
            for record in records:
                key = tuple(record.get(k) for k in self.keys[stream])
                if record.get("_ab_cdc_deleted_at"):
                    table.pop(key, None)
                else:
                    table[key] = record

    @property
    def records(self) -> dict[str, list[dict[str, Any]]]:
        return {stream: list(table.values()) for stream, table in self.tables.items()}

    def rows(self, stream: str) -> dict[Any, dict[str, Any]]:
        """The rows of a stream whose primary key is one field, by that field's value (an entity stream: by id)."""
        return {key[0]: record for key, record in self.tables.get(stream, {}).items()}


def successful_read(
    server: SandboxServer, workdir: Path, config: Mapping[str, Any], catalog: Any, state: Any = None
) -> Run:
    """One `read` against the sandbox, its request log emptied first (``server.requests`` is then this sync's); the
    test fails unless the sync succeeded."""
    server.clear_requests()
    run = run_connector("read", workdir, dict(config), catalog=catalog, state=state)
    assert run.returncode == 0 and not run.trace_errors, run.describe_failure()
    return run


def tombstones(run: Run) -> dict[str, list[dict[str, Any]]]:
    """The tombstones a sync emitted, per stream that has any."""
    found = {stream: [r for r in records if r.get("_ab_cdc_deleted_at")] for stream, records in run.records.items()}
    return {stream: rows for stream, rows in found.items() if rows}


def secrets_of(server: SandboxServer) -> list[str]:
    return [*server.tokens.values(), server.oauth["client_secret"], server.oauth["refresh_token"]]


def leaked(run: Run, secrets: Iterable[str]) -> list[str]:
    """Secrets that appear anywhere in the run's stdout or stderr (with the first 6 characters, for the report)."""
    text = run.stdout + run.stderr
    return [s[:6] + "..." for s in secrets if s and s in text]
