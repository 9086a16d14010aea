"""What a manager writes to create or edit an event, validated with clear errors.

The CLI, the dashboard and the demo all build an EventSpec; the service turns it into rows.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.settings import NETWORKS


class EventSpecError(ValueError):
    """The event as written cannot be used; the message says what and where."""


_HASHTAG = re.compile(r"^#?[^\W_][\w]*$", re.UNICODE)
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOKS_LIKE_POST = re.compile(r"(?:^|\s)#\w|https?://|(?:^|\s)@\w", re.IGNORECASE)
MAX_TALKING_POINT = 600


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _one_line(value: str | None) -> str | None:
    # Names go into invitation e-mails' Subject and To headers, which cannot hold a line break.
    if value is not None and _CONTROL.search(value):
        raise ValueError("must be one line of text (no line breaks or control characters)")
    return value


class SpeakerSpec(_Strict):
    """An employee (by email), or an outside speaker with a name, handles and maybe an email."""

    name: str | None = None
    employee: str | None = None  # the employee's email: an internal speaker
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    handles: dict[str, str] = Field(default_factory=dict)

    _name_one_line = field_validator("name")(_one_line)

    @field_validator("employee", "email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("handles")
    @classmethod
    def _known_networks(cls, handles: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(handles) - set(NETWORKS))
        if unknown:
            raise ValueError(f"unknown network(s) {unknown}; expected some of {list(NETWORKS)}")
        cleaned = {k: v.strip().lstrip("@") for k, v in handles.items()}
        if any(not v for v in cleaned.values()):
            raise ValueError("handles must not be empty")
        return cleaned

    @model_validator(mode="after")
    def _someone(self) -> SpeakerSpec:
        if not self.employee and not self.name:
            raise ValueError("a speaker needs a name, or employee = their email")
        if not self.employee and not (self.handles or self.email):
            raise ValueError(
                f"speaker {self.name!r} needs handles (to credit their posts) or an email "
                "(to invite them)"
            )
        return self


class EventSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    hashtags: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    talking_points: list[str] = Field(default_factory=list)
    speakers: list[SpeakerSpec] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)  # audience: whole teams...
    employees: list[str] = Field(default_factory=list)  # ...and single employees, by email

    _name_one_line = field_validator("name")(_one_line)

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _moment(cls, value: Any, info: Any) -> Any:
        return parse_moment(value, end_of_day=info.field_name == "ends_at")

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # A time without a zone is taken as UTC: the dashboard and CLI say so.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        cleaned: list[str] = []
        for tag in tags:
            tag = tag.strip()
            if not _HASHTAG.match(tag):
                raise ValueError(f"{tag!r} is not a hashtag (letters, digits and _ only)")
            tag = tag if tag.startswith("#") else f"#{tag}"
            if tag.lower() not in (t.lower() for t in cleaned):
                cleaned.append(tag)
        return cleaned

    @field_validator("links")
    @classmethod
    def _links(cls, links: list[str]) -> list[str]:
        for link in links:
            if not _URL.match(link.strip()):
                raise ValueError(f"{link!r} is not an http(s) link")
        return list(dict.fromkeys(link.strip() for link in links))

    @field_validator("talking_points")
    @classmethod
    def _points(cls, points: list[str]) -> list[str]:
        cleaned = [p.strip() for p in points if p.strip()]
        for number, point in enumerate(cleaned, start=1):
            if len(point) > MAX_TALKING_POINT:
                raise ValueError(
                    f"talking point {number} is {len(point)} characters; keep each to one fact "
                    f"or message (at most {MAX_TALKING_POINT})"
                )
            if _LOOKS_LIKE_POST.search(point):
                raise ValueError(
                    f"talking point {number} contains a hashtag, link or @handle: it reads like "
                    "a ready-made post. Give facts and key messages; the share links add the "
                    "hashtag and link"
                )
        return cleaned

    @field_validator("teams", "employees")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(n.strip() for n in names if n.strip()))

    @field_validator("employees")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        return [e.lower() for e in emails]

    @model_validator(mode="after")
    def _whole(self) -> EventSpec:
        if self.ends_at < self.starts_at:
            raise ValueError("the event ends before it starts")
        if not self.hashtags and not self.links:
            raise ValueError("an event needs at least one hashtag or link to be tracked")
        return self


def parse_moment(value: Any, *, end_of_day: bool = False) -> Any:
    """ "2026-12-03" -> that day's start (or end, for an end date) in UTC; ISO times as given."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        day = date.fromisoformat(value.strip())
    else:
        return value  # pydantic parses ISO date-times and explains what it cannot
    moment = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return moment + timedelta(days=1) - timedelta(seconds=1) if end_of_day else moment


def parse_speaker(text: str) -> SpeakerSpec:
    """ "name=Ada Lin, x=ada_lin, bluesky=ada.bsky.social, email=ada@example.org" or
    "employee=sam@northwind.example" -> a SpeakerSpec (EventSpecError if malformed)."""
    fields: dict[str, Any] = {"handles": {}}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise EventSpecError(f"speaker {text!r}: {part!r} should be key=value")
        if key in ("name", "employee", "email"):
            fields[key] = value
        elif key in NETWORKS:
            fields["handles"][key] = value
        else:
            raise EventSpecError(
                f"speaker {text!r}: unknown key {key!r} (name, employee, email or a network: "
                f"{', '.join(NETWORKS)})"
            )
    try:
        return SpeakerSpec.model_validate(fields)
    except ValidationError as exc:
        raise EventSpecError(f"speaker {text!r}: {_first_problem(exc)}") from None


def build_spec(fields: dict[str, Any], *, origin: str = "event") -> EventSpec:
    """Validate `fields`; every problem is named with its field, e.g. "event: links[0]: ..."."""
    try:
        return EventSpec.model_validate(fields)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(
                f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]
            ).replace(".[", "[")
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{origin}: {where or '(event)'}: {message}")
        raise EventSpecError("\n".join(problems)) from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
