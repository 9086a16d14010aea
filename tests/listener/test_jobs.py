"""The scheduler really runs one polling job per source against the sandbox."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from config.settings import SourceConfig, load_config
from listener.jobs import build_scheduler
from listener.sources.registry import build_source
from listener.store.models import Mention, SourceHealth
from sandbox.seeder import Seeder

BRANDS = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.toml").brands


@pytest.fixture
def sources(sandbox, monkeypatch):
    monkeypatch.setenv("MD_JOBS_X", "sandbox-bearer")
    for name, value in {"ID": "id", "SECRET": "secret", "USER": "northwindair", "PW": "pw"}.items():
        monkeypatch.setenv(f"MD_JOBS_REDDIT_{name}", value)
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit",
        json={"requests_per_window": 1_000_000, "window_seconds": 2},
        timeout=5,
    ).raise_for_status()
    common = {"account_handle": "northwindair"}
    x = SourceConfig(
        name="x",
        network="x",
        api_base_url=f"{sandbox.url}/x",
        credentials={"bearer_token": "MD_JOBS_X"},
        **common,
    )
    reddit = SourceConfig(
        name="reddit",
        network="reddit",
        api_base_url=f"{sandbox.url}/reddit",
        credentials={
            "client_id": "MD_JOBS_REDDIT_ID",
            "client_secret": "MD_JOBS_REDDIT_SECRET",
            "username": "MD_JOBS_REDDIT_USER",
            "password": "MD_JOBS_REDDIT_PW",
        },
        **common,
    )
    return [build_source(x, BRANDS), build_source(reddit, BRANDS)]


def test_jobs_are_configured_per_source(sources, session_factory):
    scheduler = build_scheduler(sources, session_factory, intervals={"x": 15, "reddit": 45})
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"x", "reddit"}
    assert jobs["x"].trigger.interval.total_seconds() == 15
    assert jobs["reddit"].trigger.interval.total_seconds() == 45
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["x"].args[1] is sources[0]


def test_scheduler_polls_every_source_into_the_database(sandbox, sources, session_factory):
    seeder = Seeder(sandbox.state, seed=5)
    seeder.setup()
    seeder.backlog(15)
    # X starts rate limited: its job keeps firing and skipping while Reddit's goes on.
    sandbox.state.add_fault(network="x", kind="rate_limit", count=1)
    scheduler = build_scheduler(
        sources,
        session_factory,
        intervals={"x": 1, "reddit": 1},
        scheduler=BackgroundScheduler(),
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_factory() as session:
                per_network = dict(
                    session.execute(
                        select(Mention.network, func.count()).group_by(Mention.network)
                    ).all()
                )
                x_health = session.get(SourceHealth, "x")
            if per_network.get("x") and per_network.get("reddit"):
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)

    assert per_network.get("reddit", 0) > 0
    assert per_network.get("x", 0) > 0  # resumed after its pause
    assert x_health.consecutive_failures == 0
    assert "rate limit" in (x_health.last_error or "").lower()
