"""Connector configs for the demo (built from the sandbox) and for ``make sync`` (read from a file).

The config shape is the connector's spec (docs/CONTRACT.md): ``credentials``, ``account_id``,
``replication_start_date`` and the optional fields; ``api_url`` points the connector at another host.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .sandbox import SandboxInfo

DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class ConfigError(ValueError):
    """The config file is missing, unreadable or not in the connector's shape."""


def sandbox_connector_config(sandbox: SandboxInfo, *, start_date: str) -> dict[str, Any]:
    """A token-auth config (administrator role) that points the connector at a running sandbox."""
    return {
        "credentials": {"auth_type": "Token", "api_token": sandbox.administrator_token},
        "account_id": sandbox.account_id,
        "replication_start_date": start_date,
        "api_url": sandbox.url,
        "oauth_token_url": f"{sandbox.url}/api/v2/oauth2/token",
    }


def load_connector_config(path: Path) -> dict[str, Any]:
    """Read a config file and check the fields every sync needs (the connector checks the rest)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    problems = list(_config_problems(config))
    if problems:
        raise ConfigError(f"config file {path}: " + "; ".join(problems) + " (see demo/README.md)")
    return config


def _config_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    credentials = config.get("credentials")
    if not isinstance(credentials, dict) or credentials.get("auth_type") not in {"Token", "Client"}:
        problems.append('"credentials" must be {"auth_type": "Token", "api_token": ...} or an OAuth "Client" object')
    if not str(config.get("account_id", "")).isdigit():
        problems.append('"account_id" must be your Harvest account id (digits)')
    if not DATETIME_PATTERN.match(str(config.get("replication_start_date", ""))):
        problems.append('"replication_start_date" must look like 2024-01-01T00:00:00Z')
    return problems


def default_duckdb_path(config: dict[str, Any], data_dir: Path) -> Path:
    """``demo-data/harvest-<account_id>.duckdb``: one file (and so one saved state) per Harvest account."""
    return data_dir / f"harvest-{config['account_id']}.duckdb"


def redacted(config: dict[str, Any]) -> dict[str, Any]:
    """The config with every secret replaced, safe to print."""
    secret_names = {"api_token", "client_secret", "refresh_token", "access_token"}

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: "***" if key in secret_names else scrub(inner) for key, inner in value.items()}
        return value

    result: dict[str, Any] = scrub(config)
    return result
