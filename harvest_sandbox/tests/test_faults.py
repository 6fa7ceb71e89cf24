"""Deterministic faults on demand."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api


def test_given_rate_limited_fault_with_count_then_that_many_429s_then_ok(sandbox: SandboxServer) -> None:
    sandbox.add_fault("rate_limited", path="/v2/clients", count=2, retry_after=3)

    responses = [api(sandbox, "/v2/clients") for _ in range(3)]

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "3"
    assert responses[0].headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_given_server_error_every_third_request_then_exact_schedule(sandbox: SandboxServer, status: int) -> None:
    sandbox.add_fault("server_error", path="/v2/time_entries*", every=3, status=status)

    statuses = [api(sandbox, "/v2/time_entries").status_code for _ in range(6)]

    assert statuses == [200, 200, status, 200, 200, status]
    assert api(sandbox, "/v2/clients").status_code == 200, "other paths are untouched"


def test_given_connection_reset_fault_then_client_sees_connection_error_then_recovers(sandbox: SandboxServer) -> None:
    sandbox.add_fault("connection_reset", path="/v2/users", count=1)

    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/v2/users", headers=sandbox.headers(), timeout=5)
    assert api(sandbox, "/v2/users").status_code == 200


def test_given_slow_fault_then_response_is_delayed_but_correct(sandbox: SandboxServer) -> None:
    sandbox.add_fault("slow", path="/v2/company", delay=0.3, count=1)

    started = time.monotonic()
    response = api(sandbox, "/v2/company")

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and "name" in response.json()


def test_given_a_concurrent_delete_on_the_second_page_when_walking_then_the_walk_skips_one_survivor(
    sandbox: SandboxServer,
) -> None:
    before = [r["id"] for r in sandbox.store.list("expenses")]
    sandbox.add_fault(
        "concurrent_delete", path="/v2/expenses", after=1, count=1, resource="expenses", record_id=before[0]
    )

    first = api(sandbox, "/v2/expenses", per_page=3).json()
    second = api(sandbox, first["links"]["next"]).json()

    assert [r["id"] for r in first["expenses"]] == before[:3]
    assert [r["id"] for r in second["expenses"]] == before[4:7]  # before[3] moved onto page 1, already read
    assert not sandbox.store.exists("expenses", before[0]) and sandbox.store.exists("expenses", before[3])


def test_given_a_concurrent_delete_without_its_record_when_scheduled_then_it_is_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(ValueError, match="record_id"):
        sandbox.add_fault("concurrent_delete", path="/v2/expenses", resource="expenses")


def test_given_missing_envelope_fault_then_records_key_is_absent(sandbox: SandboxServer) -> None:
    sandbox.add_fault("missing_envelope", path="/v2/invoices", count=1)

    body = api(sandbox, "/v2/invoices").json()

    assert "invoices" not in body and "links" in body
    assert "invoices" in api(sandbox, "/v2/invoices").json()


def test_given_malformed_json_fault_then_body_is_truncated(sandbox: SandboxServer) -> None:
    sandbox.add_fault("malformed_json", path="/v2/tasks", count=1)

    response = api(sandbox, "/v2/tasks")

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_given_after_and_count_then_fault_fires_in_a_window(sandbox: SandboxServer) -> None:
    sandbox.add_fault("server_error", path="/v2/clients", after=2, count=2, status=500)

    statuses = [api(sandbox, "/v2/clients").status_code for _ in range(6)]

    assert statuses == [200, 200, 500, 500, 200, 200]


def test_given_seeded_probability_then_same_schedule_every_time(sandbox: SandboxServer) -> None:
    schedules = []
    for _ in range(2):
        sandbox.clear_faults()
        sandbox.add_fault("server_error", probability=0.5, seed=7)
        schedules.append([api(sandbox, "/v2/company").status_code for _ in range(12)])

    assert schedules[0] == schedules[1]
    assert {200, 503} == set(schedules[0])


def test_given_control_plane_schedule_when_posted_and_deleted_then_applied_and_cleared(sandbox: SandboxServer) -> None:
    rules: dict[str, Any] = {"faults": [{"name": "server_error", "path": "/v2/roles", "status": 502}]}
    posted = requests.post(sandbox.url + "/_sandbox/faults", json=rules, timeout=5)

    assert posted.status_code == 200 and posted.json()["faults"][0]["status"] == 502
    assert api(sandbox, "/v2/roles").status_code == 502
    assert requests.delete(sandbox.url + "/_sandbox/faults", timeout=5).json() == {"faults": []}
    assert api(sandbox, "/v2/roles").status_code == 200


def test_given_unknown_fault_name_when_posted_then_400(sandbox: SandboxServer) -> None:
    response = requests.post(sandbox.url + "/_sandbox/faults", json={"name": "gremlins"}, timeout=5)

    assert response.status_code == 400


def test_given_faults_when_logged_then_request_log_names_the_fault(sandbox: SandboxServer) -> None:
    sandbox.add_fault("rate_limited", path="/v2/company", count=1)
    api(sandbox, "/v2/company")

    log = requests.get(sandbox.url + "/_sandbox/requests", timeout=5).json()["requests"]

    assert [(e["path"], e["status"], e["fault"]) for e in log] == [("/v2/company", 429, "rate_limited")]
