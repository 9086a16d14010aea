"""Conversations (one author in one thread) and their append-only history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.db import Base
from listener.store.types import UTCDateTime, utcnow

CONVERSATION_OPEN = "open"
CONVERSATION_RESOLVED = "resolved"

# ConversationEvent.kind
EVENT_ASSIGN = "assign"
EVENT_CLAIM = "claim"
EVENT_TRANSFER = "transfer"
EVENT_REPLY = "reply"
EVENT_RESOLVE = "resolve"
EVENT_REOPEN = "reopen"
EVENT_ESCALATE = "escalate"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_last_activity_at", "status", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # network, thread root and author: a follow-up finds its conversation by this.
    key: Mapped[str] = mapped_column(String(400), unique=True)
    network: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    status: Mapped[str] = mapped_column(String(20), default=CONVERSATION_OPEN)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationEvent(Base):
    """Who did what, when. Rows are only ever added."""

    __tablename__ = "conversation_events"
    __table_args__ = (Index("ix_conversation_events_conversation_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    # Who acted (None: mentiondesk itself) and whom it concerns (e.g. the new assignee).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)
