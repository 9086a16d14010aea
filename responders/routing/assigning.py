"""Putting a mention in one person's hands: the route, the conversation, the history, the notice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.inbox.history import record_event
from responders.inbox.models import EVENT_ASSIGN, Conversation
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.routing.notices import notify_assigned


def give_to(
    session: Session,
    *,
    mention: Mention,
    route: MentionRoute,
    employee_id: int,
    at: datetime,
    kind: str = EVENT_ASSIGN,
    actor_id: int | None = None,
    detail: str | None = None,
    notify: bool = True,
) -> None:
    """Assign (or claim, transfer, escalate to) `employee_id`, record it, tell them.

    Adds rows without flushing, so a batch of assignments costs one flush; callers flush."""
    previous = route.assignee_id
    route.assignee_id = employee_id
    route.assigned_at = at
    if mention.status not in ("replied", "resolved"):
        mention.status = STATUS_ASSIGNED
    conversation = session.get(Conversation, route.conversation_id)
    if conversation is not None:
        conversation.assignee_id = employee_id
        conversation.team_id = route.team_id or conversation.team_id
    if detail is None and previous is not None and previous != employee_id:
        detail = f"from employee {previous}"
    record_event(
        session,
        conversation_id=route.conversation_id,
        kind=kind,
        at=at,
        mention_id=mention.id,
        actor_id=actor_id,
        employee_id=employee_id,
        detail=detail,
    )
    if notify and actor_id != employee_id:  # nobody needs telling about what they did themselves
        notify_assigned(session, mention=mention, employee_id=employee_id, now=at)
