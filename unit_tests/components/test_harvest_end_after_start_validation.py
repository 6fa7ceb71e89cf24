from __future__ import annotations

import pytest

from components import HarvestEndAfterStartValidation


@pytest.mark.parametrize(
    "period",
    [
        "2024-01-01T00:00:00Z/2024-06-01T00:00:00Z",
        "2024-01-01T00:00:00Z/",
        "2024-01-01T00:00:00Z/2024-01-01T00:00:00Z",
        "",
    ],
    ids=["end-after-start", "no-end", "same-instant", "empty"],
)
def test_given_a_valid_period_then_it_passes(period: str) -> None:
    HarvestEndAfterStartValidation().validate(period)


def test_given_an_end_before_the_start_then_the_message_says_what_to_fix() -> None:
    with pytest.raises(
        ValueError, match=r"replication_end_date \(2023-12-31T00:00:00Z\) is before replication_start_date"
    ):
        HarvestEndAfterStartValidation().validate("2024-01-01T00:00:00Z/2023-12-31T00:00:00Z")


def test_given_a_malformed_date_then_it_is_left_to_the_spec_pattern() -> None:
    HarvestEndAfterStartValidation().validate("2024-01-01/2023-12-31")
