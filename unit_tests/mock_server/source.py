"""Builds the connector from manifest.yaml and reads it, as the platform does, only faster.

Building the 32-stream source from the manifest costs seconds (YAML parse, `$ref` resolution, schema validation,
then every stream). The mock-server suite builds it hundreds of times, so this harness:
- parses, resolves and validates manifest.yaml once per test session (the manifest does not change during it), and
  loads the CDK's declarative component schema once;
- builds only the streams of the test's catalog, through the same calls the CDK uses to build a subset of streams
  for `check` (`_create_streams(selected, all)`), so parent caching and stream groups see every stream as usual.
Everything else (config normalization, api_budget, concurrency, the read itself) is the CDK's own code path.
`test_spec.py` and `test_builder_test_read.py` build the source the ordinary way.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import pickle
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStream, ConfiguredAirbyteCatalog, SyncMode
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.yaml_loader import safe_load_yaml  # type: ignore[attr-defined]

CONNECTOR_DIR = Path(__file__).resolve().parents[2]
MANIFEST_PATH = CONNECTOR_DIR / "manifest.yaml"


def _register_components() -> None:
    """Import components.py under the names the manifest's class_name uses, as the source-declarative-manifest image does."""
    if "components" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("components", CONNECTOR_DIR / "components.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["components"] = module
    spec.loader.exec_module(module)


@cache
def _raw_manifest() -> dict[str, Any]:
    with MANIFEST_PATH.open() as manifest_file:
        return safe_load_yaml(manifest_file)  # type: ignore[no-any-return]


@cache
def _resolved_manifest_pickle() -> bytes:
    manifest = copy.deepcopy(_raw_manifest())
    manifest.setdefault("type", "DeclarativeSource")
    resolved = ManifestReferenceResolver().preprocess_manifest(manifest)
    propagated = ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})
    return pickle.dumps(propagated)


_LOAD_DECLARATIVE_COMPONENT_SCHEMA = concurrent_declarative_source.get_declarative_component_schema


@cache
def _declarative_component_schema() -> dict[str, Any]:
    """Loaded once and shared: the source only validates against it (read-only), once per session here."""
    return _LOAD_DECLARATIVE_COMPONENT_SCHEMA()  # type: ignore[no-any-return]


_VALIDATED: list[bool] = []


class _CachedManifestSource(ConcurrentDeclarativeSource):
    def __init__(self, selected_streams: list[str], **kwargs: Any) -> None:
        self._selected_streams = selected_streams
        with mock.patch.object(
            concurrent_declarative_source,
            "get_declarative_component_schema",
            _declarative_component_schema,
        ):
            super().__init__(**kwargs)

    def _pre_process_manifest(self, manifest: dict[str, Any]) -> dict[str, Any]:
        return pickle.loads(_resolved_manifest_pickle())  # type: ignore[no-any-return]

    def _validate_source(self) -> None:
        if not _VALIDATED:
            super()._validate_source()
            _VALIDATED.append(True)

    def streams(self, config: Mapping[str, Any]) -> list[Any]:  # type: ignore[override]
        if not self._selected_streams:
            return super().streams(config)
        self._prepare_for_stream_build()
        all_configs = self._stream_configs(self._source_config)
        selected = [stream for stream in all_configs if stream.get("name") in self._selected_streams]
        return self._create_streams(selected, all_configs)


def get_source(
    config: Mapping[str, Any],
    state: list[AirbyteStateMessage] | None = None,
    catalog: ConfiguredAirbyteCatalog | None = None,
) -> ConcurrentDeclarativeSource:
    _register_components()
    selected = [stream.stream.name for stream in catalog.streams] if catalog else []
    return _CachedManifestSource(
        selected,
        catalog=catalog,
        config=config,
        state=state or [],
        source_config=_raw_manifest(),
    )


def catalog_of(*stream_names: str, sync_mode: SyncMode = SyncMode.full_refresh) -> ConfiguredAirbyteCatalog:
    builder = CatalogBuilder()
    for name in stream_names:
        builder = builder.with_stream(name, sync_mode)
    return builder.build()


def read_streams(
    config: Mapping[str, Any],
    *stream_names: str,
    state: list[AirbyteStateMessage] | None = None,
    sync_mode: SyncMode | None = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    """Reads the named streams; incremental when a state is given (the state goes to the constructor AND read())."""
    mode = sync_mode or (SyncMode.incremental if state else SyncMode.full_refresh)
    catalog = catalog_of(*stream_names, sync_mode=mode)
    source = get_source(config, state, catalog)
    return read(source, dict(config), catalog, state, expecting_exception=expecting_exception)


def state_for(stream_name: str, stream_state: Mapping[str, Any]) -> list[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(stream_name, dict(stream_state)).build()


@cache
def _discovered_streams_pickle() -> bytes:
    config = {
        "credentials": {"auth_type": "Token", "api_token": "a-token"},
        "account_id": "1234567",
        "replication_start_date": "2021-01-01T00:00:00Z",
    }
    catalog = get_source(config).discover(logging.getLogger("airbyte"), config)
    return pickle.dumps({stream.name: stream for stream in catalog.streams})


def discovered_stream(name: str) -> AirbyteStream:
    """The stream as `discover` declares it (sync modes, primary key, cursor)."""
    return pickle.loads(_discovered_streams_pickle())[name]  # type: ignore[no-any-return]
