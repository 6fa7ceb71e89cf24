from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.sources.declarative.schema import InlineSchemaLoader

from components import HarvestTombstoneSchemaLoader

_SCHEMA = {"type": "object", "additionalProperties": True, "properties": {"id": {"type": "integer"}}}


def _loader(config: dict[str, Any]) -> HarvestTombstoneSchemaLoader:
    return HarvestTombstoneSchemaLoader(
        records=InlineSchemaLoader(schema=_SCHEMA, parameters={}), config=config, parameters={}
    )


@pytest.mark.parametrize("config", [{}, {"emit_deletions": True}], ids=["default", "on"])
def test_given_deletions_emitted_when_the_schema_is_loaded_then_it_adds_a_nullable_deleted_at(
    config: dict[str, Any],
) -> None:
    schema = _loader(config).get_json_schema()

    assert schema["properties"]["_ab_cdc_deleted_at"]["type"] == ["null", "string"]
    assert schema["properties"]["_ab_cdc_deleted_at"]["format"] == "date-time"
    assert {k: v for k, v in schema.items() if k != "properties"} == {"type": "object", "additionalProperties": True}
    assert _SCHEMA["properties"] == {"id": {"type": "integer"}}, "the stream's own schema is left alone"


def test_given_emit_deletions_off_when_the_schema_is_loaded_then_it_is_exactly_the_streams_own() -> None:
    assert _loader({"emit_deletions": False}).get_json_schema() == _SCHEMA
