"""What people are told on assignment and escalation; responders/notify delivers it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.notify.service import enqueue_notification


def _excerpt(text: str, limit: int = 280) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notify_assigned(session: Session, *, mention: Mention, employee_id: int, now: datetime) -> None:
    enqueue_notification(
        session,
        kind="assignment",
        employee_id=employee_id,
        subject=f"New {mention.network} mention of {mention.brand} for you (#{mention.id})",
        body=_excerpt(mention.text),
        link=mention.url,
        now=now,
    )


def notify_escalated(
    session: Session, *, mention: Mention, employee_id: int, reason: str, now: datetime
) -> None:
    enqueue_notification(
        session,
        kind="escalation",
        employee_id=employee_id,
        subject=f"Escalated: {mention.network} mention #{mention.id} of {mention.brand}",
        body=f"{reason}\n\n{_excerpt(mention.text)}",
        link=mention.url,
        now=now,
    )
