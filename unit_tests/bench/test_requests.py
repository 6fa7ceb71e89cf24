from __future__ import annotations

from typing import Any

from bench.compare import (
    describe_differences,
    endpoint_key,
    largest_state,
    report_requests,
    request_differences,
    requests_and_state,
    requests_markdown,
    served_requests,
)
from bench.report import limited_markdown
from bench.runner import state_sizes


def test_given_raw_paths_and_count_keys_when_grouped_then_a_child_per_parent_falls_into_its_route() -> None:
    assert endpoint_key("GET /v2/invoices/17/messages?page=2") == "GET /v2/invoices/{parent_id}/messages"
    assert endpoint_key("GET /v2/invoices/{parent_id}/messages") == "GET /v2/invoices/{parent_id}/messages"
    assert endpoint_key("GET /v2/invoices/{invoice_id}/messages") == "GET /v2/invoices/{parent_id}/messages"
    assert endpoint_key("GET /v2/time_entries/99") == "GET /v2/time_entries/{id}"
    assert endpoint_key("GET /v2/projects/5/task_assignments/7") == "GET /v2/projects/{parent_id}/task_assignments/{id}"
    assert endpoint_key("GET /v2/users/me") == "GET /v2/users/me"
    assert endpoint_key("/v2/reports/time/clients?from=20260101") == "/v2/reports/time/clients"
    assert endpoint_key("GET (unknown)") == "GET (unknown)"


def test_given_counts_with_429s_when_served_then_429s_are_left_out_and_routes_summed() -> None:
    endpoints = {
        "GET /v2/invoices/1/messages": {"actual": 2, "minimum": 0, "throttled": 1},
        "GET /v2/invoices/2/messages": {"actual": 1, "minimum": 0, "throttled": 0},
        "GET /v2/invoices/{parent_id}/messages": {"actual": 5, "minimum": 5, "throttled": 0},
        "GET /v2/users": {"actual": 3, "minimum": 1, "throttled": 3},  # only 429s: not served
        "GET /v2/estimates": {"actual": 0, "minimum": 1, "throttled": 0},
    }
    assert served_requests(endpoints) == {"GET /v2/invoices/{parent_id}/messages": 7}


def test_given_the_same_requests_when_compared_then_identical() -> None:
    counts = {"GET /v2/users": 1, "GET /v2/reports/time/team": 9}
    assert request_differences(counts, dict(counts)) == {}
    assert describe_differences([{}, {}]) == "identical"


def test_given_routes_that_differ_when_compared_then_both_counts_are_listed() -> None:
    before = {"GET /v2/invoices": 4, "GET /v2/users/me": 1, "GET /v2/users": 1}
    after = {"GET /v2/invoices": 2, "GET /v2/users": 1, "GET /v2/time_entries/{id}": 1}
    diff = request_differences(before, after)
    assert diff == {"GET /v2/invoices": (4, 2), "GET /v2/time_entries/{id}": (0, 1), "GET /v2/users/me": (1, 0)}
    assert describe_differences([diff]) == (
        "differs: `GET /v2/invoices` 4 -> 2; `GET /v2/time_entries/{id}` 0 -> 1; `GET /v2/users/me` 1 -> 0"
    )


def test_given_runs_differing_in_some_of_them_when_described_then_the_distinct_pairs_and_how_many_runs() -> None:
    runs = [{"GET /v2/users": (1, 2)}, {}, {"GET /v2/users": (1, 3)}, {"GET /v2/users": (1, 2)}]
    assert describe_differences(runs) == "differs: `GET /v2/users` 1 -> 2, 1 -> 3 (in 3 of 4 runs)"


def test_report_requests_count_only_the_reports_bucket() -> None:
    served = {"GET /v2/reports/time/team": 9, "GET /v2/reports/project_budget": 1, "GET /v2/users": 5}
    assert report_requests(served) == 10


