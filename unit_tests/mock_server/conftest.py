"""Fixtures of the mock-server suite: an HttpMocker that insists every mock is used, and a clock that never waits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker
from freezegun import freeze_time


@pytest.fixture
def http_mocker() -> Iterator[HttpMocker]:
    """HttpMocker for plain pytest functions: no real HTTP, an unmatched request fails, an unused mock fails.

    The decorator form of HttpMocker checks unused mocks itself but only works in unittest classes; the context
    manager form does not check them, so this fixture does it after the test body.
    """
    with HttpMocker() as mocker:
        yield mocker
    mocker._validate_all_matchers_called()  # the CDK's own check, the one its decorator runs


class FakeSleep:
    """Replaces time.sleep: records each wait and moves a frozen clock forward by it instead of waiting."""

    def __init__(self, frozen: Any) -> None:
        self._frozen = frozen
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        if seconds > 0:
            self.waits.append(seconds)
        # even a zero-second sleep takes a moment in real life; pollers that sleep(0) must see time move
        self._frozen.tick(max(seconds, 0.001))


@pytest.fixture
def fake_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSleep]:
    """Backoff (`Retry-After`, exponential) and the rate budget's waits take no real time; the clock still moves."""
    with freeze_time("2026-11-27T12:00:00Z") as frozen:
        sleeper = FakeSleep(frozen)
        monkeypatch.setattr(time, "sleep", sleeper)
        yield sleeper
