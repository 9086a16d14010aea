"""The inbox's operations: replies posted, claim, transfer, resolve, what is waiting, counts.

Keyword-only functions over a Session; they flush, the caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.store.models import STATUS_REPLIED, STATUS_RESOLVED, STATUS_ROUTED, Mention
from responders.employees.models import Employee
from responders.inbox.conversations import open_conversation_for
from responders.inbox.history import record_event
from responders.inbox.models import (
    CONVERSATION_RESOLVED,
    EVENT_CLAIM,
    EVENT_REPLY,
    EVENT_RESOLVE,
    EVENT_TRANSFER,
    Conversation,
)
from responders.reports.events import record_response_time
from responders.reports.models import (
    FIRST_RESPONSE,
    FIRST_RESPONSE_SINCE_ASSIGNMENT,
    NEXT_RESPONSE,
    RESOLUTION,
)
from responders.routing.assigning import give_to
from responders.routing.models import STATUS_ASSIGNED, MentionRoute

log = logging.getLogger(__name__)

WAITING = (STATUS_ROUTED, STATUS_ASSIGNED)


class InboxError(LookupError):
    """The mention or employee does not exist, or is not in a state that allows this."""


def current_assignee(session: Session, mention_id: int) -> int | None:
    return session.scalar(
        select(MentionRoute.assignee_id).where(MentionRoute.mention_id == mention_id)
    )


def _mention(session: Session, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise InboxError(f"no mention #{mention_id}")
    return mention


def _route(session: Session, mention_id: int) -> MentionRoute:
    route = session.get(MentionRoute, mention_id)
    if route is None or route.ignored:
        raise InboxError(f"mention #{mention_id} is not in any queue (not routed yet, or ignored)")
    return route


def _employee(session: Session, employee_id: int) -> Employee:
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise InboxError(f"no employee #{employee_id}")
    return employee


def _unanswered(session: Session, conversation_id: int, up_to: datetime) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .join(MentionRoute, MentionRoute.mention_id == Mention.id)
            .where(
                MentionRoute.conversation_id == conversation_id,
                Mention.status.in_(WAITING),
                Mention.posted_at <= up_to,
            )
            .order_by(Mention.posted_at, Mention.id)
        )
    )


def record_reply_posted(
    session: Session, *, mention_id: int, employee_id: int, posted_at: datetime
) -> None:
    """A reply by `employee_id` to the mention went out: status, history, response times.

    One reply answers every earlier unanswered mention of the same conversation.
    """
    mention = _mention(session, mention_id)
    employee = _employee(session, employee_id)
    route = session.get(MentionRoute, mention_id)
    if route is not None:
        conversation = session.get(Conversation, route.conversation_id)
    else:  # replied to before routing reached it: still kept in a conversation
        conversation = open_conversation_for(session, mention, now=posted_at)
    assert conversation is not None
    answered = _unanswered(session, conversation.id, up_to=mention.posted_at)
    if (
        mention.status not in (*WAITING, STATUS_REPLIED, STATUS_RESOLVED)
        and mention not in answered
    ):
        answered.append(mention)
    if answered:
        _record_response_times(session, conversation, answered, employee, posted_at)
    for waiting in answered:
        waiting.status = STATUS_REPLIED
    if mention.status != STATUS_RESOLVED:
        mention.status = STATUS_REPLIED
    conversation.first_reply_at = conversation.first_reply_at or posted_at
    conversation.last_activity_at = max(conversation.last_activity_at, posted_at)
    record_event(
        session,
        conversation_id=conversation.id,
        kind=EVENT_REPLY,
        at=posted_at,
        mention_id=mention.id,
        actor_id=employee.id,
        employee_id=employee.id,
    )
    session.flush()


def _record_response_times(
    session: Session,
    conversation: Conversation,
    answered: list[Mention],
    employee: Employee,
    posted_at: datetime,
) -> None:
    first = answered[0]
    common = {"conversation": conversation, "mention": first, "employee": employee}
    if conversation.first_reply_at is not None:
        record_response_time(
            session, kind=NEXT_RESPONSE, started_at=first.posted_at, ended_at=posted_at, **common
        )
        return
    record_response_time(
        session, kind=FIRST_RESPONSE, started_at=first.posted_at, ended_at=posted_at, **common
    )
    route = session.get(MentionRoute, first.id)
    if route is not None and route.assigned_at is not None:
        record_response_time(
            session,
            kind=FIRST_RESPONSE_SINCE_ASSIGNMENT,
            started_at=route.assigned_at,
            ended_at=posted_at,
            **common,
        )


def claim(session: Session, *, mention_id: int, employee_id: int, now: datetime) -> None:
    """An employee takes the mention themselves (capacity and shifts do not apply)."""
    _hand_over(session, mention_id, employee_id, now, kind=EVENT_CLAIM, actor_id=employee_id)


def transfer(
    session: Session,
    *,
    mention_id: int,
    to_employee_id: int,
    now: datetime,
    actor_id: int | None = None,
) -> None:
    _hand_over(session, mention_id, to_employee_id, now, kind=EVENT_TRANSFER, actor_id=actor_id)


def _hand_over(
    session: Session,
    mention_id: int,
    employee_id: int,
    now: datetime,
    *,
    kind: str,
    actor_id: int | None,
) -> None:
    route = _route(session, mention_id)
    _employee(session, employee_id)
    give_to(
        session,
        mention=_mention(session, mention_id),
        route=route,
        employee_id=employee_id,
        at=now,
        kind=kind,
        actor_id=actor_id,
    )
    session.flush()


def resolve(
    session: Session,
    *,
    mention_id: int,
    now: datetime,
    actor_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Resolve the mention's whole conversation."""
    route = _route(session, mention_id)
    conversation = session.get(Conversation, route.conversation_id)
    assert conversation is not None
    resolve_conversation(
        session, conversation=conversation, now=now, actor_id=actor_id, detail=detail
    )


