"""People in the configuration file: teams and employees, with their working hours.

Working hours are written the way people say them: "Mon-Fri 09:00-17:00", "Sat 22:00-06:00" (a shift
that ends after midnight belongs to the day it starts on), "Mon-Sun 00:00-24:00" (always).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["agent", "manager", "admin"]
Picker = Literal["round_robin", "fewest_open"]

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "Mon-Sun 00:00-24:00"

_SHIFT = re.compile(
    r"^\s*(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class Shift:
    """Working time starting on `weekdays` (0 = Monday) at `start`, lasting `minutes`."""

    weekdays: frozenset[int]
    start: time
    minutes: int


def _minutes(text: str) -> int:
    hours, minutes = (int(p) for p in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day")
    return hours * 60 + minutes


def _weekdays(first: str, last: str | None) -> frozenset[int]:
    try:
        a = DAYS.index(first.lower())
        b = DAYS.index((last or first).lower())
    except ValueError:
        raise ValueError(f"days are written {', '.join(d.title() for d in DAYS)}") from None
    # "Sat-Tue" wraps round the week.
    return frozenset((a + i) % 7 for i in range((b - a) % 7 + 1))


def parse_shift(text: str) -> Shift:
    match = _SHIFT.match(text)
    if not match:
        raise ValueError(f"working hours {text!r}: expected like 'Mon-Fri 09:00-17:00'")
    start = _minutes(match["start"])
    end = _minutes(match["end"])
    if start == 24 * 60:
        raise ValueError(f"working hours {text!r}: a shift cannot start at 24:00")
    # An end at or before the start means the shift runs past midnight.
    length = end - start if end > start else end + 24 * 60 - start
    return Shift(
        weekdays=_weekdays(match["first"], match["last"]),
        start=time(start // 60, start % 60),
        minutes=length,
    )


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like 'Europe/Berlin')"
        ) from None
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamConfig(_Strict):
    name: str = Field(min_length=1)
    lead: str | None = None  # the lead's email; escalations go to them

    @field_validator("lead")
    @classmethod
    def _lower_lead(cls, lead: str | None) -> str | None:
        return lead.strip().lower() if lead else None

    picker: Picker = "round_robin"


class EmployeeConfig(_Strict):
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    handles: dict[str, str] = Field(default_factory=dict)  # network -> handle
    languages: list[str] = Field(default_factory=lambda: ["en"])
    skills: list[str] = Field(default_factory=list)  # topic names
    role: Role = "agent"
    teams: list[str] = Field(default_factory=list)
    time_zone: str = "UTC"
    working_hours: list[str] = Field(default_factory=lambda: [ALWAYS])
    capacity: int = Field(default=10, ge=1, le=10_000)
    # Only for a new employee; afterwards `mentiondesk employees away|back` owns the switch.
    away: bool = False

    @field_validator("email")
    @classmethod
    def _lower_email(cls, email: str) -> str:
        return email.strip().lower()

    @field_validator("languages", "skills")
    @classmethod
    def _lower_terms(cls, terms: list[str]) -> list[str]:
        return [t.strip().lower() for t in terms if t.strip()]

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return check_time_zone(name)

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, hours: list[str]) -> list[str]:
        for text in hours:
            parse_shift(text)
        return hours

    @property
    def shifts(self) -> list[Shift]:
        return [parse_shift(h) for h in self.working_hours]


def check_people(teams: list[TeamConfig], employees: list[EmployeeConfig]) -> None:
    """Cross-checks: unique names, known teams. (A lead may be someone added with the CLI.)"""
    team_names = [t.name for t in teams]
    emails = [e.email for e in employees]
    for kind, names in (("team", team_names), ("employee email", emails)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate {kind}(s): {dupes}")
    for employee in employees:
        unknown = sorted(set(employee.teams) - set(team_names))
        if unknown:
            raise ValueError(f"employee {employee.email!r} is in unknown team(s) {unknown}")
