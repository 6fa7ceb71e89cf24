"""Repository-root pytest setup, shared by `make test` (plain `pytest`) and `airbyte-cdk connector test`.

* Registers the CDK's standard-test hooks (scenario parametrization from `acceptance-test-config.yml`).
* Deselects the standard suite's `image_tests` (they need a Docker daemon and the network); set
  `HARVEST_IMAGE_TESTS=1` to keep them.
* Marks the standard suite `e2e`: it reads the sandbox over real HTTP, like the end-to-end tests (`make unit` leaves
  it out; `make test` runs it).
* Sorts the files with tests marked `slow` or `e2e` first. Under pytest-xdist (`make test` runs `pytest -n 4`;
  pyproject.toml gives `--dist loadfile`: each file runs on one worker, so module- and session-scoped fixtures, and
  the standard suite's fixed port, stay within one worker) the longest files are then handed out first, and no
  worker is left alone with a long file at the end.
* Starts the Harvest sandbox for the standard suite (and only for it), on the host and port that the scenario
  configs' `api_url` names (`integration_tests/*.json`, 127.0.0.1:48765), accepting the token and account id those
  configs carry. The sandbox serves the `tiny` dataset (seed 42) without rate limits.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

CONNECTOR_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "image_tests: the standard suite's Docker image tests (deselected by default)")
    config.addinivalue_line("markers", "requires_creds: standard-suite scenarios that need real credentials")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("HARVEST_IMAGE_TESTS") != "1":
        deselected = [item for item in items if item.get_closest_marker("image_tests") is not None]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if item.get_closest_marker("image_tests") is None]
    for item in items:
        if _is_standard_test(item):
            item.add_marker(pytest.mark.e2e)
    slow_files = {item.path for item in items if item.get_closest_marker("slow") or item.get_closest_marker("e2e")}
    items.sort(key=lambda item: item.path not in slow_files)


def valid_scenario_config() -> dict[str, Any]:
    """The config of the acceptance-test-config.yml scenario that reads (basic_read, else a succeeding check)."""
    acceptance = yaml.safe_load((CONNECTOR_DIR / "acceptance-test-config.yml").read_text())["acceptance_tests"]
    tests = [*(acceptance.get("basic_read") or {}).get("tests", [])]
    tests += [t for t in (acceptance.get("connection") or {}).get("tests", []) if t.get("status") == "succeed"]
    path = next(t["config_path"] for t in tests if t.get("config_path"))
    return dict(json.loads((CONNECTOR_DIR / path).read_text()))


def _is_standard_test(item: pytest.Item) -> bool:
    from airbyte_cdk.test.standard_tests.connector_base import ConnectorTestSuiteBase

    cls = getattr(item, "cls", None)
    return cls is not None and issubclass(cls, ConnectorTestSuiteBase)


@pytest.fixture(scope="session")
def standard_suite_sandbox() -> Iterator[Any]:
    """The sandbox the scenario configs point at: their host and port, their account id and (valid) token."""
    from harvest_sandbox import SandboxServer
    from harvest_sandbox.app import load_dataset
    from harvest_sandbox.loader import dump_json

    valid = valid_scenario_config()
    api_url = urlsplit(valid["api_url"])
    with tempfile.TemporaryDirectory(prefix="harvest-standard-") as folder:
        dataset_path = Path(folder) / "dataset.json"
        dump_json(load_dataset(42, "tiny"), dataset_path)
        data = json.loads(dataset_path.read_text())
        data["account_id"] = int(valid["account_id"])
        data["tokens"]["administrator"] = valid["credentials"]["api_token"]
        dataset_path.write_text(json.dumps(data))
        server = SandboxServer(
            seed=42,
            dataset=str(dataset_path),
            host=api_url.hostname or "127.0.0.1",
            port=api_url.port or 80,
            rate_limits=False,
        ).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def _sandbox_for_the_standard_suite(request: pytest.FixtureRequest) -> None:
    if _is_standard_test(request.node):
        request.getfixturevalue("standard_suite_sandbox")
