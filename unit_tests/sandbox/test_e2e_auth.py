"""Authentication end to end: OAuth against the sandbox's token endpoint, and `check` failures that say what
to fix (the refresh of expiring access tokens mid-sync is in test_e2e_oauth_refresh.py). No token or secret ever appears in the output (except in the CONTROL message that hands a refreshed config
back to the platform, which is its purpose)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harvest_sandbox import SandboxServer

from .helpers import Run, run_connector, secrets_of

pytestmark = [pytest.mark.e2e]

_START = "2017-01-01T00:00:00Z"
_STREAMS = ("users", "projects", "time_entries", "clients", "tasks", "invoices", "invoice_messages", "time_projects")


def _oauth_config(server: SandboxServer, **credentials: str) -> dict[str, Any]:
    return server.config(
        replication_start_date=_START,
        credentials={"auth_type": "Client", **server.oauth, **credentials},
    )


def _output_without_control(run: Run) -> str:
    lines = [line for line in run.stdout.splitlines() if '"type":"CONTROL"' not in line.replace(" ", "")]
    return "\n".join(lines) + run.stderr


def _all_secrets(server: SandboxServer) -> list[str]:
    issued = list(server.app.auth.oauth.access_tokens) + list(server.app.auth.oauth.refresh_tokens)
    return [*secrets_of(server), *issued]


def _assert_no_secret(run: Run, server: SandboxServer) -> None:
    text = _output_without_control(run)
    leaked = [s[:8] + "..." for s in _all_secrets(server) if s and s in text]
    assert leaked == [], f"secrets in the output: {leaked}"


def _check(server: SandboxServer, workdir: Path, config: dict[str, Any]) -> tuple[Run, str]:
    run = run_connector("check", workdir, config)
    status = run.connection_status
    message = status.get("message") or ""
    message += " ".join(e.get("message", "") for e in run.trace_errors)
    return run, message


def test_given_valid_oauth_credentials_when_checking_then_it_succeeds(harvest: SandboxServer, workdir: Path) -> None:
    run, message = _check(harvest, workdir, _oauth_config(harvest))

    assert run.connection_status["status"] == "SUCCEEDED", message
    _assert_no_secret(run, harvest)


@pytest.mark.parametrize(
    ("case", "expected_words"),
    [
        ("revoked_refresh_token", ("refresh token",)),
        ("bad_personal_access_token", ("token",)),
        ("wrong_account_id", ("account",)),
    ],
)
def test_given_bad_credentials_when_checking_then_it_fails_saying_what_to_fix(
    harvest: SandboxServer, workdir: Path, case: str, expected_words: tuple[str, ...]
) -> None:
    if case == "revoked_refresh_token":
        harvest.app.auth.revoke(harvest.oauth["refresh_token"])
        config = _oauth_config(harvest)
    elif case == "bad_personal_access_token":
        config = harvest.config(replication_start_date=_START)
        config["credentials"] = {"auth_type": "Token", "api_token": harvest.tokens["administrator"][:-4] + "XXXX"}
    else:
        config = harvest.config(replication_start_date=_START, account_id=str(int(harvest.account_id) + 1))

    run, message = _check(harvest, workdir, config)

    assert run.connection_status["status"] == "FAILED", message
    assert all(word in message.lower() for word in expected_words), message
    assert "Traceback" not in message, message
    _assert_no_secret(run, harvest)
    assert config["credentials"].get("api_token", "~none~") not in run.stdout + run.stderr
    assert json.dumps(run.connection_status)  # serialisable, for the report
