"""Finding a mention's conversation: the same author in the same thread on the same network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.inbox.history import record_event
from responders.inbox.models import (
    CONVERSATION_OPEN,
    CONVERSATION_RESOLVED,
    EVENT_REOPEN,
    Conversation,
)


def conversation_key(mention: Mention) -> str:
    thread = mention.conversation_id or mention.external_id
    return f"{mention.network}:{thread}:{mention.author_id}"


def open_conversation_for(session: Session, mention: Mention, *, now: datetime) -> Conversation:
    """The mention's conversation, created if new and reopened if it was resolved."""
    return open_conversations_for(session, [mention], now=now)[mention.id]


def open_conversations_for(
    session: Session, mentions: list[Mention], *, now: datetime
) -> dict[int, Conversation]:
    """Each mention's conversation (by mention id), created if new, reopened if resolved.

    One insert-or-ignore and one locking select for the whole batch, so two workers meeting the
    same new thread both end up with one row. Keys are sorted so that workers always lock in
    the same order (no deadlock between overlapping batches).
    """
    ordered = sorted(mentions, key=lambda m: (m.posted_at, m.id))
    first_by_key: dict[str, Mention] = {}
    for mention in ordered:
        first_by_key.setdefault(conversation_key(mention), mention)
    if not first_by_key:
        return {}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Conversation)
        .values(
            [
                {
                    "key": key,
                    "network": first.network,
                    "author_id": first.author_id,
                    "status": CONVERSATION_OPEN,
                    "opened_at": first.posted_at,
                    "last_activity_at": first.posted_at,
                }
                for key, first in sorted(first_by_key.items())
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    by_key = {
        conversation.key: conversation
        for conversation in session.scalars(
            select(Conversation)
            .where(Conversation.key.in_(first_by_key))
            .order_by(Conversation.key)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    }
    found: dict[int, Conversation] = {}
    for mention in ordered:
        conversation = by_key[conversation_key(mention)]
        _take_in(session, conversation, mention, now)
        found[mention.id] = conversation
    session.flush()
    return found


def _take_in(session: Session, conversation: Conversation, mention: Mention, now: datetime) -> None:
    if conversation.status == CONVERSATION_RESOLVED:
        # A follow-up after resolution: the conversation is live again, timed afresh.
        conversation.status = CONVERSATION_OPEN
        conversation.resolved_at = None
        conversation.opened_at = mention.posted_at
        record_event(
            session,
            conversation_id=conversation.id,
            kind=EVENT_REOPEN,
            at=now,
            mention_id=mention.id,
            detail="follow-up after resolution",
        )
    conversation.last_activity_at = max(conversation.last_activity_at, mention.posted_at)
