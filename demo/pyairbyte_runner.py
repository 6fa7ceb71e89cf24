"""PyAirbyte plumbing: run ``source-harvest`` into a DuckDB cache, the way Airbyte users run connectors locally.

Why these choices (see /work/shared/cdk-notes.md section 7):

- ``local_executable=`` points at the project's ``.venv/bin/source-harvest``. With ``source_manifest=`` PyAirbyte
  0.71.3 builds the declarative source without the saved state, so every sync would be a full re-read.
  ``local_executable`` also means PyAirbyte never tries to install the connector with uv or pip.
- ``AIRBYTE_OFFLINE_MODE=1`` (no connector registry here) and ``DO_NOT_TRACK=1`` (no telemetry) are set before
  ``airbyte`` is imported, because PyAirbyte reads them at import time.
- The DuckDB cache keeps the connector's state in its own tables, so a second sync of the same file is incremental.
  It keeps only the columns declared in each stream's schema (plus ``_airbyte_raw_id``, ``_airbyte_extracted_at``
  and ``_airbyte_meta``), and merges on the primary key.

Everything that imports ``airbyte`` does so inside a function, after :func:`prepare_environment` has run.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .progress import StreamProgressPrinter, reporting_progress_to

if TYPE_CHECKING:
    from airbyte.caches import DuckDBCache
    from airbyte.sources.base import Source

SOURCE_NAME = "source-harvest"

PYAIRBYTE_ENVIRONMENT = {
    "AIRBYTE_OFFLINE_MODE": "1",  # never query the connector registry
    "DO_NOT_TRACK": "1",  # no telemetry
    "NO_LIVE_PROGRESS": "1",  # the demo prints its own per-stream progress (works in any terminal and in CI logs)
}


def prepare_environment(log_dir: Path) -> None:
    """Set PyAirbyte's environment variables; must run before the first ``import airbyte``."""
    for name, value in PYAIRBYTE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(log_dir))
    # PyAirbyte imports Google's cloud clients, which warn about Python 3.11's end of life in 2027 on import.
    warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)


@contextlib.contextmanager
def open_duckdb_cache(db_path: Path) -> Iterator[DuckDBCache]:
    """A PyAirbyte DuckDB cache on ``db_path`` (schema ``main``); its scratch files go next to it."""
    from airbyte.caches import DuckDBCache

    db_path.parent.mkdir(parents=True, exist_ok=True)
    cache = DuckDBCache(db_path=db_path, schema_name="main", cache_dir=db_path.parent / ".pyairbyte-scratch")
    try:
        yield cache
    finally:
        cache.close()


def get_harvest_source(executable: Path, config: dict[str, Any]) -> Source:
    """The connector as PyAirbyte sees it: the local ``source-harvest`` command with ``config``, all streams."""
    import airbyte as ab

    source = ab.get_source(SOURCE_NAME, config=config, local_executable=executable, install_if_missing=False)
    source.select_all_streams()
    return source


class SyncError(RuntimeError):
    """PyAirbyte or the connector failed; the message says why and where the logs are."""


@contextlib.contextmanager
def pyairbyte_errors_as_sync_errors(step: str) -> Iterator[None]:
    """Turn PyAirbyte's exceptions (long reports with a traceback) into one readable :class:`SyncError`."""
    from airbyte.exceptions import PyAirbyteError

    try:
        yield
    except PyAirbyteError as error:
        context = error.context or {}
        reason = context.get("failure_reason") or error.get_message()
        log = f"\n  connector log: {error.log_file}" if error.log_file else ""
        raise SyncError(f"{step} failed: {reason}{log}") from error


def check_connection(source: Source) -> None:
    """Run the connector's ``check``: a wrong token or account id stops here, with the connector's explanation."""
    with pyairbyte_errors_as_sync_errors("the connector's check"):
        source.check()


@dataclass
class SyncRun:
    """What one sync did: records the connector emitted per stream, and how long it took."""

    label: str
    records_read: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_records(self) -> int:
        return sum(self.records_read.values())


def run_sync(source: Source, cache: DuckDBCache, *, label: str, streams: Sequence[str]) -> SyncRun:
    """One sync into ``cache``: incremental wherever the cache already holds state, full otherwise."""
    printer = StreamProgressPrinter(label=label, expected_streams=len(streams))
    started = time.monotonic()
    with reporting_progress_to(printer), pyairbyte_errors_as_sync_errors(label):
        # The connector's own `check` (which the demo and `make sync` run first) validates the config against its
        # spec, with a message that says what to fix; PyAirbyte's validation would start the connector once more.
        result = source.read(cache=cache, skip_validation=True)
    run = SyncRun(label=label, seconds=time.monotonic() - started)
    tracker_counts: dict[str, int] = dict(getattr(result, "_progress_tracker").stream_read_counts)  # noqa: B009
    run.records_read = {stream: tracker_counts.get(stream, 0) for stream in streams}
    printer.finish(run.total_records, run.seconds)
    return run


def table_row_counts(cache: DuckDBCache, streams: Sequence[str]) -> dict[str, int]:
    """Rows per stream table in the DuckDB file (0 where the table was never created)."""
    existing = {row["table_name"] for row in cache.run_sql_query("SELECT table_name FROM information_schema.tables")}
    counts = {}
    for stream in streams:
        if stream in existing:
            counts[stream] = int(cache.run_sql_query(f'SELECT count(*) AS n FROM main."{stream}"')[0]["n"])
        else:
            counts[stream] = 0
    return counts


def marked_deleted_counts(cache: DuckDBCache, streams: Sequence[str]) -> dict[str, int]:
    """Rows per stream whose `_ab_cdc_deleted_at` is set: records Harvest deleted and report rows left without
    entries, as the connector's tombstones left them (PyAirbyte keeps the row, with the deletion time; 0 for streams
    without that column)."""
    with_column = {
        row["table_name"]
        for row in cache.run_sql_query(
            "SELECT table_name FROM information_schema.columns WHERE column_name = '_ab_cdc_deleted_at'"
        )
    }
    return {
        stream: int(
            cache.run_sql_query(f'SELECT count(*) AS n FROM main."{stream}" WHERE _ab_cdc_deleted_at IS NOT NULL')[0][
                "n"
            ]
        )
        if stream in with_column
        else 0
        for stream in streams
    }


def has_saved_state(cache: DuckDBCache) -> bool:
    """Whether this DuckDB file already holds connector state from an earlier sync (so the next one is incremental)."""
    provider = cache.get_state_provider(source_name=SOURCE_NAME, refresh=True)
    return bool(provider.known_stream_names)
