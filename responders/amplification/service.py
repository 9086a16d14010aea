"""Events: create, edit, find, list; each change also tells the listener what to track.

Keyword-only functions taking a Session; they flush, the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.types import utcnow
from listener.tracking import replace_tracked_terms
from responders.amplification.models import (
    AmplificationEvent,
    EventAudience,
    EventSpeaker,
    Invitation,
)
from responders.amplification.spec import EventSpec
from responders.amplification.terms import bare_link
from responders.employees.models import Employee, Team

# People talk about an event before it (announcements, "I'm speaking at...") and after it
# (recaps): the listener looks for its terms in this wider window.
TRACK_BEFORE = timedelta(days=14)
TRACK_AFTER = timedelta(days=3)


class EventError(LookupError):
    """An event, team or employee that does not exist, or a name already taken."""


def tracking_owner(event: AmplificationEvent) -> str:
    return f"amplification:event:{event.id}"


def tracking_label(event: AmplificationEvent) -> str:
    # The brand name the listener gives the mentions it finds only through this event.
    return f"event: {event.name}"[:200]


def get_event(session: Session, *, name: str) -> AmplificationEvent:
    event = session.scalar(select(AmplificationEvent).where(AmplificationEvent.name == name))
    if event is None:
        known = ", ".join(session.scalars(select(AmplificationEvent.name).limit(10))) or "none"
        raise EventError(f"no event named {name!r} (known: {known})")
    return event


def get_event_by_id(session: Session, *, event_id: int) -> AmplificationEvent:
    event = session.get(AmplificationEvent, event_id)
    if event is None:
        raise EventError(f"no event #{event_id}")
    return event


def list_events(session: Session) -> list[AmplificationEvent]:
    return list(
        session.scalars(
            select(AmplificationEvent).order_by(
                AmplificationEvent.starts_at.desc(), AmplificationEvent.id
            )
        )
    )


def is_active(event: AmplificationEvent, now: datetime) -> bool:
    return event.track_from <= now < event.track_until


def create_event(
    session: Session,
    *,
    spec: EventSpec,
    created_by: Employee | None = None,
    now: datetime | None = None,
) -> AmplificationEvent:
    if session.scalar(select(AmplificationEvent.id).where(AmplificationEvent.name == spec.name)):
        raise EventError(f"an event named {spec.name!r} already exists")
    now = now or utcnow()
    event = AmplificationEvent(
        name=spec.name, created_by_id=created_by.id if created_by else None, created_at=now
    )
    _apply(session, event, spec, now)
    return event


def update_event(
    session: Session, *, event: AmplificationEvent, spec: EventSpec, now: datetime | None = None
) -> AmplificationEvent:
    """Replace the event's fields with `spec`. Invitations already sent stay."""
    if spec.name != event.name and session.scalar(
        select(AmplificationEvent.id).where(AmplificationEvent.name == spec.name)
    ):
        raise EventError(f"an event named {spec.name!r} already exists")
    terms_before = (list(event.hashtags), list(event.links), event.track_from, event.track_until)
    _apply(session, event, spec, now or utcnow())
    if terms_before != (event.hashtags, event.links, event.track_from, event.track_until):
        event.scanned_through = None  # new terms or dates: look at every mention again
    session.flush()
    return event


def _apply(session: Session, event: AmplificationEvent, spec: EventSpec, now: datetime) -> None:
    teams = _teams(session, spec.teams)
    employees = _employees(session, spec.employees)
    speakers = [_speaker(session, s) for s in spec.speakers]
    if event not in session:  # only now: the lookups above would flush it half-filled
        session.add(event)
    event.name = spec.name
    event.description = spec.description
    event.starts_at = spec.starts_at
    event.ends_at = spec.ends_at
    event.track_from = spec.starts_at - TRACK_BEFORE
    event.track_until = spec.ends_at + TRACK_AFTER
    event.hashtags = list(spec.hashtags)
    event.links = list(spec.links)
    event.talking_points = list(spec.talking_points)
    event.updated_at = now
    _replace_speakers(session, event, speakers)
    event.audience = [EventAudience(team_id=t.id) for t in teams] + [
        EventAudience(employee_id=e.id) for e in employees
    ]
    session.flush()
    replace_tracked_terms(
        session,
        owner=tracking_owner(event),
        label=tracking_label(event),
        hashtags=event.hashtags,
        keywords=[bare_link(u) for u in event.links],
        active_from=event.track_from,
        active_until=event.track_until,
    )


