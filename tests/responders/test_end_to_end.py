"""The whole desk on the sandbox: a complaint is posted, listened to, classified by the real model,
routed and assigned, its assignee notified, answered with `mentiondesk reply`, and the sandbox holds
exactly one reply in the thread, with the first response time recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import parse_config
from listener.classifying.models import Verdict
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.polling import poll_once
from listener.sources.registry import build_enabled_sources
from listener.store.models import Mention
from responders.cli.common import DEMO_CONFIG, demo_credentials
from responders.inbox.service import current_assignee
from responders.notify.models import Notification
from responders.pipeline import classify_job, route_job, sync_people
from responders.reports.models import FIRST_RESPONSE, ResponseTimeEvent

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_config_file(sandbox, tmp_path: Path, monkeypatch) -> Path:
    """The demo's configuration (people, routing rules), pointed at this test's sandbox."""
    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "desk.toml"
    path.write_text(DEMO_CONFIG.read_text().replace("http://127.0.0.1:8401", sandbox.url))
    return path


def test_complaint_to_reply_end_to_end(
    sandbox, demo_config_file, session_factory, database_url
) -> None:
    config = parse_config(demo_config_file.read_text(), origin=str(demo_config_file))
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("x", "dana_flies", "Dana", followers=320)
    complaint = sandbox.state.publish(
        "x",
        "dana_flies",
        "@northwindair you lost my bag on NW212 and nobody answers the phone. Unacceptable.",
    )

    for source in build_enabled_sources(config.sources, config.brands):
        assert poll_once(session_factory, source).error is None
    sync_people(session_factory, config)
    assert classify_job(session_factory, build_classifier(ClassifierConfig())) >= 1
    assert route_job(session_factory, config) >= 1

    with session_factory() as session:
        mention = session.scalars(select(Mention).where(Mention.external_id == complaint.id)).one()
        verdict = session.scalars(select(Verdict).where(Verdict.mention_id == mention.id)).one()
        assert verdict.complaint is True and verdict.sentiment == "negative"
        assignee = current_assignee(session, mention.id)
        assert assignee is not None
        notified = session.scalars(
            select(Notification.employee_id).where(Notification.kind == "assignment")
        ).all()
        assert assignee in notified

    typed = "Dana, we're sorry. DM us your bag tag and we'll find it today."
    result = subprocess.run(
        [sys.executable, "-m", "responders.cli", "reply", str(mention.id), "--text", typed],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "MENTIONDESK_CONFIG": str(demo_config_file),
        },
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "posted" in result.stdout

    replies = sandbox.state.snapshot()["replies"]["x"]
    assert [(r["in_reply_to_id"], r["text"]) for r in replies] == [(complaint.id, typed)]

    with session_factory() as session:
        events = session.scalars(
            select(ResponseTimeEvent).where(
                ResponseTimeEvent.mention_id == mention.id, ResponseTimeEvent.kind == FIRST_RESPONSE
            )
        ).all()
        assert len(events) == 1 and events[0].seconds >= 0
        assert session.get(Mention, mention.id).status == "replied"
