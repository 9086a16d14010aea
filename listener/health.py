"""Each source's health: when it last worked, why it last failed, and until when it is paused.

A failing source backs off on its own (exponential, full jitter, capped) without holding up the
others; a rate-limited one waits exactly until the network says it may come back.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.sources.errors import AuthFailed, RateLimited, SourceError
from listener.store.ingest import dialect_insert
from listener.store.models import SourceHealth

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
# Refused credentials will not fix themselves; check again rarely, someone has to act.
AUTH_FAILED_PAUSE = BACKOFF_CAP
MAX_ERROR_LENGTH = 500

# Anything that looks like a credential in an error text: "Bearer abc", "token=abc", "password: x".
_SCHEME_SECRET = re.compile(r"(?i)\b(bearer|basic|oauth)\s+[^\s,;]+")
_KEY_VALUE_SECRET = re.compile(
    r"(?i)\b(authorization|access_token|refresh_token|token|secret|client_secret|password|"
    r"api_key|apikey)\b(\s*[:=]\s*)(?!(?:bearer|basic|oauth)\b)(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)"
)


def backoff_delay(
    consecutive_failures: int,
    *,
    base: timedelta = BACKOFF_BASE,
    cap: timedelta = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> timedelta:
    """How long to wait after the n-th failure in a row: uniform in [0, min(cap, base * 2**(n-1))].

    Full jitter spreads the retries of many workers instead of having them return together.
    """
    if consecutive_failures <= 0:
        return timedelta(0)
    rng = rng or random  # type: ignore[assignment]
    # Cap the exponent first: 2**n overflows timedelta long before it matters.
    exponent = min(consecutive_failures - 1, 32)
    ceiling = min(cap, base * (2**exponent))
    return timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))


def is_paused(health: SourceHealth | None, now: datetime) -> bool:
    return health is not None and health.paused_until is not None and health.paused_until > now


def safe_error_message(error: BaseException) -> str:
    """A short, single-line description of `error`, with anything credential-like blanked out."""
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, SourceError):
        text = f"{type(error).__name__}: {text}"
    text = " ".join(text.split())
    text = _SCHEME_SECRET.sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _KEY_VALUE_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    if len(text) > MAX_ERROR_LENGTH:
        text = text[: MAX_ERROR_LENGTH - 1] + "…"
    return text


def locked_health(session: Session, source_name: str, network: str) -> SourceHealth:
    """The health row of a source, created if missing, locked for this transaction on PostgreSQL.

    Created with ON CONFLICT DO NOTHING so that two processes seeing a new source at once both
    succeed; the row lock then serialises their updates of the counters.
    """
    table = SourceHealth.__table__
    session.execute(
        dialect_insert(session, table)
        .values(
            source_name=source_name,
            network=network,
            consecutive_failures=0,
            mentions_stored=0,
        )
        .on_conflict_do_nothing(index_elements=[table.c.source_name])
    )
    return session.execute(
        select(SourceHealth)
        .where(SourceHealth.source_name == source_name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def record_success(
    session: Session, source_name: str, network: str, now: datetime, stored: int
) -> SourceHealth:
    health = locked_health(session, source_name, network)
    health.last_poll_at = now
    health.last_success_at = now
    health.consecutive_failures = 0
    health.paused_until = None
    health.mentions_stored = (health.mentions_stored or 0) + stored
    session.flush()
    return health


def record_failure(
    session: Session,
    source_name: str,
    network: str,
    now: datetime,
    error: BaseException,
    *,
    rng: random.Random | None = None,
) -> SourceHealth:
    """Count the failure and pause the source: until the network's reset, or for a backoff."""
    health = locked_health(session, source_name, network)
    failures = (health.consecutive_failures or 0) + 1
    health.consecutive_failures = failures
    health.last_poll_at = now
    health.last_error_at = now
    health.last_error = safe_error_message(error)
    health.paused_until = pause_until(error, now, failures, rng=rng)
    session.flush()
    return health


def pause_until(
    error: BaseException, now: datetime, failures: int, *, rng: random.Random | None = None
) -> datetime:
    if isinstance(error, RateLimited):
        # Never earlier than now: a reset in the past (clock skew) just means "try again".
        return max(error.retry_at, now)
    if isinstance(error, AuthFailed):
        return now + AUTH_FAILED_PAUSE
    return now + backoff_delay(failures, rng=rng)
