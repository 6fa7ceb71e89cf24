"""Unit tests of the demo's pure helpers: no PyAirbyte, no sandbox process, no network (fast, `make unit`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.connector_config import ConfigError, default_duckdb_path, load_connector_config, redacted
from demo.pyairbyte_runner import SyncRun
from demo.report import billable_hours_sql, format_table, streams_table
from demo.sandbox import RequestCounts, SandboxInfo, parse_sandbox_line

_A_TOKEN = "1234567.pt.secret"
_AN_ACCOUNT_ID = "1234567"
_A_VALID_CONFIG = {
    "credentials": {"auth_type": "Token", "api_token": _A_TOKEN},
    "account_id": _AN_ACCOUNT_ID,
    "replication_start_date": "2024-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("HARVEST_SANDBOX_URL=http://127.0.0.1:8765\n", ("URL", "http://127.0.0.1:8765")),
        ("HARVEST_SANDBOX_TOKEN_MEMBER=a=b", ("TOKEN_MEMBER", "a=b")),
        ("Serving on port 8765", None),
        ("HARVEST_SANDBOX_URL", None),
    ],
    ids=["url", "value-with-equals", "other-output", "no-value"],
)
def test_given_a_line_of_sandbox_output_when_parsed_then_only_contract_lines_count(
    line: str, expected: tuple[str, str] | None
) -> None:
    assert parse_sandbox_line(line) == expected


def test_given_the_printed_values_when_building_sandbox_info_then_tokens_are_keyed_by_role() -> None:
    info = SandboxInfo.from_printed_values(
        {
            "URL": "http://127.0.0.1:1/",
            "ACCOUNT_ID": _AN_ACCOUNT_ID,
            "TOKEN_ADMINISTRATOR": _A_TOKEN,
            "TOKEN_MEMBER": "m",
        }
    )

    assert (info.url, info.account_id, info.administrator_token) == ("http://127.0.0.1:1", _AN_ACCOUNT_ID, _A_TOKEN)
    assert info.tokens == {"administrator": _A_TOKEN, "member": "m"}


def test_given_two_snapshots_of_request_counts_when_subtracted_then_only_the_requests_in_between_remain() -> None:
    before = RequestCounts.from_answer(
        {"total": 3, "throttled": 0, "endpoints": {"/v2/users": {"total": 2, "200": 2}, "/v2/roles": {"total": 1}}}
    )
    after = RequestCounts.from_answer(
        {
            "total": 6,
            "throttled": 1,
            "endpoints": {"/v2/users": {"total": 5, "200": 4, "429": 1}, "/v2/roles": {"total": 1}},
        }
    )

    delta = after - before

    assert (delta.total, delta.throttled, dict(delta.per_endpoint)) == (3, 1, {"/v2/users": 3})


def test_given_a_config_file_when_it_is_valid_then_it_loads_and_names_its_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_A_VALID_CONFIG))

    config = load_connector_config(path)

    assert config == _A_VALID_CONFIG
    assert default_duckdb_path(config, tmp_path) == tmp_path / f"harvest-{_AN_ACCOUNT_ID}.duckdb"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        (json.dumps({**_A_VALID_CONFIG, "account_id": "acme"}), '"account_id" must be'),
        (json.dumps({**_A_VALID_CONFIG, "replication_start_date": "2024-01-01"}), '"replication_start_date" must'),
        (json.dumps({**_A_VALID_CONFIG, "credentials": {"api_token": _A_TOKEN}}), '"credentials" must be'),
    ],
    ids=["missing-file", "not-json", "account-id-not-digits", "date-without-time", "no-auth-type"],
)
def test_given_a_bad_config_file_when_loaded_then_the_error_says_what_to_fix(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(ConfigError, match=message):
        load_connector_config(path)


def test_given_a_config_with_secrets_when_redacted_then_no_secret_is_left() -> None:
    config = {**_A_VALID_CONFIG, "credentials": {"auth_type": "Client", "client_id": "id", "client_secret": "s"}}

    assert redacted(config)["credentials"] == {"auth_type": "Client", "client_id": "id", "client_secret": "***"}
    assert _A_TOKEN not in json.dumps(redacted(_A_VALID_CONFIG))


def test_given_rows_when_formatted_then_text_is_left_aligned_and_numbers_right_aligned_with_separators() -> None:
    table = format_table(["stream", "rows"], [["users", 1234], ["time_entries", 5]], footer=["total", 1239])

    assert table.splitlines() == [
        "stream         rows",
        "------------  -----",
        "users         1,234",
        "time_entries      5",
        "------------  -----",
        "total         1,239",
    ]


def test_given_two_syncs_when_tabulated_then_new_rows_are_the_difference_of_the_row_counts() -> None:
    incremental = SyncRun(label="incremental", records_read={"users": 2, "roles": 1})

    table = streams_table(
        ["users", "roles"], {"users": 10, "roles": 3}, incremental, {"users": 11, "roles": 3}, {"roles": 1}
    )

    assert table.splitlines()[2].split() == ["users", "10", "2", "1", "0"]
    assert table.splitlines()[3].split() == ["roles", "3", "1", "0", "1"]  # a tombstone replaced a row
    assert table.splitlines()[-1].split() == ["total", "13", "3", "1", "1"]


def test_given_a_table_synced_without_deletions_when_asking_the_sql_question_then_no_deletion_filter() -> None:
    assert "_ab_cdc_deleted_at IS NULL" in billable_hours_sql({"spent_date", "_ab_cdc_deleted_at"})
    assert "_ab_cdc_deleted_at" not in billable_hours_sql({"spent_date", "hours"})
