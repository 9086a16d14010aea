"""Queueing replies and reading the outbox. The employee writes the text; we only carry it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.employees.models import Employee
from responders.replies import limits
from responders.replies.models import OutboxReply


class ReplyInvalid(ValueError):
    """The reply cannot be queued: no such mention, empty text, too long."""


def queue_reply(
    session: Session,
    *,
    mention_id: int,
    employee_id: int,
    text: str,
    now: datetime | None = None,
) -> OutboxReply:
    """Put an employee's reply to a mention in the outbox (status queued); flushes, no commit."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise ReplyInvalid(f"no mention with id {mention_id}")
    if session.get(Employee, employee_id) is None:
        raise ReplyInvalid(f"no employee with id {employee_id}")
    text = text.strip()
    if not text:
        raise ReplyInvalid("the reply is empty")
    try:
        limits.check_length(mention.network, text)
    except ValueError as exc:  # too long, or a network we cannot reply on
        raise ReplyInvalid(str(exc)) from None
    queued_at = now or datetime.now(UTC)
    reply = OutboxReply(
        mention_id=mention.id,
        employee_id=employee_id,
        network=mention.network,
        source_name=mention.source_name,
        in_reply_to_id=mention.external_id,
        text=text,
        next_attempt_at=queued_at,
        created_at=queued_at,
    )
    session.add(reply)
    session.flush()
    return reply


def get_reply(session: Session, reply_id: int) -> OutboxReply | None:
    return session.get(OutboxReply, reply_id)


def list_outbox(
    session: Session, *, limit: int = 50, status: str | None = None
) -> list[OutboxReply]:
    """The most recent outbox rows, newest first."""
    query = select(OutboxReply).order_by(OutboxReply.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxReply.status == status)
    return list(session.scalars(query))


def reply_url(reply: OutboxReply, mention: Mention) -> str | None:
    """Where a posted reply can be seen, derived from the mention's own link."""
    if reply.external_id is None:
        return None
    if reply.network == "x":
        return f"https://x.com/i/web/status/{reply.external_id}"
    if reply.network == "reddit":
        # https://www.reddit.com/r/<sub>/comments/<post id>/<slug>/[<comment id>/]
        head, marker, tail = mention.url.partition("/comments/")
        if not marker:
            return None
        post_id, _, rest = tail.partition("/")
        slug = rest.split("/", 1)[0] or "_"
        comment_id = reply.external_id.partition("_")[2] or reply.external_id
        return f"{head}/comments/{post_id}/{slug}/{comment_id}/"
    if reply.network == "bluesky":
        # at://<did>/app.bsky.feed.post/<rkey>; bsky.app resolves a DID as well as a handle.
        did, _, rkey = reply.external_id.removeprefix("at://").partition("/app.bsky.feed.post/")
        return f"https://bsky.app/profile/{did}/post/{rkey}" if did and rkey else None
    if reply.network == "mastodon":
        # "<instance>/<status id>": Mastodon's web app opens /statuses/<id> (its permalink
        # redirector finds the account itself).
        instance, _, status_id = reply.external_id.rpartition("/")
        return f"https://{instance}/statuses/{status_id}" if instance and status_id else None
    return None
