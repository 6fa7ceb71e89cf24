"""The state form of a time-entry or expense history (`HarvestSpentHistory`) and its month numbers (`_month`,
`_month_days`). The retriever's requests and records: unit_tests/mock_server/test_spent_history.py."""

from __future__ import annotations

import json
import random

import pytest

from components import HarvestKnownIds, HarvestSpentHistory, _month, _month_days, pack_ids


@pytest.mark.parametrize(
    "day, month",
    [
        pytest.param("2024-03-15", 2024 * 12 + 2, id="march"),
        pytest.param("2024-01-01", 2024 * 12, id="january-first"),
        pytest.param("2023-12-31", 2024 * 12 - 1, id="december-is-the-month-before-january"),
    ],
)
def test_given_a_day_when_its_month_is_taken_then_one_number_per_month_in_order(day: str, month: int) -> None:
    assert _month(day) == month


@pytest.mark.parametrize(
    "day, first, last",
    [
        pytest.param("2024-02-10", "2024-02-01", "2024-02-29", id="february-of-a-leap-year"),
        pytest.param("2023-02-10", "2023-02-01", "2023-02-28", id="february"),
        pytest.param("2024-12-31", "2024-12-01", "2024-12-31", id="december"),
        pytest.param("2024-04-30", "2024-04-01", "2024-04-30", id="a-30-day-month"),
    ],
)
def test_given_a_month_when_its_days_are_asked_then_its_first_and_last_day(day: str, first: str, last: str) -> None:
    assert _month_days(_month(day)) == (first, last)


def test_given_a_history_when_round_tripped_through_the_state_then_equal() -> None:
    history = HarvestSpentHistory({7: (_month("2024-03-15"), 2), 3: (_month("2024-04-02"), 0)}, "2024-01-01")

    state = history.to_state()

    assert state == {
        "count": 2,
        "ids": pack_ids([3, 7]),
        "months": pack_ids([_month("2024-04-02"), _month("2024-03-15")]),
        "approvals": pack_ids([0, 2]),
        "spent_since": "2024-01-01",
    }
    assert HarvestSpentHistory.from_state(state) == history


def test_given_an_empty_history_when_round_tripped_then_it_stays_a_history() -> None:
    empty = HarvestSpentHistory({}, "2024-01-01")

    assert HarvestSpentHistory.from_state(empty.to_state()) == empty


_A_STATE = HarvestSpentHistory({7: (_month("2024-03-15"), 2)}, "2024-01-01").to_state()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param(
            {**HarvestKnownIds(dict.fromkeys([1, 2])).to_state(), "spent_since": "2024-01-31"}, id="2.1.0-window"
        ),
        pytest.param(HarvestKnownIds(dict.fromkeys([1, 2])).to_state(), id="an-entity-list's-known-ids"),
        pytest.param({**_A_STATE, "months": "###"}, id="unreadable-months"),
        pytest.param({**_A_STATE, "approvals": pack_ids([0, 2])}, id="approvals-disagree"),
        pytest.param({**_A_STATE, "count": 3}, id="count-disagrees"),
        pytest.param({key: value for key, value in _A_STATE.items() if key != "spent_since"}, id="no-spent_since"),
    ],
)
def test_given_a_value_that_is_not_a_history_when_read_from_the_state_then_none(value: object) -> None:
    assert HarvestSpentHistory.from_state(value) is None


def test_given_a_history_larger_than_the_budget_when_kept_then_its_oldest_months_become_counts() -> None:
    # ids far apart (as Harvest's are): about 3 bytes each
    rng = random.Random(7)
    ids = sorted(rng.sample(range(10**9), 3000))
    entries = {record_id: (_month(f"2024-{i * 12 // 3000 + 1:02d}-10"), i % 3) for i, record_id in enumerate(ids)}
    history = HarvestSpentHistory(entries, "2024-01-01")

    kept = history.within(4000)

    assert len(json.dumps(kept.to_state())) <= 4000 and kept.tracked_from is not None
    assert all(month >= kept.tracked_from for month, _ in kept.entries.values())
    assert all(month < kept.tracked_from for month in kept.counted)
    assert sum(row[0] for row in kept.counts().values()) == 3000  # nothing lost: tracked or counted
    assert kept.counts() == history.counts()
    assert HarvestSpentHistory.from_state(kept.to_state()) == kept
    # a later sync that keeps less adds its months to the counts it already had
    smaller = kept.within(2500)
    assert smaller.tracked_from > kept.tracked_from and smaller.counts() == history.counts()


def test_given_a_history_within_the_budget_when_kept_then_it_is_unchanged() -> None:
    history = HarvestSpentHistory({7: (_month("2024-03-10"), 2)}, "2024-01-01")
    assert history.within(96_000) is history
