"""Complaint volume and sentiment over time: the brand's own mentions per UTC day of posting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from listener.classifying.labels import SENTIMENTS
from listener.classifying.models import Verdict
from listener.store.models import Mention
from responders.reports.days import utc_day


def _count_where(condition) -> Any:
    return func.sum(case((condition, 1), else_=0))


def volume_by_day(
    session: Session, *, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """One row per day with mentions: how many, how many complaints, each sentiment, unclassified.

    Competitors' mentions are left out: this is what people say to and about us.
    """
    day = utc_day(session, Mention.posted_at).label("day")
    query = (
        select(
            day,
            func.count(),
            _count_where(Verdict.complaint.is_(True)),
            *(_count_where(Verdict.sentiment == s) for s in SENTIMENTS),
            _count_where(Verdict.id.is_(None)),
        )
        .select_from(Mention)
        .outerjoin(Verdict, Verdict.mention_id == Mention.id)
        .where(Mention.is_competitor.is_(False))
        .group_by(day)
        .order_by(day)
    )
    if since is not None:
        query = query.where(Mention.posted_at >= since)
    if until is not None:
        query = query.where(Mention.posted_at < until)
    rows = []
    for value, mentions, complaints, *by_sentiment, unclassified in session.execute(query):
        counts = [int(n or 0) for n in by_sentiment]
        rows.append(
            {
                "day": str(value),
                "mentions": int(mentions),
                "complaints": int(complaints or 0),
                **dict(zip(SENTIMENTS, counts, strict=True)),
                "unclassified": int(unclassified or 0),
            }
        )
    return rows


def volume_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("mentions", "complaints", *SENTIMENTS, "unclassified")
    return {key: sum(row[key] for row in rows) for key in keys}
