from __future__ import annotations

from typing import Any

from components import HarvestKeepFields


def test_given_a_full_invoice_when_transformed_then_only_the_named_fields_are_left() -> None:
    record: dict[str, Any] = {
        "id": 12,
        "updated_at": "2024-05-01T10:00:00Z",
        "line_items": [{"id": 1, "amount": 10.0}],
        "client": {"id": 7, "name": "Acme"},
        "state": "open",
    }
    HarvestKeepFields(fields=["id", "updated_at"]).transform(record)
    assert record == {"id": 12, "updated_at": "2024-05-01T10:00:00Z"}


def test_given_a_record_without_a_named_field_when_transformed_then_nothing_is_invented() -> None:
    record: dict[str, Any] = {"id": 3, "first_name": "Ada"}
    HarvestKeepFields(fields=["id", "updated_at"]).transform(record)
    assert record == {"id": 3}
