from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

import components
from components import HARVEST_DATETIME_FORMAT, parse_harvest_datetimes_without_strptime

ORIGINAL = DatetimeParser.parse.__wrapped__  # type: ignore[attr-defined]


def _outcome(parse: Any, value: Any, fmt: str = HARVEST_DATETIME_FORMAT) -> Any:
    try:
        return parse(DatetimeParser(), value, fmt)
    except ValueError as error:
        return ("ValueError", str(error))


def _random_timestamps(count: int) -> list[str]:
    rng = random.Random(7)
    start = dt.datetime(1970, 1, 1)
    return [
        (start + dt.timedelta(seconds=rng.randrange(0, 80 * 365 * 86400))).strftime(HARVEST_DATETIME_FORMAT)
        for _ in range(count)
    ]


def test_given_components_imported_then_the_cdk_parser_is_the_patched_one() -> None:
    assert getattr(DatetimeParser.parse, components._PATCHED) is True


@pytest.mark.parametrize(
    "value", ["1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "1999-12-31T23:59:59Z", *_random_timestamps(500)]
)
def test_given_a_harvest_timestamp_when_parsed_then_the_result_equals_strptime(value: str) -> None:
    parsed = DatetimeParser().parse(value, HARVEST_DATETIME_FORMAT)
    assert parsed == ORIGINAL(DatetimeParser(), value, HARVEST_DATETIME_FORMAT)
    assert parsed.tzinfo == dt.UTC and type(parsed) is dt.datetime


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01T00:00:00Z",  # month 13
        "2023-02-29T00:00:00Z",  # no 29 February
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z",  # strptime reads a leap second, datetime refuses it
        "0000-01-01T00:00:00Z",
        "2024-5-1T10:00:00Z",  # short fields: strptime accepts them
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T10:00:00Z ",
        "2024-05-01 10:00:00Z",
        "\u0662\u0660\u0662\u0664-05-01T10:00:00Z",  # Arabic-Indic digits: strptime's \\d reads them
        "",
    ],
)
def test_given_an_odd_or_invalid_value_when_parsed_then_the_outcome_equals_strptime(value: str) -> None:
    assert _outcome(DatetimeParser.parse, value) == _outcome(ORIGINAL, value)


@pytest.mark.parametrize(("value", "fmt"), [("20240315", "%Y%m%d"), ("1714557600", "%s"), ("2024-05-01", "%Y-%m-%d")])
def test_given_another_format_when_parsed_then_the_original_parser_answers(value: str, fmt: str) -> None:
    assert _outcome(DatetimeParser.parse, value, fmt) == _outcome(ORIGINAL, value, fmt)


def test_given_the_patch_applied_again_then_it_does_not_wrap_itself() -> None:
    patched = DatetimeParser.parse
    parse_harvest_datetimes_without_strptime()
    assert DatetimeParser.parse is patched and DatetimeParser.parse.__wrapped__ is ORIGINAL  # type: ignore[attr-defined]
