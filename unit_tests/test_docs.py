"""The streams tables in README.md and docs/harvest.md are generated from the connector and must not drift."""

import sys

import pytest

from scripts import docs_tables


def test_given_the_connector_when_rendering_the_streams_table_then_the_docs_are_up_to_date(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["docs_tables.py", "--check"])  # what `make docs` runs, with --check

    assert docs_tables.main() == 0, capsys.readouterr().err


def test_given_the_docs_when_reading_them_then_every_stream_has_a_row() -> None:
    table = docs_tables.streams_table()
    assert table.count("\n| `") == 32
