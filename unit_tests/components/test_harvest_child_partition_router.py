"""HarvestChildPartitionRouter without HTTP: which parents it picks from a parent list, and the state it keeps.

The parent lists are stand-ins that yield the slices a SubstreamPartitionRouter yields (`id`, and `updated_at` and
`state` as extra fields). The requests and records of a whole sync: unit_tests/mock_server/test_*_children.py and
test_child_deletions.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from airbyte_cdk.sources.types import StreamSlice

from components import HarvestChildPartitionRouter, HarvestKnownIds, HarvestSkippedRead

_PARENT_CURSOR = "2024-05-01T00:00:00Z"  # parents updated at or after 2024-04-30T23:59:00Z (60 s lookback) changed
_CHANGED = "2024-05-02T00:00:00Z"
_UNCHANGED = "2024-04-01T00:00:00Z"


@dataclass
class _Parents:
    """A parent list: (id, updated_at, state) per parent, or a 403 (HarvestSkippedRead) when `forbidden`."""

    parents: list[tuple[int, str, str | None]]
    forbidden: bool = False

    def stream_slices(self) -> Iterable[StreamSlice]:
        if self.forbidden:
            raise HarvestSkippedRead("user_assignments: Harvest answered 403 Forbidden", status=403)
        for parent_id, updated_at, state in self.parents:
            yield StreamSlice(
                partition={"id": parent_id, "parent_slice": {}},
                cursor_slice={},
                extra_fields={"updated_at": updated_at, "state": state},
            )


@dataclass
class _Changes:
    """The user assignment list behind project_assignments: (assignment id, user id, updated_at) per assignment."""

    assignments: list[tuple[int, int, str]]

    def stream_slices(self) -> Iterable[StreamSlice]:
        for assignment_id, user_id, updated_at in self.assignments:
            yield StreamSlice(
                partition={"id": user_id, "parent_slice": {}},
                cursor_slice={},
                extra_fields={"id": assignment_id, "updated_at": updated_at},
            )


def _router(parents: _Parents, **fields: Any) -> HarvestChildPartitionRouter:
    return HarvestChildPartitionRouter(
        parents=parents,  # type: ignore[arg-type]
        config={},
        parameters={"stream_label": "invoice_messages"},
        **fields,
    )


def _parent_state(known: dict[int, int] | None, cursor: str | None = _PARENT_CURSOR) -> dict[str, Any]:
    state: dict[str, Any] = {"invoices": {"updated_at": cursor}} if cursor else {}
    if known is not None:
        state["known_ids"] = HarvestKnownIds(dict(known)).to_state()
    return state


def _picked(router: HarvestChildPartitionRouter) -> list[int]:
    return [int(stream_slice.partition["id"]) for stream_slice in router.stream_slices()]


# ---- which parents ----------------------------------------------------------------------------------------------------
def test_given_a_state_that_knows_no_children_when_partitions_are_generated_then_every_parent_once() -> None:
    router = _router(_Parents([(1, _UNCHANGED, "paid"), (2, _UNCHANGED, "draft"), (1, _UNCHANGED, "paid")]))
    router.restore(_parent_state(None), "2024-05-01T00:00:00Z", 0)

    assert _picked(router) == [1, 2]


def test_given_known_children_when_partitions_are_generated_then_updated_rereadable_and_vanished_parents() -> None:
    parents = _Parents(
        [(1, _UNCHANGED, "paid"), (2, _UNCHANGED, "open"), (3, _CHANGED, "draft"), (3, _CHANGED, "draft")]
    )
    router = _router(parents, cursor_name="invoices", reread_states=["open"])
    router.restore(_parent_state({7: 1, 8: 4}), "2024-05-01T00:00:00Z", 0)

    assert _picked(router) == [2, 3, 4]  # open; updated (listed twice, read once); known but no longer listed


def test_given_more_vanished_parents_than_people_delete_when_generated_then_none_of_them_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router = _router(_Parents([(1, _UNCHANGED, "paid")]), cursor_name="invoices")
    router.restore(_parent_state({100 + n: n for n in range(1, 23)}), "2024-05-01T00:00:00Z", 0)

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert _picked(router) == []

    assert any("21 of the 22" in record.message and "(parents)" in record.message for record in caplog.records)


def test_given_changes_when_generated_then_users_with_an_assignment_updated_since_or_gone_from_the_list() -> None:
    users = _Parents([(10, _UNCHANGED, None), (20, _UNCHANGED, None), (30, _UNCHANGED, None)])
    # the child cursor minus the last sync's 30 s minus the 60 s lookback: 2024-04-30T23:58:30Z
    changes = _Changes([(1, 10, "2024-04-30T23:58:30Z"), (2, 20, "2024-04-30T23:58:29Z")])
    router = _router(users, changes=changes)
    router.restore({"known_ids": HarvestKnownIds({1: 10, 2: 20, 3: 30}).to_state()}, "2024-05-01T00:00:00Z", 30)

    assert _picked(router) == [10, 30]  # 10: assignment 1 changed; 30: assignment 3 is no longer listed


def test_given_changes_and_a_user_renamed_when_generated_then_the_user_is_not_read_for_that() -> None:
    # a user's own updated_at moves for reasons of its own (harvest-api/README.md section 9): only the changes count
    users = _Parents([(10, _CHANGED, None), (20, _UNCHANGED, None)])
    changes = _Changes([(1, 10, _UNCHANGED), (2, 20, _UNCHANGED)])
    router = _router(users, changes=changes)
    router.restore({"known_ids": HarvestKnownIds({1: 10, 2: 20}).to_state()}, "2024-05-01T00:00:00Z", 0)

    assert _picked(router) == []


def test_given_the_change_list_is_forbidden_when_generated_then_every_parent() -> None:
    router = _router(_Parents([(10, _UNCHANGED, None), (20, _UNCHANGED, None)]), changes=_Parents([], forbidden=True))
    router.restore({"known_ids": HarvestKnownIds({1: 10}).to_state()}, "2024-05-01T00:00:00Z", 0)

    assert _picked(router) == [10, 20]


def test_given_no_parent_listed_when_generated_then_the_fallback_parents() -> None:
    router = _router(_Parents([]), fallback_parents=_Parents([(10, _UNCHANGED, None)]), always_reread=True)

    assert _picked(router) == [10]


# ---- what it knows ----------------------------------------------------------------------------------------------------
def test_given_known_children_when_parents_record_theirs_or_are_forgotten_then_each_holds_what_it_listed_last() -> None:
    router = _router(_Parents([]))
    router.restore(_parent_state({7: 1, 8: 1, 9: 2}), None, 0)

    router.record_children(1, [8, 11])
    router.forget_parent(2)

    assert router.children_of(1) == {8, 11}
    assert router.children_of(2) == set()


def test_given_partitions_being_generated_when_the_state_is_asked_then_the_previous_one_until_the_last_is_generated() -> (
    None
):
    previous = _parent_state({7: 1})
    router = _router(_Parents([(1, _CHANGED, "paid"), (2, "2024-05-03T00:00:00Z", "paid")]), cursor_name="invoices")
    router.restore(previous, "2024-05-01T00:00:00Z", 0)
    states = []

    for stream_slice in router.stream_slices():
        router.record_children(int(stream_slice.partition["id"]), [int(stream_slice.partition["id"]) * 10])
        states.append(router.get_stream_state())
    states.append(router.get_stream_state())

    assert states[:2] == [previous, previous]  # no state may claim children of parents not read yet
    assert states[2] == {
        "invoices": {"updated_at": "2024-05-03T00:00:00Z"},  # the newest parent listed
        "known_ids": HarvestKnownIds({10: 1, 20: 2}).to_state(),
    }


def test_given_no_parent_newer_than_the_saved_cursor_when_generated_then_the_cursor_stays() -> None:
    router = _router(_Parents([(1, _UNCHANGED, "paid")]), cursor_name="invoices")
    router.restore(_parent_state({7: 1}), "2024-05-01T00:00:00Z", 0)

    list(router.stream_slices())

    assert router.get_stream_state()["invoices"] == {"updated_at": _PARENT_CURSOR}
