from __future__ import annotations

from typing import Any

import pytest

from components import HarvestEndDateFilter

_END = "2024-06-01T00:00:00Z"


def _kept(config: dict[str, Any], updated_at: list[str]) -> list[str]:
    records = [{"id": index, "updated_at": value} for index, value in enumerate(updated_at)]
    record_filter = HarvestEndDateFilter(config=config, parameters={})
    return [record["updated_at"] for record in record_filter.filter_records(records, stream_state={})]


def test_given_an_end_date_then_records_updated_after_it_are_dropped_and_the_end_is_inclusive() -> None:
    kept = _kept(
        {"replication_end_date": _END},
        ["2024-05-31T23:59:59Z", _END, "2024-06-01T00:00:01Z", "2025-01-01T00:00:00Z"],
    )
    assert kept == ["2024-05-31T23:59:59Z", _END]


@pytest.mark.parametrize("config", [{}, {"replication_end_date": None}, {"replication_end_date": ""}])
def test_given_no_end_date_then_every_record_is_kept_unchecked(config: dict[str, Any]) -> None:
    # Records without `updated_at` prove that nothing is read from them.
    records = [{"id": 1}, {"id": 2, "updated_at": "2999-01-01T00:00:00Z"}]
    record_filter = HarvestEndDateFilter(config=config, parameters={})
    assert list(record_filter.filter_records(records, stream_state={})) == records
