"""Authentication, roles, permissions and company features."""

from __future__ import annotations

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.auth import PERMISSIONS
from harvest_sandbox.errors import INVALID_TOKEN_DESCRIPTION
from harvest_sandbox.tests.client import USER_AGENT, api

_A_BAD_TOKEN = "1234567.pt.not-a-real-token"


def test_given_no_user_agent_when_requesting_then_400(sandbox: SandboxServer) -> None:
    headers = sandbox.headers()
    headers["User-Agent"] = ""

    response = api(sandbox, "/v2/users/me", headers=headers)

    assert response.status_code == 400
    assert "User-Agent" in response.json()["message"]


def test_given_bad_token_when_requesting_then_401_with_body_and_header(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/users/me", headers={"Authorization": f"Bearer {_A_BAD_TOKEN}"})

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="Rack::OAuth2 Protected Resources"')
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("account", ["", "999"])
def test_given_missing_or_wrong_account_when_requesting_then_401(sandbox: SandboxServer, account: str) -> None:
    response = api(sandbox, "/v2/users/me", headers={"Harvest-Account-Id": account})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_given_lowercase_header_names_when_requesting_then_accepted(sandbox: SandboxServer) -> None:
    headers = {"authorization": f"Bearer {sandbox.tokens['member']}", "harvest-account-id": sandbox.account_id}

    response = api(sandbox, "/v2/users/me", "", headers=headers)

    assert response.status_code == 200


def test_given_query_string_credentials_when_requesting_then_accepted(sandbox: SandboxServer) -> None:
    response = api(sandbox, "/v2/users/me", "", access_token=sandbox.tokens["manager"], account_id=sandbox.account_id)

    assert response.status_code == 200
    assert response.json()["id"] == sandbox.users["manager"]


@pytest.mark.parametrize("role", ["administrator", "manager", "member"])
def test_given_any_role_when_reading_me_and_company_then_200(sandbox: SandboxServer, role: str) -> None:
    me = api(sandbox, "/v2/users/me", role)

    assert me.status_code == 200 and me.json()["id"] == sandbox.users[role]
    assert api(sandbox, "/v2/company", role).status_code == 200
    assert api(sandbox, "/v2/users/me/project_assignments", role).status_code == 200


ENDPOINT_FAMILIES = {
    "/v2/clients": "clients",
    "/v2/contacts": "contacts",
    "/v2/users": "users",
    "/v2/roles": "roles",
    "/v2/projects": "projects",
    "/v2/tasks": "tasks",
    "/v2/user_assignments": "user_assignments",
    "/v2/task_assignments": "task_assignments",
    "/v2/time_entries": "time_entries",
    "/v2/expenses": "expenses",
    "/v2/expense_categories": "expense_categories",
    "/v2/invoices": "invoices",
    "/v2/invoice_item_categories": "invoice_item_categories",
    "/v2/estimates": "estimates",
    "/v2/estimate_item_categories": "estimate_item_categories",
    "/v2/reports/time/clients?from=20260101&to=20261231": "reports_time",
    "/v2/reports/expenses/team?from=20260101&to=20261231": "reports_expenses",
    "/v2/reports/uninvoiced?from=20260101&to=20261231": "reports_uninvoiced",
    "/v2/reports/project_budget": "reports_project_budget",
}


@pytest.mark.parametrize("role", ["administrator", "manager", "member"])
@pytest.mark.parametrize("path", sorted(ENDPOINT_FAMILIES))
def test_given_permission_map_when_role_lists_then_200_or_403(sandbox: SandboxServer, role: str, path: str) -> None:
    level = PERMISSIONS[ENDPOINT_FAMILIES[path]][("administrator", "manager", "member").index(role)]

    response = api(sandbox, path, role)

    assert response.status_code == (200 if level else 403), response.text
    if level is None:
        assert role in ("manager", "member") and "message" in response.json()


def test_given_member_when_listing_time_and_expenses_then_only_their_own(sandbox: SandboxServer) -> None:
    me = sandbox.users["member"]

    entries = api(sandbox, "/v2/time_entries", "member").json()["time_entries"]
    expenses = api(sandbox, "/v2/expenses", "member").json()["expenses"]

    assert entries and {e["user"]["id"] for e in entries} == {me}
    assert {e["user"]["id"] for e in expenses} <= {me}
    assert [e["id"] for e in entries] == [e["id"] for e in sandbox.store.list("time_entries", role="member")]


def test_given_manager_when_listing_time_then_own_and_managed_projects(sandbox: SandboxServer) -> None:
    me = sandbox.users["manager"]
    managed = sandbox.store.managed_projects(me)

    entries = api(sandbox, "/v2/time_entries", "manager").json()["time_entries"]

    assert managed
    assert all(e["user"]["id"] == me or e["project"]["id"] in managed for e in entries)
    assert len(entries) < len(sandbox.store.iter_records("time_entries"))


def test_given_member_when_reading_other_users_children_then_403(sandbox: SandboxServer) -> None:
    other = sandbox.users["administrator"]
    me = sandbox.users["member"]

    assert api(sandbox, f"/v2/users/{other}/project_assignments", "member").status_code == 403
    assert api(sandbox, f"/v2/users/{other}/billable_rates", "member").status_code == 403
    assert api(sandbox, f"/v2/users/{me}/project_assignments", "member").status_code == 200
    assert api(sandbox, f"/v2/users/{me}/cost_rates", "member").status_code == 200
    assert api(sandbox, f"/v2/users/{me}", "member").status_code == 200


def test_given_invoice_feature_off_when_listing_invoices_then_403_even_for_admin(sandbox: SandboxServer) -> None:
    sandbox.configure(features={"invoice": False})

    assert api(sandbox, "/v2/invoices").status_code == 403
    assert api(sandbox, "/v2/invoice_item_categories").status_code == 403
    assert api(sandbox, "/v2/company").json()["invoice_feature"] is False
    assert api(sandbox, "/v2/estimates").status_code == 200


def test_given_expense_feature_off_when_listing_expenses_then_403(sandbox: SandboxServer) -> None:
    sandbox.configure(expense_feature=False)

    assert api(sandbox, "/v2/expenses").status_code == 403
    assert api(sandbox, "/v2/reports/expenses/clients?from=20260101&to=20260131").status_code == 403


def test_given_accounts_endpoint_when_called_with_bearer_then_lists_harvest_account(sandbox: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {sandbox.tokens['administrator']}", "User-Agent": USER_AGENT}

    body = api(sandbox, "/api/v2/accounts", "", headers=headers).json()

    assert body["user"]["id"] == sandbox.users["administrator"]
    assert {"id": int(sandbox.account_id), "name": body["accounts"][0]["name"], "product": "harvest"} in body[
        "accounts"
    ]
