"""Write the streams table of README.md and docs/harvest.md from the connector itself.

The table is what `discover` says (sync modes, primary key, cursor) plus what the manifest says (endpoint, the
Harvest role or feature named in the stream's 403 warning), so the docs cannot drift from the product.

    python scripts/docs_tables.py          # rewrite the tables between the markers
    python scripts/docs_tables.py --check  # exit 1 if a table is stale (used by unit_tests/test_docs.py)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from source_harvest.run import connector_dir, load_components  # noqa: E402

DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "harvest.md"]
START, END = "<!-- streams-table:start -->", "<!-- streams-table:end -->"
_DOCS_CONFIG = {
    "credentials": {"auth_type": "Token", "api_token": "docs"},
    "account_id": "1",
    "replication_start_date": "2020-01-01T00:00:00Z",
}
_EVERY_ROLE = "any role (a Member sees only their own)"


def _parameter(node: Any, key: str) -> Iterator[str]:
    """Every value of `$parameters.<key>` below `node`, depth first."""
    if isinstance(node, Mapping):
        value = node.get("$parameters", {}).get(key)
        if isinstance(value, str):
            yield value
        for child in node.values():
            yield from _parameter(child, key)
    elif isinstance(node, list):
        for child in node:
            yield from _parameter(child, key)


def _endpoint(stream: Mapping[str, Any]) -> str:
    parameters = stream.get("$parameters", {})
    endpoint = parameters["endpoint"]
    parent = parameters.get("parent_endpoint")
    return f"/v2/{parent}/{{id}}/{endpoint}" if parent else f"/v2/{endpoint}"


#: the retriever of a stream -> what its incremental syncs find gone (docs/harvest.md, "Deleted records")
_DELETIONS = {
    "HarvestTombstoneRetriever": "tombstones, whole list",
    "HarvestSpentHistoryRetriever": "tombstones, whole history (counted per month)",
    "HarvestChildTombstoneRetriever": "tombstones, per re-read or deleted parent",
    "HarvestReportTombstoneRetriever": "tombstones, rows gone from a window",
}


def _deletions(stream: Mapping[str, Any]) -> str:
    """Which records of the stream an incremental sync can find deleted, from the class of its retriever."""
    class_name = str(stream.get("retriever", {}).get("class_name", "")).rsplit(".", 1)[-1]
    return _DELETIONS.get(class_name, "-")


@cache  # a pure function of manifest.yaml and components.py (the docs test calls it twice)
def streams_table() -> str:
    """The markdown table, one row per stream, in the manifest's order."""
    folder = connector_dir()
    load_components(folder / "components.py")
    from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

    source = YamlDeclarativeSource(path_to_yaml=str(folder / "manifest.yaml"), config=_DOCS_CONFIG)
    catalog = {s.name: s for s in source.discover(logging.getLogger("docs"), _DOCS_CONFIG).streams}
    rows = [
        "| Stream | Endpoint | Sync modes | Primary key | Cursor | Deleted records | Who can read it (403 otherwise) |",
        "|---|---|---|---|---|---|---|",
    ]
    for stream in source.resolved_manifest["streams"]:
        entry = catalog[stream["name"]]
        modes = ", ".join(mode.value for mode in entry.supported_sync_modes)
        key = ", ".join(".".join(path) for path in entry.source_defined_primary_key or [])
        cursor = ".".join(entry.default_cursor_field or []) or "-"
        hint = next(_parameter(stream, "forbidden_hint"), "").removeprefix("needs ")
        rows.append(
            f"| `{entry.name}` | `{_endpoint(stream)}` | {modes} | {key} | {cursor} | {_deletions(stream)} "
            f"| {hint or _EVERY_ROLE} |"
        )
    return "\n".join(rows)


def render(text: str, table: str) -> str:
    """`text` with the part between the markers replaced by `table`."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a table is stale instead of writing it")
    args = parser.parse_args()
    table = streams_table()
    stale = []
    for document in DOCUMENTS:
        text = document.read_text() if document.exists() else ""
        if START not in text:
            continue
        fresh = render(text, table)
        if fresh != text:
            stale.append(document.relative_to(ROOT))
            if not args.check:
                document.write_text(fresh)
    if args.check and stale:
        print(f"stale streams table in {', '.join(map(str, stale))}: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
