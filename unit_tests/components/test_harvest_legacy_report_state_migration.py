from __future__ import annotations

import datetime as dt

import pytest

from components import HarvestLegacyReportStateMigration, report_window_anchor, report_window_start


def _migration(start: str = "2021-03-15T00:00:00Z") -> HarvestLegacyReportStateMigration:
    return HarvestLegacyReportStateMigration(config={"replication_start_date": start}, parameters={})


@pytest.mark.parametrize(
    ("legacy_to", "window_start"),
    [("20241230", "20240315"), ("20240101", "20230315"), ("20240315", "20240315"), ("20240314", "20230315")],
)
def test_given_a_1_2_x_report_state_then_it_becomes_the_start_of_the_window_containing_to(
    legacy_to: str, window_start: str
) -> None:
    migration = _migration()
    assert migration.should_migrate({"to": legacy_to})
    assert migration.migrate({"to": legacy_to}) == {"from": window_start}


def test_given_a_to_before_the_start_date_then_the_state_is_dropped() -> None:
    assert _migration().migrate({"to": "20200101"}) == {}


def test_given_this_connectors_own_state_then_nothing_is_migrated() -> None:
    assert not _migration().should_migrate({"from": "20240315"})
    assert not _migration().should_migrate({})


def test_given_a_29_february_start_then_windows_are_anchored_on_1_march() -> None:
    assert report_window_anchor("2020-02-29T10:00:00Z") == dt.date(2020, 3, 1)
    assert _migration("2020-02-29T00:00:00Z").migrate({"to": "20230228"}) == {"from": "20220301"}


def test_given_any_day_then_its_window_is_at_most_365_days_long() -> None:
    anchor = dt.date(2019, 3, 1)
    for offset in range(0, 3000, 37):
        day = anchor + dt.timedelta(days=offset)
        start = report_window_start(anchor, day)
        end = start.replace(year=start.year + 1) - dt.timedelta(days=1)
        assert start <= day <= end and (end - start).days <= 365
