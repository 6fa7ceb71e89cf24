"""Stream schemas: schemas/*.json against Harvest's documented and real payloads, and against manifest.yaml.

schemas/<stream>.json is the source of truth; manifest.yaml's `schemas:` block is generated from it by
scripts/sync_schemas.py (`make schemas`). The example payloads are vendored in unit_tests/resource/examples/ so that
these tests need nothing outside the repository and no network.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from source_harvest import streams

REPO = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO / "schemas"
MANIFEST = REPO / "manifest.yaml"
EXAMPLES_DIR = Path(__file__).resolve().parent / "resource" / "examples"

ENTITY_STREAMS = [*streams.ENTITY_STREAMS, "company"]
CHILD_STREAMS = list(streams.CHILD_STREAMS)
REPORT_STREAMS = [*streams.WINDOWED_REPORT_STREAMS, "project_budget"]
ALL_STREAMS = sorted(ENTITY_STREAMS + CHILD_STREAMS + REPORT_STREAMS)

# Fields that identify a record; they are the only non-nullable top-level fields.
PRIMARY_KEY_FIELDS: dict[str, list[str]] = {
    **{name: ["id"] for name in ENTITY_STREAMS + CHILD_STREAMS if name != "company"},
    "company": ["base_uri", "full_domain"],
    "time_clients": ["from", "to", "client_id", "currency"],
    "time_projects": ["from", "to", "project_id", "currency"],
    "time_tasks": ["from", "to", "task_id", "currency"],
    "time_team": ["from", "to", "user_id", "currency"],
    "expenses_clients": ["from", "to", "client_id", "currency"],
    "expenses_projects": ["from", "to", "project_id", "currency"],
    "expenses_categories": ["from", "to", "expense_category_id", "currency"],
    "expenses_team": ["from", "to", "user_id", "currency"],
    "uninvoiced": ["from", "to", "project_id", "currency"],
    "project_budget": ["project_id"],
}

# Documented GET path (relative to /v2) -> the stream whose records it returns. Single-record GETs and the
# project-scoped / `me` variants return the same objects as the list the connector reads.
PATH_TO_STREAM: dict[str, str] = {
    "/clients": "clients",
    "/clients/{clientId}": "clients",
    "/company": "company",
    "/estimate_item_categories": "estimate_item_categories",
    "/estimate_item_categories/{estimateItemCategoryId}": "estimate_item_categories",
    "/estimates": "estimates",
    "/estimates/{estimateId}": "estimates",
    "/estimates/{estimateId}/messages": "estimate_messages",
    "/expense_categories": "expense_categories",
    "/expense_categories/{expenseCategoryId}": "expense_categories",
    "/expenses": "expenses",
    "/expenses/{expenseId}": "expenses",
    "/invoice_item_categories": "invoice_item_categories",
    "/invoice_item_categories/{invoiceItemCategoryId}": "invoice_item_categories",
    "/invoices": "invoices",
    "/invoices/{invoiceId}": "invoices",
    "/invoices/{invoiceId}/messages": "invoice_messages",
    "/invoices/{invoiceId}/payments": "invoice_payments",
    "/projects": "projects",
    "/projects/{projectId}": "projects",
    "/projects/{projectId}/task_assignments": "task_assignments",
    "/projects/{projectId}/task_assignments/{taskAssignmentId}": "task_assignments",
    "/projects/{projectId}/user_assignments": "user_assignments",
    "/projects/{projectId}/user_assignments/{userAssignmentId}": "user_assignments",
    "/reports/expenses/categories": "expenses_categories",
    "/reports/expenses/clients": "expenses_clients",
    "/reports/expenses/projects": "expenses_projects",
    "/reports/expenses/team": "expenses_team",
    "/reports/project_budget": "project_budget",
    "/reports/time/clients": "time_clients",
    "/reports/time/projects": "time_projects",
    "/reports/time/tasks": "time_tasks",
    "/reports/time/team": "time_team",
    "/reports/uninvoiced": "uninvoiced",
    "/roles": "roles",
    "/roles/{roleId}": "roles",
    "/task_assignments": "task_assignments",
    "/tasks": "tasks",
    "/tasks/{taskId}": "tasks",
    "/time_entries": "time_entries",
    "/time_entries/{timeEntryId}": "time_entries",
    "/user_assignments": "user_assignments",
    "/users": "users",
    "/users/me": "users",
    "/users/me/project_assignments": "project_assignments",
    "/users/{userId}": "users",
    "/users/{userId}/billable_rates": "billable_rates",
    "/users/{userId}/billable_rates/{billableRateId}": "billable_rates",
    "/users/{userId}/cost_rates": "cost_rates",
    "/users/{userId}/cost_rates/{costRateId}": "cost_rates",
    "/users/{userId}/project_assignments": "project_assignments",
}
ENVELOPE_KEYS = {"per_page", "total_pages", "total_entries", "next_page", "previous_page", "page", "links"}
A_PARENT_ID = 3226125
A_WINDOW = {"from": "20170101", "to": "20171231"}

# Integer-typed fields must be ids or whole-number quantities; decimals (money, hours, units, rates) are numbers.
INTEGER_FIELD_NAMES = {"weekly_capacity", "file_size", "user_ids"}


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_schema(stream: str) -> dict[str, Any]:
    schema: dict[str, Any] = _load_json(SCHEMAS_DIR / f"{stream}.json")
    return schema


def _load_sync_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_schemas", REPO / "scripts" / "sync_schemas.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sync_schemas", module)
    spec.loader.exec_module(module)
    return module


sync_schemas = _load_sync_script()


def _format_checker() -> FormatChecker:
    """Draft-07 format checks, including `date-time` (jsonschema only checks it when rfc3339-validator is installed)."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _is_datetime(value: object) -> bool:
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError(f"{value!r} has no timezone")
        return True

    return checker


