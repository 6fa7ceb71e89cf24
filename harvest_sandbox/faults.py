"""Deterministic fault injection.

A schedule is a list of rules; the first rule that fires for a request decides its fault. A rule matches a method,
a path glob (``fnmatch`` on the path without query, e.g. ``/v2/time_entries*``) and, optionally, query parameters
the request must carry (``{"page": "2"}``: the second page of a page-numbered walk); among matching requests it
fires on every ``every``-th one after the first ``after`` (or, with ``probability``, on a seeded coin flip), at
most ``count`` times.

Faults (names say what the client sees):

================  =====================================================================================
``rate_limited``  429, ``Retry-After: <retry_after>`` (default 1), HTML body
``server_error``  ``status`` (500, 502 or 503; default 503), HTML body
``connection_reset``  the socket is closed (TCP RST) without any response
``slow``          the response is delayed by ``delay`` seconds (default 1.0), then served normally
``missing_envelope``  a 200 page whose ``key`` is removed (default: the records key, e.g. ``time_entries``)
``malformed_json``  a 200 page truncated to half its bytes (invalid JSON, correct Content-Length)
``concurrent_delete``  the record ``record_id`` of ``resource`` is deleted just before the request is served, as by
                  another user between two of the client's requests (page numbers then shift), then served normally
================  =====================================================================================
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_NAMES = (
    "rate_limited",
    "server_error",
    "connection_reset",
    "slow",
    "missing_envelope",
    "malformed_json",
    "concurrent_delete",
)


@dataclass
class FaultRule:
    name: str
    path: str = "/v2/*"
    method: str = "*"
    query: dict[str, str] | None = None  # query parameters the request must carry (a subset), e.g. {"page": "2"}
    every: int = 1
    after: int = 0
    count: int | None = None
    probability: float | None = None
    seed: int = 0
    status: int = 503
    retry_after: int = 1
    delay: float = 1.0
    key: str | None = None
    resource: str | None = None
    record_id: int | None = None
    seen: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.name not in FAULT_NAMES:
            raise ValueError(f"unknown fault {self.name!r}; expected one of {', '.join(FAULT_NAMES)}")
        if self.every < 1:
            raise ValueError("every must be >= 1")
        if self.name == "server_error" and self.status not in (500, 502, 503, 504):
            raise ValueError("server_error status must be 500, 502, 503 or 504")
        if self.name == "concurrent_delete" and (self.resource is None or self.record_id is None):
            raise ValueError("concurrent_delete needs the resource and record_id of the record to delete")
        self._rng = random.Random(self.seed)

    def matches(self, method: str, path: str, query: Mapping[str, str] | None = None) -> bool:
        return (
            (self.method == "*" or self.method.upper() == method)
            and fnmatch.fnmatchcase(path, self.path)
            and all((query or {}).get(k) == str(v) for k, v in (self.query or {}).items())
        )

    def decide(self) -> bool:
        """Count one matching request and say whether the fault fires on it."""
        self.seen += 1
        if self.count is not None and self.fired >= self.count:
            return False
        if self.seen <= self.after:
            return False
        if self.probability is not None:
            fire = self._rng.random() < self.probability
        else:
            fire = (self.seen - self.after) % self.every == 0
        if fire:
            self.fired += 1
        return fire

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng", None)
        return data


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []

    def set(self, rules: list[dict[str, Any]]) -> list[FaultRule]:
        built = [FaultRule(**_public(rule)) for rule in rules]
        with self._lock:
            self.rules = built
        return built

    def add(self, name: str, **options: Any) -> FaultRule:
        rule = FaultRule(name=name, **_public(options))
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def pick(self, method: str, path: str, query: Mapping[str, str] | None = None) -> FaultRule | None:
        with self._lock:
            chosen = None
            for rule in self.rules:
                if rule.matches(method, path, query) and rule.decide() and chosen is None:
                    chosen = rule
            return chosen

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self.rules]


def _public(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in ("seen", "fired", "_rng")}
