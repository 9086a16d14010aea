"""Working hours: parsing, on-shift checks across time zones and midnight, working seconds."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from config.people import parse_shift
from responders.employees.shifts import is_on_shift, working_seconds

MONDAY = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday in summer (Berlin UTC+2, New York UTC-4)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def test_parse_shifts() -> None:
    office = parse_shift("Mon-Fri 09:00-17:00")
    assert office.weekdays == frozenset(range(5))
    assert (office.start, office.minutes) == (time(9), 8 * 60)
    night = parse_shift("sat 22:00-06:00")
    assert (night.weekdays, night.minutes) == (frozenset({5}), 8 * 60)
    assert parse_shift("Fri-Mon 00:00-24:00").weekdays == frozenset({4, 5, 6, 0})


@pytest.mark.parametrize("text", ["Mon-Fri", "Mon 9-17", "Xyz 09:00-17:00", "Mon 09:00-25:00"])
def test_bad_shifts_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_shift(text)


def test_office_hours_in_different_time_zones() -> None:
    office = [parse_shift("Mon-Fri 09:00-17:00")]
    # 08:00 UTC Monday is 10:00 in Berlin, 04:00 in New York.
    assert is_on_shift(office, "Europe/Berlin", at(0, 8))
    assert not is_on_shift(office, "America/New_York", at(0, 8))
    # 20:00 UTC Monday is 16:00 in New York (on) and 22:00 in Berlin (off).
    assert is_on_shift(office, "America/New_York", at(0, 20))
    assert not is_on_shift(office, "Europe/Berlin", at(0, 20))
    # The end is exclusive, the start inclusive (Berlin 09:00 = 07:00 UTC).
    assert is_on_shift(office, "Europe/Berlin", at(0, 7))
    assert not is_on_shift(office, "Europe/Berlin", at(0, 15))
    # Saturday.
    assert not is_on_shift(office, "Europe/Berlin", at(5, 10))


def test_night_shift_crosses_midnight_into_the_next_day() -> None:
    night = [parse_shift("Fri 22:00-06:00")]
    assert is_on_shift(night, "UTC", at(4, 23))  # Friday 23:00
    assert is_on_shift(night, "UTC", at(5, 5, 59))  # Saturday 05:59: still Friday's shift
    assert not is_on_shift(night, "UTC", at(5, 6))
    assert not is_on_shift(night, "UTC", at(5, 23))  # Saturday night is not a shift
    assert not is_on_shift(night, "UTC", at(3, 23))  # nor Thursday's


def test_shift_crossing_the_week_boundary_in_a_zone_behind_utc() -> None:
    # Sunday 20:00 - Monday 04:00 in New York = Monday 00:00 - 08:00 UTC.
    shift = [parse_shift("Sun 20:00-04:00")]
    assert is_on_shift(shift, "America/New_York", at(0, 0))
    assert is_on_shift(shift, "America/New_York", at(0, 7, 59))
    assert not is_on_shift(shift, "America/New_York", at(0, 8))


def test_always_is_always() -> None:
    always = [parse_shift("Mon-Sun 00:00-24:00")]
    for hour in range(0, 24 * 7, 5):
        assert is_on_shift(always, "Asia/Tokyo", MONDAY + timedelta(hours=hour))


def test_working_seconds_counts_only_shift_time() -> None:
    office = [parse_shift("Mon-Fri 09:00-17:00")]
    # Friday 16:00 to Monday 10:00 (UTC): 1 h on Friday + 1 h on Monday.
    assert working_seconds(office, "UTC", at(4, 16), at(7, 10)) == 2 * 3600
    # Same span for someone in Berlin (UTC+2): Fri 18:00 - Mon 12:00 local = 3 h Monday.
    assert working_seconds(office, "Europe/Berlin", at(4, 16), at(7, 10)) == 3 * 3600
    assert working_seconds(office, "UTC", at(0, 10), at(0, 10)) == 0
    assert working_seconds(office, "UTC", at(0, 11), at(0, 10)) == 0


def test_overlapping_shifts_are_not_counted_twice() -> None:
    shifts = [parse_shift("Mon 09:00-17:00"), parse_shift("Mon 12:00-20:00")]
    assert working_seconds(shifts, "UTC", at(0, 0), at(1, 0)) == 11 * 3600
