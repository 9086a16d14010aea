"""Working hours as time: is someone on shift now; how much working time lies between two instants.

Pure functions over `Shift` values and an IANA zone; wall-clock hours, so DST is honoured.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from config.people import Shift


def shift_intervals(
    shifts: Iterable[Shift], zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC intervals of working time overlapping [start, end), merged and clipped."""
    tz = ZoneInfo(zone)
    shifts = list(shifts)
    # A shift that began the day before may still be running at `start`.
    day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date()
    found: list[tuple[datetime, datetime]] = []
    while day <= last_day:
        for shift in shifts:
            if day.weekday() not in shift.weekdays:
                continue
            local_start = datetime.combine(day, shift.start, tzinfo=tz)
            local_end = local_start + timedelta(minutes=shift.minutes)
            a = max(local_start.astimezone(UTC), start)
            b = min(local_end.astimezone(UTC), end)
            if a < b:
                found.append((a, b))
        day += timedelta(days=1)
    return _merged(found)


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def is_on_shift(shifts: Iterable[Shift], zone: str, at: datetime) -> bool:
    return bool(shift_intervals(shifts, zone, at, at + timedelta(microseconds=1)))


def working_seconds(shifts: Iterable[Shift], zone: str, start: datetime, end: datetime) -> float:
    """Seconds of working time between two instants (0 when end is not after start)."""
    if end <= start:
        return 0.0
    return sum((b - a).total_seconds() for a, b in shift_intervals(shifts, zone, start, end))
