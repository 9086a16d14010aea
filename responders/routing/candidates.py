"""Turning a team's members into plain `Candidate` values for the pickers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.employees.models import Employee, Team
from responders.employees.shifts import is_on_shift
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.routing.pickers import Candidate


def lock_team(session: Session, team_id: int) -> Team:
    """Lock the team row: one worker at a time picks for a team, so capacity and the round robin
    line stay exact with several workers. Callers lock teams in ascending id order (no deadlock).
    NO KEY UPDATE (key_share) so that rows merely referencing the team (foreign-key checks take
    KEY SHARE) are not blocked: with a plain FOR UPDATE, two workers deadlocked."""
    return session.scalars(
        select(Team)
        .where(Team.id == team_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def open_counts(session: Session, employee_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(MentionRoute.assignee_id, func.count())
        .join(Mention, Mention.id == MentionRoute.mention_id)
        .where(MentionRoute.assignee_id.in_(employee_ids), Mention.status == STATUS_ASSIGNED)
        .group_by(MentionRoute.assignee_id)
    )
    return {employee_id: count for employee_id, count in rows if employee_id is not None}


def to_candidate(employee: Employee, open_count: int, now: datetime) -> Candidate:
    return Candidate(
        employee_id=employee.id,
        open_count=open_count,
        capacity=employee.capacity,
        on_shift=is_on_shift(employee.shifts, employee.time_zone, now),
        away=employee.away,
        languages=frozenset(employee.languages),
        skills=frozenset(employee.skills),
    )


def team_candidates(session: Session, team: Team, now: datetime) -> dict[int, Candidate]:
    members = list(team.members)
    counts = open_counts(session, [m.id for m in members])
    return {m.id: to_candidate(m, counts.get(m.id, 0), now) for m in members}
