"""The auto-resolve job: replied conversations with no follow-up for N days are resolved."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.inbox.models import CONVERSATION_OPEN, Conversation
from responders.inbox.service import WAITING, resolve_conversation
from responders.routing.models import MentionRoute

log = logging.getLogger(__name__)


def auto_resolve(
    session: Session, *, now: datetime, after_days: float, batch_size: int = 200
) -> int:
    cutoff = now - timedelta(days=after_days)
    still_waiting = (
        select(MentionRoute.mention_id)
        .join(Mention, Mention.id == MentionRoute.mention_id)
        .where(MentionRoute.conversation_id == Conversation.id, Mention.status.in_(WAITING))
        .exists()
    )
    quiet = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.status == CONVERSATION_OPEN,
                Conversation.first_reply_at.is_not(None),
                Conversation.last_activity_at <= cutoff,
                ~still_waiting,
            )
            .order_by(Conversation.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True, of=Conversation)
        )
    )
    for conversation in quiet:
        resolve_conversation(
            session,
            conversation=conversation,
            now=now,
            detail=f"no follow-up for {after_days:g} day(s)",
        )
    session.flush()
    if quiet:
        log.info("auto-resolved %d conversation(s)", len(quiet))
    return len(quiet)