def _replace_speakers(
    session: Session, event: AmplificationEvent, wanted: list[EventSpeaker]
) -> None:
    """Keep speaker rows (and their invitations) that are still there; add and drop the rest."""

    def key(s: EventSpeaker) -> tuple[object, ...]:
        return (s.employee_id,) if s.employee_id else (None, s.name.lower())

    existing = {key(s): s for s in event.speakers}
    kept: list[EventSpeaker] = []
    for speaker in wanted:
        row = existing.pop(key(speaker), None)
        if row is None:
            kept.append(speaker)
            continue
        row.name, row.email, row.handles = speaker.name, speaker.email, dict(speaker.handles)
        kept.append(row)
    event.speakers = kept


def _teams(session: Session, names: list[str]) -> list[Team]:
    found = {t.name: t for t in session.scalars(select(Team).where(Team.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise EventError(f"unknown team(s) {missing}")
    return [found[n] for n in names]


def _employees(session: Session, emails: list[str]) -> list[Employee]:
    found = {
        e.email: e for e in session.scalars(select(Employee).where(Employee.email.in_(emails)))
    }
    missing = [e for e in emails if e not in found]
    if missing:
        raise EventError(f"unknown employee(s) {missing}")
    return [found[e] for e in emails]


def _speaker(session: Session, spec) -> EventSpeaker:
    if spec.employee:
        (employee,) = _employees(session, [spec.employee])
        # An internal speaker's handles are the employee's, plus any given for the event.
        return EventSpeaker(
            name=spec.name or employee.name,
            employee_id=employee.id,
            email=spec.email or employee.email,
            handles={**employee.handles, **spec.handles},
        )
    return EventSpeaker(name=spec.name, email=spec.email, handles=dict(spec.handles))


def audience_employees(session: Session, event: AmplificationEvent) -> list[Employee]:
    """Everyone asked to share: members of the audience teams and the named employees."""
    team_ids = [a.team_id for a in event.audience if a.team_id is not None]
    employee_ids = {a.employee_id for a in event.audience if a.employee_id is not None}
    if team_ids:
        teams = session.scalars(select(Team).where(Team.id.in_(team_ids)))
        employee_ids |= {m.id for t in teams for m in t.members}
    if not employee_ids:
        return []
    return list(
        session.scalars(select(Employee).where(Employee.id.in_(employee_ids)).order_by(Employee.id))
    )


def invitations_for_employee(
    session: Session, *, employee_id: int
) -> list[tuple[Invitation, AmplificationEvent]]:
    """An employee's invitations, newest event first (their dashboard page)."""
    rows = session.execute(
        select(Invitation, AmplificationEvent)
        .join(AmplificationEvent, AmplificationEvent.id == Invitation.event_id)
        .where(Invitation.employee_id == employee_id)
        .order_by(AmplificationEvent.starts_at.desc())
    )
    return [(inv, ev) for inv, ev in rows]


def describe(session: Session, event: AmplificationEvent) -> dict[str, object]:
    """The event as plain data (CLI --json, dashboard)."""
    team_ids = [a.team_id for a in event.audience if a.team_id is not None]
    employee_ids = [a.employee_id for a in event.audience if a.employee_id is not None]
    teams = {
        i: n for i, n in session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
    }
    emails = {
        i: e
        for i, e in session.execute(
            select(Employee.id, Employee.email).where(Employee.id.in_(employee_ids))
        )
    }
    return {
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "track_from": event.track_from.isoformat(),
        "track_until": event.track_until.isoformat(),
        "hashtags": list(event.hashtags),
        "links": list(event.links),
        "talking_points": list(event.talking_points),
        "speakers": [
            {
                "name": s.name,
                "internal": s.internal,
                "employee_id": s.employee_id,
                "email": s.email,
                "handles": dict(s.handles),
            }
            for s in event.speakers
        ],
        "audience": {
            "teams": [teams[i] for i in team_ids if i in teams],
            "employees": [emails[i] for i in employee_ids if i in emails],
        },
    }
