"""Scratch copies of the connector (manifest.yaml + components.py) that differ only in the rate budget.

- ``unbudgeted``: no ``api_budget``: what the connector costs and how fast it can go when nothing throttles it
  (the sandbox's limits are off too);
- ``scaled``: the budget's windows times ``time_scale``, to run a rate-limited sync against a sandbox whose
  windows are scaled the same way (a short stand-in for the real 15 s / 15 min).

The shipped connector (``budget="shipped"``) runs as ``.venv/bin/source-harvest``; a variant runs the same entry
point (:mod:`bench.connector`) with its folder pointing at the copy.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from .sandbox import REPO

_DURATION = re.compile(r"^PT(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?$")


def duration_seconds(value: str) -> float:
    found = _DURATION.match(value)
    if not found:
        raise ValueError(f"unsupported duration {value!r}")
    return float(found.group("m") or 0) * 60 + float(found.group("s") or 0)


def budget_windows(manifest: dict[str, Any]) -> list[tuple[int, float, list[str]]]:
    """(limit, window seconds, url path patterns) of each policy of the manifest's ``api_budget``."""
    result = []
    for policy in (manifest.get("api_budget") or {}).get("policies", []):
        patterns = [m.get("url_path_pattern", "") for m in policy.get("matchers") or []]
        for rate in policy.get("rates", []):
            result.append((int(rate["limit"]), duration_seconds(str(rate["interval"])), patterns))
    return result


def load_manifest(folder: Path = REPO) -> dict[str, Any]:
    """The manifest of a connector folder (the checkout by default) as plain data."""
    return dict(yaml.safe_load((folder / "manifest.yaml").read_text()))


def write_variant(dest: Path, budget: str, time_scale: float = 1.0, source: Path = REPO) -> Path:
    """Write ``dest/manifest.yaml`` and ``dest/components.py`` from the connector in ``source`` (the checkout, or a
    scratch copy with a proposed change); ``budget`` is ``shipped``, ``unbudgeted`` or ``scaled``."""
    manifest = load_manifest(source)
    if budget == "unbudgeted":
        manifest.pop("api_budget", None)
    elif budget == "scaled":
        for policy in manifest.get("api_budget", {}).get("policies", []):
            for rate in policy.get("rates", []):
                rate["interval"] = f"PT{duration_seconds(str(rate['interval'])) * time_scale:.6f}S"
    elif budget != "shipped":
        raise ValueError(f"unknown budget variant {budget!r}")
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, width=200))
    shutil.copyfile(source / "components.py", dest / "components.py")
    return dest
