"""What is waiting: routed (in a team queue) and assigned mentions, most urgent first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from listener.store.models import STATUS_ROUTED, Author, Mention
from responders.employees.models import Employee, Team
from responders.routing.models import STATUS_ASSIGNED, MentionRoute


@dataclass(frozen=True)
class InboxItem:
    mention_id: int
    status: str
    network: str
    brand: str
    author: str
    text: str
    url: str
    team: str | None
    assignee: str | None
    priority: str
    posted_at: str
    due_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_inbox(
    session: Session, *, employee_id: int | None = None, limit: int = 200
) -> list[InboxItem]:
    assignee = aliased(Employee)
    query = (
        select(Mention, MentionRoute, Author.handle, Team.name, assignee.email)
        .join(MentionRoute, MentionRoute.mention_id == Mention.id)
        .join(Author, Author.id == Mention.author_id)
        .outerjoin(Team, Team.id == MentionRoute.team_id)
        .outerjoin(assignee, assignee.id == MentionRoute.assignee_id)
        .order_by(MentionRoute.priority_rank, MentionRoute.due_at, Mention.id)
        .limit(limit)
    )
    if employee_id is None:
        query = query.where(Mention.status.in_((STATUS_ROUTED, STATUS_ASSIGNED)))
    else:
        query = query.where(
            Mention.status == STATUS_ASSIGNED, MentionRoute.assignee_id == employee_id
        )
    return [
        InboxItem(
            mention_id=mention.id,
            status=mention.status,
            network=mention.network,
            brand=mention.brand,
            author=handle,
            text=mention.text,
            url=mention.url,
            team=team,
            assignee=email,
            priority=route.priority,
            posted_at=mention.posted_at.isoformat(),
            due_at=route.due_at.isoformat(),
        )
        for mention, route, handle, team, email in session.execute(query)
    ]
