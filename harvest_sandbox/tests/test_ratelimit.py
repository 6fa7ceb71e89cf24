"""Harvest's moving-window rate limits, with time scaled down."""

from __future__ import annotations

import time

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api

_GENERAL_LIMIT = 100
_REPORTS_LIMIT = 100


def test_given_scaled_limits_when_101st_request_then_429_with_integer_retry_after_and_html(
    sandbox: SandboxServer,
) -> None:
    # 15 s -> 6 s: room for 100 requests on a busy machine (the tests run in parallel), and a short wait after.
    sandbox.configure(rate_limits=True, time_scale=0.4)
    statuses = [api(sandbox, "/v2/users/me").status_code for _ in range(_GENERAL_LIMIT)]

    throttled = api(sandbox, "/v2/users/me")

    assert statuses == [200] * _GENERAL_LIMIT
    assert throttled.status_code == 429
    assert throttled.headers["Content-Type"].startswith("text/html")
    assert throttled.headers["Retry-After"].isdigit() and 1 <= int(throttled.headers["Retry-After"]) <= 6
    assert not [h for h in throttled.headers if h.lower().startswith("x-ratelimit")]
    assert api(sandbox, "/v2/users/me", "member").status_code == 200, "limits are per token"
    time.sleep(int(throttled.headers["Retry-After"]))
    assert api(sandbox, "/v2/users/me").status_code == 200, "the window moves on after Retry-After"


def test_given_reports_bucket_when_over_100_then_429_while_general_still_ok(sandbox: SandboxServer) -> None:
    sandbox.configure(rate_limits=True, time_scale=0.02)  # 15 min -> 18 s (room for 100 requests), 15 s -> 0.3 s
    window = {"from": "20260101", "to": "20261231"}
    statuses = [api(sandbox, "/v2/reports/time/clients", **window).status_code for _ in range(_REPORTS_LIMIT)]

    throttled = api(sandbox, "/v2/reports/time/clients", **window)

    assert statuses == [200] * _REPORTS_LIMIT
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert api(sandbox, "/v2/clients").status_code == 200
    assert sandbox.counts()["throttled"] == 1


def test_given_scaled_limit_counts_when_configured_then_limit_itself_scales(sandbox: SandboxServer) -> None:
    sandbox.configure(rate_limits=True, general_limit=3, retry_after_min=0, time_scale=0.2)  # 15 s -> 3 s

    statuses = [api(sandbox, "/v2/company").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_given_rate_limits_off_when_many_requests_then_never_429(sandbox: SandboxServer) -> None:
    sandbox.configure(rate_limits=False, general_limit=1)

    assert {api(sandbox, "/v2/company").status_code for _ in range(5)} == {200}


def test_given_control_plane_when_hammered_then_never_limited(sandbox: SandboxServer) -> None:
    sandbox.configure(rate_limits=True, general_limit=1)

    statuses = {api(sandbox, "/_sandbox/counts").status_code for _ in range(5)}

    assert statuses == {200}
