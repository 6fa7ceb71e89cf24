"""The connector's spec, and how `check` treats configs (design decisions 4, 5, 10 and the 1.2.38 config names).

The source is built by the project's own command (`source_harvest.run.create_source`), as `source-harvest check`
builds it, and driven through the CDK's entrypoint, so what is asserted is what the platform would receive.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import ConnectorSpecification, Status
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.utils.schema_helpers import check_config_against_spec_or_exit
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from source_harvest.run import create_source

_SECRET_NAMES = {"access_token", "api_token", "client_secret", "refresh_token", "password", "secret", "token"}
_SECRET_SUFFIXES = ("_token", "_secret", "password", "api_key", "apikey", "secret_key", "private_key", "access_key")
_HARVEST_CONSENT_URL = "https://id.getharvest.com/oauth2/authorize"
_HARVEST_TOKEN_URL = "https://id.getharvest.com/api/v2/oauth2/token"
_A_TOKEN = "a-personal-access-token"
_AN_ACCOUNT_ID = "1234567"
_A_VALID_CONFIG: dict[str, Any] = {
    "credentials": {"auth_type": "Token", "api_token": _A_TOKEN},
    "account_id": _AN_ACCOUNT_ID,
    "replication_start_date": "2021-01-01T00:00:00Z",
}


@pytest.fixture(scope="module", autouse=True)
def parse_files_once() -> Iterator[None]:
    """manifest.yaml and the CDK's component schema are parsed once for the module (the files do not change while it
    runs); every source is still built, validated and run by the CDK as usual."""
    parsed: dict[str, bytes] = {}
    read_yaml = YamlDeclarativeSource._read_and_parse_yaml_file
    load_schema = concurrent_declarative_source.get_declarative_component_schema

    def cached(key: str, load: Any) -> Any:
        if key not in parsed:
            parsed[key] = pickle.dumps(load())
        return pickle.loads(parsed[key])

    with (
        mock.patch.object(
            YamlDeclarativeSource,
            "_read_and_parse_yaml_file",
            lambda self, path: cached(path, lambda: read_yaml(self, path)),
        ),
        mock.patch.object(
            concurrent_declarative_source,
            "get_declarative_component_schema",
            lambda: cached("declarative_component_schema", load_schema),
        ),
    ):
        yield


@pytest.fixture(scope="module")
def spec() -> ConnectorSpecification:
    return create_source(["spec"]).spec(logging.getLogger("airbyte"))


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (name, property schema) in the spec, nested objects and oneOf variants included."""
    for name, prop in (schema.get("properties") or {}).items():
        yield name, prop
        yield from _properties(prop)
        for variant in prop.get("oneOf") or []:
            yield from _properties(variant)


def _is_secret_name(name: str) -> bool:
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


# ---- spec lint ------------------------------------------------------------------------------------------------------
def test_given_the_spec_when_linted_then_every_secret_looking_field_is_an_airbyte_secret(
    spec: ConnectorSpecification,
) -> None:
    secret_fields = [
        (name, prop)
        for name, prop in _properties(spec.connectionSpecification)
        if _is_secret_name(name) and prop.get("type") in ("string", "integer", "number")
    ]

    assert {name for name, _ in secret_fields} >= {"api_token", "client_secret", "refresh_token"}
    for name, prop in secret_fields:
        assert prop.get("airbyte_secret") is True, name


def test_given_the_spec_when_linted_then_no_airbyte_secret_sits_under_any_of_or_all_of(
    spec: ConnectorSpecification,
) -> None:
    for keyword in ("anyOf", "allOf"):
        assert "airbyte_secret" not in json.dumps(_sub_schemas(spec, keyword)), keyword


def _sub_schemas(spec: ConnectorSpecification, keyword: str) -> list[Any]:
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if keyword in node:
                found.append(node[keyword])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec.connectionSpecification)
    return found


def test_given_the_spec_when_ordering_properties_then_credentials_account_id_and_start_date_come_first(
    spec: ConnectorSpecification,
) -> None:
    properties = spec.connectionSpecification["properties"]
    by_order = sorted(properties, key=lambda name: properties[name].get("order", 10**6))

    assert by_order[:3] == ["credentials", "account_id", "replication_start_date"]
    assert all("order" in prop for prop in properties.values())
    assert set(spec.connectionSpecification["required"]) == {"credentials", "account_id", "replication_start_date"}


def test_given_the_spec_when_compared_to_1_2_38_then_every_config_name_is_kept(spec: ConnectorSpecification) -> None:
    properties = spec.connectionSpecification["properties"]
    variants = {variant["properties"]["auth_type"]["const"]: variant for variant in properties["credentials"]["oneOf"]}

    assert {"account_id", "replication_start_date", "replication_end_date", "num_workers"} <= set(properties)
    assert set(variants) == {"Client", "Token"}
    assert {"client_id", "client_secret", "refresh_token"} <= set(variants["Client"]["properties"])
    assert "api_token" in variants["Token"]["properties"]
    assert properties["num_workers"]["minimum"] == 2 and properties["num_workers"]["maximum"] == 10
    assert properties["num_workers"]["title"] == "Number of Concurrent Threads"


