"""The decision HarvestTombstoneRetriever takes before it looks anything up: `mass_deletion_refusal`.

The retriever's requests and records, situation by situation, are in unit_tests/mock_server/test_deletions.py.
"""

from __future__ import annotations

import pytest

from components import mass_deletion_refusal


@pytest.mark.parametrize(
    "known, vanished, seen",
    [
        pytest.param(9, 2, 7, id="2-of-9-recent-expenses"),
        pytest.param(30, 20, 10, id="20-is-the-floor"),
        pytest.param(2000, 200, 1800, id="10-percent-of-a-large-list"),
        pytest.param(0, 0, 5, id="nothing-known-yet"),
        pytest.param(5, 0, 5, id="nothing-vanished"),
    ],
)
def test_given_few_vanished_ids_when_weighed_then_they_may_be_deletions(known: int, vanished: int, seen: int) -> None:
    assert mass_deletion_refusal(known, vanished, seen) is None


@pytest.mark.parametrize(
    "known, vanished, seen, says",
    [
        pytest.param(100, 21, 79, "21 of the 100", id="past-the-floor"),
        pytest.param(2000, 201, 1799, "201 of the 2000", id="past-10-percent"),
        pytest.param(5, 5, 0, "none of the 5", id="the-scope-lists-nothing"),
        pytest.param(3, 1, 0, "none of the 3", id="empty-even-when-few-vanish"),
    ],
)
def test_given_a_mass_disappearance_when_weighed_then_it_is_refused_with_the_figures(
    known: int, vanished: int, seen: int, says: str
) -> None:
    reason = mass_deletion_refusal(known, vanished, seen)

    assert reason is not None and says in reason
