"""The amplification steps the pipeline schedules: credit event posts, send reminders."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from listener.store.db import session_scope
from listener.store.types import utcnow
from responders.amplification.crediting import record_event_posts
from responders.amplification.invitations import remind_upcoming

log = logging.getLogger(__name__)


def credit_job(session_factory: sessionmaker[Session]) -> int:
    """Credit event posts routing has not taken yet; runs right before routing, so employees'
    and speakers' posts are out of its way ("credited") by the time it looks. Never raises: a
    failure here must not hold up the support desk (the posts are then routed like any other,
    and still recorded by event_posts_job)."""
    try:
        with session_scope(session_factory) as session:
            return record_event_posts(session, now=utcnow(), unrouted_only=True)
    except Exception:
        log.exception("crediting event posts failed; routing goes on without it")
        return 0


def event_posts_job(session_factory: sessionmaker[Session]) -> int:
    """The full pass: every event post fetched since the last one (earned reach included)."""
    with session_scope(session_factory) as session:
        return record_event_posts(session, now=utcnow())


def reminder_job(session_factory: sessionmaker[Session]) -> int:
    with session_scope(session_factory) as session:
        sent = remind_upcoming(session, now=utcnow())
    if sent:
        log.info("queued %d event reminder(s)", sent)
    return sent
