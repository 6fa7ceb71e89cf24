from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import (
    ParentStreamConfig,
    SubstreamPartitionRouter,
)
from airbyte_cdk.sources.types import Record, StreamSlice

from components import HarvestSkippedRead, HarvestUniqueParentPartitionRouter


@dataclass
class _Cursor:
    state: dict[str, Any]

    def observe(self, record: Record) -> None: ...
    def close_partition(self, partition: Any) -> None: ...
    def ensure_at_least_one_state_emitted(self) -> None: ...


@dataclass
class _Partition:
    ids: list[int]
    stream: str
    forbidden: bool = False

    def read(self) -> Iterable[Record]:
        if self.forbidden:  # what HarvestErrorHandler raises for a skipped 403 with `raise_on_ignore`
            raise HarvestSkippedRead("user_assignments: Harvest answered 403 Forbidden")
        for record_id in self.ids:
            yield Record(
                data={"id": record_id, "user": {"id": record_id}},
                stream_name=self.stream,
                associated_slice=StreamSlice(partition={}, cursor_slice={}),
            )


@dataclass
class _ParentStream:
    """A parent read that returns `ids`, and counts how often it is read."""

    name: str
    ids: list[int]
    cursor: _Cursor = field(default_factory=lambda: _Cursor({}))
    reads: int = 0
    forbidden: bool = False

    def generate_partitions(self) -> Iterable[_Partition]:
        self.reads += 1
        yield _Partition(self.ids, self.name, self.forbidden)


def _config(stream: _ParentStream, incremental: bool = False, parent_key: str = "id") -> ParentStreamConfig:
    return ParentStreamConfig(
        stream=stream,  # type: ignore[arg-type]
        parent_key=parent_key,
        partition_field="id",
        config={},
        parameters={},
        incremental_dependency=incremental,
    )


def _router(updated: _ParentStream, *others: _ParentStream) -> HarvestUniqueParentPartitionRouter:
    configs = [_config(updated, incremental=True), *(_config(other) for other in others)]
    inner = SubstreamPartitionRouter(parent_stream_configs=configs, config={}, parameters={})
    return HarvestUniqueParentPartitionRouter(router=inner, config={}, parameters={})


def _ids(router: HarvestUniqueParentPartitionRouter) -> list[int]:
    return [stream_slice.partition["id"] for stream_slice in router.stream_slices()]


def test_given_a_saved_parent_state_then_parents_of_every_read_are_returned_once() -> None:
    updated = _ParentStream("invoices", [1, 2], _Cursor({"updated_at": "2024-05-01T00:00:00Z"}))
    opened, drafts = _ParentStream("invoices_open", [2, 3]), _ParentStream("invoices_draft", [3, 4])
    router = _router(updated, opened, drafts)
    assert _ids(router) == [1, 2, 3, 4]
    assert router.get_stream_state() == {"invoices": {"updated_at": "2024-05-01T00:00:00Z"}}


def test_given_no_saved_parent_state_then_only_the_first_read_is_made() -> None:
    updated = _ParentStream("invoices", [1, 2, 3], _Cursor({"updated_at": "1970-01-01T00:00:00Z"}))
    opened = _ParentStream("invoices_open", [2])
    assert _ids(_router(updated, opened)) == [1, 2, 3]
    assert opened.reads == 0


def test_given_partitions_then_they_carry_the_parent_slice_of_the_1_2_x_state_shape() -> None:
    updated = _ParentStream("invoices", [7], _Cursor({}))
    (stream_slice,) = list(_router(updated).stream_slices())
    assert dict(stream_slice.partition) == {"id": 7, "parent_slice": {}}


def _fallback_router(users: _ParentStream, current_user: _ParentStream) -> HarvestUniqueParentPartitionRouter:
    inner = SubstreamPartitionRouter(
        parent_stream_configs=[_config(users), _config(current_user)], config={}, parameters={}
    )
    return HarvestUniqueParentPartitionRouter(
        router=inner,
        config={},
        parameters={},
        skip_extra_reads_on_first_sync=False,
        extra_reads_only_when_first_is_empty=True,
    )


