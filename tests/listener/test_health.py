"""Source health: backoff arithmetic, pauses, and what is recorded (real database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from listener import health
from listener.sources.errors import AuthFailed, BadPayload, RateLimited, SourceUnavailable
from listener.store.db import session_scope
from listener.store.models import SourceHealth

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class Highest(random.Random):
    """Always draws the top of the range, so the ceiling of the jitter can be checked exactly."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_ceiling_doubles_then_caps():
    base, cap = timedelta(seconds=10), timedelta(seconds=100)
    ceilings = [
        health.backoff_delay(n, base=base, cap=cap, rng=Highest()).total_seconds()
        for n in range(1, 7)
    ]
    assert ceilings == [10, 20, 40, 80, 100, 100]


def test_backoff_is_jittered_within_bounds():
    rng = random.Random(7)
    delays = {health.backoff_delay(3, rng=rng) for _ in range(200)}
    assert all(timedelta(0) <= d <= health.BACKOFF_BASE * 4 for d in delays)
    assert len(delays) > 100  # full jitter: spread out, not one value


def test_backoff_never_overflows_and_zero_failures_means_no_wait():
    assert health.backoff_delay(10_000, rng=Highest()) == health.BACKOFF_CAP
    assert health.backoff_delay(0) == timedelta(0)


def test_is_paused():
    assert not health.is_paused(None, NOW)
    state = SourceHealth(source_name="x", network="x", paused_until=NOW + timedelta(seconds=1))
    assert health.is_paused(state, NOW)
    assert not health.is_paused(state, NOW + timedelta(seconds=1))


def test_rate_limit_pauses_until_the_networks_reset(session_factory, session):
    reset = NOW + timedelta(minutes=7)
    with session_scope(session_factory) as s:
        health.record_failure(s, "x", "x", NOW, RateLimited("429 from X", retry_at=reset))
    state = session.get(SourceHealth, "x")
    assert state.paused_until == reset
    assert state.consecutive_failures == 1
    assert state.last_error == "429 from X"
    assert state.last_error_at == NOW


def test_failures_count_up_and_back_off_then_success_resets(session_factory, session):
    for i in range(3):
        with session_scope(session_factory) as s:
            health.record_failure(
                s, "reddit", "reddit", NOW, SourceUnavailable(f"HTTP 503 #{i}"), rng=Highest()
            )
    state = session.get(SourceHealth, "reddit")
    assert state.consecutive_failures == 3
    assert state.paused_until == NOW + health.BACKOFF_BASE * 4
    assert state.last_error == "HTTP 503 #2"

    later = NOW + timedelta(hours=1)
    with session_scope(session_factory) as s:
        health.record_success(s, "reddit", "reddit", later, stored=5)
        health.record_success(s, "reddit", "reddit", later, stored=2)
    session.expire_all()
    state = session.get(SourceHealth, "reddit")
    assert state.consecutive_failures == 0
    assert state.paused_until is None
    assert state.last_success_at == later
    assert state.mentions_stored == 7
    assert state.last_error == "HTTP 503 #2"  # kept for the record, with its time


def test_auth_failure_pauses_long(session_factory, session):
    with session_scope(session_factory) as s:
        health.record_failure(s, "x", "x", NOW, AuthFailed("credentials refused (HTTP 401)"))
    assert session.get(SourceHealth, "x").paused_until == NOW + health.AUTH_FAILED_PAUSE


def test_error_messages_are_short_single_line_and_hide_secrets(session_factory, session):
    leaky = BadPayload(
        "bad answer\nAuthorization: Bearer AAAsecretTOKEN123 password=hunter2 " + "x" * 2000
    )
    with session_scope(session_factory) as s:
        health.record_failure(s, "x", "x", NOW, leaky)
    message = session.scalar(select(SourceHealth.last_error))
    assert "\n" not in message
    assert "AAAsecretTOKEN123" not in message
    assert "hunter2" not in message
    assert message.startswith("bad answer Authorization: Bearer [redacted] password=[redacted] x")
    assert len(message) <= health.MAX_ERROR_LENGTH


def test_secret_patterns():
    assert health.safe_error_message(SourceUnavailable("token: abc, secret='x y'")) == (
        "token: [redacted], secret=[redacted]"
    )
    assert health.safe_error_message(SourceUnavailable("Authorization=abc")) == (
        "Authorization=[redacted]"
    )
    assert health.safe_error_message(SourceUnavailable("HTTP 503 from /2/tweets")) == (
        "HTTP 503 from /2/tweets"
    )


def test_unexpected_errors_are_named_by_type():
    assert health.safe_error_message(KeyError("id")) == "KeyError: 'id'"
