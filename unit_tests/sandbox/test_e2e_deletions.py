"""Deleted records end to end: tombstones from `source-harvest read --state` against the sandbox's ground truth.

1. After a full sync, records are deleted in every entity stream (with what Harvest deletes along: a project's
   assignments; time entries and expenses years back), a time entry moves to another month and new records appear:
   the incremental sync emits exactly the deleted ids as tombstones, an append + dedup destination that applies them
   equals the sandbox, and a sync after that with no changes emits none.
2. A Member's token after an Administrator's emits no tombstone (it sees less, and Harvest answers 404 for what it
   may not see) and keeps the Administrator's ids: the next Administrator sync tombstones the real deletion.
3. A record deleted between two page requests of a month's re-list shifts Harvest's page numbers so that a record
   that still exists is never listed: its lookup answers 200 and no tombstone is emitted for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer
from source_harvest.streams import ENTITY_STREAMS

from .helpers import (
    Destination,
    Run,
    compare_records,
    configured_catalog,
    schema_problems,
    schemas_of,
    successful_read,
    tombstones,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_START = "2015-01-01T00:00:00Z"  # before the account opened: the destination holds every record
_HISTORIES = ("expenses", "time_entries")  # deletions looked for by counting their spent_date history
_DELETED_AT = "_ab_cdc_deleted_at"


def _lookups(server: SandboxServer) -> list[tuple[str, int]]:
    """The single-record GETs of the last sync: (path, status)."""
    return [(r["path"], r["status"]) for r in server.requests if r["endpoint"].endswith("/{id}")]


def _cursor_at_start(run: Run) -> dict[str, str]:
    return {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["updated_at"] for s in run.final_state()
    }


def _delete_one_of_each(server: SandboxServer, destination: Destination) -> None:
    """One record of every entity stream that the destination holds (the oldest time entry and expense: years back),
    never a token's own user; deleting a project takes its task and user assignments along."""
    store = server.store
    principals = set(server.users.values())
    for stream in ENTITY_STREAMS:
        rows = destination.rows(stream)
        candidates = [
            record_id for record_id in rows if store.exists(stream, record_id) and record_id not in principals
        ]
        assert candidates, f"{stream}: nothing left to delete in the tiny dataset"
        if stream in _HISTORIES:
            store.delete(stream, min(candidates, key=lambda i: rows[i]["spent_date"]))
        else:
            store.delete(stream, min(candidates))


