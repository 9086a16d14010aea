"""The sender job: posts queued replies to the networks, each exactly once.

Exactly once, even if this process dies at the worst moment:
1. claim: one short transaction moves the row to "sending" (a compare-and-set UPDATE, so two
   senders never both claim it) and commits BEFORE the network is called;
2. post: the network call, outside any transaction;
3. record: a second transaction stores the network's id and moves the row to "posted".
A crash between 2 and 3 leaves the row in "sending". Nobody can tell from the database whether
the post went out, so once the claim's lease has run out (longer than any one send can take,
timeouts and client retries included) the next pass asks the network whether the account already
replied to that post with that text (`find_reply`) and only posts if it did not. Any retry after
an uncertain failure (a timeout, a 5xx, an unreadable answer) asks the same question first.

Failures: a rate limit waits until the network's reset time; unavailability backs off
exponentially; anything else is permanent and the row is failed with a reason worded for the
employee (the post was deleted, X's reply rule with the post's link to answer by hand, a 403).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from listener.sources.errors import (
    AuthFailed,
    BadPayload,
    RateLimited,
    ReplyNotAllowed,
    ReplyTargetGone,
    SourceError,
    SourceUnavailable,
)
from listener.store.db import session_scope
from responders.inbox import service as inbox
from responders.replies.models import (
    STATUS_FAILED,
    STATUS_POSTED,
    STATUS_QUEUED,
    STATUS_SENDING,
    OutboxReply,
)

log = logging.getLogger(__name__)

# Longer than one send can take: tweepy/praw timeouts times prawcore's own retries.
SENDING_LEASE = timedelta(minutes=5)
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 12  # uncertain failures in a row before giving up (about 6 h of backoff)
BATCH_SIZE = 50


class ReplySource(Protocol):
    """What the sender needs from a source (XSource, RedditSource)."""

    name: str
    network: str

    def reply(self, in_reply_to_id: str, text: str) -> str: ...

    def find_reply(self, in_reply_to_id: str, text: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    network: str
    source_name: str
    in_reply_to_id: str
    text: str
    attempts: int
    uncertain: bool  # an earlier attempt may have reached the network


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_pending(
    session_factory: sessionmaker[Session],
    sources: Mapping[str, ReplySource],
    *,
    now: datetime | None = None,
    lease: timedelta = SENDING_LEASE,
    batch_size: int = BATCH_SIZE,
    only_ids: list[int] | None = None,
) -> int:
    """One pass over due replies (and expired claims); returns how many were posted.

    `sources` maps a source name or a network name to its source; rows whose source is not
    there stay queued for a process that has it.
    """
    now = now or datetime.now(UTC)
    posted = 0
    for reply_id in _due_ids(session_factory, sources, now, lease, batch_size, only_ids):
        claimed = _claim(session_factory, reply_id, now, lease)
        if claimed is None:
            continue  # another sender took it first
        source = _source_for(sources, claimed.source_name, claimed.network)
        if source is None:  # _due_ids filters these; a config change between the two is possible
            _release(session_factory, claimed.id)
            continue
        if send_claimed(session_factory, source, claimed, now=now):
            posted += 1
    return posted


def send_claimed(
    session_factory: sessionmaker[Session],
    source: ReplySource,
    claimed: _Claimed,
    *,
    now: datetime,
) -> bool:
    """Post one claimed reply (unless the network already has it) and record the outcome."""
    try:
        external_id = None
        if claimed.uncertain:
            external_id = source.find_reply(claimed.in_reply_to_id, claimed.text)
            if external_id is not None:
                log.info("reply %s was already on %s as %s", claimed.id, source.name, external_id)
        if external_id is None:
            external_id = source.reply(claimed.in_reply_to_id, claimed.text)
    except RateLimited as exc:
        _retry_later(session_factory, claimed, at=max(exc.retry_at, now), error=str(exc))
        return False
    except (SourceUnavailable, BadPayload) as exc:
        _retry_or_give_up(session_factory, claimed, now=now, error=str(exc))
        return False
    except SourceError as exc:
        _fail(session_factory, claimed, exc)
        return False
    except Exception as exc:  # a bug in a client library must not lose the reply
        log.exception("reply %s: unexpected error while posting", claimed.id)
        _retry_or_give_up(session_factory, claimed, now=now, error=f"{type(exc).__name__}: {exc}")
        return False
    _record_posted(session_factory, claimed, external_id, now=now)
    return True


# The three transactions ------------------------------------------------------------------------
def _due_ids(
    session_factory: sessionmaker[Session],
    sources: Mapping[str, ReplySource],
    now: datetime,
    lease: timedelta,
    batch_size: int,
    only_ids: list[int] | None,
) -> list[int]:
    with session_scope(session_factory) as session:
        query = (
            select(OutboxReply.id, OutboxReply.source_name, OutboxReply.network)
            .where(_claimable(now, lease))
            .order_by(OutboxReply.next_attempt_at, OutboxReply.id)
            .limit(batch_size)
        )
        if only_ids is not None:
            query = query.where(OutboxReply.id.in_(only_ids))
        rows = session.execute(query).all()
    return [row.id for row in rows if _source_for(sources, row.source_name, row.network)]


def _claimable(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    return or_(
        and_(OutboxReply.status == STATUS_QUEUED, OutboxReply.next_attempt_at <= now),
        and_(OutboxReply.status == STATUS_SENDING, OutboxReply.claimed_at <= now - lease),
    )


def _claim(
    session_factory: sessionmaker[Session], reply_id: int, now: datetime, lease: timedelta
) -> _Claimed | None:
    """Move the row to "sending" and commit, unless someone else got there first."""
    with session_scope(session_factory) as session:
        reply = session.get(OutboxReply, reply_id)
        if reply is None:
            return None
        # A row still "sending" was left by a sender that died mid-post; a retry may follow a
        # failure whose request reached the network. Either way: ask before posting again.
        uncertain = reply.status == STATUS_SENDING or reply.attempts > 0
        claimed = session.execute(
            update(OutboxReply)
            .where(OutboxReply.id == reply_id, _claimable(now, lease))
            .values(
                status=STATUS_SENDING,
                claimed_at=now,
                attempts=OutboxReply.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            return None
        return _Claimed(
            id=reply.id,
            network=reply.network,
            source_name=reply.source_name,
            in_reply_to_id=reply.in_reply_to_id,
            text=reply.text,
            attempts=reply.attempts + 1,
            uncertain=uncertain,
        )


def _release(session_factory: sessionmaker[Session], reply_id: int) -> None:
    with session_scope(session_factory) as session:
        reply = session.get(OutboxReply, reply_id)
        if reply is not None and reply.status == STATUS_SENDING:
            reply.status = STATUS_QUEUED
            reply.attempts = max(reply.attempts - 1, 0)


def _record_posted(
    session_factory: sessionmaker[Session], claimed: _Claimed, external_id: str, *, now: datetime
) -> None:
    with session_scope(session_factory) as session:
        reply = session.get_one(OutboxReply, claimed.id)
        reply.status = STATUS_POSTED
        reply.external_id = external_id
        reply.posted_at = now
        reply.error = None
        session.flush()
        _after_posted(session, reply)
    log.info("reply %s posted on %s as %s", claimed.id, claimed.network, external_id)


def _after_posted(session: Session, reply: OutboxReply) -> None:
    """The conversation moves on in the same transaction as the reply's own status.

    In a savepoint: if the inbox cannot take it, the reply is still recorded as posted.
    """
    try:
        with session.begin_nested():
            inbox.record_reply_posted(
                session,
                mention_id=reply.mention_id,
                employee_id=reply.employee_id,
                posted_at=reply.posted_at or datetime.now(UTC),
            )
    except inbox.InboxError as exc:
        log.error("reply %s posted, but the inbox could not record it: %s", reply.id, exc)


def _retry_later(
    session_factory: sessionmaker[Session], claimed: _Claimed, *, at: datetime, error: str
) -> None:
    with session_scope(session_factory) as session:
        reply = session.get_one(OutboxReply, claimed.id)
        reply.status = STATUS_QUEUED
        reply.next_attempt_at = at
        reply.error = f"retrying at {at:%Y-%m-%d %H:%M:%S}Z: {error}"
    log.warning("reply %s: %s; retrying at %s", claimed.id, error, at.isoformat())


def _retry_or_give_up(
    session_factory: sessionmaker[Session], claimed: _Claimed, *, now: datetime, error: str
) -> None:
    if claimed.attempts >= MAX_ATTEMPTS:
        with session_scope(session_factory) as session:
            reply = session.get_one(OutboxReply, claimed.id)
            reply.status = STATUS_FAILED
            reply.error = (
                f"Gave up after {claimed.attempts} attempts; the network kept failing "
                f"({error}). Nothing was posted; queue the reply again to retry."
            )
        log.error("reply %s failed for good: %s", claimed.id, error)
        return
    _retry_later(session_factory, claimed, at=now + backoff(claimed.attempts), error=error)


def _fail(session_factory: sessionmaker[Session], claimed: _Claimed, exc: SourceError) -> None:
    with session_scope(session_factory) as session:
        reply = session.get_one(OutboxReply, claimed.id)
        reply.status = STATUS_FAILED
        reply.error = failure_reason(exc, network=reply.network, post_url=reply.mention.url)
    log.warning("reply %s refused by %s: %s", claimed.id, claimed.network, exc)


def failure_reason(exc: SourceError, *, network: str, post_url: str) -> str:
    """Why the reply was not posted, and what the employee can do about it."""
    if isinstance(exc, ReplyTargetGone):
        return f"The post was deleted or is no longer visible, so nothing was sent ({post_url})."
    if isinstance(exc, ReplyNotAllowed) and network == "x":
        return (
            "X only lets the account reply to people who mentioned or quoted it, and this "
            f"author did not. Answer by hand on X if it needs an answer: {post_url}"
        )
    if isinstance(exc, ReplyNotAllowed):
        return f"{network} does not allow replies there (locked or archived): {post_url} ({exc})"
    if isinstance(exc, AuthFailed):
        return (
            f"{network} refused the reply; nothing was posted. If it persists, check the "
            f"account's access. ({exc})"
        )
    return f"{network} refused the reply; nothing was posted. ({exc})"


def _source_for(
    sources: Mapping[str, ReplySource], source_name: str, network: str
) -> ReplySource | None:
    return sources.get(source_name) or sources.get(network)
