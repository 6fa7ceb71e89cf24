"""The id codec of the deletion state (`pack_ids` / `unpack_ids`) and `HarvestKnownIds`, its state form."""

from __future__ import annotations

import random

import pytest

from components import HarvestKnownIds, pack_ids, unpack_ids


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([], id="empty"),
        pytest.param([0], id="zero"),
        pytest.param([2147483573, 2147483580, 2147483650], id="time-entry-ids-across-2^31"),
        pytest.param([9, 3, 3, 7], id="unsorted-with-repeats"),
        pytest.param([-5, 12, -(2**40), 2**63], id="negative-and-64-bit"),
    ],
)
def test_given_integers_when_packed_and_unpacked_then_they_come_back_in_order(values: list[int]) -> None:
    assert unpack_ids(pack_ids(values)) == values


def test_given_ids_spaced_as_harvest_allocates_them_when_packed_then_about_two_bytes_or_less_per_id() -> None:
    rng = random.Random(7)
    ids, current = [], 2_000_000_000
    for _ in range(20_000):
        current += rng.randint(1, 40)  # one account's ids, with other accounts' ids in between
        ids.append(current)

    text = pack_ids(ids)

    assert unpack_ids(text) == ids
    assert len(text) / len(ids) <= 2.0, f"{len(text) / len(ids):.2f} bytes per id"


@pytest.mark.parametrize("text", ["not base64!", "aGVsbG8=", pack_ids([1, 2])[:-4] + "AAAA"])
def test_given_text_pack_ids_did_not_write_when_unpacked_then_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        unpack_ids(text)


def test_given_known_ids_with_parents_when_round_tripped_through_the_state_then_equal() -> None:
    known = HarvestKnownIds({125060030: 14307049, 125060002: 14307001})

    state = known.to_state()

    assert state == {"count": 2, "ids": pack_ids([125060002, 125060030]), "parents": pack_ids([14307001, 14307049])}
    assert HarvestKnownIds.from_state(state) == known


def test_given_known_ids_without_parents_when_stored_then_the_state_holds_only_count_and_ids() -> None:
    state = HarvestKnownIds({7: None, 3: None}).to_state()

    assert state == {"count": 2, "ids": pack_ids([3, 7])}
    assert HarvestKnownIds.from_state(state) == HarvestKnownIds({3: None, 7: None})


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("ids", id="not-an-object"),
        pytest.param({"count": 1}, id="no-ids"),
        pytest.param({"ids": "###"}, id="unreadable-ids"),
        pytest.param({"ids": pack_ids([1, 2]), "count": 3}, id="count-disagrees"),
        pytest.param({"ids": pack_ids([1, 2]), "parents": pack_ids([5])}, id="parents-disagree"),
    ],
)
def test_given_a_value_that_is_not_known_ids_when_read_from_the_state_then_none(value: object) -> None:
    assert HarvestKnownIds.from_state(value) is None
