from __future__ import annotations

import platform

import pytest

import components
from components import M_ARENA_MAX, M_MMAP_THRESHOLD, tune_glibc_malloc


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
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    return fake


def test_given_glibc_when_tuned_then_two_arenas_and_a_fixed_256_kb_mmap_threshold(libc: _Libc) -> None:
    assert tune_glibc_malloc() == ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"]
    assert libc.calls == [(M_ARENA_MAX, 2), (M_MMAP_THRESHOLD, 262144)] == [(-8, 2), (-3, 262144)]


@pytest.mark.parametrize(
    ("variable", "left"),
    [("MALLOC_ARENA_MAX", (M_MMAP_THRESHOLD, 262144)), ("MALLOC_MMAP_THRESHOLD_", (M_ARENA_MAX, 2))],
)
def test_given_an_operator_choice_when_tuned_then_that_setting_is_left_alone(
    libc: _Libc, monkeypatch: pytest.MonkeyPatch, variable: str, left: tuple[int, int]
) -> None:
    monkeypatch.setenv(variable, "4")
    assert variable not in tune_glibc_malloc()
    assert libc.calls == [left]


@pytest.mark.parametrize("libc_ver", [("", ""), ("musl", "1.2")])
def test_given_another_c_library_when_tuned_then_nothing_is_called(
    libc: _Libc, monkeypatch: pytest.MonkeyPatch, libc_ver: tuple[str, str]
) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: libc_ver)
    assert tune_glibc_malloc() == [] and libc.calls == []


def test_given_a_c_library_without_mallopt_when_tuned_then_it_is_skipped(
    libc: _Libc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components.ctypes, "CDLL", lambda name: object())
    assert tune_glibc_malloc() == []


def test_given_this_machine_when_tuned_for_real_then_glibc_accepts_both_values(monkeypatch: pytest.MonkeyPatch) -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.fail("the connector's image and this project's machines run glibc")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert tune_glibc_malloc() == ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"]
