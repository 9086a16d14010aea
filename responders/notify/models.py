"""Notifications waiting to be delivered: one row per message and channel (an outbox).

Routing only inserts rows; a separate delivery job sends them in its own transactions, so a dead
SMTP server or webhook never holds up assignment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.db import Base
from listener.store.types import UTCDateTime, utcnow

CHANNEL_EMAIL = "email"
CHANNEL_WEBHOOK = "webhook"
CHANNELS = (CHANNEL_EMAIL, CHANNEL_WEBHOOK)

# employee_id of a message for someone who is not an employee (an outside event speaker): its
# `recipient` holds their email address from the start.
OUTSIDE_RECIPIENT = None

STATUS_PENDING = "pending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"  # gave up after the last attempt
STATUS_SKIPPED = "skipped"  # channel not configured, or no address for it


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The delivery job selects due rows: pending, oldest retry time first.
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "assignment", "escalation", ...
    channel: Mapped[str] = mapped_column(String(20))
    # NULL for someone outside the company (OUTSIDE_RECIPIENT), reached at `recipient`.
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=STATUS_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient: Mapped[str | None] = mapped_column(String(320))  # where it went, once known
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
