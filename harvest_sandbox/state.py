"""The sandbox's runtime state: the dataset, the store, the credentials, the rate limiter, the fault schedule, the
config knobs and the request log, and what the control plane does to them (reset, reseed, configure).

:class:`~harvest_sandbox.app.SandboxApp` adds the dispatch of requests on top of it; the control plane
(:mod:`harvest_sandbox.control`) works on a :class:`SandboxState`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from .auth import Auth
from .clock import Clock, as_anchor, fmt_datetime, system_clock
from .datagen import generate
from .faults import Faults
from .loader import load_json
from .ratelimit import RateLimiter
from .resources import Dataset, UpdatedSinceMode
from .store import Store


@dataclass
class Config:
    """Runtime knobs (all settable through ``POST /_sandbox/config``)."""

    rate_limits: bool = True
    time_scale: float = 1.0
    general_limit: int = 100
    reports_limit: int = 100
    retry_after_min: int = 1
    updated_since: UpdatedSinceMode = "strict"
    #: Harvest does not document whether approving a week moves its records' ``updated_at`` [U]; see the README.
    approval_moves_updated_at: bool = False
    token_lifetime: float = 1209600.0
    rotate_refresh_tokens: bool = False


@lru_cache(maxsize=4)
def _generated(seed: int, dataset: str, anchor: datetime) -> Dataset:
    return generate(seed, dataset, anchor)


def load_dataset(seed: int, dataset: str, anchor: datetime | str | None = None) -> Dataset:
    """A named size whose history ends at ``anchor`` (default: now; cached per process, datasets are never mutated),
    or a JSON dataset file path (its own ``anchor``, else this one)."""
    moment = as_anchor(anchor)
    if dataset.endswith(".json") or "/" in dataset:
        return load_json(Path(dataset), seed=seed, anchor=moment)
    return _generated(seed, dataset, moment)


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int
    role: str | None
    fault: str | None
    endpoint: str
    at: float


class SandboxState:
    """One sandbox's account and settings; ``reset``/``reseed``/``configure`` are the control plane's verbs."""

    store: Store
    auth: Auth
    ratelimiter: RateLimiter

    def __init__(
        self,
        *,
        seed: int = 42,
        dataset: str = "tiny",
        anchor: datetime | str | None = None,
        clock: Clock = system_clock,
        time_fn: Any = time.time,
        **config: Any,
    ) -> None:
        self.seed = seed
        self.dataset_name = dataset
        self.initial_dataset = (seed, dataset)
        #: The generated history ends here (default: the clock's now); a reseed keeps it.
        self.anchor = as_anchor(anchor, clock)
        self.clock = clock
        self.time_fn = time_fn
        self.initial_config = Config(**config)
        self.config = replace(self.initial_config)
        self.faults = Faults()
        self.lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        self.errors: list[str] = []
        self._load(load_dataset(seed, dataset, self.anchor))

    # -- state --------------------------------------------------------------------------------------------------
    def _load(self, dataset: Dataset) -> None:
        self.dataset = dataset
        cfg = self.config
        if hasattr(self, "store"):  # keep the Store object: callers may hold a reference to it
            self.store.clock = self.clock
            self.store.updated_since_mode = cfg.updated_since
            self.store.approval_moves_updated_at = cfg.approval_moves_updated_at
            self.store.load(dataset)
        else:
            self.store = Store(
                dataset,
                clock=self.clock,
                updated_since_mode=cfg.updated_since,
                approval_moves_updated_at=cfg.approval_moves_updated_at,
            )
        self.auth = Auth(
            account_id=dataset.account_id,
            tokens=dataset.tokens,  # type: ignore[arg-type]
            users=dataset.principals,  # type: ignore[arg-type]
            oauth_client_id=dataset.oauth_client_id,
            oauth_client_secret=dataset.oauth_client_secret,
            oauth_refresh_token=dataset.oauth_refresh_token,
            token_lifetime=cfg.token_lifetime,
            rotate_refresh_tokens=cfg.rotate_refresh_tokens,
            time_fn=self.time_fn,
        )
        self.ratelimiter = RateLimiter(
            enabled=cfg.rate_limits,
            time_scale=cfg.time_scale,
            general_limit=cfg.general_limit,
            reports_limit=cfg.reports_limit,
            retry_after_min=cfg.retry_after_min,
        )

    def reset(self, *, initial: bool = False) -> None:
        """Back to the seeded dataset and the initial config; clears faults, logs, errors and rate-limit counters.
        ``initial=True`` also undoes a ``reseed`` (the fixture uses it)."""
        if initial and (self.seed, self.dataset_name) != self.initial_dataset:
            self.seed, self.dataset_name = self.initial_dataset
            self.dataset = load_dataset(self.seed, self.dataset_name, self.anchor)
        with self.lock:
            self.config = replace(self.initial_config)
            self.faults.clear()
            self.log.clear()
            self.errors.clear()
            self._load(self.dataset)

    def reseed(self, seed: int, dataset: str | None = None, anchor: datetime | str | None = None) -> None:
        with self.lock:
            self.seed = seed
            self.dataset_name = dataset or self.dataset_name
            if anchor is not None:
                self.anchor = as_anchor(anchor)
            self.faults.clear()
            self.log.clear()
            self._load(load_dataset(seed, self.dataset_name, self.anchor))

    def configure(self, **changes: Any) -> Config:
        known = {f.name for f in fields(Config)}
        unknown = set(changes) - known - {"features", "invoice_feature", "estimate_feature", "expense_feature"}
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        features = dict(changes.pop("features", None) or {})
        for flag in ("invoice_feature", "estimate_feature", "expense_feature"):
            if flag in changes:
                features[flag] = changes.pop(flag)
        with self.lock:
            self.config = replace(self.config, **changes)
            cfg = self.config
            self.store.updated_since_mode = cfg.updated_since
            self.store.approval_moves_updated_at = cfg.approval_moves_updated_at
            self.auth.token_lifetime = cfg.token_lifetime
            self.auth.rotate_refresh_tokens = cfg.rotate_refresh_tokens
            limiter = self.ratelimiter
            limiter.enabled = cfg.rate_limits
            limiter.time_scale = cfg.time_scale
            limiter.retry_after_min = cfg.retry_after_min
            limiter.configure(general_limit=cfg.general_limit, reports_limit=cfg.reports_limit)
            if features:
                self.store.update_company(
                    {(k if k.endswith("_feature") else f"{k}_feature"): bool(v) for k, v in features.items()}
                )
            return cfg

    def describe_config(self) -> dict[str, Any]:
        data = asdict(self.config)
        data["features"] = {
            k: self.store.company.get(k) for k in ("invoice_feature", "estimate_feature", "expense_feature")
        }
        return data

    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "url": base_url,
            "seed": self.seed,
            "dataset": self.dataset_name,
            "account_id": self.auth.account_id,
            "tokens": dict(self.auth.tokens),
            "users": dict(self.auth.users),
            "oauth": {
                "client_id": self.auth.oauth.client_id,
                "client_secret": self.auth.oauth.client_secret,
                "refresh_token": self.auth.initial_refresh_token,
                "token_url": base_url + "/api/v2/oauth2/token",
            },
            "anchor": fmt_datetime(self.dataset.anchor),
        }

    def take_errors(self) -> list[str]:
        with self.lock:
            errors, self.errors = self.errors, []
            return errors

    def request_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(entry) for entry in self.log]

    def count_summary(self) -> dict[str, Any]:
        with self.lock:
            per_endpoint: dict[str, dict[str, int]] = {}
            for entry in self.log:
                bucket = per_endpoint.setdefault(entry.endpoint, {"total": 0})
                bucket["total"] += 1
                bucket[str(entry.status)] = bucket.get(str(entry.status), 0) + 1
            total = len(self.log)
            throttled = sum(1 for e in self.log if e.status == 429)
        return {"total": total, "throttled": throttled, "endpoints": per_endpoint}