def _state(stream_state: Any) -> dict[str, Any]:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": "x"}, "stream_state": stream_state}}


def test_given_final_states_when_sized_then_bytes_of_compact_json_largest_first() -> None:
    states = {
        "users": _state({"updated_at": "2026-01-01T00:00:00Z"}),
        "time_entries": _state({"updated_at": "2026-01-01T00:00:00Z", "known_ids": [1, 22, 333]}),
        "company": _state(None),
        "": _state({"global": 1}),  # not a stream
    }
    sizes = state_sizes(states)
    assert list(sizes) == ["time_entries", "users", "company"]
    assert sizes["users"] == len('{"updated_at":"2026-01-01T00:00:00Z"}')
    assert sizes["time_entries"] == len('{"updated_at":"2026-01-01T00:00:00Z","known_ids":[1,22,333]}')
    assert sizes["company"] == len("null")
    assert largest_state(sizes) == ("time_entries", sizes["time_entries"])
    assert largest_state({"b": 5, "a": 5}) == ("a", 5)
    assert largest_state({}) is None


def _sync(routes: dict[str, int], state_bytes: dict[str, int], throttled: int = 0) -> dict[str, Any]:
    endpoints = {route: {"actual": n, "minimum": n, "throttled": 0} for route, n in routes.items()}
    if throttled:
        endpoints["GET /v2/users"]["actual"] += throttled
        endpoints["GET /v2/users"]["throttled"] = throttled
    return {
        "requests": {
            "endpoints": endpoints,
            "minimum_total": sum(routes.values()),
            "throttled_total": throttled,
        },
        "report_requests": {"actual": 0, "minimum": sum(n for r, n in routes.items() if "/reports/" in r)},
        "state_bytes": state_bytes,
    }


def _run(variant: str, mode: str, rep: int, routes: dict[str, int], throttled: int = 0) -> dict[str, Any]:
    sync = _sync(routes, {"time_entries": 8200, "users": 40}, throttled)
    return {"variant": variant, "mode": mode, "size": "large", "rep": rep, "full": sync, "incremental": sync}


def test_given_two_variants_when_tabled_then_identical_requests_and_the_largest_state_per_variant() -> None:
    routes = {"GET /v2/users": 1, "GET /v2/invoices/{parent_id}/messages": 632, "GET /v2/reports/time/team": 2}
    runs = [
        _run("9b598ff", "unthrottled", 1, routes),
        _run("checkout", "unthrottled", 1, routes),
        _run("9b598ff", "unthrottled", 2, routes),
        _run("checkout", "unthrottled", 2, routes),
        _run("9b598ff", "limited", 1, routes, throttled=3),  # 429s depend on timing: not a difference
        _run("checkout", "limited", 1, routes),
    ]
    rows = requests_and_state(runs)
    assert [(r["mode"], r["sync"], r["variant"]) for r in rows][:4] == [
        ("unthrottled", "full", "9b598ff"),
        ("unthrottled", "full", "checkout"),
        ("unthrottled", "incremental", "9b598ff"),
        ("unthrottled", "incremental", "checkout"),
    ]
    by = {(r["mode"], r["sync"], r["variant"]): r for r in rows}
    assert by[("unthrottled", "full", "9b598ff")]["against_reference"] is None
    assert by[("unthrottled", "full", "checkout")]["against_reference"] == "identical"
    assert by[("limited", "incremental", "checkout")]["against_reference"] == "identical"
    first = by[("limited", "full", "9b598ff")]
    assert (first["requests"], first["report_requests"], first["throttled"]) == (635, 2, 3)
    assert first["largest_state"] == ["time_entries", 8200] and first["state_bytes_total"] == 8240
    table = "\n".join(requests_markdown(rows))
    assert "| unthrottled | large | full | `checkout` | 635 (635) | 2 (2) | 0 | identical | 8,240 " in table
    assert "| (reference) |" in table and "`time_entries` (8,200)" in table


