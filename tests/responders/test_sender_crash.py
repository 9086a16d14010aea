"""Exactly once across a real crash: a sender process is killed with SIGKILL after X accepted
its reply but before it could record that, and the next sender run must not post it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Brand, SourceConfig
from listener.sources import x
from listener.store.models import Author, Mention
from responders.employees.models import Employee
from responders.replies import sender
from responders.replies.models import STATUS_POSTED, STATUS_SENDING, OutboxReply
from responders.replies.service import queue_reply
from sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
BRANDS = [Brand(name="Northwind Air", names=["Northwind Air"], handles=["@northwindair"])]

# The real sender, in its own process, as `mentiondesk run` would run it.
CHILD = """
import sys
from config.settings import Brand, SourceConfig
from listener.sources import x
from listener.store.db import make_engine, make_session_factory
from responders.replies import sender

database_url, api_base_url = sys.argv[1], sys.argv[2]
config = SourceConfig(
    name="x-main", network="x", credentials={"bearer_token": "T_X_BEARER"},
    api_base_url=api_base_url, account_handle="northwindair", request_timeout_seconds=30,
)
brands = [Brand(name="Northwind Air", names=["Northwind Air"], handles=["@northwindair"])]
factory = make_session_factory(make_engine(database_url))
sender.send_pending(factory, {"x-main": x.build(config, brands)})
"""


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextmanager
def outbox_row_locked(engine: Engine, session_factory: sessionmaker[Session], reply_id: int):
    """Hold the lock a sender needs to record its outcome (SQLite: the database's write lock;
    PostgreSQL: the row), so the child cannot commit before it is killed."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("BEGIN IMMEDIATE")
            yield
            raw.driver_connection.execute("ROLLBACK")
        finally:
            raw.close()
    else:
        with session_factory() as session:
            session.execute(
                select(OutboxReply).where(OutboxReply.id == reply_id).with_for_update()
            ).one()
            yield
            session.rollback()


def status_of(session_factory: sessionmaker[Session], reply_id: int) -> OutboxReply:
    with session_factory() as session:
        return session.get_one(OutboxReply, reply_id)


def test_sigkill_between_post_and_commit_still_posts_once(
    sandbox: SandboxServer,
    engine: Engine,
    session_factory,
    session: Session,
    database_url: str,
    monkeypatch,
):
    monkeypatch.setenv("T_X_BEARER", "sandbox-token")
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    post = sandbox.state.publish("x", "alice", "@northwindair where is my bag?")
    mention = Mention(
        network="x",
        external_id=post.id,
        source_name="x-main",
        url=f"https://x.com/alice/status/{post.id}",
        author=Author(network="x", external_id=post.author_id, handle="alice"),
        text=post.text,
        posted_at=post.created_at,
        brand="Northwind Air",
        matched_query="@northwindair",
        raw={},
    )
    employee = Employee(name="Ann", email="ann@example.com")
    session.add_all([mention, employee])
    session.flush()
    reply = queue_reply(
        session, mention_id=mention.id, employee_id=employee.id, text="Found it, Alice!"
    )
    session.commit()
    # X takes a moment before it creates the post: time to take the lock once "sending" is in.
    sandbox.state.add_fault(network="x", kind="slow", path_contains="/2/tweets", delay_seconds=1)
    started = datetime.now(UTC)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, sandbox.url + "/x"], env=env, cwd=REPO
    )
    try:
        wait_for(lambda: status_of(session_factory, reply.id).status == STATUS_SENDING, "claim")
        with outbox_row_locked(engine, session_factory, reply.id):
            wait_for(lambda: len(sandbox.state.snapshot()["replies"]["x"]) == 1, "X to post")
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()

    row = status_of(session_factory, reply.id)
    assert (row.status, row.external_id) == (STATUS_SENDING, None)  # the outcome was lost

    sources = {"x-main": x.build(_config(sandbox), BRANDS)}
    assert sender.send_pending(session_factory, sources) == 0  # the claim's lease still runs
    later = started + sender.SENDING_LEASE + timedelta(seconds=5)
    assert sender.send_pending(session_factory, sources, now=later) == 1

    replies = requests.get(f"{sandbox.url}/_sandbox/state", timeout=10).json()["replies"]["x"]
    assert [(r["in_reply_to_id"], r["text"]) for r in replies] == [(post.id, "Found it, Alice!")]
    row = status_of(session_factory, reply.id)
    assert (row.status, row.external_id) == (STATUS_POSTED, replies[0]["id"])


def _config(sandbox: SandboxServer) -> SourceConfig:
    return SourceConfig(
        name="x-main",
        network="x",
        credentials={"bearer_token": "T_X_BEARER"},
        api_base_url=sandbox.url + "/x",
        account_handle="northwindair",
    )
