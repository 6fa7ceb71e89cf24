"""The warehouse equals Harvest over time: rounds of realistic changes of every kind, each followed by an incremental
sync into an append + dedup destination (tombstoned rows removed), and after every round the destination compared
with the sandbox's ground truth (what a full refresh would give) for all 32 streams; a round with no change emits no
tombstone. Run once with Harvest moving `updated_at` when it approves a timesheet and once without (Harvest does not
document which; harvest-api/README.md section 10).

One thing Harvest shows no sign of, so no incremental sync can know it (docs/harvest.md, "Deleted records"): a message
deleted from an invoice that is not open, or from an estimate that is not sent, when nothing else changes that
invoice or estimate (deleting a message leaves its parent as it was). Its row stays until the parent changes or the
stream is fully refreshed. The test follows each such message, checks that its row is still there, and leaves it out
of the comparison until its parent is re-read, when it must be tombstoned.

The changes are the sandbox's own realistic operations (harvest_sandbox/mutations.py), every one of them in every
round, plus a seeded random batch, plus what the operations do not cover: an old week approved, an estimate and a
contact deleted. They cover deletions of every kind Harvest allows (time entries old and new, an expense, a payment,
invoice and estimate messages, a draft invoice with its children, a user removed from a project, an estimate, a
contact), an edit in a report window years back (an old timesheet fixed), an entry moved between projects, and weeks
submitted and approved.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.mutations import OPERATIONS, apply, mutate
from harvest_sandbox.resources import Change

from .helpers import Destination, check_records, configured_catalog, successful_read, tombstones

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2017-01-01T00:00:00Z"
_ROUNDS = 3
_RANDOM_CHANGES = 10
#: Kinds of change that every run of this test must have made at least once (the tiny dataset has a candidate for
#: each; an operation that finds none in one round finds one in another).
_REQUIRED = {
    "delete_recent_time",
    "delete_old_time",
    "fix_old_time",
    "move_time",
    "approve_week",
    "delete_expense",
    "delete_payment",
    "delete_invoice_message",
    "delete_estimate_message",
    "delete_invoice",
    "unassign_user",
}


#: message stream -> (parent stream, the parent state whose messages every sync reads)
_MESSAGES = {"invoice_messages": ("invoices", "open"), "estimate_messages": ("estimates", "sent")}


def _change_everything(server: SandboxServer, round_number: int, deleted: list[Change]) -> set[str]:
    """Every realistic operation once, an old week approved, an estimate and a contact deleted, then a random batch;
    the names of the operations that changed something. Deletions are added to ``deleted``."""
    store = server.store
    rng = random.Random(f"convergence-{round_number}")
    made = set()
    for name, _ in OPERATIONS:
        changes = apply(store, name, rng)
        if changes:
            made.add(name)
        deleted += [c for c in changes if c.op == "delete"]
    old_week = sorted(
        (e for e in store.iter_records("time_entries") if e["approval_status"] == "unsubmitted" and not e["is_locked"]),
        key=lambda e: e["spent_date"],
    )
    if old_week:  # a manager catching up on a week long past
        entry = old_week[rng.randrange(min(len(old_week), 10))]
        if store.set_approval(entry["user"]["id"], entry["spent_date"], "approved"):
            made.add("approve_old_week")
    for stream in ("estimates", "contacts"):
        records = sorted(store.iter_records(stream), key=lambda r: r["id"])
        if records:
            store.delete(stream, records[rng.randrange(len(records))]["id"])
            made.add(f"delete_{stream}")
    deleted += [c for c in mutate(store, _RANDOM_CHANGES) if c.op == "delete"]
    return made


def _unknowable(server: SandboxServer, deleted: list[Change], parents_before: dict[str, dict[int, str]]) -> set[int]:
    """The deleted messages no incremental sync can know of: their parent still exists, is not in the state whose
    messages every sync reads, and was not updated since the previous sync."""
    store = server.store
    out = set()
    for change in deleted:
        if change.resource not in _MESSAGES or change.parent_id is None:
            continue
        parent_stream, reread_state = _MESSAGES[change.resource]
        if not store.exists(parent_stream, change.parent_id):
            continue
        parent = store.get(parent_stream, change.parent_id)
        if parent["state"] != reread_state and parent["updated_at"] == parents_before[parent_stream].get(parent["id"]):
            out.add(change.id)
    return out


def _parents(server: SandboxServer) -> dict[str, dict[int, str]]:
    return {p: {r["id"]: r["updated_at"] for r in server.store.iter_records(p)} for p, _ in _MESSAGES.values()}


def _without(records: dict[str, list[dict[str, Any]]], stale: set[int]) -> dict[str, list[dict[str, Any]]]:
    return {s: [r for r in rows if not (s in _MESSAGES and r.get("id") in stale)] for s, rows in records.items()}


@pytest.mark.parametrize("approval_moves_updated_at", [False, True], ids=["approval-keeps-updated_at", "moves-it"])
def test_given_rounds_of_realistic_changes_when_syncing_incrementally_then_the_destination_equals_harvest_each_time(
    approval_moves_updated_at: bool, harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    harvest.configure(approval_moves_updated_at=approval_moves_updated_at)
    config = harvest.config(replication_start_date=_START)
    catalog = configured_catalog(discovered)
    destination = Destination(discovered, catalog)

    run = successful_read(harvest, workdir, config, catalog)
    destination.apply(run)
    assert check_records(harvest, destination.records, discovered, _START) == []

    made: set[str] = set()
    requests_per_round = []
    deleted: list[Change] = []
    for round_number in range(1, _ROUNDS + 1):
        parents_before = _parents(harvest)
        made |= _change_everything(harvest, round_number, deleted)

        run = successful_read(harvest, workdir, config, catalog, run.final_state())
        destination.apply(run)

        requests_per_round.append(len(harvest.requests))
        stale = _unknowable(harvest, deleted, parents_before)
        held = {r["id"] for s in _MESSAGES for r in destination.records.get(s, [])}
        assert stale <= held, f"round {round_number}: an unknowable deletion cannot have reached the destination"
        problems = check_records(harvest, _without(destination.records, stale), discovered, _START)
        assert problems == [], f"round {round_number}:\n" + "\n".join(problems)
        deleted = [c for c in deleted if c.id in stale]  # the others are settled
    assert made >= _REQUIRED, f"kinds of change never made: {sorted(_REQUIRED - made)}"

    parents_before = _parents(harvest)
    quiet = successful_read(harvest, workdir, config, catalog, run.final_state())
    destination.apply(quiet)

    assert tombstones(quiet) == {}, "a round with no change emits no tombstone"
    stale = _unknowable(harvest, deleted, parents_before)
    assert check_records(harvest, _without(destination.records, stale), discovered, _START) == []
    print(f"requests per round: {requests_per_round}, quiet round: {len(harvest.requests)}")