FORMAT_CHECKER = _format_checker()


def _records_of(response: Any) -> list[dict[str, Any]]:
    """The records of a documented response: the envelope's list, or the bare object of a single-record GET."""
    if isinstance(response, dict) and response.keys() >= ENVELOPE_KEYS:
        (list_key,) = set(response) - ENVELOPE_KEYS
        return list(response[list_key])
    return [response]


def _as_emitted(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as the connector emits it: children carry `parent_id`, windowed report rows `from`/`to`."""
    emitted = copy.deepcopy(record)
    if stream in CHILD_STREAMS:
        emitted["parent_id"] = A_PARENT_ID
    if stream in REPORT_STREAMS and stream != "project_budget":
        emitted.update(A_WINDOW)
    return emitted


def _documented_examples() -> list[tuple[str, str, int, dict[str, Any]]]:
    responses = _load_json(EXAMPLES_DIR / "harvest_examples.json")["responses"]
    examples = []
    for path, response in responses.items():
        stream = PATH_TO_STREAM[path]
        for index, record in enumerate(_records_of(response)):
            examples.append((path, stream, index, _as_emitted(stream, record)))
    return examples


def _real_payload_examples() -> list[tuple[str, str, int, dict[str, Any]]]:
    payloads = _load_json(EXAMPLES_DIR / "real_payloads.json")
    examples = []
    for stream, records in (
        ("time_entries", payloads["time_entries"]),
        ("invoices", payloads["invoices"]),
        ("billable_rates", _records_of(payloads["billable_rates_response"])),
    ):
        for index, record in enumerate(records):
            examples.append(("README 4.3", stream, index, _as_emitted(stream, record)))
    return examples


DOCUMENTED_EXAMPLES = _documented_examples()
REAL_PAYLOAD_EXAMPLES = _real_payload_examples()


def _example_id(example: tuple[str, str, int, dict[str, Any]]) -> str:
    path, stream, index, _ = example
    return f"{stream}:{path}#{index}"


def _types(node: dict[str, Any]) -> list[str]:
    declared = node.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer, sub-schema) pair in a schema, depth first."""
    yield pointer, node
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _walk(child, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _walk(child, f"{pointer}/{index}")


def _subschemas(schema: dict[str, Any], pointer: str = "", name: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (pointer, property name, schema) of the record structure: properties and array items, recursively."""
    yield pointer, name, schema
    for key, child in schema.get("properties", {}).items():
        yield from _subschemas(child, f"{pointer}/properties/{key}", key)
    if isinstance(schema.get("items"), dict):
        yield from _subschemas(schema["items"], f"{pointer}/items", name)


def _undeclared_keys(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Keys present in `value` that `schema` does not declare, recursively through objects and arrays."""
    missing: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, child in value.items():
            if key not in properties:
                missing.append(f"{path}.{key}")
            else:
                missing.extend(_undeclared_keys(child, properties[key], f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            missing.extend(_undeclared_keys(item, schema.get("items", {}), f"{path}[{index}]"))
    return missing


def _validation_errors(record: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(record)]


# ---------------------------------------------------------------------------------------------------------------
# The set of schema files and the manifest block generated from it
# ---------------------------------------------------------------------------------------------------------------


def test_given_schemas_dir_when_listed_then_exactly_one_file_per_stream_exists() -> None:
    found = sorted(path.stem for path in SCHEMAS_DIR.glob("*.json"))

    assert found == ALL_STREAMS
    assert len(found) == 32


def test_given_manifest_when_compared_with_schema_files_then_schemas_block_is_in_sync() -> None:
    if not MANIFEST.exists():
        pytest.fail("manifest.yaml does not exist, so its `schemas:` block cannot match schemas/*.json")

    problems = sync_schemas.check(MANIFEST, SCHEMAS_DIR)

    assert not problems, (
        "manifest.yaml's `schemas:` block differs from schemas/*.json; run `make schemas` to regenerate it:\n  "
        + "\n  ".join(problems)
    )


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_file_when_read_then_it_is_two_space_json_with_a_trailing_newline(stream: str) -> None:
    text = (SCHEMAS_DIR / f"{stream}.json").read_text(encoding="utf-8")

    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Shape rules of design.md decision 12 and the standard discover checks
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_checked_against_draft7_then_it_is_a_valid_object_schema(stream: str) -> None:
    schema = load_schema(stream)

    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "object"
    assert schema["properties"], "a stream schema declares its fields"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_walked_then_every_object_allows_additional_properties_and_declares_properties(
    stream: str,
) -> None:
    schema = load_schema(stream)

    for pointer, _, node in _subschemas(schema):
        if "object" in _types(node):
            assert node.get("additionalProperties") is True, f"{stream}{pointer}: additionalProperties must be true"
            assert node.get("properties"), f"{stream}{pointer}: an object declares its properties"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_walked_then_it_uses_no_ref_allof_not_or_unions_of_schemas(stream: str) -> None:
    schema = load_schema(stream)

    for pointer, node in _walk(schema):
        if isinstance(node, dict) and not pointer.endswith("/properties"):
            forbidden = {"$ref", "allOf", "not", "anyOf", "oneOf"} & node.keys()
            assert not forbidden, f"{stream}{pointer}: uses {sorted(forbidden)}"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_walked_then_every_array_declares_its_items(stream: str) -> None:
    schema = load_schema(stream)

    for pointer, _, node in _subschemas(schema):
        if "array" in _types(node):
            assert isinstance(node.get("items"), dict) and node["items"].get("type"), f"{stream}{pointer}: no items"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_read_then_only_primary_key_fields_are_non_nullable(stream: str) -> None:
    properties = load_schema(stream)["properties"]
    keys = PRIMARY_KEY_FIELDS[stream]

    for key in keys:
        assert key in properties, f"{stream}: primary key field {key!r} is not declared"
        assert "null" not in _types(properties[key]), f"{stream}.{key} is a primary key field and must not be null"
    for pointer, name, node in _subschemas(load_schema(stream)):
        if pointer and not (pointer.count("/properties/") == 1 and name in keys):
            assert "null" in _types(node), f"{stream}{pointer}: Harvest can send null here; declare it nullable"


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_given_schema_when_read_then_integers_are_ids_and_timestamps_carry_a_format(stream: str) -> None:
    for pointer, name, node in _subschemas(load_schema(stream)):
        types = _types(node)
        if "integer" in types:
            assert name == "id" or name.endswith("_id") or name in INTEGER_FIELD_NAMES, (
                f"{stream}{pointer}: decimals (money, hours, units, rates) must be `number`, not `integer`"
            )
            assert "maximum" not in node, f"{stream}{pointer}: ids are 64-bit; no maximum"
        if name.endswith("_at") and "string" in types:
            assert node.get("format") == "date-time", f"{stream}{pointer}: a datetime needs format date-time"
        if (name.endswith("_date") or name in {"starts_on", "ends_on", "period_start", "period_end"}) and (
            "string" in types
        ):
            assert node.get("format") == "date", f"{stream}{pointer}: a date needs format date"


@pytest.mark.parametrize("stream", CHILD_STREAMS)
def test_given_child_stream_schema_when_read_then_it_declares_an_integer_parent_id(stream: str) -> None:
    properties = load_schema(stream)["properties"]

    assert "integer" in _types(properties["parent_id"])


@pytest.mark.parametrize("stream", sorted(set(REPORT_STREAMS) - {"project_budget"}))
def test_given_windowed_report_schema_when_read_then_from_and_to_are_strings(stream: str) -> None:
    properties = load_schema(stream)["properties"]

    assert _types(properties["from"]) == ["string"]
    assert _types(properties["to"]) == ["string"]


def test_given_project_budget_schema_when_read_then_it_has_no_report_window() -> None:
    properties = load_schema("project_budget")["properties"]

    assert "from" not in properties
    assert "to" not in properties


# ---------------------------------------------------------------------------------------------------------------
# Completeness and correctness against Harvest's documented and real payloads
# ---------------------------------------------------------------------------------------------------------------


def test_given_documented_examples_when_mapped_to_streams_then_every_stream_but_contacts_has_examples() -> None:
    # Harvest's docs carry no example response for /contacts; its schema follows the documented Contact object.
    covered = {stream for _, stream, _, _ in DOCUMENTED_EXAMPLES}

    assert covered == set(ALL_STREAMS) - {"contacts"}


@pytest.mark.parametrize("example", DOCUMENTED_EXAMPLES + REAL_PAYLOAD_EXAMPLES, ids=_example_id)
def test_given_harvest_example_record_when_validated_then_it_matches_its_stream_schema(
    example: tuple[str, str, int, dict[str, Any]],
) -> None:
    _, stream, _, record = example

    errors = _validation_errors(record, load_schema(stream))

    assert not errors, f"{stream}: " + "; ".join(errors)


@pytest.mark.parametrize("example", DOCUMENTED_EXAMPLES + REAL_PAYLOAD_EXAMPLES, ids=_example_id)
def test_given_harvest_example_record_when_walked_then_every_key_is_declared(
    example: tuple[str, str, int, dict[str, Any]],
) -> None:
    _, stream, _, record = example

    undeclared = _undeclared_keys(record, load_schema(stream))

    assert not undeclared, f"{stream}: fields not declared in schemas/{stream}.json: {undeclared}"


def test_given_a_time_entry_with_an_external_reference_when_validated_then_it_is_an_object() -> None:
    schema = load_schema("time_entries")
    an_entry = {
        "id": 2380504951,
        "external_reference": {
            "id": "PROJ-12",
            "group_id": "10042",
            "account_id": "a-jira-cloud-id",
            "permalink": "https://example.atlassian.net/browse/PROJ-12",
            "service": "example.atlassian.net",
            "service_icon_url": "https://proxy.harvestfiles.net/production/jira.png",
        },
    }

    assert _validation_errors(an_entry, schema) == []
    assert _validation_errors({"id": 1, "external_reference": "PROJ-12"}, schema), "a string is not a reference"


def test_given_a_record_with_a_decimal_in_an_integer_field_when_validated_then_it_is_rejected() -> None:
    assert _validation_errors({"id": 1, "weekly_capacity": 1.5}, load_schema("users"))
    assert _validation_errors({"id": 1.5}, load_schema("users"))
    assert _validation_errors({"id": 1, "units": 2.5}, load_schema("expenses")) == []


# ---------------------------------------------------------------------------------------------------------------
# scripts/sync_schemas.py
# ---------------------------------------------------------------------------------------------------------------

A_MANIFEST_HEAD = 'version: "7.39.1"\ntype: DeclarativeSource\n# --- streams ---\nstreams: []\n\n# --- schemas ---\n'


def test_given_schema_files_when_block_rendered_then_it_parses_back_to_the_same_schemas() -> None:
    import yaml

    block = sync_schemas.render_schemas_block()

    assert block.startswith("schemas:\n")
    assert yaml.safe_load(block)["schemas"] == {stream: load_schema(stream) for stream in ALL_STREAMS}
    assert list(yaml.safe_load(block)["schemas"]) == ALL_STREAMS


def test_given_manifest_without_block_when_synced_then_block_is_appended_and_head_kept(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(A_MANIFEST_HEAD, encoding="utf-8")

    changed = sync_schemas.sync(manifest, SCHEMAS_DIR)

    assert changed
    assert manifest.read_text(encoding="utf-8").startswith(A_MANIFEST_HEAD + "schemas:\n")
    assert sync_schemas.check(manifest, SCHEMAS_DIR) == []


def test_given_stale_block_when_synced_then_only_the_block_is_replaced(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(A_MANIFEST_HEAD + "schemas:\n  clients:\n    type: object\n", encoding="utf-8")

    changed = sync_schemas.sync(manifest, SCHEMAS_DIR)
    changed_again = sync_schemas.sync(manifest, SCHEMAS_DIR)

    assert (changed, changed_again) == (True, False)
    assert manifest.read_text(encoding="utf-8") == A_MANIFEST_HEAD + sync_schemas.render_schemas_block()


def test_given_drifted_block_when_checked_then_the_drift_is_named(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    text = A_MANIFEST_HEAD + sync_schemas.render_schemas_block()
    manifest.write_text(text.replace("  users:\n", "  people:\n"), encoding="utf-8")

    problems = sync_schemas.check(manifest, SCHEMAS_DIR)

    assert any("'users'" in problem and "missing from the manifest" in problem for problem in problems)
    assert any("'people'" in problem for problem in problems)
    assert sync_schemas.main(["--check", "--manifest", str(manifest), "--schemas-dir", str(SCHEMAS_DIR)]) == 1


def test_given_a_top_level_key_after_the_block_when_synced_then_it_refuses(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    original = A_MANIFEST_HEAD + "schemas:\n  clients: {}\nmetadata: {}\n"
    manifest.write_text(original, encoding="utf-8")

    with pytest.raises(sync_schemas.SyncError, match="last top-level key"):
        sync_schemas.sync(manifest, SCHEMAS_DIR)
    assert manifest.read_text(encoding="utf-8") == original
