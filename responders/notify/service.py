"""Queueing notifications. Callers (routing, escalation) flush; they never wait for delivery."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from responders.notify.models import CHANNELS, Notification

log = logging.getLogger(__name__)


def enqueue_notification(
    session: Session,
    *,
    kind: str,
    employee_id: int,
    subject: str,
    body: str,
    link: str | None = None,
    now: datetime | None = None,
) -> None:
    """Queue one message for an employee on every channel; the delivery job sends it later.

    Channels that turn out not to be configured are marked skipped at delivery, so the caller
    needs no notification settings.
    """
    due = now or datetime.now(UTC)
    for channel in CHANNELS:
        session.add(
            Notification(
                kind=kind,
                channel=channel,
                employee_id=employee_id,
                subject=subject[:300],
                body=body,
                link=link,
                next_attempt_at=due,
                created_at=due,
            )
        )
    session.flush()
    log.debug("queued %s notification for employee %s", kind, employee_id)
