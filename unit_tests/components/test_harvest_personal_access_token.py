from __future__ import annotations

import requests

from components import HarvestPersonalAccessToken


def _authenticator(token: str) -> HarvestPersonalAccessToken:
    return HarvestPersonalAccessToken(config={"credentials": {"auth_type": "Token", "api_token": token}}, parameters={})


def test_given_a_token_when_a_request_is_sent_then_it_carries_the_bearer_header() -> None:
    request = requests.Request(
        "GET", "https://api.harvestapp.com/v2/users", auth=_authenticator("1234.pt.abc")
    ).prepare()
    assert request.headers["Authorization"] == "Bearer 1234.pt.abc"


def test_given_a_token_that_looks_like_a_number_then_it_is_sent_as_typed() -> None:
    # A template renders "1e5" as the number 100000.0; the token is sent as the user typed it.
    assert _authenticator("1e5").get_auth_header() == {"Authorization": "Bearer 1e5"}
