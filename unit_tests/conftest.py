"""Shared fixtures for the connector's tests (the canonical manifest-only conftest, plus source helpers).

`components.py` is put on sys.path so the manifest's `source_declarative_manifest.components.<Class>` resolves to
it (the CDK's factory falls back to the plain `components` module), without AIRBYTE_ENABLE_UNSAFE_CODE.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

pytest_plugins = ["airbyte_cdk.test.utils.manifest_only_fixtures"]

_SOURCE_FOLDER_PATH = Path(__file__).parent.parent
_YAML_FILE_PATH = _SOURCE_FOLDER_PATH / "manifest.yaml"
sys.path.append(str(_SOURCE_FOLDER_PATH))

API_URL = "https://api.harvestapp.com"
A_TOKEN = "a-personal-access-token"
AN_ACCOUNT_ID = "1234567"
A_START_DATE = "2024-01-01T00:00:00Z"


def a_config(**overrides: Any) -> dict[str, Any]:
    """A valid token config (the real Harvest host, so HttpMocker can match exact URLs); override any field."""
    config: dict[str, Any] = {
        "credentials": {"auth_type": "Token", "api_token": A_TOKEN},
        "account_id": AN_ACCOUNT_ID,
        "replication_start_date": A_START_DATE,
        "num_workers": 2,
    }
    config.update(overrides)
    return config


def get_source(config: Mapping[str, Any], state: list[Any] | None = None) -> YamlDeclarativeSource:
    """The source as the platform builds it: config AND state go to the constructor (read() ignores its state)."""
    catalog = CatalogBuilder().build()
    state = state or StateBuilder().build()
    return YamlDeclarativeSource(path_to_yaml=str(_YAML_FILE_PATH), catalog=catalog, config=config, state=state)


def catalog_of(*streams: str, sync_mode: SyncMode = SyncMode.incremental) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for stream in streams:
        builder = builder.with_stream(stream, sync_mode)
    return builder.build()


def read_streams(
    config: Mapping[str, Any],
    *streams: str,
    state: list[Any] | None = None,
    sync_mode: SyncMode = SyncMode.incremental,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    """Read `streams` with `state` handed to both the constructor and read()."""
    return read(
        get_source(config, state),
        dict(config),
        catalog_of(*streams, sync_mode=sync_mode),
        state,
        expecting_exception=expecting_exception,
    )


@pytest.fixture(autouse=True)
def isolated_request_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Give each test its own CDK request cache: parent streams cache their pages, and by default the cache is one
    in-memory database for the whole process, so a later test could be served an earlier test's parent pages."""
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path))


@pytest.fixture(autouse=True)
def forget_token_roles() -> None:
    """Each test starts without the token roles a process remembers (components.py, _AdministratorCheck): the tests
    of one process share credentials but not roles."""
    from components import _AdministratorCheck

    _AdministratorCheck._answers.clear()
