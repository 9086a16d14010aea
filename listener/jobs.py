"""The listener's scheduled jobs: one APScheduler interval job per source.

Each source has its own job, so a slow or rate-limited network never delays the others; a paused
source's job keeps firing and `poll_once` skips it until its pause ends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from listener.polling import PollOutcome, poll_once
from listener.sources.base import Source

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60


def poll_job(session_factory: sessionmaker[Session], source: Source) -> PollOutcome:
    """What each job runs. poll_once never raises for source errors; this guards the rest."""
    try:
        return poll_once(session_factory, source)
    except Exception:
        logger.exception("%s: poll job crashed", source.name)
        raise


def build_scheduler(
    sources: list[Source],
    session_factory: sessionmaker[Session],
    *,
    intervals: dict[str, int],
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """Add one polling job per source (job id = source name) to `scheduler`; does not start it.

    `intervals` maps source name to seconds between polls (default 60).
    """
    if scheduler is None:
        scheduler = BackgroundScheduler(timezone=UTC)
    for source in sources:
        seconds = intervals.get(source.name, DEFAULT_INTERVAL_SECONDS)
        scheduler.add_job(
            poll_job,
            trigger=IntervalTrigger(seconds=seconds, timezone=UTC),
            args=[session_factory, source],
            id=source.name,
            name=f"poll {source.name}",
            replace_existing=True,
            # One poll of a source at a time (the cursor would race itself otherwise); missed
            # runs collapse into one; a run late by up to one interval still happens.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(seconds, 1),
            next_run_time=datetime.now(UTC),
        )
    return scheduler