def test_given_a_variant_with_other_requests_when_tabled_then_the_routes_that_differ_are_named() -> None:
    before = {"GET /v2/users": 1, "GET /v2/invoices": 4}
    after = {"GET /v2/users": 1, "GET /v2/invoices": 2}
    rows = requests_and_state([_run("main", "unthrottled", 1, before), _run("checkout", "unthrottled", 1, after)])
    mine = next(r for r in rows if r["variant"] == "checkout" and r["sync"] == "full")
    assert mine["against_reference"] == "differs: `GET /v2/invoices` 4 -> 2"
    assert mine["differences"] == [{"GET /v2/invoices": [4, 2]}]


def test_given_one_variant_when_tabled_then_no_comparison_column() -> None:
    rows = requests_and_state([_run("checkout", "unthrottled", 1, {"GET /v2/users": 1})])
    header = requests_markdown(rows)[2]
    assert "against" not in header and "largest state" in header


def _limited(variant: str, wall: float) -> dict[str, Any]:
    sync = {
        "total_records": 100,
        "general_requests": {"actual": 1000, "minimum": 998},
        "report_requests": {"actual": 10, "minimum": 10},
        "requests": {"throttled_total": 0},
        "floor_burst_s": 135.0,
        "floor_rate_s": 150.0,
        "wall_s": wall,
        "over_floor": wall / 135.0 - 1,
        "over_rate_floor": wall / 150.0 - 1,
    }
    return {"size": "large", "variant": variant, "time_scale": 1.0, "full": sync, "incremental": sync}


def test_given_two_variants_under_the_limits_when_tabled_then_side_by_side_with_the_change() -> None:
    table = "\n".join(limited_markdown([_limited("9b598ff", 148.5), _limited("checkout", 162.0)]))
    assert (
        "| large | full | `9b598ff` | 100 | 1,000 (998) | 10 (10) | 0 | 135.0 (150.0) | 148.5 | +10.0% (-1.0%) |"
        in (table)
    )
    assert "| large | full | `checkout` | 100 |" in table
    assert "| large | incremental | **change** | | | | | | **+9.1%** | **+10.0 pt** |" in table


def test_given_variants_when_run_then_each_run_keeps_its_variant_label(monkeypatch: Any, tmp_path: Any) -> None:
    import bench.compare as compare

    seen = []

    def fake_run_case(case: Any, workdir: Any, catalog: Any, log: Any) -> dict[str, Any]:
        seen.append((case.variant, case.connector, workdir.name))
        return {"variant": case.variant or "checkout", "size": case.size, "mode": case.mode}

    monkeypatch.setattr(compare, "run_case", fake_run_case)
    variants = {"origin/main": tmp_path / "main", "checkout": None}
    runs = compare.run_comparison(variants, ["tiny"], 2, tmp_path, {}, 50, None, log=lambda _: None)
    assert [(r["variant"], r["rep"]) for r in runs] == [
        ("origin/main", 1),
        ("checkout", 1),
        ("origin/main", 2),
        ("checkout", 2),
    ]
    assert seen[0] == ("origin/main", tmp_path / "main", "compare-tiny-origin_main-1")
    assert seen[1][1] == compare.REPO


def test_given_a_size_only_the_checkout_ran_when_tabled_beside_variants_then_it_has_no_reference() -> None:
    routes = {"GET /v2/users": 1}
    runs = [
        _run("9b598ff", "limited", 1, routes),
        _run("checkout", "limited", 1, routes),
        {**_run("checkout", "unthrottled", 1, routes), "size": "tiny"},
    ]
    table = requests_markdown(requests_and_state(runs))
    assert any(line.startswith("| unthrottled | tiny | full | `checkout` |") and "| 0 | - |" in line for line in table)
    assert any(line.startswith("| limited | large | full | `9b598ff` |") and "(reference)" in line for line in table)