def test_given_fallback_reads_when_the_first_read_returns_parents_then_the_fallback_is_never_read() -> None:
    users, current_user = _ParentStream("users", [1, 2]), _ParentStream("users_me", [2])
    assert _ids(_fallback_router(users, current_user)) == [1, 2]
    assert (users.reads, current_user.reads) == (1, 0)


def test_given_fallback_reads_when_the_first_read_returns_nothing_then_the_fallback_gives_the_parents() -> None:
    # A Member: /v2/users answers 403 (skipped, no parent), /v2/users/me answers their own user.
    users, current_user = _ParentStream("users", []), _ParentStream("users_me", [9])
    assert _ids(_fallback_router(users, current_user)) == [9]
    assert (users.reads, current_user.reads) == (1, 1)


def test_given_fallback_reads_and_a_single_parent_read_then_an_empty_read_gives_no_partition() -> None:
    inner = SubstreamPartitionRouter(
        parent_stream_configs=[_config(_ParentStream("users", []))], config={}, parameters={}
    )
    router = HarvestUniqueParentPartitionRouter(
        router=inner, config={}, parameters={}, extra_reads_only_when_first_is_empty=True
    )
    assert _ids(router) == []


_SAVED = _Cursor({"updated_at": "2024-05-01T00:00:00Z"})
_UNSAVED = _Cursor({"updated_at": "1970-01-01T00:00:00Z"})


def _changes_router(changes: _ParentStream, users: _ParentStream, current_user: _ParentStream) -> Any:
    changed = _config(changes, incremental=True, parent_key="user/id")
    every = SubstreamPartitionRouter(
        parent_stream_configs=[_config(users), _config(current_user)], config={}, parameters={}
    )
    return HarvestUniqueParentPartitionRouter(
        router=every,
        changes=SubstreamPartitionRouter(parent_stream_configs=[changed], config={}, parameters={}),
        config={},
        parameters={},
        skip_extra_reads_on_first_sync=False,
        extra_reads_only_when_first_is_empty=True,
    )


def test_given_changes_and_a_saved_position_then_only_the_parents_they_name_are_read_once_each() -> None:
    changes = _ParentStream("user_assignments", [5, 2, 5], _SAVED)
    users, current_user = _ParentStream("users", [1, 2, 5]), _ParentStream("users_me", [1])
    router = _changes_router(changes, users, current_user)
    assert _ids(router) == [5, 2]
    assert (changes.reads, users.reads, current_user.reads) == (1, 0, 0)
    # the change list's position is never saved: the child cursor seeds it on every sync
    assert router.get_stream_state() == {}


def test_given_changes_and_no_saved_position_then_every_parent_is_read_and_not_the_changes() -> None:
    changes = _ParentStream("user_assignments", [5], _UNSAVED)
    users, current_user = _ParentStream("users", [1, 2]), _ParentStream("users_me", [1])
    assert _ids(_changes_router(changes, users, current_user)) == [1, 2]
    assert (changes.reads, users.reads) == (0, 1)


def test_given_changes_and_nothing_changed_then_no_partition_and_no_parent_read() -> None:
    changes = _ParentStream("user_assignments", [], _SAVED)
    users, current_user = _ParentStream("users", [1, 2]), _ParentStream("users_me", [1])
    assert _ids(_changes_router(changes, users, current_user)) == []
    assert (users.reads, current_user.reads) == (0, 0)


def test_given_changes_forbidden_then_every_parent_is_read_with_its_own_fallback() -> None:
    # A Member: 403 on /v2/user_assignments (raised, not "nothing changed"), 403 on /v2/users, then /v2/users/me
    changes = _ParentStream("user_assignments", [], _SAVED, forbidden=True)
    users, current_user = _ParentStream("users", []), _ParentStream("users_me", [9])
    assert _ids(_changes_router(changes, users, current_user)) == [9]
    assert (changes.reads, users.reads, current_user.reads) == (1, 1, 1)
