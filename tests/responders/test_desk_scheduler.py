"""`mentiondesk run` and the demo build their scheduler with build_desk_scheduler: it must accept
every job's interval (a sub-second one once made APScheduler refuse to start)."""

from __future__ import annotations

from config.settings import load_config
from listener.sources.registry import build_enabled_sources
from responders.cli.common import DEMO_CONFIG, demo_credentials
from responders.pipeline import build_desk_scheduler


def test_desk_scheduler_builds_with_the_demo_configuration(session_factory, monkeypatch) -> None:
    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    config = load_config(DEMO_CONFIG)
    sources = build_enabled_sources(config.sources, config.brands)
    scheduler = build_desk_scheduler(config, session_factory, sources, classifier=object())
    jobs = {job.id for job in scheduler.get_jobs()}
    assert {"classify", "route", "send replies", "housekeeping"} <= jobs
    assert all(job.misfire_grace_time >= 1 for job in scheduler.get_jobs())
