"""Load (and dump) a dataset as one JSON file, for ``--dataset path/to.json``.

Format::

    {"account_id": 1234567, "company": {...}, "principals": {"administrator": <user id>, "manager": ..., "member": ...},
     "tokens": {"administrator": "...", ...},                     # optional: derived from --seed when absent
     "oauth": {"client_id": "...", "client_secret": "...", "refresh_token": "..."},   # optional, likewise
     "anchor": "2026-11-01T12:00:00Z",                            # optional: the data's "now"
     "collections": {"clients": [...], "invoice_messages": [{"parent_id": <invoice id>, ...record}], ...}}

Children without a parent in their payload (invoice/estimate messages, payments, billable/cost rates) carry a
``parent_id`` key in the file; it is removed on load. ``python -m harvest_sandbox --dump FILE`` writes this format.
Time entries and expenses written before the sandbox modelled timesheet approval have no ``approval_status``: it is
read from ``is_closed``, its deprecated twin (``approved`` when closed, else ``unsubmitted``).
"""

from __future__ import annotations

import json
import random
import string
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import as_anchor, fmt_datetime
from .resources import APPROVABLE, COLLECTIONS, SPECS, Dataset

EXPLICIT_PARENT = tuple(n for n in COLLECTIONS if SPECS[n].parent and SPECS[n].parent_of is None)


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def load_json(path: Path, *, seed: int = 42, anchor: datetime | None = None) -> Dataset:
    """The dataset in ``path``; its ``anchor`` when it names one, else ``anchor`` (default: now)."""
    data: dict[str, Any] = json.loads(Path(path).read_text())
    rng = random.Random(seed)
    account_id = int(data["account_id"])
    collections: dict[str, list[dict[str, Any]]] = {}
    parents: dict[str, dict[int, int]] = {}
    for name, records in (data.get("collections") or {}).items():
        if name not in COLLECTIONS:
            raise ValueError(f"unknown collection {name!r} in {path}")
        clean = []
        for record in records:
            record = dict(record)
            if name in EXPLICIT_PARENT:
                parents.setdefault(name, {})[int(record["id"])] = int(record.pop("parent_id"))
            if name in APPROVABLE and "approval_status" not in record:
                record = _with_approval_status(record)
            clean.append(record)
        collections[name] = clean
    tokens = data.get("tokens") or {
        r: f"{account_id}.pt.{_token(rng, 64)}" for r in ("administrator", "manager", "member")
    }
    oauth = data.get("oauth") or {}
    return Dataset(
        name=str(path),
        seed=seed,
        account_id=account_id,
        company=data["company"],
        collections=collections,
        parents=parents,
        principals={k: int(v) for k, v in data["principals"].items()},
        tokens=tokens,
        oauth_client_id=oauth.get("client_id") or _token(rng, 24),
        oauth_client_secret=oauth.get("client_secret") or _token(rng, 64),
        oauth_refresh_token=oauth.get("refresh_token") or f"{account_id}.rt.{_token(rng, 64)}",
        anchor=as_anchor(data.get("anchor") or anchor),
    )


def _with_approval_status(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``approval_status`` from ``is_closed``, placed after it as on Harvest."""
    status = "approved" if record.get("is_closed") else "unsubmitted"
    out: dict[str, Any] = {}
    for key, value in record.items():
        out[key] = value
        if key == "is_closed":
            out["approval_status"] = status
    out.setdefault("approval_status", status)
    return out


def dump_json(dataset: Dataset, path: Path) -> None:
    collections: dict[str, list[dict[str, Any]]] = {}
    for name, records in dataset.collections.items():
        if name in EXPLICIT_PARENT:
            owner = dataset.parents.get(name, {})
            collections[name] = [{**r, "parent_id": owner[r["id"]]} for r in records]
        else:
            collections[name] = list(records)
    payload = {
        "account_id": dataset.account_id,
        "company": dataset.company,
        "principals": dataset.principals,
        "tokens": dataset.tokens,
        "oauth": {
            "client_id": dataset.oauth_client_id,
            "client_secret": dataset.oauth_client_secret,
            "refresh_token": dataset.oauth_refresh_token,
        },
        "anchor": fmt_datetime(dataset.anchor),
        "collections": collections,
    }
    Path(path).write_text(json.dumps(payload, indent=1))
