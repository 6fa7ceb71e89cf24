"""Per-stream progress lines while PyAirbyte syncs.

PyAirbyte's own progress view is a Rich live panel on a terminal and nothing at all in CI or under ``make ... | tee``
(its "plain" style prints nothing). The demo wants the same readable lines everywhere, so it hooks PyAirbyte's
progress tracker: ``Source.read`` builds an ``airbyte.progress.ProgressTracker``, which is told when a stream starts
and completes (the connector's STREAM_STATUS trace messages) and counts every record. PyAirbyte 0.71.3 offers no
public hook for this, so :func:`reporting_progress_to` swaps in a subclass for the duration of one ``read`` and
puts the original back afterwards. The version is pinned in demo/requirements.txt.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

HEARTBEAT_SECONDS = 10.0
WRITE_PROGRESS_SECONDS = 5.0


class StreamProgressPrinter:
    """Prints one line per completed stream, a heartbeat while a long stream reads, and DuckDB write progress."""

    def __init__(self, *, label: str, expected_streams: int, out: TextIO | None = None) -> None:
        self.label = label
        self.expected_streams = expected_streams
        self.out = out or sys.stdout
        self.completed = 0
        self.written = 0
        self.started = time.monotonic()
        self.last_line_at = self.started
        self.announce()

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
        self.last_line_at = time.monotonic()

    def announce(self) -> None:
        self._print(f"\n== {self.label}: reading {self.expected_streams} streams ==")

    def stream_completed(self, stream: str, records: int, seconds: float | None) -> None:
        self.completed += 1
        took = f"{seconds:6.1f} s" if seconds is not None else "       "
        self._print(
            f"  [{self.completed:>2}/{self.expected_streams}] {stream:<26} {records:>9,} records  {took}"
            f"   ({self._elapsed()})"
        )

    def heartbeat(self, total_records: int, reading: list[str]) -> None:
        if time.monotonic() - self.last_line_at < HEARTBEAT_SECONDS:
            return
        if not reading:
            self._print(f"  ... waiting for the connector ({self._elapsed()})")
            return
        streams = ", ".join(sorted(reading)[:4]) + (" ..." if len(reading) > 4 else "")
        self._print(f"  ... {total_records:,} records so far; still reading: {streams} ({self._elapsed()})")

    def writing_started(self, total_records: int) -> None:
        self.written = 0
        self._print(f"  read {total_records:,} records; writing them to DuckDB ({self._elapsed()})")

    def stream_written(self) -> None:
        self.written += 1
        last = self.written == self.expected_streams
        if last or time.monotonic() - self.last_line_at >= WRITE_PROGRESS_SECONDS:
            self._print(f"  ... {self.written}/{self.expected_streams} streams written to DuckDB ({self._elapsed()})")

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    def finish(self, total_records: int, seconds: float) -> None:
        self._print(f"  {self.label} done: {total_records:,} records in {seconds:.1f} s")


@contextlib.contextmanager
def reporting_progress_to(printer: StreamProgressPrinter) -> Iterator[None]:
    """While active, every PyAirbyte read reports stream completions and heartbeats to ``printer``."""
    import airbyte.sources.base as sources_base
    from airbyte.progress import ProgressStyle, ProgressTracker

    class PrintingProgressTracker(ProgressTracker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["style"] = ProgressStyle.NONE
            super().__init__(*args, **kwargs)

        def _log_stream_read_end(self, stream_name: str) -> None:
            super()._log_stream_read_end(stream_name)
            started = self.stream_read_start_times.get(stream_name)
            seconds = time.time() - started if started else None
            printer.stream_completed(stream_name, self.stream_read_counts.get(stream_name, 0), seconds)

        def log_batches_finalizing(self, stream_name: str, num_batches: int) -> None:
            first = self.finalize_start_time is None
            super().log_batches_finalizing(stream_name, num_batches)
            if first:
                printer.writing_started(self.total_records_read)

        def log_stream_finalized(self, stream_name: str) -> None:
            first = stream_name not in self.finalized_stream_names
            super().log_stream_finalized(stream_name)
            if first:
                printer.stream_written()

        def _update_display(self, *, force_refresh: bool = False) -> None:
            super()._update_display(force_refresh=force_refresh)
            if self.read_end_time is None:
                reading = [name for name in self.stream_read_start_times if name not in self.stream_read_end_times]
                printer.heartbeat(self.total_records_read, reading)

    original = sources_base.ProgressTracker
    sources_base.ProgressTracker = PrintingProgressTracker
    try:
        yield
    finally:
        sources_base.ProgressTracker = original
