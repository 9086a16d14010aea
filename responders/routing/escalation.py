"""The escalation job: no first reply within the SLA → another available member, else the lead."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import STATUS_ROUTED, Mention
from responders.employees.models import Team
from responders.inbox.history import record_event
from responders.inbox.models import EVENT_ESCALATE, Conversation
from responders.routing.assigning import give_to
from responders.routing.candidates import lock_team, team_candidates
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.routing.notices import notify_escalated
from responders.routing.pickers import PICKERS, eligible, round_robin

log = logging.getLogger(__name__)


def _overdue(
    session: Session, now: datetime, batch_size: int
) -> list[tuple[Mention, MentionRoute]]:
    rows = session.execute(
        select(Mention, MentionRoute)
        .join(MentionRoute, MentionRoute.mention_id == Mention.id)
        .join(Conversation, Conversation.id == MentionRoute.conversation_id)
        .where(
            Mention.status.in_((STATUS_ROUTED, STATUS_ASSIGNED)),
            MentionRoute.escalated_at.is_(None),
            MentionRoute.due_at <= now,
            Conversation.first_reply_at.is_(None),
        )
        .order_by(MentionRoute.team_id, MentionRoute.due_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=Mention)
    )
    return list(rows)


def escalate_overdue(session: Session, *, now: datetime, batch_size: int = 100) -> int:
    """Escalate each overdue mention once; returns how many were escalated."""
    rows = _overdue(session, now, batch_size)
    locked: dict[int, Team] = {}
    for mention, route in rows:
        team = None
        if route.team_id is not None:
            if route.team_id not in locked:  # ascending team order: see lock_team
                locked[route.team_id] = lock_team(session, route.team_id)
            team = locked[route.team_id]
        route.escalated_at = now
        reason = f"no first reply within {route.sla_minutes} minute(s) (SLA)"
        if team is not None and _reassign(session, mention, route, team, now, reason):
            continue
        _tell_lead(session, mention, route, team, now, reason)
    session.flush()
    if rows:
        log.info("escalated %d mention(s)", len(rows))
    return len(rows)


def _reassign(session: Session, mention, route, team, now: datetime, reason: str) -> bool:
    if mention.status != STATUS_ASSIGNED:
        return False  # nobody was free to take it in the first place
    pool = team_candidates(session, team, now)
    pool.pop(route.assignee_id, None)
    options = eligible(
        list(pool.values()), language=route.require_language, skill=route.require_skill
    )
    chosen = PICKERS.get(team.picker, round_robin)(options, team.last_assigned_id)
    if chosen is None:
        return False
    previous = route.assignee_id
    team.last_assigned_id = chosen.employee_id
    give_to(
        session,
        mention=mention,
        route=route,
        employee_id=chosen.employee_id,
        at=now,
        kind=EVENT_ESCALATE,
        detail=f"{reason}; reassigned from employee {previous}",
        notify=False,
    )
    notify_escalated(
        session, mention=mention, employee_id=chosen.employee_id, reason=reason, now=now
    )
    return True


def _tell_lead(session: Session, mention, route, team, now: datetime, reason: str) -> None:
    lead_id = team.lead_id if team is not None else None
    if lead_id is not None:
        notify_escalated(session, mention=mention, employee_id=lead_id, reason=reason, now=now)
        detail = f"{reason}; team lead notified"
    else:
        log.warning("mention %s is overdue and its team has no lead to notify", mention.id)
        detail = f"{reason}; no one available and no team lead to notify"
    record_event(
        session,
        conversation_id=route.conversation_id,
        kind=EVENT_ESCALATE,
        at=now,
        mention_id=mention.id,
        employee_id=lead_id,
        detail=detail,
    )
