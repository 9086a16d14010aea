"""Listener tables: authors, mentions, cursors, source health, rejected payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from listener.store.db import Base
from listener.store.types import JSONDocument, UTCDateTime, utcnow

# Mention statuses, in the one direction data flows.
STATUS_NEW = "new"
STATUS_CLASSIFIED = "classified"
STATUS_ROUTED = "routed"
STATUS_REPLIED = "replied"
STATUS_RESOLVED = "resolved"


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("network", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    handle: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    mentions: Mapped[list[Mention]] = relationship(back_populates="author")


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("network", "external_id"),
        # Stages select work by status, oldest first.
        Index("ix_mentions_status_id", "status", "id"),
        Index("ix_mentions_posted_at", "posted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    source_name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    in_reply_to_id: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(16))
    brand: Mapped[str] = mapped_column(String(200))
    matched_query: Mapped[str] = mapped_column(String(600))
    is_competitor: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=STATUS_NEW)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    author: Mapped[Author] = relationship(back_populates="mentions")


class Cursor(Base):
    """How far one stream of one source has been read (e.g. 'search:Acme Air', 'mentions')."""

    __tablename__ = "cursors"

    source_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    stream: Mapped[str] = mapped_column(String(300), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SourceHealth(Base):
    __tablename__ = "source_health"

    source_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mentions_stored: Mapped[int] = mapped_column(BigInteger, default=0)


class RejectedPayload(Base):
    """An item the network sent that we could not understand. Kept, so nothing is lost silently."""

    __tablename__ = "rejected_payloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(20))
    stream: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