def test_given_the_spec_when_read_by_the_platform_then_advanced_auth_declares_harvests_oauth_flow(
    spec: ConnectorSpecification,
) -> None:
    advanced_auth = spec.advanced_auth

    assert advanced_auth is not None
    assert advanced_auth.auth_flow_type.value == "oauth2.0"
    assert advanced_auth.predicate_key == ["credentials", "auth_type"]
    assert advanced_auth.predicate_value == "Client"
    oauth = advanced_auth.oauth_config_specification
    connector_input = oauth.oauth_connector_input_specification
    consent_url = connector_input.consent_url
    assert consent_url.startswith(_HARVEST_CONSENT_URL + "?")
    assert re.search(r"[?&]client_id=", consent_url) and re.search(r"[?&]response_type=code", consent_url)
    assert connector_input.access_token_url == _HARVEST_TOKEN_URL
    assert connector_input.access_token_params["grant_type"] == "authorization_code"
    output_paths = {
        name: prop["path_in_connector_config"]
        for name, prop in oauth.complete_oauth_output_specification["properties"].items()
    }
    assert output_paths["refresh_token"] == ["credentials", "refresh_token"]
    server_paths = {
        name: prop["path_in_connector_config"]
        for name, prop in oauth.complete_oauth_server_output_specification["properties"].items()
    }
    assert server_paths == {
        "client_id": ["credentials", "client_id"],
        "client_secret": ["credentials", "client_secret"],
    }


