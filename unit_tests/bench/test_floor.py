from __future__ import annotations

import pytest

from bench.floor import HARVEST, Limits, burst_floor, is_report, overhead, pages, rate_floor, split


def test_pages_is_ceil_with_one_minimum() -> None:
    assert pages(0) == 1
    assert pages(1) == 1
    assert pages(2000) == 1
    assert pages(2001) == 2
    assert pages(200_000) == 100
    assert pages(5, per_page=2) == 3
    with pytest.raises(ValueError):
        pages(-1)


def test_is_report_on_paths_and_count_keys() -> None:
    assert is_report("/v2/reports/time/clients")
    assert is_report("GET /v2/reports/project_budget")
    assert not is_report("GET /v2/time_entries")
    assert not is_report("GET /v2/invoices/{parent_id}/messages")


def test_rate_floor_takes_the_slower_bucket() -> None:
    # 100 per 15 s: 6.67 requests/s; 100 per 900 s: 0.111/s
    assert rate_floor(100, 0) == pytest.approx(15.0)
    assert rate_floor(11_600, 0) == pytest.approx(1740.0)
    assert rate_floor(600, 101) == pytest.approx(909.0)
    assert rate_floor(7000, 101) == pytest.approx(1050.0)
    assert rate_floor(0, 0) == 0.0


def test_rate_floor_scales_with_time_scale() -> None:
    fast = Limits(time_scale=0.01)
    assert rate_floor(1000, 50, fast) == pytest.approx(rate_floor(1000, 50) * 0.01)


def test_burst_floor_lets_the_first_window_go_at_once() -> None:
    assert burst_floor(100, 0) == 0.0
    assert burst_floor(101, 0) == pytest.approx(15.0)
    assert burst_floor(0, 101) == pytest.approx(900.0)
    assert burst_floor(11_600, 100) == pytest.approx(115 * 15.0)
    assert burst_floor(0, 0) == 0.0
    assert burst_floor(250, 0, HARVEST) <= rate_floor(250, 0, HARVEST)


def test_split_and_overhead() -> None:
    counts = {"GET /v2/time_entries": 100, "GET /v2/reports/time/team": 10, "GET /v2/users/{parent_id}/cost_rates": 5}
    assert split(counts) == (105, 10)
    assert overhead(110.0, 100.0) == pytest.approx(0.1)
    assert overhead(1.0, 0.0) is None
