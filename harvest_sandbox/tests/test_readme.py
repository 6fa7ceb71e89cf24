"""The README's permission table is the one in auth.py."""

from __future__ import annotations

import re
from pathlib import Path

from harvest_sandbox.auth import PERMISSIONS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_given_readme_permission_table_then_it_equals_the_permission_map() -> None:
    text = README.read_text()
    table = text.split("<!-- permissions-table -->")[1].split("<!-- /permissions-table -->")[0]
    rows = [line for line in table.strip().splitlines()[2:] if line.startswith("|")]

    documented = {}
    for row in rows:
        family, *levels = (cell.strip() for cell in row.strip("|").split("|"))
        documented[family] = tuple(None if level == "403" else level for level in levels)

    assert documented == PERMISSIONS


def test_given_readme_then_every_fault_and_control_route_is_documented() -> None:
    from harvest_sandbox.faults import FAULT_NAMES

    text = README.read_text()
    for name in FAULT_NAMES:
        assert f"`{name}`" in text
    for route in (
        "info",
        "reset",
        "seed",
        "mutate",
        "approvals",
        "records",
        "faults",
        "config",
        "requests",
        "counts",
        "errors",
        "truth",
        "report",
    ):
        assert re.search(rf"/_sandbox/{route}\b", text), route
