"""The Connector Builder can run this manifest: its `test_read` handler, with components.py injected the way the
Builder injects it (`__injected_components_py` + its md5), returns pages and records for an entity stream and for a
child stream. A test read is the stream's own read only: no reconciliation read, count, record lookup or role check
(/v2/users/me) and no tombstone, whatever the state knows, since the Builder's page caps would make them partial.
Requests are answered by HttpMocker; the handler is the CDK's own (airbyte_cdk.connector_builder)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.connector_builder.main import handle_request
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.utils.yaml_loader import safe_load_yaml  # type: ignore[attr-defined]
from freezegun import freeze_time

from components import HarvestKnownIds, HarvestSpentHistory, _month, pack_rows

_CONNECTOR_DIR = Path(__file__).resolve().parent.parent
_A_TOKEN = "a-personal-access-token"
_AN_ACCOUNT_ID = "1234567"
_A_START_DATE = "2021-01-01T00:00:00Z"
_HEADERS = {"Authorization": f"Bearer {_A_TOKEN}", "Harvest-Account-Id": _AN_ACCOUNT_ID}
_API = "https://api.harvestapp.com/v2"
_TEMPLATES = Path(__file__).resolve().parent / "resource" / "http" / "response"


@pytest.fixture(autouse=True)
def builder_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Builder runs injected code only where unsafe code is enabled, in a process where components.py was never
    imported: other tests' imports are hidden during the test and the Builder's own registration removed after."""
    monkeypatch.setenv("AIRBYTE_ENABLE_UNSAFE_CODE", "true")
    registered = {name: module for name, module in sys.modules.items() if _is_components_module(name)}
    for name in registered:
        del sys.modules[name]
    yield
    for name in [name for name in sys.modules if _is_components_module(name)]:
        del sys.modules[name]
    sys.modules.update(registered)


def _is_components_module(name: str) -> bool:
    return name == "components" or name.startswith("source_declarative_manifest")


def _builder_config(**test_read_limits: int) -> dict[str, Any]:
    components = (_CONNECTOR_DIR / "components.py").read_text()
    with (_CONNECTOR_DIR / "manifest.yaml").open() as manifest_file:
        manifest = safe_load_yaml(manifest_file)
    return {
        "credentials": {"auth_type": "Token", "api_token": _A_TOKEN},
        "account_id": _AN_ACCOUNT_ID,
        "replication_start_date": _A_START_DATE,
        "__command": "test_read",
        "__injected_declarative_manifest": manifest,
        "__injected_components_py": components,
        "__injected_components_py_checksums": {"md5": hashlib.md5(components.encode()).hexdigest()},
        "__test_read_config": {"max_records": 100, "max_pages_per_slice": 5, "max_slices": 5, **test_read_limits},
    }


def _test_read(stream: str, tmp_path: Path, state: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    config_path, catalog_path, state_path = tmp_path / "config.json", tmp_path / "catalog.json", tmp_path / "state.json"
    config_path.write_text(json.dumps(_builder_config()))
    catalog_path.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                        "sync_mode": "full_refresh",
                        "destination_sync_mode": "overwrite",
                    }
                ]
            }
        )
    )
    args = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]
    if state is not None:
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    answer = json.loads(handle_request(args))
    assert answer["type"] == "RECORD", answer
    return answer["record"]["data"]  # type: ignore[no-any-return]


def _page(key: str, records: list[dict[str, Any]], next_link: str | None = None) -> HttpResponse:
    body = json.loads((_TEMPLATES / f"{key}.json").read_text())
    body[key] = records
    body["links"]["next"] = next_link
    return HttpResponse(json.dumps(body), 200)


def _record(key: str, record_id: int, updated_at: str = "2024-03-02T10:00:00Z") -> dict[str, Any]:
    template = json.loads((_TEMPLATES / f"{key}.json").read_text())[key][0]
    return {**template, "id": record_id, "updated_at": updated_at}


@pytest.mark.slow  # the Builder puts the whole manifest in the config, which the CDK then walks per authenticator
def test_given_an_entity_stream_with_two_pages_when_builder_test_read_then_both_pages_and_nothing_else_is_read(
    tmp_path: Path,
) -> None:
    # The state knows ids that are not listed any more: outside the Builder that means a reconciliation read and
    # lookups, which the Builder's page caps would cut short, so test reads make only the stream's own read.
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "clients"},
                "stream_state": {
                    "updated_at": "2024-03-01T10:00:00Z",
                    "known_ids": HarvestKnownIds(dict.fromkeys([1, 7, 8])).to_state(),
                },
            },
        }
    ]
    since = "2024-03-01T09:59:00Z"  # the cursor minus the 60 s lookback
    second_page = f"{_API}/clients?cursor=abc&per_page=2000&ref=next_cursor&updated_since=2024-03-01T09%3A59%3A00Z"
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest(f"{_API}/clients", {"per_page": "2000", "updated_since": since}, _HEADERS),
            _page("clients", [_record("clients", 1), _record("clients", 2)], second_page),
        )
        http_mocker.get(
            HttpRequest(
                f"{_API}/clients",
                {"cursor": "abc", "per_page": "2000", "ref": "next_cursor", "updated_since": since},
                _HEADERS,
            ),
            _page("clients", [_record("clients", 3)]),
        )
        stream_read = _test_read("clients", tmp_path, state)

    pages = [page for stream_slice in stream_read["slices"] for page in stream_slice["pages"]]
    assert [[record["id"] for record in page["records"]] for page in pages] == [[1, 2], [3]]
    assert not [log for log in stream_read["logs"] if log.get("level") == "ERROR"], stream_read["logs"]
    assert stream_read["inferred_schema"]["properties"]["id"]


