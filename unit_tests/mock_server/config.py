"""ConfigBuilder: a valid connector config (docs/CONTRACT.md names), changed only where a test says so."""

from __future__ import annotations

import copy
from typing import Any

_A_TOKEN = "a-personal-access-token"
_AN_ACCOUNT_ID = "1234567"
_A_START_DATE = "2021-01-01T00:00:00Z"


class ConfigBuilder:
    """`ConfigBuilder().with_account_id("42").build()` -> a config dict with a personal access token by default."""

    def __init__(self) -> None:
        self._config: dict[str, Any] = {
            "credentials": {"auth_type": "Token", "api_token": _A_TOKEN},
            "account_id": _AN_ACCOUNT_ID,
            "replication_start_date": _A_START_DATE,
        }

    def with_token_auth(self, api_token: str) -> ConfigBuilder:
        self._config["credentials"] = {"auth_type": "Token", "api_token": api_token}
        return self

    def with_oauth(self, client_id: str, client_secret: str, refresh_token: str, **extra: Any) -> ConfigBuilder:
        self._config["credentials"] = {
            "auth_type": "Client",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            **extra,
        }
        return self

    def with_oauth_token_url(self, url: str) -> ConfigBuilder:
        self._config["oauth_token_url"] = url
        return self

    def with_account_id(self, account_id: str) -> ConfigBuilder:
        self._config["account_id"] = account_id
        return self

    def with_start_date(self, start_date: str) -> ConfigBuilder:
        self._config["replication_start_date"] = start_date
        return self

    def with_end_date(self, end_date: str) -> ConfigBuilder:
        self._config["replication_end_date"] = end_date
        return self

    def with_num_workers(self, num_workers: int) -> ConfigBuilder:
        self._config["num_workers"] = num_workers
        return self

    def with_lookback_window_seconds(self, seconds: int) -> ConfigBuilder:
        self._config["lookback_window_seconds"] = seconds
        return self

    def with_include_fixed_fee(self, include: bool) -> ConfigBuilder:
        self._config["include_fixed_fee"] = include
        return self

    def with_api_url(self, api_url: str) -> ConfigBuilder:
        self._config["api_url"] = api_url
        return self

    def with_field(self, name: str, value: Any) -> ConfigBuilder:
        self._config[name] = value
        return self

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(self._config)
