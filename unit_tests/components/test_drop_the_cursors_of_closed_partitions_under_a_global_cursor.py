from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import (
    ConcurrentCursorFactory,
    ConcurrentPerPartitionCursor,
)
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import CursorField
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)
from airbyte_cdk.sources.types import StreamSlice

import components
from components import drop_the_cursors_of_closed_partitions_under_a_global_cursor

ORIGINAL = ConcurrentPerPartitionCursor._cleanup_if_done.__wrapped__  # type: ignore[attr-defined]
CHILD_STATE = {"updated_at": "2024-03-01T00:00:00Z"}


class _PartitionCursor:
    """What the per-partition cursor does in this scenario: one slice per partition, a state once closed."""

    state: Mapping[str, Any] = CHILD_STATE

    def stream_slices(self) -> Iterable[Mapping[str, Any]]:
        yield {"start_time": "2024-01-01T00:00:00Z", "end_time": "2024-06-01T00:00:00Z"}

    def close_partition(self, partition: Any) -> None:
        pass


class _Parents:
    def __init__(self, ids: list[int]) -> None:
        self._ids = ids

    def stream_slices(self) -> Iterable[StreamSlice]:
        for parent_id in self._ids:
            yield StreamSlice(partition={"id": parent_id, "parent_slice": {}}, cursor_slice={})

    def get_stream_state(self) -> Mapping[str, Any]:
        return {"invoices": {"updated_at": "2024-02-01T00:00:00Z"}}


class _Partition:
    def __init__(self, stream_slice: StreamSlice) -> None:
        self._slice = stream_slice

    def to_slice(self) -> StreamSlice:
        return self._slice


def _sync(parent_ids: list[int], state: Mapping[str, Any]) -> ConcurrentPerPartitionCursor:
    """Generates, reads (nothing) and closes every child partition, as the CDK does."""
    cursor = ConcurrentPerPartitionCursor(
        cursor_factory=ConcurrentCursorFactory(lambda **kwargs: _PartitionCursor()),
        partition_router=_Parents(parent_ids),  # type: ignore[arg-type]
        stream_name="invoice_messages",
        stream_namespace=None,
        stream_state=state,
        message_repository=InMemoryMessageRepository(),
        connector_state_manager=ConnectorStateManager(),
        connector_state_converter=CustomFormatConcurrentStreamStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ"),
        cursor_field=CursorField("updated_at"),
        use_global_cursor=bool(state.get("use_global_cursor")),
    )
    for stream_slice in list(cursor.stream_slices()):
        cursor.close_partition(_Partition(stream_slice))  # type: ignore[arg-type]
    cursor.ensure_at_least_one_state_emitted()
    return cursor


GLOBAL = {"use_global_cursor": True, "state": {"updated_at": "2024-01-01T00:00:00Z"}, "lookback_window": 0}
PER_PARTITION = {"use_global_cursor": False, "states": [], "lookback_window": 0}


def test_given_components_imported_then_the_cdk_cursor_uses_the_patched_clean_up() -> None:
    assert getattr(ConcurrentPerPartitionCursor._cleanup_if_done, components._PATCHED) is True


def test_given_a_global_cursor_when_every_partition_is_closed_then_no_partition_cursor_is_kept() -> None:
    cursor = _sync(list(range(1, 501)), GLOBAL)
    assert cursor._cursor_per_partition == {}
    assert cursor._semaphore_per_partition == {}


def test_given_a_per_partition_cursor_when_partitions_are_closed_then_their_cursors_are_kept_for_the_state() -> None:
    cursor = _sync([1, 2, 3], PER_PARTITION)
    assert len(cursor._cursor_per_partition) == 3
    assert [s["cursor"] for s in cursor.state["states"]] == [CHILD_STATE] * 3


@pytest.mark.parametrize("state", [GLOBAL, PER_PARTITION], ids=["global", "per-partition"])
def test_given_either_cursor_when_synced_then_the_state_equals_the_cdks_own(
    monkeypatch: pytest.MonkeyPatch, state: Mapping[str, Any]
) -> None:
    patched = _sync([1, 2, 3], state).state
    monkeypatch.setattr(ConcurrentPerPartitionCursor, "_cleanup_if_done", ORIGINAL)
    assert patched == _sync([1, 2, 3], state).state


def test_given_the_patch_applied_again_then_it_does_not_wrap_itself() -> None:
    patched = ConcurrentPerPartitionCursor._cleanup_if_done
    drop_the_cursors_of_closed_partitions_under_a_global_cursor()
    assert ConcurrentPerPartitionCursor._cleanup_if_done is patched
