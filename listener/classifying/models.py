"""Classifier tables: one verdict per mention, and the corrections people made to verdicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.db import Base
from listener.store.types import JSONDocument, UTCDateTime, utcnow


class Verdict(Base):
    __tablename__ = "verdicts"
    __table_args__ = (Index("ix_verdicts_complaint_sentiment", "complaint", "sentiment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), unique=True
    )
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_scores: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    complaint: Mapped[bool] = mapped_column(Boolean)
    complaint_score: Mapped[float] = mapped_column(Float)
    topic: Mapped[str | None] = mapped_column(String(100))
    # e.g. ["too_long"]: why the model's view of this mention is partial or absent.
    flags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    model_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a person changed any field; the model's original values live in corrections.old.
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Correction(Base):
    """A person's label for one field of one mention; also training data for the next heads."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_mention_id_field", "mention_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    corrected_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
