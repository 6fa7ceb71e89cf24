"""Static checks of manifest.yaml: stream names, schemas, primary keys, cursors, $parameters keys."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from unit_tests.conftest import a_config, get_source

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yaml"

# The 32 stream names of Airbyte's source-harvest 1.2.38, which this connector replaces.
STREAMS_OF_1_2_38 = {
    "clients", "company", "contacts", "estimate_item_categories", "estimates", "expense_categories", "expenses",
    "invoice_item_categories", "invoices", "projects", "roles", "task_assignments", "tasks", "time_entries",
    "user_assignments", "users", "expenses_categories", "expenses_clients", "expenses_projects", "expenses_team",
    "project_budget", "time_clients", "time_projects", "time_tasks", "time_team", "uninvoiced", "estimate_messages",
    "invoice_messages", "invoice_payments", "project_assignments", "billable_rates", "cost_rates",
}  # fmt: skip
FORBIDDEN_PARAMETER_KEYS = {"path", "url", "name", "url_base"}


@functools.cache
def _raw() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


@functools.cache
def _resolved() -> dict[str, Any]:
    return ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(_raw()))


def _streams() -> list[dict[str, Any]]:
    return list(_resolved()["streams"])


def _field_exists(schema: dict[str, Any], field: str) -> bool:
    return field in (schema.get("properties") or {})


def test_given_manifest_then_it_declares_exactly_the_32_streams_of_1_2_38() -> None:
    names = [stream["name"] for stream in _streams()]
    assert len(names) == len(set(names)) == 32
    assert set(names) == STREAMS_OF_1_2_38


def test_given_manifest_then_schemas_is_the_last_top_level_key() -> None:
    assert list(_raw())[-1] == "schemas"


@pytest.mark.parametrize("stream", sorted(STREAMS_OF_1_2_38))
def test_given_stream_then_it_has_a_schema_with_its_primary_key_and_cursor(stream: str) -> None:
    (definition,) = [s for s in _streams() if s["name"] == stream]
    schema = definition["schema_loader"]["schema"]
    assert schema.get("type") == "object" and schema.get("properties"), f"{stream} has no inline schema"
    primary_key = definition.get("primary_key")
    assert primary_key, f"{stream} has no primary key"
    for field in [primary_key] if isinstance(primary_key, str) else primary_key:
        assert _field_exists(schema, field), f"{stream}: primary key field {field} is not in the schema"
    cursor = definition.get("incremental_sync")
    if cursor:
        assert _field_exists(schema, cursor["cursor_field"]), f"{stream}: cursor {cursor['cursor_field']} not in schema"


def _parameter_keys(node: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(node, dict):
        keys.extend((node.get("$parameters") or {}).keys())
        for value in node.values():
            keys.extend(_parameter_keys(value))
    elif isinstance(node, list):
        for value in node:
            keys.extend(_parameter_keys(value))
    return keys


def test_given_manifest_then_no_parameters_key_is_copied_into_a_component_field() -> None:
    # The CDK copies every $parameters key into every sub-component field of the same name (cdk-notes pitfall 4).
    assert FORBIDDEN_PARAMETER_KEYS.isdisjoint(_parameter_keys(_raw()))


def test_given_a_valid_config_then_the_source_builds_every_stream() -> None:
    streams = get_source(a_config()).streams(a_config())
    assert {stream.name for stream in streams} == STREAMS_OF_1_2_38


def test_given_spec_then_fields_come_in_the_1_2_38_order_and_secrets_are_hidden() -> None:
    spec = _raw()["spec"]["connection_specification"]
    properties = spec["properties"]
    ordered = sorted(properties, key=lambda key: properties[key].get("order", 99))
    assert ordered[:3] == ["credentials", "account_id", "replication_start_date"]
    variants = {v["properties"]["auth_type"]["const"]: v for v in properties["credentials"]["oneOf"]}
    assert variants["Token"]["properties"]["api_token"]["airbyte_secret"] is True
    assert variants["Client"]["properties"]["client_secret"]["airbyte_secret"] is True
    assert variants["Client"]["properties"]["refresh_token"]["airbyte_secret"] is True
    assert properties["api_url"]["airbyte_hidden"] is True and properties["oauth_token_url"]["airbyte_hidden"] is True
    assert properties["num_workers"]["minimum"] == 2 and properties["num_workers"]["maximum"] == 10


def test_given_the_stream_families_then_they_name_each_stream_of_1_2_38_exactly_once() -> None:
    from source_harvest.streams import ALL_STREAMS

    assert len(ALL_STREAMS) == len(set(ALL_STREAMS)) == 32
    assert set(ALL_STREAMS) == STREAMS_OF_1_2_38
