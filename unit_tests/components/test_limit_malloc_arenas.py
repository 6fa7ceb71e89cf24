from __future__ import annotations

import platform

import pytest

import components
from components import M_ARENA_MAX, MALLOC_ARENAS, limit_malloc_arenas


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> _Libc:
    fake = _Libc()
    monkeypatch.setattr(components.ctypes, "CDLL", lambda name: fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    return fake


def test_given_glibc_when_limited_then_malloc_gets_two_arenas(libc: _Libc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    assert limit_malloc_arenas() is True
    assert libc.calls == [(M_ARENA_MAX, MALLOC_ARENAS)] == [(-8, 2)]


def test_given_an_operator_choice_when_limited_then_it_is_left_alone(
    libc: _Libc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False and libc.calls == []


@pytest.mark.parametrize("libc_ver", [("", ""), ("musl", "1.2")])
def test_given_another_c_library_when_limited_then_nothing_is_called(
    libc: _Libc, monkeypatch: pytest.MonkeyPatch, libc_ver: tuple[str, str]
) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: libc_ver)
    assert limit_malloc_arenas() is False and libc.calls == []


def test_given_a_c_library_without_mallopt_when_limited_then_it_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(components.ctypes, "CDLL", lambda name: object())
    assert limit_malloc_arenas() is False


def test_given_this_machine_when_limited_for_real_then_glibc_accepts_the_value() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.fail("the connector's image and this project's machines run glibc")
    assert limit_malloc_arenas() is True
