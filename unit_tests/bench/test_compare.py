from __future__ import annotations

import json
from typing import Any

from bench.compare import markdown, summarise
from bench.runner import RecordDigest, state_digest


def _line(stream: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1}}).encode()


def _digests(records: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    digest = RecordDigest()
    for stream, data in records:
        digest.add(stream.encode(), _line(stream, data))
    return digest.hexdigests()


def test_given_the_same_records_in_another_order_when_digested_then_the_digests_are_equal() -> None:
    records = [("users", {"id": 1, "name": "Ada"}), ("users", {"id": 2}), ("roles", {"id": 9})]
    assert _digests(records) == _digests(list(reversed(records)))


def test_given_one_field_changed_or_one_record_more_when_digested_then_the_stream_digest_differs() -> None:
    base = _digests([("users", {"id": 1, "name": "Ada"}), ("roles", {"id": 9})])
    changed = _digests([("users", {"id": 1, "name": "Bob"}), ("roles", {"id": 9})])
    more = _digests([("users", {"id": 1, "name": "Ada"}), ("users", {"id": 1, "name": "Ada"}), ("roles", {"id": 9})])
    assert changed["users"] != base["users"] and changed["roles"] == base["roles"]
    assert more["users"] != base["users"]


def _state(lookback: int, cursor: str, record_count: float) -> dict[str, Any]:
    stream_state = {"state": {"updated_at": cursor}, "lookback_window": lookback}
    return {
        "invoice_messages": {"stream": {"stream_state": stream_state}, "sourceStats": {"recordCount": record_count}}
    }


def test_given_states_differing_only_in_lookback_and_counts_when_digested_then_they_are_equal() -> None:
    assert state_digest(_state(6, "2024-01-01T00:00:00Z", 430.0)) == state_digest(
        _state(2, "2024-01-01T00:00:00Z", 432)
    )
    assert state_digest(_state(6, "2024-01-01T00:00:00Z", 1)) != state_digest(_state(6, "2024-01-02T00:00:00Z", 1))


def _run(variant: str, cpu: float, rss: float, digests: dict[str, str]) -> dict[str, Any]:
    sync = {
        "cpu_s": cpu,
        "records_per_cpu_s": 1000 / cpu,
        "max_rss_mb": rss,
        "total_records": 1000,
        "records": {"users": 1000},
        "digests": digests,
        "errors": [],
        "requests": {"actual_total": 10, "minimum_total": 10},
    }
    return {"variant": variant, "size": "medium", "full": sync, "incremental": sync}


def test_given_two_variants_when_summarised_then_medians_and_the_change_of_the_last_against_the_first() -> None:
    same, other = {"users": "a"}, {"users": "b"}
    runs = [
        _run("main", 40.0, 200.0, same),
        _run("checkout", 30.0, 160.0, same),
        _run("main", 44.0, 190.0, same),
        _run("checkout", 32.0, 150.0, other),
        _run("main", 42.0, 210.0, same),
        _run("checkout", 31.0, 170.0, same),
    ]
    rows = {(r["sync"], r["variant"]): r for r in summarise(runs)}
    assert rows[("full", "main")]["cpu_s"] == 42.0 and rows[("full", "checkout")]["cpu_s"] == 31.0
    assert rows[("full", "checkout")]["max_rss_mb"] == 160.0
    assert rows[("full", "checkout")]["differs_from_first_variant"] == ["users"]
    assert rows[("incremental", "checkout")]["differs_from_first_variant"] == []  # compared by counts
    table = "\n".join(markdown(summarise(runs)))
    assert "| medium | full | **change** | | | | **-26.2%** | **+35.5%** | **-20.0%** | |" in table
    assert "NO: users" in table