def resolve_conversation(
    session: Session,
    *,
    conversation: Conversation,
    now: datetime,
    actor_id: int | None = None,
    detail: str | None = None,
) -> None:
    if conversation.status == CONVERSATION_RESOLVED:
        return
    mentions = list(
        session.scalars(
            select(Mention)
            .join(MentionRoute, MentionRoute.mention_id == Mention.id)
            .where(
                MentionRoute.conversation_id == conversation.id,
                Mention.status.in_((*WAITING, STATUS_REPLIED)),
            )
            .order_by(Mention.posted_at)
        )
    )
    for mention in mentions:
        mention.status = STATUS_RESOLVED
    conversation.status = CONVERSATION_RESOLVED
    conversation.resolved_at = now
    record_event(
        session,
        conversation_id=conversation.id,
        kind=EVENT_RESOLVE,
        at=now,
        mention_id=mentions[-1].id if mentions else None,
        actor_id=actor_id,
        employee_id=conversation.assignee_id,
        detail=detail,
    )
    if mentions:
        assignee = (
            session.get(Employee, conversation.assignee_id) if conversation.assignee_id else None
        )
        record_response_time(
            session,
            kind=RESOLUTION,
            conversation=conversation,
            mention=mentions[0],
            employee=assignee,
            started_at=conversation.opened_at,
            ended_at=now,
        )
    session.flush()


def inbox_stats(session: Session) -> dict[str, int]:
    """Counts for `mentiondesk stats`: queued, assigned and waiting, replied, resolved."""
    rows = session.execute(
        select(Mention.status, func.count())
        .where(Mention.status.in_((*WAITING, STATUS_REPLIED, STATUS_RESOLVED)))
        .group_by(Mention.status)
    )
    counts = {status: count for status, count in rows}
    return {
        "routed": counts.get(STATUS_ROUTED, 0),
        "assigned_open": counts.get(STATUS_ASSIGNED, 0),
        "replied": counts.get(STATUS_REPLIED, 0),
        "resolved": counts.get(STATUS_RESOLVED, 0),
    }
