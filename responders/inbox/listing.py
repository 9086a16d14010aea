"""What is waiting, for the CLI: the desk's queues (queues.py), people named by their email."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from responders.employees.models import Employee
from responders.inbox.queues import QueueItem, my_queue, team_queue


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
    assignee: str | None  # email
    priority: str
    posted_at: str
    due_at: str
    # The classifier's verdict (None before it has judged the mention) and its flags.
    complaint: bool | None
    sentiment: str | None
    topic: str | None
    verdict_flags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_inbox(
    session: Session, *, employee_id: int | None = None, limit: int = 200
) -> list[InboxItem]:
    """What this person holds, or (no employee) everything waiting in every team: the desk's
    order, most urgent first."""
    if employee_id is None:
        items = team_queue(session, employee_id=None, limit=limit)
    else:
        items = my_queue(session, employee_id=employee_id, limit=limit)
    emails: dict[int, str] = dict(session.execute(select(Employee.id, Employee.email)).all())
    return [_inbox_item(item, emails) for item in items]


def _inbox_item(item: QueueItem, emails: dict[int, str]) -> InboxItem:
    return InboxItem(
        mention_id=item.mention_id,
        status=item.status,
        network=item.network,
        brand=item.brand,
        author=item.author_handle,
        text=item.text,
        url=item.url,
        team=item.team,
        assignee=emails.get(item.assignee_id) if item.assignee_id is not None else None,
        priority=item.priority,
        posted_at=item.posted_at.isoformat(),
        due_at=item.due_at.isoformat(),
        complaint=item.complaint,
        sentiment=item.sentiment,
        topic=item.topic,
        verdict_flags=list(item.verdict_flags),
    )
