"""Requests the connector must send, built from Harvest's paths and the exact query string of each call.

`HarvestRequest.clients().with_updated_since("2021-01-01T00:00:00Z").build()` -> an HttpRequest that matches only
`GET https://api.harvestapp.com/v2/clients?per_page=2000&updated_since=2021-01-01T00:00:00Z` with the account and
bearer headers. Every request carries `per_page=2000` (Harvest's maximum), because the connector always sends it;
no builder ever falls back to ANY_QUERY_PARAMS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airbyte_cdk.test.mock_http import HttpRequest
from airbyte_cdk.test.mock_http.request import ANY_QUERY_PARAMS

from .config import _A_TOKEN, _AN_ACCOUNT_ID

API_URL = "https://api.harvestapp.com"
OAUTH_TOKEN_URL = "https://id.getharvest.com/api/v2/oauth2/token"
PER_PAGE = "2000"


class HarvestRequest:
    """One GET on /v2/<path>. Factories are named after the endpoint; `with_*` set query parameters or headers."""

    def __init__(self, path: str, api_url: str = API_URL) -> None:
        self._path = path
        self._api_url = api_url
        self._query: dict[str, str] = {"per_page": PER_PAGE}
        self._headers: dict[str, str] = {"Authorization": f"Bearer {_A_TOKEN}", "Harvest-Account-Id": _AN_ACCOUNT_ID}

    # ---- entity endpoints -----------------------------------------------------------------------------------------
    @classmethod
    def endpoint(cls, path: str) -> HarvestRequest:
        return cls(path)

    @classmethod
    def clients(cls) -> HarvestRequest:
        return cls("clients")

    @classmethod
    def company(cls) -> HarvestRequest:
        request = cls("company")
        request._query = {}
        return request

    @classmethod
    def invoices(cls) -> HarvestRequest:
        return cls("invoices")

    @classmethod
    def estimates(cls) -> HarvestRequest:
        return cls("estimates")

    @classmethod
    def roles(cls) -> HarvestRequest:
        return cls("roles")

    @classmethod
    def users(cls) -> HarvestRequest:
        return cls("users")

    @classmethod
    def user_assignments(cls) -> HarvestRequest:
        return cls("user_assignments")

    @classmethod
    def one(cls, path: str) -> HarvestRequest:
        """GET /v2/<path> of one record (`one("clients/12")`): a bare object, no paging parameters."""
        request = cls(path)
        request._query = {}
        return request

    @classmethod
    def users_me(cls) -> HarvestRequest:
        """GET /v2/users/me: one bare object, no paging parameters."""
        request = cls("users/me")
        request._query = {}
        return request

    # ---- children -------------------------------------------------------------------------------------------------
    @classmethod
    def invoice_messages(cls, invoice_id: int) -> HarvestRequest:
        return cls(f"invoices/{invoice_id}/messages")

    @classmethod
    def invoice_payments(cls, invoice_id: int) -> HarvestRequest:
        return cls(f"invoices/{invoice_id}/payments")

    @classmethod
    def estimate_messages(cls, estimate_id: int) -> HarvestRequest:
        return cls(f"estimates/{estimate_id}/messages")

    @classmethod
    def project_assignments(cls, user_id: int) -> HarvestRequest:
        return cls(f"users/{user_id}/project_assignments")

    @classmethod
    def billable_rates(cls, user_id: int) -> HarvestRequest:
        return cls(f"users/{user_id}/billable_rates")

    @classmethod
    def cost_rates(cls, user_id: int) -> HarvestRequest:
        return cls(f"users/{user_id}/cost_rates")

    # ---- reports --------------------------------------------------------------------------------------------------
    @classmethod
    def report(cls, report_path: str) -> HarvestRequest:
        """`report("time/clients")` -> /v2/reports/time/clients."""
        return cls(f"reports/{report_path}")

    # ---- modifiers ------------------------------------------------------------------------------------------------
    def with_updated_since(self, updated_since: str) -> HarvestRequest:
        self._query["updated_since"] = updated_since
        return self

    def with_window(self, from_: str, to: str) -> HarvestRequest:
        self._query["from"] = from_
        self._query["to"] = to
        return self

    def with_include_fixed_fee(self, include: bool) -> HarvestRequest:
        self._query["include_fixed_fee"] = "true" if include else "false"
        return self

    def with_query_param(self, name: str, value: str) -> HarvestRequest:
        self._query[name] = value
        return self

    def with_per_page(self, per_page: int) -> HarvestRequest:
        """A count of the records a filter matches asks one per page (`per_page=1`) and reads `total_entries`."""
        self._query["per_page"] = str(per_page)
        return self

    def with_page(self, page: int) -> HarvestRequest:
        """Harvest's page form of a next link: `page=N` plus the original query (params in alphabetical order)."""
        self._query["page"] = str(page)
        return self

    def with_cursor(self, cursor: str) -> HarvestRequest:
        """Harvest's cursor form of a next link: `cursor=<token>&per_page=N&ref=next_cursor`, filters kept."""
        self._query["cursor"] = cursor
        self._query["ref"] = "next_cursor"
        return self

    def with_api_url(self, api_url: str) -> HarvestRequest:
        self._api_url = api_url
        return self

    def with_header(self, name: str, value: str) -> HarvestRequest:
        self._headers[name] = value
        return self

    def with_bearer(self, token: str) -> HarvestRequest:
        self._headers["Authorization"] = f"Bearer {token}"
        return self

    def with_account_id(self, account_id: str) -> HarvestRequest:
        self._headers["Harvest-Account-Id"] = account_id
        return self

    # ---- output ---------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self._api_url}/v2/{self._path}"

    def url(self) -> str:
        """The full URL as Harvest writes it in `links` (query in alphabetical order): what a next link holds."""
        query = urlencode(sorted(self._query.items()))
        return f"{self.base_url}?{query}" if query else self.base_url

    def build(self) -> HttpRequest:
        return HttpRequest(self.base_url, query_params=dict(self._query) or None, headers=dict(self._headers))

    def build_with_any_query(self) -> HttpRequest:
        """Any query string on this path: ONLY for tests that assert on the queries afterwards (report windows)."""
        return HttpRequest(self.base_url, query_params=ANY_QUERY_PARAMS, headers=dict(self._headers))


def oauth_token_request(body: dict[str, Any], url: str = OAUTH_TOKEN_URL) -> HttpRequest:
    """POST to Harvest's token endpoint with a form-encoded body (compared as a string, so the encoding counts)."""
    return HttpRequest(url, body=urlencode(body))
