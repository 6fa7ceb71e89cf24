"""Typed errors: each carries the HTTP status, headers and body Harvest would send.

Handlers raise these; the app turns them into responses. Anything else a handler raises is a sandbox bug and
becomes a recorded 500 (see ``app.SandboxApp.errors``).
"""

from __future__ import annotations

import json
from typing import Any

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"

INVALID_TOKEN_DESCRIPTION = "The access token provided is expired, revoked, malformed or invalid for other reasons."

NOT_FOUND_HTML = (
    "<!DOCTYPE html>\n<html>\n<head><title>HARVEST: Can't find page</title></head>\n"
    "<body><h1>Can't find page</h1><p>The page you were looking for doesn't exist.</p></body>\n</html>\n"
)

TOO_MANY_REQUESTS_HTML = (
    "<!DOCTYPE html>\n<html>\n<head><title>429 Too Many Requests</title></head>\n"
    "<body><h1>Too Many Requests</h1><p>You have exceeded the API rate limit. Please retry later.</p></body>\n</html>\n"
)


class HarvestError(Exception):
    """An HTTP error response as Harvest sends it."""

    status: int = 500

    def __init__(
        self,
        body: Any,
        *,
        status: int | None = None,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
    ) -> None:
        if status is not None:
            self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        super().__init__(f"{self.status}: {body!r}"[:300])

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class BadRequest(HarvestError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class Unauthorized(HarvestError):
    """401 ``invalid_token``, with the ``WWW-Authenticate`` header Rack::OAuth2 sends."""

    status = 401

    def __init__(self, description: str = INVALID_TOKEN_DESCRIPTION) -> None:
        header = (
            f'Bearer realm="Rack::OAuth2 Protected Resources", error="invalid_token", error_description="{description}"'
        )
        super().__init__(
            {"error": "invalid_token", "error_description": description},
            headers={"WWW-Authenticate": header},
        )


class Forbidden(HarvestError):
    """403. Harvest's body is undocumented; the sandbox sends ``{"message": ...}`` like its other errors."""

    status = 403

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class NotFound(HarvestError):
    """404 for an unknown record: Harvest's exact JSON body."""

    status = 404

    def __init__(self) -> None:
        super().__init__({"status": 404, "error": "Not Found"})


class RouteNotFound(HarvestError):
    """404 for an unknown path: an HTML page, as Harvest sends."""

    status = 404

    def __init__(self) -> None:
        super().__init__(NOT_FOUND_HTML, content_type=HTML)


class Unprocessable(HarvestError):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class InvalidGrant(HarvestError):
    status = 400

    def __init__(self, description: str) -> None:
        super().__init__({"error": "invalid_grant", "error_description": description})


class TooManyRequests(HarvestError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(TOO_MANY_REQUESTS_HTML, content_type=HTML, headers={"Retry-After": str(int(retry_after))})
