"""Inviting employees and speakers to talk about an event, and reminding them before it starts.

An invitation carries the talking points (facts and key messages) and one personal share link per
network that pre-fills only the hashtag and the link. Messages go through responders/notify
(email and webhook, retried by its delivery job); outside speakers get email only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.types import utcnow
from responders.amplification.models import AmplificationEvent, EventSpeaker, Invitation
from responders.amplification.service import audience_employees
from responders.amplification.share import NETWORK_ORDER, share_links
from responders.employees.models import Employee
from responders.notify.models import CHANNEL_EMAIL, OUTSIDE_RECIPIENT
from responders.notify.service import enqueue_notification

KIND_INVITATION = "event_invitation"
KIND_REMINDER = "event_reminder"
REMINDER_LEAD = timedelta(hours=24)  # reminders go out this long before the event starts


@dataclass(frozen=True)
class Invitee:
    """Who an invitation is for, with what is needed to write to them."""

    invitation: Invitation
    name: str
    email: str | None
    handles: dict[str, str]
    employee_id: int | None
    speaker: bool


def invite(
    session: Session, *, event: AmplificationEvent, now: datetime | None = None
) -> list[Invitee]:
    """Invite everyone in the audience and every speaker not invited yet; returns the new ones.

    Idempotent: running it again invites only people added since.
    """
    now = now or utcnow()
    existing = list(session.scalars(select(Invitation).where(Invitation.event_id == event.id)))
    invited_employees = {i.employee_id for i in existing if i.employee_id is not None}
    invited_speakers = {i.speaker_id for i in existing if i.speaker_id is not None}
    employees = {e.id: e for e in audience_employees(session, event)}
    new: list[Invitee] = []
    for speaker in event.speakers:
        if speaker.id in invited_speakers:
            continue
        if speaker.employee_id is not None and speaker.employee_id in invited_employees:
            continue  # already invited as audience; they keep that invitation
        employee = session.get(Employee, speaker.employee_id) if speaker.employee_id else None
        invitation = _new_invitation(session, event, now, employee, speaker)
        if employee is not None:
            invited_employees.add(employee.id)
            employees.pop(employee.id, None)
        new.append(_invitee(invitation, employee, speaker))
    for employee in employees.values():
        if employee.id in invited_employees:
            continue
        invitation = _new_invitation(session, event, now, employee, None)
        new.append(_invitee(invitation, employee, None))
    session.flush()
    for invitee in new:
        _notify(session, event, invitee, kind=KIND_INVITATION, now=now)
    session.flush()
    return new


def remind_upcoming(
    session: Session, *, now: datetime | None = None, lead: timedelta = REMINDER_LEAD
) -> int:
    """Remind every invitee of events starting within `lead` once; returns how many."""
    now = now or utcnow()
    rows = session.execute(
        select(Invitation, AmplificationEvent)
        .join(AmplificationEvent, AmplificationEvent.id == Invitation.event_id)
        .where(
            Invitation.reminded_at.is_(None),
            AmplificationEvent.starts_at > now,
            AmplificationEvent.starts_at <= now + lead,
        )
        .order_by(Invitation.id)
        .with_for_update(skip_locked=True, of=Invitation)
    ).all()
    for invitation, event in rows:
        _notify(session, event, invitee_of(session, invitation), kind=KIND_REMINDER, now=now)
        invitation.reminded_at = now
    session.flush()
    return len(rows)


def invitees(session: Session, *, event: AmplificationEvent) -> list[Invitee]:
    """Everyone invited to `event` so far."""
    return [
        invitee_of(session, invitation)
        for invitation in session.scalars(
            select(Invitation).where(Invitation.event_id == event.id).order_by(Invitation.id)
        )
    ]


def invitee_of(session: Session, invitation: Invitation) -> Invitee:
    employee = session.get(Employee, invitation.employee_id) if invitation.employee_id else None
    speaker = session.get(EventSpeaker, invitation.speaker_id) if invitation.speaker_id else None
    return _invitee(invitation, employee, speaker)


def links_for(event: AmplificationEvent, invitee: Invitee) -> dict[str, str]:
    return share_links(
        hashtags=list(event.hashtags),
        links=list(event.links),
        token=invitee.invitation.token,
        handles=invitee.handles,
    )


def message(
    event: AmplificationEvent, invitee: Invitee, *, reminder: bool = False
) -> tuple[str, str]:
    """Subject and body. Facts and links to share with; never a post written for them."""
    when = f"{event.starts_at:%a %d %b %Y %H:%M} - {event.ends_at:%a %d %b %Y %H:%M} UTC"
    subject = (
        f"Reminder: {event.name} starts {event.starts_at:%a %d %b %H:%M} UTC"
        if reminder
        else f"You're invited to share {event.name}"
    )
    role = "as a speaker" if invitee.speaker else "with your network"
    lines = [
        f"Hi {invitee.name},",
        "",
        f"{event.name} ({when}). Would you talk about it {role}, in your own words?",
    ]
    if event.description:
        lines += ["", event.description]
    if event.talking_points:
        lines += ["", "Talking points (facts and key messages to put in your own words):"]
        lines += [f"- {point}" for point in event.talking_points]
    tags = " ".join(event.hashtags)
    lines += [
        "",
        f"Your share links (they only fill in {tags or 'the link'}; the words are yours):",
    ]
    links = links_for(event, invitee)
    lines += [f"- {network}: {links[network]}" for network in NETWORK_ORDER if network in links]
    known = ", ".join(f"{n} @{h}" for n, h in sorted(invitee.handles.items()))
    if known:
        lines += ["", f"Posts from your accounts ({known}) are credited to you."]
    return subject, "\n".join(lines)


def _new_invitation(
    session: Session,
    event: AmplificationEvent,
    now: datetime,
    employee: Employee | None,
    speaker: EventSpeaker | None,
) -> Invitation:
    invitation = Invitation(
        event_id=event.id,
        employee_id=employee.id if employee else None,
        speaker_id=speaker.id if speaker else None,
        token=secrets.token_urlsafe(9),
        invited_at=now,
    )
    session.add(invitation)
    return invitation


def _invitee(
    invitation: Invitation, employee: Employee | None, speaker: EventSpeaker | None
) -> Invitee:
    handles = dict(employee.handles) if employee else {}
    if speaker is not None:
        handles.update(speaker.handles)
    name = speaker.name if speaker else (employee.name if employee else "there")
    email = employee.email if employee else (speaker.email if speaker else None)
    return Invitee(
        invitation=invitation,
        name=name,
        email=email,
        handles=handles,
        employee_id=employee.id if employee else None,
        speaker=speaker is not None,
    )


def _notify(
    session: Session, event: AmplificationEvent, invitee: Invitee, *, kind: str, now: datetime
) -> None:
    subject, body = message(event, invitee, reminder=kind == KIND_REMINDER)
    link = event.links[0] if event.links else None
    if invitee.employee_id is not None:
        enqueue_notification(
            session,
            kind=kind,
            employee_id=invitee.employee_id,
            subject=subject,
            body=body,
            link=link,
            now=now,
        )
    elif invitee.email:
        # An outside speaker: email only (the webhook is the company's own channel).
        enqueue_notification(
            session,
            kind=kind,
            employee_id=OUTSIDE_RECIPIENT,
            subject=subject,
            body=body,
            link=link,
            now=now,
            recipient=invitee.email,
            channels=(CHANNEL_EMAIL,),
        )
