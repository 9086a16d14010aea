"""The desk's queues: one person's, and their teams', most urgent first (priority, then SLA)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from config.classifier import UNSURE_BELOW
from listener.classifying.models import Verdict
from listener.store.models import STATUS_ROUTED, Author, Mention
from responders.employees.models import Employee, Team, team_members
from responders.routing.models import STATUS_ASSIGNED, MentionRoute

WAITING = (STATUS_ROUTED, STATUS_ASSIGNED)


@dataclass(frozen=True)
class QueueItem:
    mention_id: int
    status: str
    network: str
    brand: str
    author_handle: str
    author_name: str | None
    followers: int | None
    text: str
    url: str
    team: str | None
    assignee_id: int | None
    assignee: str | None
    priority: str
    due_at: datetime
    posted_at: datetime
    complaint: bool | None
    sentiment: str | None
    topic: str | None
    # The verdict's flags, e.g. ("unsupported_language",): the desk warns that it was judged poorly.
    verdict_flags: tuple[str, ...] = ()
    complaint_score: float | None = None

    @property
    def complaint_unsure(self) -> bool:
        """Flagged a complaint, but the model was unsure (a high priority that may be wrong)."""
        return bool(self.complaint) and (self.complaint_score or 0.0) < UNSURE_BELOW

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["due_at"] = self.due_at.isoformat()
        out["posted_at"] = self.posted_at.isoformat()
        return out


def _base_query() -> tuple[Select, Any]:
    assignee = aliased(Employee)
    query = (
        select(
            Mention,
            MentionRoute,
            Author,
            Team.name,
            assignee.name,
            Verdict.complaint,
            Verdict.sentiment,
            Verdict.topic,
            Verdict.flags,
            Verdict.complaint_score,
        )
        .join(MentionRoute, MentionRoute.mention_id == Mention.id)
        .join(Author, Author.id == Mention.author_id)
        .outerjoin(Team, Team.id == MentionRoute.team_id)
        .outerjoin(assignee, assignee.id == MentionRoute.assignee_id)
        .outerjoin(Verdict, Verdict.mention_id == Mention.id)
        .where(Mention.status.in_(WAITING), MentionRoute.ignored.is_(False))
        .order_by(MentionRoute.priority_rank, MentionRoute.due_at, Mention.id)
    )
    return query, assignee


def _items(session: Session, query: Select) -> list[QueueItem]:
    return [
        QueueItem(
            mention_id=mention.id,
            status=mention.status,
            network=mention.network,
            brand=mention.brand,
            author_handle=author.handle,
            author_name=author.display_name,
            followers=author.followers,
            text=mention.text,
            url=mention.url,
            team=team,
            assignee_id=route.assignee_id,
            assignee=assignee_name,
            priority=route.priority,
            due_at=route.due_at,
            posted_at=mention.posted_at,
            complaint=complaint,
            sentiment=sentiment,
            topic=topic,
            verdict_flags=tuple(flags or ()),
            complaint_score=complaint_score,
        )
        for (
            mention,
            route,
            author,
            team,
            assignee_name,
            complaint,
            sentiment,
            topic,
            flags,
            complaint_score,
        ) in session.execute(query)
    ]


def my_queue(session: Session, *, employee_id: int, limit: int = 200) -> list[QueueItem]:
    """What is assigned to this person and still waiting for an answer."""
    query, _ = _base_query()
    query = query.where(MentionRoute.assignee_id == employee_id).limit(limit)
    return _items(session, query)


def team_queue(session: Session, *, employee_id: int | None, limit: int = 200) -> list[QueueItem]:
    """Waiting work in this person's teams that is not theirs: unassigned first by urgency,
    and what teammates hold. With no employee (an admin), every team's."""
    query, _ = _base_query()
    if employee_id is not None:
        my_teams = select(team_members.c.team_id).where(team_members.c.employee_id == employee_id)
        query = query.where(
            MentionRoute.team_id.in_(my_teams),
            (MentionRoute.assignee_id.is_(None)) | (MentionRoute.assignee_id != employee_id),
        )
    return _items(session, query.limit(limit))


def newest_activity(session: Session) -> str:
    """A cheap fingerprint of the queues (the newest route or assignment), for polling."""
    row = session.execute(
        select(MentionRoute.routed_at, MentionRoute.assigned_at)
        .order_by(MentionRoute.mention_id.desc())
        .limit(1)
    ).first()
    return "" if row is None else f"{row[0]}|{row[1]}"
