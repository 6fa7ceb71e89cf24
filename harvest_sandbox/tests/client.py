"""Small HTTP helpers for the sandbox's own tests (real HTTP through ``requests``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from harvest_sandbox import SandboxServer

_SESSION = requests.Session()
USER_AGENT = "harvest-sandbox-tests (https://example.com/tests)"


def api(
    sandbox: SandboxServer,
    path: str,
    role: str = "administrator",
    *,
    headers: Any = None,
    method: str = "GET",
    json_body: Any = None,
    **params: Any,
) -> requests.Response:
    """``path`` is relative to the sandbox (``/v2/clients``) or an absolute URL (a followed link)."""
    url = path if path.startswith("http") else sandbox.url + path
    sent = sandbox.headers(role) if role else {"User-Agent": USER_AGENT}
    sent.update(headers or {})
    return _SESSION.request(method, url, headers=sent, params=params or None, json=json_body, timeout=10)


def last_year(sandbox: SandboxServer) -> dict[str, str]:
    """The 365-day report window (``from``/``to``, ``YYYYMMDD``) that ends on the day of the dataset's anchor."""
    end = sandbox.store.dataset.anchor.date()
    return {"from": (end - timedelta(days=364)).strftime("%Y%m%d"), "to": end.strftime("%Y%m%d")}


def iso_window(window: dict[str, str]) -> dict[str, Any]:
    """``window`` with ``YYYY-MM-DD`` dates (the store's filters and the records' ``spent_date``)."""
    return {key: f"{day[:4]}-{day[4:6]}-{day[6:]}" for key, day in window.items()}


def walk(sandbox: SandboxServer, path: str, role: str = "administrator", **params: Any) -> list[dict[str, Any]]:
    """Follow ``links.next`` from the first page; return every page's envelope."""
    pages = []
    response = api(sandbox, path, role, **params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        assert len(pages) < 500, "pagination does not terminate"
        if not page["links"]["next"]:
            return pages
        response = api(sandbox, page["links"]["next"], role)


def records(pages: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [record for page in pages for record in page[key]]
