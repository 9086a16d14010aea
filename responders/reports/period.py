"""The report's date range: whole UTC days, as people type them (YYYY-MM-DD, both ends included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


class PeriodError(ValueError):
    """A date that is not one, or a range that ends before it starts. The message says which."""


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC; either end may be open (None)."""

    since: datetime | None
    until: datetime | None
    first_day: date | None
    last_day: date | None


def _day(text: str | None, what: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what}: {text.strip()!r} is not a date (expected YYYY-MM-DD)") from None


def parse_period(since: str | None, until: str | None) -> Period:
    """`since` and `until` are days, both included: 2026-06-01..2026-06-07 is one week."""
    first = _day(since, "since")
    last = _day(until, "until")
    if first is not None and last is not None and last < first:
        raise PeriodError(f"until ({last}) is before since ({first})")
    return Period(
        since=datetime.combine(first, time(0), tzinfo=UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC) if last else None,
        first_day=first,
        last_day=last,
    )
