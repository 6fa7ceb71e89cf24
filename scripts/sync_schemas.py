#!/usr/bin/env python3
"""Keep manifest.yaml's `schemas:` block identical to schemas/*.json.

`schemas/<stream>.json` is the one place where stream schemas are edited. The connector ships as a manifest only
(JsonFileSchemaLoader cannot read files there), so the same schemas are inlined under the top-level `schemas:` key,
which is the LAST top-level key of manifest.yaml. This script regenerates that block:

    python scripts/sync_schemas.py           # rewrite the block (everything above `schemas:` is left untouched)
    python scripts/sync_schemas.py --check   # exit 1 and summarise the drift if the block is stale

`--check` compares parsed data, not text, so formatting or comments inside the block never count as drift.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "manifest.yaml"
SCHEMAS_DIR = ROOT / "schemas"
BLOCK_KEY_LINE = "schemas:"
BLOCK_COMMENT = (
    "  # Generated from schemas/*.json by scripts/sync_schemas.py: edit those files, then run `make schemas`."
)

Schema = dict[str, Any]


class SyncError(Exception):
    """The manifest cannot be rewritten safely (or the schema files are unreadable)."""


def load_schemas(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Schema]:
    """Return {stream name: schema} for every `schemas/*.json`, sorted by stream name."""
    schemas: dict[str, Schema] = {}
    for path in sorted(schemas_dir.glob("*.json"), key=lambda p: p.stem):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SyncError(f"{path}: invalid JSON ({exc})") from exc
        if not isinstance(schema, dict):
            raise SyncError(f"{path}: a schema must be a JSON object")
        schemas[path.stem] = schema
    if not schemas:
        raise SyncError(f"no schema files found in {schemas_dir}")
    return schemas


def render_schemas_block(schemas: Mapping[str, Schema] | None = None) -> str:
    """Return the YAML text of the `schemas:` block (starting with the `schemas:` line, ending with a newline)."""
    if schemas is None:
        schemas = load_schemas()
    body = yaml.safe_dump(
        {name: schemas[name] for name in sorted(schemas)},
        sort_keys=False,
        default_flow_style=False,
        width=1000,
        allow_unicode=True,
        indent=2,
    )
    indented = "".join(f"  {line}" if line.strip() else line for line in body.splitlines(keepends=True))
    return f"{BLOCK_KEY_LINE}\n{BLOCK_COMMENT}\n{indented}"


def _block_start(lines: list[str]) -> int | None:
    """Index of the line that is exactly `schemas:` (the start of the block), or None."""
    starts = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == BLOCK_KEY_LINE]
    odd = [line.strip() for line in lines if line.startswith(BLOCK_KEY_LINE) and line.rstrip("\r\n") != BLOCK_KEY_LINE]
    if odd:
        raise SyncError(f"expected the block to start with a line that is exactly `{BLOCK_KEY_LINE}`, found {odd[0]!r}")
    if len(starts) > 1:
        raise SyncError(f"manifest has {len(starts)} top-level `{BLOCK_KEY_LINE}` lines; expected one")
    return starts[0] if starts else None


def replace_schemas_block(manifest_text: str, block: str) -> str:
    """Return `manifest_text` with its trailing `schemas:` block replaced by `block` (appended when missing).

    Everything above the `schemas:` line is kept byte for byte. Refuses to run when another top-level key follows
    the block, because then the block is not the last key and replacing "to the end of file" would delete it.
    """
    lines = manifest_text.splitlines(keepends=True)
    start = _block_start(lines)
    if start is None:
        head = manifest_text
        if head and not head.endswith("\n"):
            head += "\n"
        return head + block
    for line in lines[start + 1 :]:
        if line.strip() and not line[0].isspace() and not line.startswith("#"):
            raise SyncError(
                f"`{BLOCK_KEY_LINE}` must be the last top-level key of the manifest, but {line.strip()!r} follows it"
            )
    return "".join(lines[:start]) + block


def _atomic_write(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def sync(manifest_path: Path = MANIFEST_PATH, schemas_dir: Path = SCHEMAS_DIR, attempts: int = 5) -> bool:
    """Rewrite the manifest's `schemas:` block. Returns True if the file changed.

    The manifest is edited by other people at the same time, so the read-modify-write is kept short and is retried
    when the file changed between reading it and writing it back.
    """
    if not manifest_path.exists():
        raise SyncError(f"{manifest_path} does not exist")
    block = render_schemas_block(load_schemas(schemas_dir))
    for _ in range(attempts):
        original = manifest_path.read_text(encoding="utf-8")
        updated = replace_schemas_block(original, block)
        if updated == original:
            return False
        if manifest_path.read_text(encoding="utf-8") != original:
            continue  # somebody saved the manifest meanwhile: start again from their version
        _atomic_write(manifest_path, updated)
        return True
    raise SyncError(f"{manifest_path} kept changing while being rewritten; try again")


def _first_difference(expected: Any, actual: Any, path: str = "") -> str:
    """A short human description of the first place where two parsed values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                return f"{path}/{key}: missing in manifest"
        for key in actual:
            if key not in expected:
                return f"{path}/{key}: only in manifest"
        for key in expected:
            if expected[key] != actual[key]:
                return _first_difference(expected[key], actual[key], f"{path}/{key}")
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            if left != right:
                return _first_difference(left, right, f"{path}/{index}")
    return f"{path or '/'}: schemas/ has {json.dumps(expected)[:120]}, manifest has {json.dumps(actual)[:120]}"


def check(manifest_path: Path = MANIFEST_PATH, schemas_dir: Path = SCHEMAS_DIR) -> list[str]:
    """Compare the manifest's `schemas:` block with schemas/*.json; return the differences (empty when in sync)."""
    expected = load_schemas(schemas_dir)
    if not manifest_path.exists():
        return [f"{manifest_path} does not exist"]
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or BLOCK_KEY_LINE.rstrip(":") not in manifest:
        return [f"{manifest_path.name} has no top-level `schemas:` block"]
    actual = manifest["schemas"] or {}
    if not isinstance(actual, dict):
        return [f"{manifest_path.name}: `schemas:` is not a mapping"]
    problems: list[str] = []
    for name in sorted(set(expected) - set(actual)):
        problems.append(f"stream {name!r}: in schemas/{name}.json but missing from the manifest")
    for name in sorted(set(actual) - set(expected)):
        problems.append(f"stream {name!r}: in the manifest but there is no schemas/{name}.json")
    for name in sorted(set(expected) & set(actual)):
        if expected[name] != actual[name]:
            problems.append(f"stream {name!r} differs at {_first_difference(expected[name], actual[name])}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the block is out of date")
    parser.add_argument("--manifest", type=Path, default=MANIFEST_PATH, help="path to manifest.yaml")
    parser.add_argument("--schemas-dir", type=Path, default=SCHEMAS_DIR, help="directory holding <stream>.json")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.manifest, args.schemas_dir)
            if problems:
                print(f"{args.manifest.name}'s `schemas:` block is out of date with schemas/*.json:", file=sys.stderr)
                for problem in problems:
                    print(f"  - {problem}", file=sys.stderr)
                print("Run `make schemas` (python scripts/sync_schemas.py) to regenerate it.", file=sys.stderr)
                return 1
            print(
                f"{args.manifest.name}: `schemas:` block is up to date ({len(load_schemas(args.schemas_dir))} streams)"
            )
            return 0
        changed = sync(args.manifest, args.schemas_dir)
    except SyncError as exc:
        print(f"sync_schemas: {exc}", file=sys.stderr)
        return 2
    print(f"{args.manifest.name}: `schemas:` block {'rewritten' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
