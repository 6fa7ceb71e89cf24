"""The streams tables in README.md and docs/harvest.md are generated from the connector and must not drift."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_given_the_connector_when_rendering_the_streams_table_then_the_docs_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docs_tables.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_given_the_docs_when_reading_them_then_every_stream_has_a_row() -> None:
    from scripts.docs_tables import streams_table

    table = streams_table()
    assert table.count("\n| `") == 32
