"""Notifications: routing queues them (flush only); a separate job delivers them.

Delivery failures are retried with backoff and logged; they never touch routing's transactions.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.errors import ConfigError
from config.notify import NotifyConfig
from listener.store.db import session_scope
from responders.employees.models import Employee
from responders.notify.email import send_email
from responders.notify.models import (
    CHANNEL_EMAIL,
    CHANNELS,
    OUTSIDE_RECIPIENT,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENT,
    STATUS_SKIPPED,
    Notification,
)
from responders.notify.webhook import WebhookFailed, post_webhook

log = logging.getLogger(__name__)


def enqueue_notification(
    session: Session,
    *,
    kind: str,
    employee_id: int | None,
    subject: str,
    body: str,
    link: str | None = None,
    now: datetime | None = None,
    recipient: str | None = None,
    channels: tuple[str, ...] = CHANNELS,
) -> None:
    """Queue one message for an employee on every channel; the delivery job sends it later.

    Channels that turn out not to be configured are marked skipped at delivery, so the caller
    needs no notification settings. Someone who is not an employee (an outside speaker) gets
    `employee_id=OUTSIDE_RECIPIENT` (None) and their email address as `recipient`.
    """
    due = now or datetime.now(UTC)
    for channel in channels:
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
                recipient=recipient,
            )
        )
    # No flush here: routing queues one per assignment and flushes the whole batch once.
    log.debug("queued %s notification for employee %s", kind, employee_id)


# Delivery: a job of its own, one short transaction per notification ------------------------------
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
BATCH_SIZE = 100


def backoff(attempts: int) -> timedelta:
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver_pending(
    session_factory: sessionmaker[Session],
    settings: NotifyConfig,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Send due notifications; returns how many were delivered. Failures are retried later.

    Delivery is at least once: a crash after sending and before committing sends it again,
    which for a notification is better than losing it.
    """
    now = now or datetime.now(UTC)
    with session_scope(session_factory) as session:
        due = list(
            session.scalars(
                select(Notification.id)
                .where(Notification.status == STATUS_PENDING, Notification.next_attempt_at <= now)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(batch_size)
            )
        )
    delivered = 0
    for notification_id in due:
        with session_scope(session_factory) as session:
            # Several workers on PostgreSQL: each row goes to one of them.
            notification = session.scalar(
                select(Notification)
                .where(Notification.id == notification_id, Notification.status == STATUS_PENDING)
                .with_for_update(skip_locked=True)
            )
            if notification is not None:
                delivered += _deliver_one(session, notification, settings, now, environ)
    return delivered


def _deliver_one(
    session: Session,
    notification: Notification,
    settings: NotifyConfig,
    now: datetime,
    environ: Mapping[str, str] | None,
) -> int:
    employee = (
        session.get(Employee, notification.employee_id)
        if notification.employee_id is not None
        else None
    )
    try:
        if notification.channel == CHANNEL_EMAIL:
            sent = _send_email(notification, employee, settings, environ)
        else:
            sent = _send_webhook(notification, employee, settings, environ)
    except (OSError, smtplib.SMTPException, WebhookFailed, ConfigError) as exc:
        _failed_attempt(notification, settings, now, f"{type(exc).__name__}: {exc}")
        return 0
    if not sent:
        return 0
    notification.status = STATUS_SENT
    notification.sent_at = now
    notification.last_error = None
    notification.attempts += 1
    return 1


def _send_email(
    notification: Notification,
    employee: Employee | None,
    settings: NotifyConfig,
    environ: Mapping[str, str] | None,
) -> bool:
    if settings.email is None:
        return _skip(notification, "email is not configured ([notify.email])")
    if employee is not None and employee.email:
        address, name = employee.email, employee.name
    elif notification.employee_id is OUTSIDE_RECIPIENT and notification.recipient:
        address, name = notification.recipient, ""
    else:
        return _skip(notification, f"employee #{notification.employee_id} has no email address")
    login = settings.email.login(environ)
    notification.recipient = address
    send_email(
        settings.email,
        to_address=address,
        to_name=name,
        subject=notification.subject,
        body=_text(notification),
        login=(login[0], login[1].get_secret_value()) if login else None,
    )
    return True


def _send_webhook(
    notification: Notification,
    employee: Employee | None,
    settings: NotifyConfig,
    environ: Mapping[str, str] | None,
) -> bool:
    url = settings.webhook_url(environ)
    if url is None:
        return _skip(notification, "no webhook is configured (notify.webhook_url_env)")
    notification.recipient = f"${settings.webhook_url_env}"  # the URL itself is a secret
    who = f"{employee.name}: " if employee is not None else ""
    post_webhook(
        url.get_secret_value(),
        text=f"{who}{notification.subject}\n{_text(notification)}",
        timeout=settings.webhook_timeout_seconds,
    )
    return True


def _text(notification: Notification) -> str:
    return f"{notification.body}\n\n{notification.link}" if notification.link else notification.body


def _skip(notification: Notification, reason: str) -> bool:
    notification.status = STATUS_SKIPPED
    notification.last_error = reason
    return False


def _failed_attempt(
    notification: Notification, settings: NotifyConfig, now: datetime, error: str
) -> None:
    notification.attempts += 1
    notification.last_error = error
    if notification.attempts >= settings.max_attempts:
        notification.status = STATUS_FAILED
        log.error(
            "notification %s (%s) given up after %s attempts: %s",
            notification.id,
            notification.channel,
            notification.attempts,
            error,
        )
        return
    notification.next_attempt_at = now + backoff(notification.attempts)
    log.warning(
        "notification %s (%s) failed, retrying at %s: %s",
        notification.id,
        notification.channel,
        notification.next_attempt_at.isoformat(),
        error,
    )
