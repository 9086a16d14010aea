"""What routing decided for a mention, and who holds it now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.db import Base
from listener.store.types import UTCDateTime, utcnow

# Mention.status values this stage adds to the listener's (new, classified, routed, replied,
# resolved): a mention with a person on it, and one a rule chose to keep out of every queue.
STATUS_ASSIGNED = "assigned"
STATUS_IGNORED = "ignored"


class MentionRoute(Base):
    __tablename__ = "mention_routes"
    __table_args__ = (
        Index("ix_mention_routes_assignee_id", "assignee_id"),
        Index("ix_mention_routes_team_id", "team_id"),
        Index("ix_mention_routes_conversation_id", "conversation_id"),
    )

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, default=2)
    sla_minutes: Mapped[int] = mapped_column(Integer, default=60)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    require_language: Mapped[str | None] = mapped_column(String(16))
    require_skill: Mapped[str | None] = mapped_column(String(100))
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
