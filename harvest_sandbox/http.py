"""Transport-neutral request and response objects shared by the app, the handlers and the control plane."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .errors import JSON


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    base_url: str = "http://127.0.0.1"

    @classmethod
    def build(
        cls, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"", base_url: str = ""
    ) -> Request:
        path, _, raw_query = target.partition("?")
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, value)
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return cls(method.upper(), path, query, lowered, body, base_url or "http://127.0.0.1")

    def form(self) -> dict[str, str]:
        """The body as form fields or JSON object (either content type), merged over the query string."""
        data: dict[str, str] = dict(self.query)
        text = self.body.decode("utf-8", "replace").strip()
        if not text:
            return data
        if "json" in self.headers.get("content-type", "") or text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                return data
            if isinstance(parsed, dict):
                data.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()})
            return data
        for key, value in parse_qsl(text, keep_blank_values=True):
            data[key] = value
        return data

    def json(self) -> Any:
        text = self.body.decode("utf-8", "replace").strip()
        return json.loads(text) if text else {}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": JSON, **(headers or {})}
        )


@dataclass
class Envelope:
    """A list page: ``body`` is Harvest's envelope whose records sit under ``key``. ``resource`` names the stored
    collection the records come from (their JSON encodings are cached), or None for computed rows."""

    body: dict[str, Any]
    key: str
    resource: str | None = None
