from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.sources.types import StreamSlice

from components import HarvestParentId


def test_given_a_child_record_then_it_gets_the_partition_id_as_an_integer() -> None:
    record: dict[str, Any] = {"id": 5, "amount": 10.0}
    stream_slice = StreamSlice(
        partition={"id": 12, "parent_slice": {}},
        cursor_slice={"start_time": "2024-01-01T00:00:00Z", "end_time": "2024-02-01T00:00:00Z"},
    )
    HarvestParentId().transform(record, config={}, stream_slice=stream_slice)
    assert record == {"id": 5, "amount": 10.0, "parent_id": 12}
    assert type(record["parent_id"]) is int


def test_given_a_partition_id_as_a_string_then_parent_id_is_still_an_integer() -> None:
    record: dict[str, Any] = {"id": 5}
    HarvestParentId().transform(record, stream_slice=StreamSlice(partition={"id": "12"}, cursor_slice={}))
    assert record["parent_id"] == 12


def test_given_no_slice_then_it_fails_instead_of_guessing() -> None:
    with pytest.raises(ValueError, match="partition"):
        HarvestParentId().transform({"id": 5})
