"""Authentication (personal access tokens, OAuth2 tokens) and THE permission map.

Every role token belongs to one user of the dataset. What a role may read is decided by :data:`PERMISSIONS`, one
row per resource family, one column per role:

* ``"all"``: every record;
* ``"managed"``: the user's own records plus those on projects the user manages (``is_project_manager``);
* ``"own"``: only the user's own records (for children of a user: only the user's own parent id);
* ``None``: 403 Forbidden.

Company features (``invoice_feature``, ``estimate_feature``, ``expense_feature`` on ``/company``) switched off also
give 403 on the resources listed in :data:`FEATURE_OF`.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .errors import BadRequest, Forbidden, HarvestError, InvalidGrant, Unauthorized

Role = Literal["administrator", "manager", "member"]
Level = Literal["all", "managed", "own"]
ROLES: tuple[Role, ...] = ("administrator", "manager", "member")

#: resource family -> (administrator, manager, member)
PERMISSIONS: dict[str, tuple[Level | None, Level | None, Level | None]] = {
    "company": ("all", "all", "all"),
    "users_me": ("all", "all", "all"),
    "my_project_assignments": ("all", "all", "all"),
    "users": ("all", "all", None),
    "roles": ("all", None, None),
    "billable_rates": ("all", "own", "own"),
    "cost_rates": ("all", "own", "own"),
    "project_assignments": ("all", "all", "own"),
    "teammates": ("all", "all", None),
    "clients": ("all", "all", None),
    "contacts": ("all", "all", None),
    "projects": ("all", "managed", None),
    "tasks": ("all", "all", None),
    "user_assignments": ("all", "managed", None),
    "task_assignments": ("all", "managed", None),
    "time_entries": ("all", "managed", "own"),
    "expenses": ("all", "managed", "own"),
    "expense_categories": ("all", "all", "all"),
    "invoices": ("all", None, None),
    "invoice_messages": ("all", None, None),
    "invoice_payments": ("all", None, None),
    "invoice_item_categories": ("all", None, None),
    "estimates": ("all", None, None),
    "estimate_messages": ("all", None, None),
    "estimate_item_categories": ("all", None, None),
    "reports_time": ("all", "managed", None),
    "reports_expenses": ("all", "managed", None),
    "reports_uninvoiced": ("all", None, None),
    "reports_project_budget": ("all", "managed", None),
}

#: resource family -> the company feature flag that must be on.
FEATURE_OF: dict[str, str] = {
    "invoices": "invoice_feature",
    "invoice_messages": "invoice_feature",
    "invoice_payments": "invoice_feature",
    "invoice_item_categories": "invoice_feature",
    "reports_uninvoiced": "invoice_feature",
    "estimates": "estimate_feature",
    "estimate_messages": "estimate_feature",
    "estimate_item_categories": "estimate_feature",
    "expenses": "expense_feature",
    "expense_categories": "expense_feature",
    "reports_expenses": "expense_feature",
}


def access_level(family: str, role: str, company: Mapping[str, object] | None = None) -> Level:
    """The access ``role`` has to ``family``; raises :class:`Forbidden` (403) when it has none."""
    row = PERMISSIONS[family]
    level = row[ROLES.index(role)]
    if level is None:
        needed = " or ".join(r for r, lv in zip(ROLES, row, strict=True) if lv is not None)
        raise Forbidden(f"You do not have permission to access this resource: {family} requires the {needed} role.")
    feature = FEATURE_OF.get(family)
    if feature and company is not None and not company.get(feature, True):
        raise Forbidden(f"The {feature.removesuffix('_feature')} feature is disabled for this account.")
    return level


@dataclass
class Principal:
    token: str
    role: Role
    user_id: int
    kind: Literal["personal", "oauth"] = "personal"
    expires_at: float | None = None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass
class OAuthState:
    client_id: str
    client_secret: str
    refresh_tokens: dict[str, Role] = field(default_factory=dict)
    codes: dict[str, Role] = field(default_factory=dict)
    access_tokens: dict[str, Principal] = field(default_factory=dict)


class Auth:
    """Checks every API request and serves the identity host's token endpoint."""

    def __init__(
        self,
        *,
        account_id: int,
        tokens: Mapping[Role, str],
        users: Mapping[Role, int],
        oauth_client_id: str,
        oauth_client_secret: str,
        oauth_refresh_token: str,
        token_lifetime: float = 1209600,
        rotate_refresh_tokens: bool = False,
        time_fn: Callable[[], float] = time.time,
    ) -> None:
        self.account_id = account_id
        self.tokens: dict[Role, str] = dict(tokens)
        self.users: dict[Role, int] = dict(users)
        self.token_lifetime = token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.time_fn = time_fn
        self._lock = threading.Lock()
        self._personal = {tok: Principal(tok, role, self.users[role]) for role, tok in self.tokens.items()}
        self.oauth = OAuthState(oauth_client_id, oauth_client_secret, {oauth_refresh_token: "administrator"})
        self.initial_refresh_token = oauth_refresh_token

    # -- resource API -------------------------------------------------------------------------------------------
    def principal_for_token(self, token: str) -> Principal:
        principal = self._personal.get(token)
        if principal is not None:
            return principal
        with self._lock:
            principal = self.oauth.access_tokens.get(token)
        if principal is None or principal.expired(self.time_fn()):
            raise Unauthorized()
        return principal

    def authenticate(
        self, headers: Mapping[str, str], query: Mapping[str, str], *, need_account: bool = True
    ) -> Principal:
        """``headers`` keys are lower-case. Raises 400 (no User-Agent) or 401 (token or account)."""
        self.authenticate_user_agent(headers)
        token = bearer_token(headers.get("authorization", "")) or query.get("access_token", "")
        if not token:
            raise Unauthorized()
        principal = self.principal_for_token(token)
        if need_account:
            account = headers.get("harvest-account-id") or query.get("account_id") or ""
            if account.strip() != str(self.account_id):
                raise Unauthorized()
        return principal

    @staticmethod
    def authenticate_user_agent(headers: Mapping[str, str]) -> None:
        if not headers.get("user-agent", "").strip():
            raise BadRequest("A User-Agent header is required: include your application name and a contact.")

    # -- identity host ------------------------------------------------------------------------------------------
    def issue_code(self, role: Role = "administrator") -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.oauth.codes[code] = role
        return code

    def issue_refresh_token(self, role: Role = "administrator") -> str:
        token = f"{self.account_id}.rt.{secrets.token_urlsafe(32)}"
        with self._lock:
            self.oauth.refresh_tokens[token] = role
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self.oauth.refresh_tokens.pop(token, None)
            self.oauth.access_tokens.pop(token, None)

    def token_endpoint(self, form: Mapping[str, str]) -> dict[str, object]:
        """``POST /api/v2/oauth2/token`` for grant types ``authorization_code`` and ``refresh_token``."""
        if form.get("client_id") != self.oauth.client_id or form.get("client_secret") != self.oauth.client_secret:
            raise HarvestError(
                {"error": "invalid_client", "error_description": "Client authentication failed."}, status=401
            )
        grant = form.get("grant_type", "")
        with self._lock:
            if grant == "refresh_token":
                presented = form.get("refresh_token", "")
                role = self.oauth.refresh_tokens.get(presented)
                if role is None:
                    raise InvalidGrant(_INVALID_GRANT)
                if self.rotate_refresh_tokens:
                    del self.oauth.refresh_tokens[presented]
                    refresh = f"{self.account_id}.rt.{secrets.token_urlsafe(32)}"
                    self.oauth.refresh_tokens[refresh] = role
                else:
                    refresh = presented
            elif grant == "authorization_code":
                role_or_none = self.oauth.codes.pop(form.get("code", ""), None)
                if role_or_none is None:
                    raise InvalidGrant(_INVALID_GRANT)
                role = role_or_none
                refresh = f"{self.account_id}.rt.{secrets.token_urlsafe(32)}"
                self.oauth.refresh_tokens[refresh] = role
            else:
                raise HarvestError(
                    {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type: {grant!r}"},
                    status=400,
                )
            access = f"{self.account_id}.at.{secrets.token_urlsafe(32)}"
            self.oauth.access_tokens[access] = Principal(
                access, role, self.users[role], kind="oauth", expires_at=self.time_fn() + self.token_lifetime
            )
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": max(1, math.ceil(self.token_lifetime)),
        }


_INVALID_GRANT = "The provided access grant is invalid, expired, or revoked (e.g. invalid assertion, expired authorization token, bad end-user password credentials, or mismatching authorization code and redirection URI)."


def bearer_token(header: str) -> str:
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
