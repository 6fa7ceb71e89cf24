from __future__ import annotations

import json

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from components import HarvestEnvelopeExtractor, HarvestNextLinkHostGuard


def _response(next_link: str | None) -> requests.Response:
    response = requests.Response()
    response._content = json.dumps({"users": [], "links": {"next": next_link}}).encode()
    response.status_code = 200
    return response


def _guard(api_url: str = "") -> HarvestNextLinkHostGuard:
    return HarvestNextLinkHostGuard(config={"api_url": api_url}, parameters={}, api_url="{{ config.get('api_url') }}")


def test_given_a_link_on_the_api_host_then_it_is_the_next_token_exactly() -> None:
    link = "https://api.harvestapp.com/v2/users?cursor=eyJhZnRlciI6eyJpZCI6MzAwN319&per_page=2000&ref=next_cursor"
    assert _guard().next_page_token(_response(link), 2000, None, None) == link


def test_given_no_next_link_then_pagination_stops() -> None:
    assert _guard().next_page_token(_response(None), 3, None, None) is None


def test_given_a_sandbox_api_url_then_links_on_it_are_followed() -> None:
    link = "http://127.0.0.1:48765/v2/users?page=2&per_page=2000"
    assert _guard("http://127.0.0.1:48765").next_page_token(_response(link), 2000, None, None) == link


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/v2/users?page=2",
        "http://api.harvestapp.com/v2/users?page=2",
        "https://api.harvestapp.com.evil.example/v2/users?page=2",
        "https://api.harvestapp.com:8443/v2/users?page=2",
    ],
    ids=["other-host", "downgraded-scheme", "lookalike-host", "other-port"],
)
def test_given_a_link_off_the_api_host_then_it_is_refused(link: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        _guard().next_page_token(_response(link), 2000, None, None)
    assert "not to the configured API host https://api.harvestapp.com" in error.value.message


def test_given_the_guard_then_there_is_no_initial_token_and_no_page_size() -> None:
    assert _guard().initial_token is None and _guard().get_page_size() is None


def test_given_a_page_the_extractor_read_when_the_next_link_is_asked_then_the_body_is_not_parsed_again() -> None:
    link = "https://api.harvestapp.com/v2/users?page=2&per_page=2000"
    response = _response(link)
    parses: list[int] = []
    parse = response.json
    response.json = lambda **kwargs: parses.append(1) or parse(**kwargs)  # type: ignore[method-assign]
    extractor = HarvestEnvelopeExtractor(config={}, parameters={}, data_key="users")
    assert list(extractor.extract_records(response)) == []
    assert _guard().next_page_token(response, 0, None, None) == link
    assert len(parses) == 1