def test_given_deletions_in_every_entity_stream_when_syncing_incrementally_then_exactly_those_ids_are_tombstoned(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    config = harvest.config(replication_start_date=_START)
    catalog = configured_catalog(discovered, ENTITY_STREAMS)
    store = harvest.store
    first = successful_read(harvest, workdir, config, catalog)
    destination = Destination(discovered, catalog)
    destination.apply(first)
    known = {stream: destination.rows(stream) for stream in ENTITY_STREAMS}

    _delete_one_of_each(harvest, destination)
    moved = max(i for i in destination.rows("time_entries") if store.exists("time_entries", i))
    store.update("time_entries", moved, {"spent_date": "2019-01-07"})  # to another month: a change, not a deletion
    store.create("time_entries", {"hours": 1.5})
    store.create("clients", {"name": "Created after the first sync"})

    second = successful_read(harvest, workdir, config, catalog, first.final_state())

    expected = {
        stream: {record_id for record_id, record in rows.items() if not store.exists(stream, record_id)}
        for stream, rows in known.items()
    }
    emitted = tombstones(second)
    got = {stream: [t["id"] for t in emitted.get(stream, [])] for stream in ENTITY_STREAMS}
    problems = [
        f"{stream}: tombstones {sorted(got[stream])}, expected exactly {sorted(expected[stream])}"
        for stream in ENTITY_STREAMS
        if sorted(got[stream]) != sorted(expected[stream])
    ]
    assert problems == [], "\n".join(problems)
    assert all(expected[stream] for stream in ENTITY_STREAMS), "every entity stream has a deletion"
    started_from = _cursor_at_start(first)
    schemas = schemas_of(discovered)
    for stream, stream_tombstones in emitted.items():
        for tombstone in stream_tombstones:
            assert set(tombstone) == {"id", "updated_at", _DELETED_AT}, tombstone
            assert tombstone["updated_at"] == started_from[stream], (stream, tombstone)
        assert schema_problems(stream, stream_tombstones, schemas[stream]) == []
    assert all(status in (200, 404) for _, status in _lookups(harvest))

    destination.apply(second)
    truth_problems = []
    for stream in ENTITY_STREAMS:
        truth = store.list(stream, updated_since=_START) if stream != "roles" else store.list("roles")
        truth_problems += compare_records(stream, list(destination.rows(stream).values()), truth)
    assert truth_problems == [], "\n".join(truth_problems)

    third = successful_read(harvest, workdir, config, catalog, second.final_state())

    assert tombstones(third) == {}
    assert _lookups(harvest) == [], "a sync with nothing deleted looks nothing up"


def test_given_a_member_token_after_an_administrators_when_syncing_then_no_tombstone_until_an_administrator_syncs(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    admin = harvest.config(replication_start_date=_START)
    member = harvest.config("member", replication_start_date=_START)
    catalog = configured_catalog(discovered, ENTITY_STREAMS)
    store = harvest.store
    first = successful_read(harvest, workdir, admin, catalog)
    own_entry = max(e["id"] for e in store.list("time_entries", role="member"))
    store.delete("time_entries", own_entry)

    as_member = successful_read(harvest, workdir, member, catalog, first.final_state())

    assert tombstones(as_member) == {}
    assert [path for path, _ in _lookups(harvest) if not path.startswith("/v2/users/")] == []
    for stream in _HISTORIES:  # the streams a Member can read: each says why nothing was marked deleted
        assert any(w.startswith(f"{stream}:") and "only an Administrator's token" in w for w in as_member.warnings)

    as_admin_again = successful_read(harvest, workdir, admin, catalog, as_member.final_state())

    assert {s: [t["id"] for t in ts] for s, ts in tombstones(as_admin_again).items()} == {"time_entries": [own_entry]}


def test_given_a_record_deleted_between_two_pages_of_a_months_relist_when_syncing_then_no_false_tombstone(
    harvest: SandboxServer, discovered: dict[str, Any], workdir: Path
) -> None:
    # A month of more than 2000 entries is re-listed over two pages (page numbers, not cursors).
    store = harvest.store
    for day in range(2100):
        store.create("time_entries", {"spent_date": f"2020-03-{day % 28 + 1:02d}", "notes": f"bulk {day}"})
    config = harvest.config(replication_start_date=_START)
    catalog = configured_catalog(discovered, ["time_entries"])
    first = successful_read(harvest, workdir, config, catalog)
    month = [e["id"] for e in store.list("time_entries", **{"from": "2020-03-01", "to": "2020-03-31"})]
    assert len(month) > 2001
    deleted = month[5]
    store.delete("time_entries", deleted)  # the month's count drops: the next sync re-lists it
    # Before page 2 of that re-list, another user deletes an entry of page 1: page 2 then starts one record later,
    # and the entry that was first on page 2 is never listed although it exists.
    concurrently_deleted, skipped = month[0], month[2001]
    harvest.add_fault(
        "concurrent_delete",
        path="/v2/time_entries",
        query={"page": "2", "from": "2020-03-01"},  # the re-list of that month, not the own read
        count=1,
        resource="time_entries",
        record_id=concurrently_deleted,
    )

    second = successful_read(harvest, workdir, config, catalog, first.final_state())

    assert [t["id"] for t in tombstones(second).get("time_entries", [])] == [deleted]
    assert sorted(_lookups(harvest)) == sorted(
        [(f"/v2/time_entries/{deleted}", 404), (f"/v2/time_entries/{skipped}", 200)]
    )

    third = successful_read(harvest, workdir, config, catalog, second.final_state())

    assert [t["id"] for t in tombstones(third).get("time_entries", [])] == [concurrently_deleted]
