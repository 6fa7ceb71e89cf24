"""Fixtures of the end-to-end tests: one Harvest sandbox per session (tiny dataset, no rate limits), reset per test,
and the connector's discovered catalog (one `source-harvest discover` per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import run_connector

START_DATE = "2017-01-01T00:00:00Z"


@pytest.fixture(scope="session")
def e2e_server() -> Iterator[SandboxServer]:
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


@pytest.fixture(scope="session")
def discovered(e2e_server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The catalog `source-harvest discover` emits (the schemas records are validated against)."""
    run = run_connector("discover", tmp_path_factory.mktemp("discover"), e2e_server.config())
    assert run.returncode == 0, run.describe_failure()
    return run.catalog


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
