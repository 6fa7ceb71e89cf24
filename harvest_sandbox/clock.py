"""Timestamps in Harvest's format, and the injectable clock used for mutations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]

#: The anchor the generator's calendar is written for (and a fixed anchor for tests that need the same bytes on
#: every run). A dataset's anchor is its "now": its history ends there. Any other anchor moves every generated date by
#: the same number of days, so the data has the same shape whatever the date.
REFERENCE_ANCHOR = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def system_clock() -> datetime:
    return datetime.now(UTC)


def as_anchor(value: datetime | str | None, clock: Clock = system_clock) -> datetime:
    """A dataset anchor: ``value`` (a datetime or ISO-8601 text), or the clock's now when None; whole seconds, UTC.

    >>> as_anchor("2026-11-01T12:00:00.5Z")
    datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    moment = clock() if value is None else parse_datetime(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return floor_second(moment.astimezone(UTC))


def fmt_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_date(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def parse_datetime(value: str) -> datetime:
    """Parse an ISO-8601 datetime (``Z`` or offset, optional fraction) or a bare date; naive means UTC."""
    text = value.strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in text else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: str) -> date:
    """Parse ``YYYY-MM-DD`` or the compact ``YYYYMMDD`` Harvest's report examples use."""
    text = value.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text)


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def week_start(day: date, first_day: str = "Monday") -> date:
    """The first day of the week ``day`` falls in, for a company whose ``week_start_day`` is ``first_day``.

    >>> week_start(date(2026, 11, 1), "Monday"), week_start(date(2026, 11, 1), "Sunday")
    (datetime.date(2026, 10, 26), datetime.date(2026, 11, 1))
    """
    return day - timedelta(days=(day.weekday() - WEEKDAYS.index(first_day)) % 7)


def floor_second(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def add_seconds(value: datetime, seconds: float) -> datetime:
    return value + timedelta(seconds=seconds)
