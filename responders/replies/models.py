"""The reply outbox: a reply an employee wrote, with its own id, until the network has it.

Status: queued -> sending -> posted, or failed (with a reason for the employee). A row left in
"sending" by a crashed sender is ambiguous: the sender asks the network before posting again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from listener.store.db import Base
from listener.store.models import Mention
from listener.store.types import UTCDateTime, utcnow

STATUS_QUEUED = "queued"
STATUS_SENDING = "sending"
STATUS_POSTED = "posted"
STATUS_FAILED = "failed"


class OutboxReply(Base):
    __tablename__ = "outbox_replies"
    __table_args__ = (
        # The sender selects due rows by status, oldest retry time first.
        Index("ix_outbox_replies_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(100))
    in_reply_to_id: Mapped[str] = mapped_column(String(128))  # the mention's id on the network
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=STATUS_QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when "sending" began
    external_id: Mapped[str | None] = mapped_column(String(128))  # the reply's id on the network
    error: Mapped[str | None] = mapped_column(Text)  # last failure, worded for the employee
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mention: Mapped[Mention] = relationship()
