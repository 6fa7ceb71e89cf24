"""Harvest's rate limits: 100 requests / 15 s (general) and 100 / 15 min (``/v2/reports/*``), per token, moving
window. A refused request gets 429 with an integer ``Retry-After`` and an HTML body; there are no X-RateLimit
headers.

``time_scale`` shrinks both windows for tests (0.01 turns 15 s into 0.15 s). ``Retry-After`` stays an integer, as
Harvest sends it: the real seconds until the oldest counted request leaves the window, rounded up, and at least
``retry_after_min`` (default 1; set 0 in tests that must not wait). Only accepted requests are counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from .errors import TooManyRequests

Bucket = Literal["general", "reports"]


class RateLimiter:
    def __init__(
        self,
        *,
        enabled: bool = True,
        time_scale: float = 1.0,
        general_limit: int = 100,
        general_window: float = 15.0,
        reports_limit: int = 100,
        reports_window: float = 900.0,
        retry_after_min: int = 1,
        time_fn: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.time_scale = time_scale
        self.limits: dict[Bucket, tuple[int, float]] = {
            "general": (general_limit, general_window),
            "reports": (reports_limit, reports_window),
        }
        self.retry_after_min = retry_after_min
        self.time_fn = time_fn
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, Bucket], deque[float]] = {}

    @staticmethod
    def bucket_for(path: str) -> Bucket:
        return "reports" if path.startswith("/v2/reports/") else "general"

    def configure(self, **limits: float) -> None:
        """Change ``general_limit``, ``general_window``, ``reports_limit`` or ``reports_window``."""
        for bucket in ("general", "reports"):
            limit, window = self.limits[bucket]
            limit = int(limits.get(f"{bucket}_limit", limit))
            window = float(limits.get(f"{bucket}_window", window))
            self.limits[bucket] = (limit, window)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def check(self, key: str, bucket: Bucket) -> None:
        """Count one request for ``key`` or raise :class:`TooManyRequests`."""
        if not self.enabled:
            return
        limit, window = self.limits[bucket]
        span = window * self.time_scale
        now = self.time_fn()
        with self._lock:
            hits = self._hits.setdefault((key, bucket), deque())
            while hits and hits[0] <= now - span:
                hits.popleft()
            if len(hits) >= limit:
                wait = hits[0] + span - now
                raise TooManyRequests(max(self.retry_after_min, math.ceil(wait)))
            hits.append(now)

    def used(self, key: str, bucket: Bucket) -> int:
        _limit, window = self.limits[bucket]
        now = self.time_fn()
        with self._lock:
            hits = self._hits.get((key, bucket), deque())
            return sum(1 for t in hits if t > now - window * self.time_scale)
