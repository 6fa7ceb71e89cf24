from __future__ import annotations

import logging

import pytest
import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import HttpResponseFilter
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from components import HarvestErrorHandler, HarvestSkippedRead


def _response(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = b'{"message": "no"}'
    response.url = "https://api.harvestapp.com/v2/users"
    return response


def _handler(raise_on_ignore: bool = False) -> HarvestErrorHandler:
    forbidden = HttpResponseFilter(
        action=ResponseAction.IGNORE,
        http_codes={403},
        error_message="{{ parameters.stream_label }}: Harvest answered 403 Forbidden",
        config={},
        parameters={"stream_label": "users"},
    )
    return HarvestErrorHandler(config={}, parameters={}, response_filters=[forbidden], raise_on_ignore=raise_on_ignore)


def test_given_a_skipped_403_then_a_warning_names_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        resolution = _handler().interpret_response(_response(403))
    assert resolution.response_action == ResponseAction.IGNORE
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "users: Harvest answered 403 Forbidden"
    ]


def test_given_raise_on_ignore_and_a_skipped_403_then_it_warns_and_raises_for_the_router(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="airbyte"), pytest.raises(HarvestSkippedRead) as raised:
        _handler(raise_on_ignore=True).interpret_response(_response(403))
    assert raised.value.message == "users: Harvest answered 403 Forbidden"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "users: Harvest answered 403 Forbidden"
    ]


def _child_handler() -> HarvestErrorHandler:
    """A child list's handler: 403 and 404 skipped, and raised for the component that made the read."""
    skipped = HttpResponseFilter(
        action=ResponseAction.IGNORE, http_codes={403, 404}, error_message="skipped", config={}, parameters={}
    )
    return HarvestErrorHandler(config={}, parameters={}, response_filters=[skipped], raise_on_ignore=True)


@pytest.mark.parametrize(
    "status, body, not_found",
    [
        pytest.param(404, b'{"status": 404, "error": "Not Found"}', True, id="harvest-json-404-the-parent-is-gone"),
        pytest.param(404, b"<html>HARVEST: Can't find page</html>", False, id="html-404-an-unknown-route"),
        pytest.param(403, b'{"message": "no"}', False, id="403-forbidden"),
    ],
)
def test_given_raise_on_ignore_when_a_response_is_skipped_then_the_error_carries_its_status_and_whether_harvest_said_not_found(
    status: int, body: bytes, not_found: bool
) -> None:
    response = _response(status)
    response._content = body

    with pytest.raises(HarvestSkippedRead) as raised:
        _child_handler().interpret_response(response)

    assert (raised.value.status, raised.value.not_found) == (status, not_found)


def test_given_raise_on_ignore_and_a_success_then_nothing_is_raised() -> None:
    assert _handler(raise_on_ignore=True).interpret_response(_response(200)).response_action == ResponseAction.SUCCESS


@pytest.mark.parametrize(("status", "action"), [(200, ResponseAction.SUCCESS), (500, ResponseAction.RETRY)])
def test_given_other_responses_then_the_default_handling_applies_without_warning(
    status: int, action: ResponseAction, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert _handler().interpret_response(_response(status)).response_action == action
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def _unauthorized_handler(auth_type: str) -> HarvestErrorHandler:
    unauthorized = HttpResponseFilter(
        action=ResponseAction.FAIL, http_codes={401}, error_message="check the token", config={}, parameters={}
    )
    config = {"credentials": {"auth_type": auth_type}}
    return HarvestErrorHandler(config=config, parameters={}, response_filters=[unauthorized])


def test_given_oauth_credentials_and_a_401_then_the_token_is_refreshed_and_the_request_retried() -> None:
    resolution = _unauthorized_handler("Client").interpret_response(_response(401))
    assert resolution.response_action == ResponseAction.REFRESH_TOKEN_THEN_RETRY
    assert resolution.error_message == "check the token"


def test_given_a_personal_access_token_and_a_401_then_it_fails_at_once() -> None:
    assert _unauthorized_handler("Token").interpret_response(_response(401)).response_action == ResponseAction.FAIL
