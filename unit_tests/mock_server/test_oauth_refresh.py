"""OAuth (`credentials.auth_type: Client`, design decision 5).

The refresh is a form-encoded POST to the token URL with grant_type=refresh_token, client_id, client_secret and
refresh_token; API calls then carry `Authorization: Bearer <access token>`; the token is refreshed once per
lifetime, not per request; a rotated refresh token goes back to the platform as a CONNECTOR_CONFIG control message
(printed on stdout, where the platform reads it).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from .config import _A_START_DATE, ConfigBuilder
from .helpers import records_of, sent_requests
from .request_builder import OAUTH_TOKEN_URL, HarvestRequest
from .response_builder import ErrorResponse, HarvestResponse, json_response, oauth_token_response
from .source import read_streams

_A_CLIENT_ID = "a-client-id"
_A_CLIENT_SECRET = "a-client-secret"
_A_REFRESH_TOKEN = "a-refresh-token"
_A_ROTATED_REFRESH_TOKEN = "a-rotated-refresh-token"
_AN_ACCESS_TOKEN = "an-access-token"
_AN_ACCESS_TOKEN_LIFETIME_SECONDS = 1209600  # Harvest's 14 days
_A_SANDBOX_TOKEN_URL = "http://127.0.0.1:8765/api/v2/oauth2/token"


def _refresh_request(url: str = OAUTH_TOKEN_URL) -> HttpRequest:
    body = (
        f"grant_type=refresh_token&client_id={_A_CLIENT_ID}&client_secret={_A_CLIENT_SECRET}"
        f"&refresh_token={_A_REFRESH_TOKEN}"
    )
    return HttpRequest(url, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)


def _oauth_config(**credentials: Any) -> dict[str, Any]:
    return ConfigBuilder().with_oauth(_A_CLIENT_ID, _A_CLIENT_SECRET, _A_REFRESH_TOKEN, **credentials).build()


def _given_clients_with_bearer(http_mocker: HttpMocker, token: str) -> None:
    http_mocker.get(
        HarvestRequest.clients().with_updated_since(_A_START_DATE).with_bearer(token).build(),
        HarvestResponse.of("clients").with_records(records_of("clients", [1])).build(),
    )


def _control_configs(stdout: str) -> list[dict[str, Any]]:
    configs = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"CONTROL"' in line:
            message = json.loads(line)
            configs.append(message["control"]["connectorConfig"]["config"])
    return configs


def test_given_client_credentials_when_read_then_refresh_is_a_form_post_and_api_calls_use_the_access_token(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.post(_refresh_request(), oauth_token_response(_AN_ACCESS_TOKEN, _A_REFRESH_TOKEN))
    _given_clients_with_bearer(http_mocker, _AN_ACCESS_TOKEN)

    output = read_streams(_oauth_config(), "clients")

    assert len(output.records) == 1
    refresh = sent_requests(http_mocker)[0]
    assert refresh.method == "POST"
    assert refresh.headers.get("User-Agent")


def test_given_a_rotated_refresh_token_when_read_then_it_is_handed_back_as_a_config_control_message(
    http_mocker: HttpMocker, capsys: pytest.CaptureFixture[str]
) -> None:
    http_mocker.post(
        _refresh_request(),
        oauth_token_response(_AN_ACCESS_TOKEN, _A_ROTATED_REFRESH_TOKEN, expires_in=_AN_ACCESS_TOKEN_LIFETIME_SECONDS),
    )
    _given_clients_with_bearer(http_mocker, _AN_ACCESS_TOKEN)

    before = dt.datetime.now(dt.UTC)
    read_streams(_oauth_config(), "clients")
    after = dt.datetime.now(dt.UTC)

    configs = _control_configs(capsys.readouterr().out)
    assert configs, "no CONNECTOR_CONFIG control message"
    credentials = configs[-1]["credentials"]
    assert credentials["refresh_token"] == _A_ROTATED_REFRESH_TOKEN
    assert credentials["client_id"] == _A_CLIENT_ID
    assert credentials["auth_type"] == "Client"
    # the access token and its expiry (expires_in from now) are kept, so the next sync need not refresh again
    assert credentials["access_token"] == _AN_ACCESS_TOKEN
    expiry = dt.datetime.fromisoformat(credentials["token_expiry_date"])
    lifetime = dt.timedelta(seconds=_AN_ACCESS_TOKEN_LIFETIME_SECONDS)
    assert before + lifetime - dt.timedelta(seconds=5) <= expiry <= after + lifetime + dt.timedelta(seconds=5)


def test_given_two_streams_and_two_pages_when_read_then_the_token_is_refreshed_once(http_mocker: HttpMocker) -> None:
    refresh = _refresh_request()
    http_mocker.post(refresh, oauth_token_response(_AN_ACCESS_TOKEN, _A_REFRESH_TOKEN))
    second_page = (
        HarvestRequest.clients().with_updated_since(_A_START_DATE).with_cursor("abc").with_bearer(_AN_ACCESS_TOKEN)
    )
    http_mocker.get(
        HarvestRequest.clients().with_updated_since(_A_START_DATE).with_bearer(_AN_ACCESS_TOKEN).build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1]))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(second_page.build(), HarvestResponse.of("clients").with_records(records_of("clients", [2])).build())
    http_mocker.get(
        HarvestRequest.endpoint("tasks").with_updated_since(_A_START_DATE).with_bearer(_AN_ACCESS_TOKEN).build(),
        HarvestResponse.of("tasks").with_records(records_of("tasks", [3])).build(),
    )

    output = read_streams(_oauth_config(), "clients", "tasks")

    assert len(output.records) == 3
    http_mocker.assert_number_of_calls(refresh, 1)


def test_given_an_unexpired_access_token_in_config_when_read_then_no_refresh_is_made(http_mocker: HttpMocker) -> None:
    _given_clients_with_bearer(http_mocker, "a-saved-access-token")

    output = read_streams(
        _oauth_config(access_token="a-saved-access-token", token_expiry_date="2999-01-01T00:00:00+00:00"), "clients"
    )

    assert len(output.records) == 1
    assert all(request.method == "GET" for request in sent_requests(http_mocker))


def test_given_an_oauth_token_url_in_config_when_read_then_the_refresh_goes_there(http_mocker: HttpMocker) -> None:
    http_mocker.post(_refresh_request(_A_SANDBOX_TOKEN_URL), oauth_token_response(_AN_ACCESS_TOKEN, _A_REFRESH_TOKEN))
    _given_clients_with_bearer(http_mocker, _AN_ACCESS_TOKEN)

    output = read_streams(
        ConfigBuilder()
        .with_oauth(_A_CLIENT_ID, _A_CLIENT_SECRET, _A_REFRESH_TOKEN)
        .with_oauth_token_url(_A_SANDBOX_TOKEN_URL)
        .build(),
        "clients",
    )

    assert len(output.records) == 1


@pytest.mark.parametrize("oauth_error", ["invalid_grant", "invalid_client"])
def test_given_a_spent_or_revoked_refresh_token_when_read_then_the_sync_fails_with_a_config_error(
    oauth_error: str, http_mocker: HttpMocker
) -> None:
    http_mocker.post(
        _refresh_request(),
        json_response(
            {"error": oauth_error, "error_description": "The provided access grant is invalid, expired, or revoked."},
            status_code=400,
        ),
    )

    output = read_streams(_oauth_config(), "clients", expecting_exception=True)

    assert output.records == []
    assert output.errors
    assert any(error.trace.error.failure_type == FailureType.config_error for error in output.errors), [
        (error.trace.error.failure_type, error.trace.error.message) for error in output.errors
    ]
    assert all(request.method == "POST" for request in sent_requests(http_mocker))


def test_given_the_access_token_expires_mid_sync_when_harvest_answers_401_then_the_token_is_refreshed_and_retried(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.post(
        _refresh_request(),
        [
            oauth_token_response(_AN_ACCESS_TOKEN, _A_REFRESH_TOKEN),
            oauth_token_response("a-fresh-access-token", _A_REFRESH_TOKEN),
        ],
    )
    http_mocker.get(
        HarvestRequest.clients().with_updated_since(_A_START_DATE).with_bearer(_AN_ACCESS_TOKEN).build(),
        ErrorResponse.with_status(401),
    )
    _given_clients_with_bearer(http_mocker, "a-fresh-access-token")

    output = read_streams(_oauth_config(), "clients")

    assert len(output.records) == 1
    assert not output.errors


def test_given_a_fresh_token_is_rejected_too_when_read_then_the_sync_fails_with_a_config_error(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.post(_refresh_request(), oauth_token_response(_AN_ACCESS_TOKEN, _A_REFRESH_TOKEN))
    http_mocker.get(
        HarvestRequest.clients().with_updated_since(_A_START_DATE).with_bearer(_AN_ACCESS_TOKEN).build(),
        ErrorResponse.with_status(401),
    )

    output = read_streams(_oauth_config(), "clients", expecting_exception=True)

    assert output.records == []
    assert output.errors[0].trace.error.failure_type == FailureType.config_error
    assert [request.method for request in sent_requests(http_mocker)] == ["POST", "GET", "POST", "GET"]
