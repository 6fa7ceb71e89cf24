"""The row keys a report window keeps in its state (`pack_rows` / `unpack_rows`). HarvestReportTombstoneRetriever's
requests and records: unit_tests/mock_server/test_reports.py."""

from __future__ import annotations

import pytest

from components import pack_ids, pack_rows, unpack_rows


def test_given_rows_in_two_currencies_when_packed_then_one_sorted_id_list_per_currency() -> None:
    packed = pack_rows([(7, "USD"), (3, "EUR"), (5, "USD")])

    assert packed == {"EUR": pack_ids([3]), "USD": pack_ids([5, 7])}
    assert list(packed) == ["EUR", "USD"]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(set(), id="no-row"),
        pytest.param({(5735776, "EUR")}, id="one-row"),
        pytest.param({(7, "EUR"), (7, "USD"), (9, "EUR")}, id="a-subject-in-two-currencies"),
    ],
)
def test_given_row_keys_when_packed_and_unpacked_then_the_same_keys(rows: set[tuple[int, str]]) -> None:
    assert unpack_rows(pack_rows(rows)) == rows


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("EUR", id="not-an-object"),
        pytest.param({"EUR": "not base64 zlib"}, id="unreadable-ids"),
    ],
)
def test_given_a_value_pack_rows_did_not_write_when_unpacked_then_none(value: object) -> None:
    assert unpack_rows(value) is None
