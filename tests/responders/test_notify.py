"""Notifications: a real SMTP server (aiosmtpd) and a real HTTP webhook on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.notify import EmailSettings, NotifyConfig
from responders.employees.models import Employee
from responders.notify.models import (
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENT,
    STATUS_SKIPPED,
    Notification,
)
from responders.notify.service import backoff, deliver_pending, enqueue_notification

WEBHOOK_ENV = "TEST_NOTIFY_WEBHOOK_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Webhook:
    """A Slack-compatible endpoint that answers 500 to the first `failures` posts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.append(body)
                failing = len(hook.received) <= hook.failures
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"oops" if failing else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0/B0/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_factory() -> Iterator:
    hooks: list[Webhook] = []

    def make(failures: int = 0) -> Webhook:
        hooks.append(Webhook(failures))
        return hooks[-1]

    yield make
    for hook in hooks:
        hook.close()


def employee(session: Session) -> Employee:
    ann = Employee(name="Ann Agent", email="ann@example.com")
    session.add(ann)
    session.flush()
    return ann


def rows(session_factory) -> dict[str, Notification]:
    with session_factory() as s:
        return {n.channel: n for n in s.scalars(select(Notification))}


def settings(smtp_port: int | None, *, max_attempts: int = 8) -> NotifyConfig:
    email = (
        EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp_port, sender="desk@example.com")
        if smtp_port
        else None
    )
    return NotifyConfig(
        email=email,
        webhook_url_env=WEBHOOK_ENV,
        webhook_timeout_seconds=5,
        max_attempts=max_attempts,
    )


def test_assignment_reaches_the_employee_by_email_and_webhook(
    session, session_factory, smtp, webhook_factory
):
    inbox, port = smtp
    hook = webhook_factory()
    ann = employee(session)
    enqueue_notification(
        session,
        kind="assignment",
        employee_id=ann.id,
        subject="New mention for you: #12",
        body="@alice: my bag never arrived",
        link="https://x.com/alice/status/1",
    )
    session.commit()

    delivered = deliver_pending(session_factory, settings(port), environ={WEBHOOK_ENV: hook.url})

    assert delivered == 2
    [(recipients, raw)] = inbox.messages
    message = message_from_bytes(raw)
    assert recipients == ["ann@example.com"]
    assert message["Subject"] == "New mention for you: #12"
    assert message["To"] == "Ann Agent <ann@example.com>"
    assert "my bag never arrived" in message.get_payload()
    assert "https://x.com/alice/status/1" in message.get_payload()
    [posted] = hook.received
    assert set(posted) == {"text"}
    assert "New mention for you: #12" in posted["text"] and "Ann Agent" in posted["text"]
    sent = rows(session_factory)
    assert {c: n.status for c, n in sent.items()} == {"email": STATUS_SENT, "webhook": STATUS_SENT}
    assert sent["email"].recipient == "ann@example.com"
    assert hook.url not in (sent["webhook"].recipient or "")  # the URL is a secret
    assert deliver_pending(session_factory, settings(port), environ={WEBHOOK_ENV: hook.url}) == 0


def test_failing_webhook_is_retried_with_backoff(session, session_factory, smtp, webhook_factory):
    _, port = smtp
    hook = webhook_factory(failures=1)
    enqueue_notification(
        session, kind="escalation", employee_id=employee(session).id, subject="SLA", body="late"
    )
    session.commit()
    now = datetime.now(UTC)
    environ = {WEBHOOK_ENV: hook.url}

    assert deliver_pending(session_factory, settings(port), now=now, environ=environ) == 1
    first = rows(session_factory)["webhook"]
    assert (first.status, first.attempts) == (STATUS_PENDING, 1)
    assert first.next_attempt_at == now + backoff(1)
    assert "500" in first.last_error
    assert rows(session_factory)["email"].status == STATUS_SENT  # one channel's trouble only

    assert deliver_pending(session_factory, settings(port), now=now, environ=environ) == 0
    later = first.next_attempt_at
    assert deliver_pending(session_factory, settings(port), now=later, environ=environ) == 1
    assert rows(session_factory)["webhook"].status == STATUS_SENT
    assert len(hook.received) == 2


def test_unreachable_smtp_gives_up_after_max_attempts_and_unconfigured_is_skipped(
    session, session_factory, caplog
):
    enqueue_notification(
        session, kind="assignment", employee_id=employee(session).id, subject="S", body="B"
    )
    session.commit()
    closed = free_port()  # nothing listens there
    config = NotifyConfig(
        email=EmailSettings(smtp_host="127.0.0.1", smtp_port=closed, sender="d@example.com"),
        max_attempts=2,
    )
    now = datetime.now(UTC)

    assert deliver_pending(session_factory, config, now=now, environ={}) == 0
    webhook = rows(session_factory)["webhook"]
    assert webhook.status == STATUS_SKIPPED and "webhook" in webhook.last_error
    email = rows(session_factory)["email"]
    assert (email.status, email.attempts) == (STATUS_PENDING, 1)

    deliver_pending(session_factory, config, now=email.next_attempt_at, environ={})
    email = rows(session_factory)["email"]
    assert (email.status, email.attempts) == (STATUS_FAILED, 2)
    assert "given up" in caplog.text


def test_missing_webhook_secret_is_retried_and_named(session, session_factory):
    enqueue_notification(
        session, kind="assignment", employee_id=employee(session).id, subject="S", body="B"
    )
    session.commit()

    deliver_pending(session_factory, settings(None), environ={})

    webhook = rows(session_factory)["webhook"]
    assert webhook.status == STATUS_PENDING and WEBHOOK_ENV in webhook.last_error
    assert rows(session_factory)["email"].status == STATUS_SKIPPED
