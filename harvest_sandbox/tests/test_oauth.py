"""The identity host's OAuth2 token endpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import USER_AGENT, api


def _token(sandbox: SandboxServer, *, as_json: bool = False, **fields: Any) -> requests.Response:
    body = {"client_id": sandbox.oauth["client_id"], "client_secret": sandbox.oauth["client_secret"], **fields}
    headers = {"User-Agent": USER_AGENT}
    if as_json:
        return requests.post(sandbox.token_url, json=body, headers=headers, timeout=5)
    return requests.post(sandbox.token_url, data=body, headers=headers, timeout=5)


def _me(sandbox: SandboxServer, access_token: str) -> requests.Response:
    return api(sandbox, "/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_given_refresh_token_when_exchanged_then_bearer_token_works(sandbox: SandboxServer, as_json: bool) -> None:
    response = _token(
        sandbox, as_json=as_json, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"]
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 1209600
    assert _me(sandbox, body["access_token"]).json()["id"] == sandbox.users["administrator"]


def test_given_unknown_refresh_token_when_exchanged_then_400_invalid_grant(sandbox: SandboxServer) -> None:
    response = _token(sandbox, grant_type="refresh_token", refresh_token="nope")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant" and response.json()["error_description"]


def test_given_wrong_client_secret_when_exchanged_then_401_invalid_client(sandbox: SandboxServer) -> None:
    response = _token(
        sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"], client_secret="x"
    )

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_given_short_lifetime_when_token_expires_then_401_and_refresh_again_works(sandbox: SandboxServer) -> None:
    sandbox.configure(token_lifetime=0.3)
    first = _token(sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"]).json()

    assert first["expires_in"] == 1
    assert _me(sandbox, first["access_token"]).status_code == 200
    time.sleep(0.4)
    expired = _me(sandbox, first["access_token"])
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert _me(sandbox, second["access_token"]).status_code == 200


def test_given_rotation_when_refreshing_then_new_refresh_token_and_old_one_is_spent(sandbox: SandboxServer) -> None:
    sandbox.configure(rotate_refresh_tokens=True)
    original = sandbox.oauth["refresh_token"]

    body = _token(sandbox, grant_type="refresh_token", refresh_token=original).json()

    assert body["refresh_token"] != original
    assert _token(sandbox, grant_type="refresh_token", refresh_token=original).json()["error"] == "invalid_grant"
    assert _token(sandbox, grant_type="refresh_token", refresh_token=body["refresh_token"]).status_code == 200


def test_given_no_rotation_when_refreshing_then_same_refresh_token_comes_back(sandbox: SandboxServer) -> None:
    body = _token(sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"]).json()

    assert body["refresh_token"] == sandbox.oauth["refresh_token"]


def test_given_authorization_code_when_exchanged_once_then_token_for_that_role(sandbox: SandboxServer) -> None:
    code = requests.post(sandbox.url + "/_sandbox/oauth/code", json={"role": "member"}, timeout=5).json()["code"]

    body = _token(sandbox, grant_type="authorization_code", code=code).json()

    assert _me(sandbox, body["access_token"]).json()["id"] == sandbox.users["member"]
    assert _token(sandbox, grant_type="authorization_code", code=code).json()["error"] == "invalid_grant"


def test_given_revoked_access_token_when_used_then_401(sandbox: SandboxServer) -> None:
    body = _token(sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"]).json()
    requests.post(sandbox.url + "/_sandbox/oauth/revoke", json={"token": body["access_token"]}, timeout=5)

    assert _me(sandbox, body["access_token"]).status_code == 401


def test_given_reset_when_tokens_were_issued_then_they_are_forgotten(sandbox: SandboxServer) -> None:
    body = _token(sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth["refresh_token"]).json()

    sandbox.reset()

    assert _me(sandbox, body["access_token"]).status_code == 401
