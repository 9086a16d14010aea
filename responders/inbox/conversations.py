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
    """The mention's conversation, created if new and reopened if it was resolved.

    Insert-or-ignore first, so two workers meeting the same new thread both end up with one row.
    """
    key = conversation_key(mention)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Conversation)
        .values(
            key=key,
            network=mention.network,
            author_id=mention.author_id,
            status=CONVERSATION_OPEN,
            opened_at=mention.posted_at,
            last_activity_at=mention.posted_at,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    conversation = session.scalars(
        select(Conversation)
        .where(Conversation.key == key)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
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
    session.flush()
    return conversation