# ---- check ----------------------------------------------------------------------------------------------------------
def _check(config: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    """Runs `check` as the platform does; any exception escaping the entrypoint is a stack trace for the user."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    args = ["check", "--config", str(config_path)]
    try:
        lines = list(AirbyteEntrypoint(create_source(args)).run(AirbyteEntrypoint.parse_args(args)))
    except Exception as error:
        pytest.fail(f"check raised instead of answering FAILED: {type(error).__name__}: {error}")
    return [json.loads(line) for line in lines]


def _connection_status(messages: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [message["connectionStatus"] for message in messages if message["type"] == "CONNECTION_STATUS"]
    assert len(statuses) == 1, messages
    return statuses[0]


@pytest.mark.parametrize(
    "override, field",
    [
        pytest.param({"replication_start_date": "2021-01-01"}, "replication_start_date", id="start-date-without-time"),
        pytest.param({"replication_start_date": "01/02/2021"}, "replication_start_date", id="start-date-us-format"),
        pytest.param({"replication_end_date": "2022/01/01"}, "replication_end_date", id="end-date-malformed"),
        pytest.param({"replication_end_date": "2020-06-01T00:00:00Z"}, "replication_end_date", id="end-before-start"),
        pytest.param({"account_id": "acme"}, "account_id", id="account-id-not-numeric"),
        pytest.param({"num_workers": 1}, "num_workers", id="num-workers-below-2"),
        pytest.param({"num_workers": 11}, "num_workers", id="num-workers-above-10"),
        pytest.param({"emit_deletions": "yes"}, "emit_deletions", id="emit-deletions-not-a-boolean"),
    ],
)
def test_given_a_bad_config_when_check_then_connection_fails_cleanly_without_a_stack_trace(
    override: dict[str, Any], field: str, tmp_path: Path
) -> None:
    with HttpMocker():  # a bad config must be refused before any request: none is mocked
        messages = _check({**_A_VALID_CONFIG, **override}, tmp_path)

    status = _connection_status(messages)
    assert status["status"] == Status.FAILED.value
    assert status["message"]
    assert "Traceback" not in json.dumps(messages)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(_A_VALID_CONFIG, id="token"),
        pytest.param({**_A_VALID_CONFIG, "replication_end_date": None, "num_workers": 3}, id="token-null-end-date"),
        pytest.param(
            {**_A_VALID_CONFIG, "replication_end_date": "2024-12-31T00:00:00Z", "num_workers": 10}, id="token-end-date"
        ),
    ],
)
def test_given_a_1_2_38_token_config_when_check_then_it_succeeds(config: dict[str, Any], tmp_path: Path) -> None:
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest(
                "https://api.harvestapp.com/v2/company",
                headers={"Authorization": f"Bearer {_A_TOKEN}", "Harvest-Account-Id": _AN_ACCOUNT_ID},
            ),
            HttpResponse(json.dumps({"base_uri": "https://acme.harvestapp.com", "name": "Acme"}), 200),
        )
        status = _connection_status(_check(config, tmp_path))

    assert status["status"] == Status.SUCCEEDED.value


def test_given_a_1_2_38_oauth_config_when_check_then_it_refreshes_and_succeeds(tmp_path: Path) -> None:
    config = {
        **_A_VALID_CONFIG,
        "credentials": {
            "auth_type": "Client",
            "client_id": "a-client-id",
            "client_secret": "a-client-secret",
            "refresh_token": "a-refresh-token",
        },
    }
    with HttpMocker() as http_mocker:
        http_mocker.post(
            HttpRequest(
                _HARVEST_TOKEN_URL,
                body="grant_type=refresh_token&client_id=a-client-id&client_secret=a-client-secret"
                "&refresh_token=a-refresh-token",
            ),
            HttpResponse(json.dumps({"access_token": "an-access-token", "expires_in": 1209600}), 200),
        )
        http_mocker.get(
            HttpRequest("https://api.harvestapp.com/v2/company", headers={"Authorization": "Bearer an-access-token"}),
            HttpResponse(json.dumps({"base_uri": "https://acme.harvestapp.com", "name": "Acme"}), 200),
        )
        status = _connection_status(_check(config, tmp_path))

    assert status["status"] == Status.SUCCEEDED.value


def test_given_a_revoked_refresh_token_when_check_then_it_fails_cleanly_asking_to_re_authenticate(
    tmp_path: Path,
) -> None:
    config = {
        **_A_VALID_CONFIG,
        "credentials": {
            "auth_type": "Client",
            "client_id": "a-client-id",
            "client_secret": "a-client-secret",
            "refresh_token": "a-revoked-refresh-token",
        },
    }
    with HttpMocker() as http_mocker:
        http_mocker.post(
            HttpRequest(
                _HARVEST_TOKEN_URL,
                body="grant_type=refresh_token&client_id=a-client-id&client_secret=a-client-secret"
                "&refresh_token=a-revoked-refresh-token",
            ),
            HttpResponse(json.dumps({"error": "invalid_grant", "error_description": "revoked"}), 400),
        )
        messages = _check(config, tmp_path)

    status = _connection_status(messages)
    assert status["status"] == Status.FAILED.value
    assert "Traceback" not in status["message"]


def test_given_a_401_when_check_then_it_fails_with_a_message_saying_what_to_fix(tmp_path: Path) -> None:
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest("https://api.harvestapp.com/v2/company"),
            HttpResponse(json.dumps({"error": "invalid_token", "error_description": "revoked"}), 401),
        )
        status = _connection_status(_check(_A_VALID_CONFIG, tmp_path))

    assert status["status"] == Status.FAILED.value
    assert "token" in status["message"].lower() and _AN_ACCOUNT_ID in status["message"]


def test_given_a_member_role_403_on_company_when_check_then_it_still_succeeds(tmp_path: Path) -> None:
    with HttpMocker() as http_mocker:
        http_mocker.get(
            HttpRequest("https://api.harvestapp.com/v2/company"),
            HttpResponse(json.dumps({"message": "Forbidden"}), 403),
        )
        status = _connection_status(_check(_A_VALID_CONFIG, tmp_path))

    assert status["status"] == Status.SUCCEEDED.value


@pytest.mark.parametrize(
    "override, expected",
    [
        pytest.param({"replication_start_date": "2021-01-01"}, "'2021-01-01'", id="start-date-without-time"),
        pytest.param({"replication_end_date": "2022/01/01"}, "'2022/01/01'", id="end-date-malformed"),
        pytest.param({"replication_end_date": "2020-06-01T00:00:00Z"}, "replication_end_date", id="end-before-start"),
        pytest.param({"account_id": "acme"}, "'acme'", id="account-id-not-numeric"),
        pytest.param({"num_workers": 11}, "maximum of 10", id="num-workers-above-10"),
    ],
)
def test_given_a_bad_config_when_check_then_the_failure_message_points_at_what_to_fix(
    override: dict[str, Any], expected: str, tmp_path: Path
) -> None:
    # The CDK validates the config against the spec before the connector runs and reports jsonschema's message,
    # which quotes the offending value and the expected pattern or bound (it cannot name the field).
    with HttpMocker():
        status = _connection_status(_check({**_A_VALID_CONFIG, **override}, tmp_path))

    assert status["status"] == Status.FAILED.value
    assert expected in status["message"], status["message"]


def test_given_a_config_saved_with_the_removed_lookback_options_when_validated_then_it_is_still_valid(
    spec: ConnectorSpecification,
) -> None:
    # 2.3.0 re-reads every report window and counts the whole history; a connection saved by 2.1.0 or 2.2.0 keeps
    # working without being edited.
    saved_by_2_2_0 = {**_A_VALID_CONFIG, "reports_lookback_days": 30, "deletions_lookback_days": 90}

    check_config_against_spec_or_exit(saved_by_2_2_0, spec)

    assert not {"reports_lookback_days", "deletions_lookback_days"} & set(spec.connectionSpecification["properties"])
