"""Recording response-time events: wall-clock seconds and seconds within the employee's hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.employees.models import Employee
from responders.employees.shifts import working_seconds
from responders.inbox.models import Conversation
from responders.reports.models import ResponseTimeEvent


def business_seconds(employee: Employee | None, start: datetime, end: datetime) -> float | None:
    """Working seconds in the employee's hours and time zone; None when nobody is known."""
    if employee is None:
        return None
    return working_seconds(employee.shifts, employee.time_zone, start, end)


def record_response_time(
    session: Session,
    *,
    kind: str,
    conversation: Conversation,
    mention: Mention,
    employee: Employee | None,
    started_at: datetime,
    ended_at: datetime,
) -> ResponseTimeEvent:
    event = ResponseTimeEvent(
        kind=kind,
        conversation_id=conversation.id,
        mention_id=mention.id,
        employee_id=employee.id if employee else None,
        team_id=conversation.team_id,
        network=mention.network,
        brand=mention.brand,
        started_at=started_at,
        ended_at=ended_at,
        seconds=max(0.0, (ended_at - started_at).total_seconds()),
        business_seconds=business_seconds(employee, started_at, ended_at),
    )
    session.add(event)
    session.flush()
    return event
