"""The stages after listening, as scheduled jobs: classify → route → assign → escalate → resolve,
plus the reply sender and notification delivery.

Stages never call each other: each job selects its work by status in bounded batches and commits
its own transaction, so a failing stage only delays its own work.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from config.settings import AppConfig
from listener.classifying.classifier import Classifier
from listener.classifying.service import classify_pending
from listener.jobs import build_scheduler
from listener.sources.base import Source
from listener.store.db import session_scope
from listener.store.types import utcnow
from responders.amplification.jobs import credit_job, event_posts_job, reminder_job
from responders.employees.service import sync_people_from_config
from responders.inbox.resolving import auto_resolve
from responders.notify.service import deliver_pending
from responders.replies import sender
from responders.routing.assignment import assign_waiting
from responders.routing.escalation import escalate_overdue
from responders.routing.service import route_pending

log = logging.getLogger(__name__)

# A stage keeps taking batches until its queue is empty or this many rounds have passed,
# so one job run stays short and the scheduler stays responsive.
MAX_BATCHES_PER_RUN = 20


def _drain(session_factory: sessionmaker[Session], step: Callable[[Session], int]) -> int:
    done = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        with session_scope(session_factory) as session:
            count = step(session)
        done += count
        if count == 0:
            break
    return done


def classify_job(session_factory: sessionmaker[Session], classifier: Classifier) -> int:
    return _drain(session_factory, lambda s: classify_pending(s, classifier))


def route_job(session_factory: sessionmaker[Session], config: AppConfig) -> int:
    # Employees' and speakers' event posts are credited first, so routing never queues them.
    credit_job(session_factory)
    routed = _drain(session_factory, lambda s: route_pending(s, config, now=utcnow()))
    assigned = _drain(session_factory, lambda s: assign_waiting(s, now=utcnow()))
    if routed or assigned:
        log.info("routed %d, assigned %d mention(s)", routed, assigned)
    return assigned


def housekeeping_job(session_factory: sessionmaker[Session], config: AppConfig) -> None:
    with session_scope(session_factory) as session:
        escalate_overdue(session, now=utcnow())
    with session_scope(session_factory) as session:
        auto_resolve(session, now=utcnow(), after_days=config.routing.auto_resolve_days)


def sync_people(session_factory: sessionmaker[Session], config: AppConfig) -> None:
    """Teams and employees from the configuration file; run once at start-up."""
    with session_scope(session_factory) as session:
        sync_people_from_config(session, config)


def add_pipeline_jobs(
    scheduler: BaseScheduler,
    *,
    config: AppConfig,
    session_factory: sessionmaker[Session],
    classifier: Classifier,
    sources: Mapping[str, Source],
    every_seconds: float = 0.5,
) -> None:
    """Add the jobs to `scheduler` (one instance of each at a time; missed runs coalesce).

    The queue stages look for work every half second: a mention should reach a person within
    a second of being fetched (bench/routing.py), and an empty look is one indexed query."""
    jobs: list[tuple[str, Callable[..., object], list[object], float]] = [
        ("classify", classify_job, [session_factory, classifier], every_seconds),
        ("route", route_job, [session_factory, config], every_seconds),
        ("housekeeping", housekeeping_job, [session_factory, config], 60),
        ("send replies", sender.send_pending, [session_factory, dict(sources)], every_seconds),
        ("notify", deliver_pending, [session_factory, config.notify], 15),
        ("event reminders", reminder_job, [session_factory], 300),
        ("event posts", event_posts_job, [session_factory], 30),
    ]
    for name, func, args, seconds in jobs:
        scheduler.add_job(
            func,
            trigger=IntervalTrigger(seconds=seconds, timezone=UTC),
            args=args,
            id=name,
            name=name,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            # APScheduler wants whole seconds here (0.5 raised TypeError and stopped run/demo).
            misfire_grace_time=max(1, math.ceil(seconds)),
        )


def build_desk_scheduler(
    config: AppConfig,
    session_factory: sessionmaker[Session],
    sources: list[Source],
    *,
    classifier: Classifier,
) -> BaseScheduler:
    """Everything `mentiondesk run` schedules: one poller per source and the pipeline's stages."""
    sync_people(session_factory, config)
    intervals = {s.name: s.poll_interval_seconds for s in config.sources}
    scheduler = build_scheduler(sources, session_factory, intervals=intervals)
    add_pipeline_jobs(
        scheduler,
        config=config,
        session_factory=session_factory,
        classifier=classifier,
        sources={s.name: s for s in sources},
    )
    return scheduler
