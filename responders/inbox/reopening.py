"""Reopening a resolved conversation by hand: the mention goes back in its assignee's queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from listener.store.models import STATUS_RESOLVED, STATUS_ROUTED, Mention
from responders.inbox.history import record_event
from responders.inbox.models import CONVERSATION_OPEN, EVENT_REOPEN, Conversation
from responders.inbox.service import InboxError
from responders.routing.models import STATUS_ASSIGNED, MentionRoute


def reopen(
    session: Session,
    *,
    mention_id: int,
    now: datetime,
    actor_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Open the mention's conversation again and put the mention back in a queue: its assignee's
    if it has one, else its team's. Resolution time is measured afresh from now."""
    mention = session.get(Mention, mention_id)
    route = session.get(MentionRoute, mention_id)
    if mention is None or route is None or route.ignored:
        raise InboxError(f"mention #{mention_id} is not in any queue (not routed yet, or ignored)")
    conversation = session.get(Conversation, route.conversation_id)
    assert conversation is not None
    if conversation.status == CONVERSATION_OPEN and mention.status != STATUS_RESOLVED:
        raise InboxError(f"mention #{mention_id} is not resolved")
    conversation.status = CONVERSATION_OPEN
    conversation.resolved_at = None
    conversation.opened_at = now
    conversation.last_activity_at = max(conversation.last_activity_at, now)
    mention.status = STATUS_ASSIGNED if route.assignee_id is not None else STATUS_ROUTED
    record_event(
        session,
        conversation_id=conversation.id,
        kind=EVENT_REOPEN,
        at=now,
        mention_id=mention.id,
        actor_id=actor_id,
        employee_id=route.assignee_id,
        detail=detail or "reopened by hand",
    )
    session.flush()