@pytest.mark.slow
def test_given_a_child_stream_with_two_parents_and_a_vanished_child_when_builder_test_read_then_children_and_no_tombstone(
    tmp_path: Path,
) -> None:
    # both invoices are open (their messages are read again); the state knows messages 11 and 12 of invoice 10 and
    # 21 of invoice 20: outside the Builder, 12 would be tombstoned after asking whether the token is an Administrator
    state = _stream_state(
        "invoice_messages",
        {
            "use_global_cursor": True,
            "state": {"updated_at": "2024-02-01T00:00:00Z"},
            "lookback_window": 0,
            "parent_state": {
                "invoices": {"updated_at": "2024-01-15T00:00:00Z"},
                "known_ids": HarvestKnownIds({11: 10, 12: 10, 21: 20}).to_state(),
            },
        },
    )
    open_invoices = [
        {**_record("invoices", invoice_id, "2023-06-01T00:00:00Z"), "state": "open"} for invoice_id in (10, 20)
    ]
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest(f"{_API}/invoices", {"per_page": "2000"}, _HEADERS), _page("invoices", open_invoices)
        )
        for invoice_id in (10, 20):
            http_mocker.get(
                HttpRequest(f"{_API}/invoices/{invoice_id}/messages", {"per_page": "2000"}, _HEADERS),
                _page("invoice_messages", [_record("invoice_messages", invoice_id + 1)]),
            )
        stream_read = _test_read("invoice_messages", tmp_path, state)

    records = [record for s in stream_read["slices"] for page in s["pages"] for record in page["records"]]
    assert sorted((record["id"], record["parent_id"]) for record in records) == [(11, 10), (21, 20)]
    assert not [record for record in records if "_ab_cdc_deleted_at" in record]
    assert len(stream_read["slices"]) == 2
    assert sorted(_paths_sent(http_mocker)) == ["/v2/invoices", "/v2/invoices/10/messages", "/v2/invoices/20/messages"]


# ---- the retrievers that count, look up or ask the token's role: only the stream's own read in a test read ---------
def _stream_state(stream: str, stream_state: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}]


def _paths_sent(http_mocker: HttpMocker) -> list[str]:
    return [request.path for request in http_mocker._mocker.request_history]


@pytest.mark.slow
def test_given_time_entries_with_a_history_when_builder_test_read_then_no_count_no_lookup_and_no_role_check(
    tmp_path: Path,
) -> None:
    # outside the Builder this state makes three counts (the history knows entries 1 and 2, the read shows neither)
    history = HarvestSpentHistory({1: (_month("2024-01-15"), 0), 2: (_month("2024-02-15"), 0)}, _A_START_DATE[:10])
    state = _stream_state("time_entries", {"updated_at": "2024-03-01T10:00:00Z", "known_ids": history.to_state()})
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest(
                f"{_API}/time_entries", {"per_page": "2000", "updated_since": "2024-03-01T09:59:00Z"}, _HEADERS
            ),
            _page("time_entries", [_record("time_entries", 3)]),
        )
        stream_read = _test_read("time_entries", tmp_path, state)

    records = [record for s in stream_read["slices"] for page in s["pages"] for record in page["records"]]
    assert [record["id"] for record in records] == [3]
    assert _paths_sent(http_mocker) == ["/v2/time_entries"]
    assert not [log for log in stream_read["logs"] if log.get("level") == "ERROR"], stream_read["logs"]


@pytest.mark.slow
def test_given_a_report_state_with_a_vanished_row_when_builder_test_read_then_no_tombstone_and_no_role_check(
    tmp_path: Path,
) -> None:
    # the state knows clients 7 and 9 in the second window; Harvest's report lists 7
    windows = [("20210101", "20211231"), ("20220101", "20221231")]
    state = _stream_state(
        "time_clients",
        {
            "from": "20220101",
            "known_rows": {"20210101": pack_rows([(7, "EUR")]), "20220101": pack_rows([(7, "EUR"), (9, "EUR")])},
        },
    )
    template = json.loads((_TEMPLATES / "time_clients.json").read_text())
    page = {**template, "results": [{**template["results"][0], "client_id": 7, "currency": "EUR"}]}
    with HttpMocker() as http_mocker, freeze_time("2022-06-01T12:00:00Z"):
        for from_, to in windows:
            http_mocker.get(
                HttpRequest(
                    f"{_API}/reports/time/clients",
                    {"per_page": "2000", "include_fixed_fee": "true", "from": from_, "to": to},
                    _HEADERS,
                ),
                HttpResponse(json.dumps(page), 200),
            )
        stream_read = _test_read("time_clients", tmp_path, state)

    records = [record for s in stream_read["slices"] for page in s["pages"] for record in page["records"]]
    assert sorted((record["from"], record["client_id"]) for record in records) == [("20210101", 7), ("20220101", 7)]
    assert not [record for record in records if "_ab_cdc_deleted_at" in record]
    assert _paths_sent(http_mocker) == ["/v2/reports/time/clients"] * 2
