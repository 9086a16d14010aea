"""The conversation history: append-only, one row per thing that happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from responders.inbox.models import ConversationEvent


def record_event(
    session: Session,
    *,
    conversation_id: int,
    kind: str,
    at: datetime,
    mention_id: int | None = None,
    actor_id: int | None = None,
    employee_id: int | None = None,
    detail: str | None = None,
) -> ConversationEvent:
    event = ConversationEvent(
        conversation_id=conversation_id,
        mention_id=mention_id,
        kind=kind,
        actor_id=actor_id,
        employee_id=employee_id,
        at=at,
        detail=detail,
    )
    # No flush: callers add many rows in a batch and flush once (services flush before returning).
    session.add(event)
    return event


def conversation_history(session: Session, conversation_id: int) -> list[ConversationEvent]:
    return list(
        session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
    )
