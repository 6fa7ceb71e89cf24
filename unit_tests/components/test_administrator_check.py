"""_AdministratorCheck: the token's role, asked once per process and credentials (no HTTP: a stand-in requester)."""

from __future__ import annotations

from unittest.mock import MagicMock

import requests

from components import _AdministratorCheck


def test_given_two_streams_of_one_sync_when_both_ask_the_role_then_users_me_is_requested_once() -> None:
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"id": 1, "access_roles": ["administrator"]}'
    current_user = MagicMock()
    current_user.send_request.return_value = response
    config = {"account_id": "1", "credentials": {"auth_type": "Token", "api_token": "t"}}

    answers = [_AdministratorCheck(current_user, config)(), _AdministratorCheck(current_user, config)()]

    assert answers == [True, True]
    assert current_user.send_request.call_count == 1
    other = {**config, "credentials": {"auth_type": "Token", "api_token": "another"}}
    assert _AdministratorCheck(current_user, other)() is True and current_user.send_request.call_count == 2
