"""The assignment job: each routed mention goes to one person, or waits in its team's queue."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import STATUS_ROUTED, Mention
from responders.employees.models import Employee, Team
from responders.inbox.models import CONVERSATION_OPEN, Conversation
from responders.routing.assigning import give_to
from responders.routing.candidates import lock_team, team_candidates
from responders.routing.models import MentionRoute
from responders.routing.pickers import PICKERS, Candidate, eligible, round_robin

log = logging.getLogger(__name__)


def _teams_with_waiting(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(MentionRoute.team_id)
            .join(Mention, Mention.id == MentionRoute.mention_id)
            .where(Mention.status == STATUS_ROUTED, MentionRoute.team_id.is_not(None))
            .distinct()
            .order_by(MentionRoute.team_id)
        )
    )


def _claim_waiting(
    session: Session, team_id: int, batch_size: int
) -> list[tuple[Mention, MentionRoute]]:
    rows = session.execute(
        select(Mention, MentionRoute)
        .join(MentionRoute, MentionRoute.mention_id == Mention.id)
        .where(Mention.status == STATUS_ROUTED, MentionRoute.team_id == team_id)
        .order_by(MentionRoute.priority_rank, Mention.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=Mention)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _sticky_assignee(session: Session, conversation: Conversation | None) -> int | None:
    """The person already holding this author's open conversation, if they are not away."""
    if conversation is None or conversation.assignee_id is None:
        return None
    if conversation.status != CONVERSATION_OPEN:
        return None
    holder = session.get(Employee, conversation.assignee_id)
    return holder.id if holder is not None and not holder.away else None


def _load_conversations(session: Session, conversation_ids: list[int]) -> dict[int, Conversation]:
    # One query for the batch; the sticky check and the hand-over then find them in the session.
    rows = session.scalars(select(Conversation).where(Conversation.id.in_(set(conversation_ids))))
    return {conversation.id: conversation for conversation in rows}


def _pick(team: Team, pool: dict[int, Candidate], route: MentionRoute) -> Candidate | None:
    choose = PICKERS.get(team.picker, round_robin)
    options = eligible(
        list(pool.values()), language=route.require_language, skill=route.require_skill
    )
    return choose(options, team.last_assigned_id)


def _assign_team(session: Session, team_id: int, now: datetime, batch_size: int) -> int:
    team = lock_team(session, team_id)
    waiting = _claim_waiting(session, team_id, batch_size)
    if not waiting:
        return 0
    pool = team_candidates(session, team, now)
    # Held here: the session's identity map is weak, so unreferenced rows would be loaded again.
    conversations = _load_conversations(session, [route.conversation_id for _, route in waiting])
    assigned = 0
    for mention, route in waiting:
        employee_id = _sticky_assignee(session, conversations.get(route.conversation_id))
        if employee_id is None:
            chosen = _pick(team, pool, route)
            if chosen is None:
                continue  # stays in the team queue until someone is free
            employee_id = chosen.employee_id
            team.last_assigned_id = employee_id
        if employee_id in pool:
            pool[employee_id] = dataclasses.replace(
                pool[employee_id], open_count=pool[employee_id].open_count + 1
            )
        give_to(session, mention=mention, route=route, employee_id=employee_id, at=now)
        assigned += 1
    session.flush()
    return assigned


def assign_waiting(session: Session, *, now: datetime, batch_size: int = 200) -> int:
    """Assign what can be assigned now; returns how many. Teams are locked in id order."""
    assigned = 0
    for team_id in _teams_with_waiting(session):
        assigned += _assign_team(session, team_id, now, batch_size)
    session.flush()
    if assigned:
        log.info("assigned %d mention(s)", assigned)
    return assigned
