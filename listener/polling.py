"""Poll one source once: fetch since its cursors, store mentions and cursors in one transaction.

The network call happens outside any transaction (it can take seconds and must not hold locks).
The cursors advance only in the transaction that stores the rows they cover, so a crash at any
point either keeps both or neither; a repeated fetch is harmless because mentions are unique.
Source errors never escape: they pause the source (see listener.health) and the scheduler goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from listener import health
from listener.sources.base import Source
from listener.sources.errors import SourceError
from listener.store.db import session_scope
from listener.store.ingest import load_cursors, store_fetch_result
from listener.store.models import SourceHealth
from listener.store.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source_name: str
    stored: int = 0
    rejected: int = 0
    skipped_until: datetime | None = None  # set when the source was paused and not polled
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped_until is None


def poll_once(
    session_factory: sessionmaker[Session], source: Source, *, now: datetime | None = None
) -> PollOutcome:
    """Poll `source` unless it is paused. `now` fixes the clock (tests); default: the real time."""
    started = now or utcnow()
    try:
        with session_factory() as session:
            state = session.get(SourceHealth, source.name)
            if health.is_paused(state, started):
                logger.debug("%s: paused until %s, skipped", source.name, state.paused_until)
                return PollOutcome(source.name, skipped_until=state.paused_until)
            cursors = load_cursors(session, source.name)
    except Exception as exc:
        return _unexpected_failure(session_factory, source, now, exc, stage="reading cursors")

    try:
        result = source.fetch(cursors)
    except SourceError as exc:
        message = health.safe_error_message(exc)
        paused_until = _record_failure(session_factory, source, now, exc)
        # An expected condition of the outside world: one line, no stack trace.
        logger.warning(
            "%s: %s: %s (paused until %s)",
            source.name,
            type(exc).__name__,
            message,
            paused_until.isoformat() if paused_until else "unknown",
        )
        return PollOutcome(source.name, error=message)
    except Exception as exc:
        return _unexpected_failure(session_factory, source, now, exc, stage="fetching")

    try:
        with session_scope(session_factory) as session:
            stored = store_fetch_result(
                session, source_name=source.name, network=source.network, result=result
            )
            health.record_success(session, source.name, source.network, now or utcnow(), stored)
    except Exception as exc:
        return _unexpected_failure(session_factory, source, now, exc, stage="storing")

    if result.rejected:
        logger.warning(
            "%s: %d item(s) rejected and kept in rejected_payloads",
            source.name,
            len(result.rejected),
        )
    logger.info("%s: %d new mention(s) of %d fetched", source.name, stored, len(result.mentions))
    return PollOutcome(source.name, stored=stored, rejected=len(result.rejected))


def _unexpected_failure(
    session_factory: sessionmaker[Session],
    source: Source,
    now: datetime | None,
    exc: Exception,
    *,
    stage: str,
) -> PollOutcome:
    # A bug or a database problem: keep the stack trace, count it like any failure, carry on.
    message = health.safe_error_message(exc)
    logger.exception("%s: unexpected error while %s: %s", source.name, stage, message)
    _record_failure(session_factory, source, now, exc)
    return PollOutcome(source.name, error=message)


def _record_failure(
    session_factory: sessionmaker[Session],
    source: Source,
    now: datetime | None,
    exc: BaseException,
) -> datetime | None:
    """Record the failure in its own transaction; returns the pause's end (None if unrecorded)."""
    try:
        with session_scope(session_factory) as session:
            state = health.record_failure(
                session, source.name, source.network, now or utcnow(), exc
            )
            return state.paused_until
    except Exception:
        logger.exception("%s: could not record the failure in source_health", source.name)
        return None
