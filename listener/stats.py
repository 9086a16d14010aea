"""Counts for `mentiondesk stats` and `mentiondesk status`: grouped queries, nothing cached."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import NETWORKS
from listener.store.models import Cursor, Mention, RejectedPayload, SourceHealth


def mention_stats(session: Session) -> dict[str, Any]:
    by_network = dict.fromkeys(NETWORKS, 0)
    by_network.update(_counts_by(session, Mention.network))
    by_status = _counts_by(session, Mention.status)
    by_brand = _counts_by(session, Mention.brand)
    competitor = session.scalar(
        select(func.count()).select_from(Mention).where(Mention.is_competitor.is_(True))
    )
    rejected = session.scalar(select(func.count()).select_from(RejectedPayload))
    return {
        "mentions": by_network,
        "total": sum(by_network.values()),
        "competitor": competitor or 0,
        "by_brand": by_brand,
        "by_status": by_status,
        "rejected_payloads": rejected or 0,
    }


def source_status(session: Session, source_names: list[str]) -> list[dict[str, Any]]:
    """One row per source: health, cursors, mentions stored. Sources never polled show empty."""
    health = {h.source_name: h for h in session.scalars(select(SourceHealth))}
    counts = _counts_by(session, Mention.source_name)
    cursors: dict[str, dict[str, str]] = {}
    for cursor in session.scalars(select(Cursor).order_by(Cursor.stream)):
        cursors.setdefault(cursor.source_name, {})[cursor.stream] = cursor.value
    names = list(dict.fromkeys([*source_names, *health]))
    rows = []
    for name in names:
        h = health.get(name)
        rows.append(
            {
                "source": name,
                "mentions": counts.get(name, 0),
                "last_poll_at": _iso(h.last_poll_at) if h else None,
                "last_success_at": _iso(h.last_success_at) if h else None,
                "last_error_at": _iso(h.last_error_at) if h else None,
                "last_error": h.last_error if h else None,
                "consecutive_failures": h.consecutive_failures if h else 0,
                "paused_until": _iso(h.paused_until) if h else None,
                "cursors": cursors.get(name, {}),
            }
        )
    return rows


def _counts_by(session: Session, column) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column)).all()
    return {key: count for key, count in rows}


def _iso(value) -> str | None:
    return value.isoformat() if value else None
