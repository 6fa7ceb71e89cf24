"""Account sizes the benchmark runs: the sandbox's named datasets plus intermediate ones.

The sandbox has three sizes (``tiny``, ``small``, ``large``) and no scale parameter; ``medium`` (a quarter of
``large``) is built by the same generator from a :class:`~harvest_sandbox.datagen.Size` registered in the
benchmark's own sandbox process (:mod:`bench.serve`), so the sandbox's files stay untouched.
"""

from __future__ import annotations

from harvest_sandbox.datagen import SIZES, Size

#: Sizes the benchmark adds to the sandbox's own (registered in the sandbox process only).
EXTRA_SIZES: dict[str, Size] = {
    "medium": Size(
        users=75,
        clients=200,
        projects=600,
        tasks=20,
        time_entries=50_000,
        expenses=5000,
        invoices=1250,
        estimates=250,
    ),
}

#: Smallest to largest.
ORDER: tuple[str, ...] = ("tiny", "small", "medium", "large")

QUICK_UNTHROTTLED: tuple[str, ...] = ("tiny", "small")
QUICK_LIMITED: tuple[str, ...] = ("small",)
FULL_UNTHROTTLED: tuple[str, ...] = ("tiny", "small", "medium", "large")
FULL_LIMITED: tuple[str, ...] = ("small", "medium", "large")


def register() -> None:
    """Make the extra sizes known to the sandbox's generator (call in the sandbox process)."""
    for name, size in EXTRA_SIZES.items():
        SIZES.setdefault(name, size)


def size_of(name: str) -> Size:
    register()
    return SIZES[name]


def sort_key(name: str) -> tuple[int, str]:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)
