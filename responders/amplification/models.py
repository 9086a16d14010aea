"""Events employees and speakers talk about, who is invited, and the posts credited to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
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

# Mention.status for an employee's or speaker's event post: theirs to share, not the support
# desk's to answer, so routing (which takes "classified" mentions) never sees it.
STATUS_CREDITED = "credited"

# EventPost.kind
KIND_EMPLOYEE = "employee"
KIND_SPEAKER = "speaker"
KIND_EARNED = "earned"  # anyone else talking about the event
KINDS = (KIND_EMPLOYEE, KIND_SPEAKER, KIND_EARNED)


class AmplificationEvent(Base):
    __tablename__ = "amplification_events"
    __table_args__ = (Index("ix_amplification_events_track_until", "track_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the listener looks for its hashtags and links (a while before and after the dates).
    track_from: Mapped[datetime] = mapped_column(UTCDateTime)
    track_until: Mapped[datetime] = mapped_column(UTCDateTime)
    hashtags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)  # "#NWSummit26"
    links: Mapped[list[str]] = mapped_column(JSONDocument, default=list)  # full URLs
    # Facts and key messages for people to put in their own words; never ready-made posts.
    talking_points: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Crediting has looked at every mention fetched before this (see crediting.py).
    scanned_through: Mapped[datetime | None] = mapped_column(UTCDateTime)

    speakers: Mapped[list[EventSpeaker]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSpeaker.id"
    )
    audience: Mapped[list[EventAudience]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventAudience.id"
    )


class EventSpeaker(Base):
    """A speaker: an employee (internal) or someone from outside with their handles."""

    __tablename__ = "amplification_speakers"
    __table_args__ = (Index("ix_amplification_speakers_event_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("amplification_events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(320))
    handles: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)  # network -> handle

    event: Mapped[AmplificationEvent] = relationship(back_populates="speakers")

    @property
    def internal(self) -> bool:
        return self.employee_id is not None


class EventAudience(Base):
    """Who is asked to share: a whole team, or one employee."""

    __tablename__ = "amplification_audience"
    __table_args__ = (Index("ix_amplification_audience_event_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("amplification_events.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))

    event: Mapped[AmplificationEvent] = relationship(back_populates="audience")


class Invitation(Base):
    """One person asked to talk about one event; `token` makes their share links personal."""

    __tablename__ = "amplification_invitations"
    __table_args__ = (
        UniqueConstraint("event_id", "employee_id"),
        UniqueConstraint("event_id", "speaker_id"),
        Index("ix_amplification_invitations_employee_id", "employee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("amplification_events.id", ondelete="CASCADE"))
    # An employee (audience or internal speaker), an outside speaker, or both for an internal one.
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("amplification_speakers.id", ondelete="CASCADE")
    )
    token: Mapped[str] = mapped_column(String(32), unique=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventPost(Base):
    """A mention about an event: credited to an employee or speaker, or earned reach."""

    __tablename__ = "amplification_posts"
    __table_args__ = (Index("ix_amplification_posts_event_id_posted_at", "event_id", "posted_at"),)

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("amplification_events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("amplification_speakers.id", ondelete="SET NULL")
    )
    network: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The author's followers and the post's likes/reposts/replies when first seen (None: the
    # network did not say).
    followers: Mapped[int | None] = mapped_column(BigInteger)
    engagement: Mapped[int | None] = mapped_column(Integer)
    # Credited posts only: how much of the post is found in a talking point or in an earlier post
    # by someone else (0 = all their own words, 1 = a copy), and what it resembles most.
    similarity: Mapped[float | None] = mapped_column(Float)
    similar_point: Mapped[int | None] = mapped_column(Integer)  # index into talking_points
    similar_mention_id: Mapped[int | None] = mapped_column(Integer)
    scripted: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def originality(self) -> float | None:
        return None if self.similarity is None else round(1.0 - self.similarity, 3)
