"""Fixtures of the end-to-end tests: one Harvest sandbox per test process (tiny dataset, no rate limits, its history
ending when it starts), reset per test, and the connector's discovered catalog (one `source-harvest discover` per test
run, shared by the pytest-xdist workers)."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import run_connector

START_DATE = "2017-01-01T00:00:00Z"


@pytest.fixture(scope="session")
def e2e_server() -> Iterator[SandboxServer]:
    """The sandbox of this test process (each pytest-xdist worker has its own, on a free port)."""
    server = SandboxServer(seed=42, dataset="tiny", rate_limits=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def harvest(e2e_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session's sandbox, back to the seeded dataset and initial config; fails the test on sandbox bugs."""
    e2e_server.reset()
    yield e2e_server
    errors = e2e_server.take_errors()
    if errors:
        pytest.fail("harvest_sandbox recorded handler error(s):\n\n" + "\n\n".join(errors), pytrace=False)


def _discover(server: SandboxServer, workdir: Path) -> dict[str, Any]:
    run = run_connector("discover", workdir, server.config())
    assert run.returncode == 0, run.describe_failure()
    return run.catalog


@pytest.fixture(scope="session")
def discovered(e2e_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """The catalog `source-harvest discover` emits (the schemas records are validated against). The catalog does not
    depend on the sandbox, so the xdist workers of one run share one discover through their common temp folder."""
    if worker_id == "master":
        return _discover(e2e_server, tmp_path_factory.mktemp("discover"))
    shared = tmp_path_factory.getbasetemp().parent / "discovered.json"
    with (shared.parent / "discovered.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker discovers, the others wait and read its file
        if not shared.exists():
            shared.write_text(json.dumps(_discover(e2e_server, tmp_path_factory.mktemp("discover"))))
    catalog: dict[str, Any] = json.loads(shared.read_text())
    return catalog


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
