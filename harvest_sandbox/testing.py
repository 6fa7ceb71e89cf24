"""pytest plugin: ``pytest_plugins = ["harvest_sandbox.testing"]``.

Fixtures:

* ``sandbox`` (function scope): the session's :class:`~harvest_sandbox.SandboxServer`, reset before the test
  (dataset, config, faults, log, rate-limit counters). After the test, any handler exception the sandbox recorded
  (a sandbox bug, never an injected fault) fails the test, pytest-httpserver style.
* ``sandbox_server`` (session scope): the server itself, one per test session, on port 0.
* ``sandbox_options`` (session scope): override in your conftest to change seed, dataset or config, e.g.
  ``return {"seed": 7, "dataset": "tiny", "rate_limits": False}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server import SandboxServer


@pytest.fixture(scope="session")
def sandbox_options() -> dict[str, Any]:
    return {"seed": 42, "dataset": "tiny", "rate_limits": False}


@pytest.fixture(scope="session")
def sandbox_server(sandbox_options: dict[str, Any]) -> Iterator[SandboxServer]:
    server = SandboxServer(**sandbox_options).start()
    try:
        yield server
    finally:
        server.stop()


def fail_on_handler_errors(server: SandboxServer) -> None:
    """Fail the current test if the sandbox recorded handler exceptions (injected faults never count)."""
    errors = server.take_errors()
    if errors:
        pytest.fail("harvest_sandbox recorded handler error(s):\n\n" + "\n\n".join(errors), pytrace=False)


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    sandbox_server.reset(initial=True)
    yield sandbox_server
    fail_on_handler_errors(sandbox_server)
