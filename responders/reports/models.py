"""Response-time events: one immutable row per measured response; reports group over them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.db import Base
from listener.store.types import UTCDateTime, utcnow

# ResponseTimeEvent.kind
FIRST_RESPONSE = "first_response"  # from the mention's posted_at
FIRST_RESPONSE_SINCE_ASSIGNMENT = "first_response_since_assignment"
NEXT_RESPONSE = "next_response"  # from a follow-up's posted_at
RESOLUTION = "resolution"  # from the conversation's (re)opening


class ResponseTimeEvent(Base):
    __tablename__ = "response_time_events"
    __table_args__ = (Index("ix_response_time_events_kind_ended_at", "kind", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    network: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float] = mapped_column(Float)
    # Within the employee's working hours; None when no employee is known.
    business_seconds: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
