"""Escalation with a controlled clock: reassign to another free member, else notify the lead."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from responders.employees.service import get_employee_by_email, set_away, sync_people_from_config
from responders.inbox.models import ConversationEvent
from responders.inbox.service import current_assignee, record_reply_posted
from responders.notify.models import Notification
from responders.routing.assignment import assign_waiting
from responders.routing.escalation import escalate_overdue
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, author, config, mention

PEOPLE = """
[[teams]]
name = "support"
lead = "lead@northwind.example"
[[employees]]
name = "Ann"
email = "ann@northwind.example"
teams = ["support"]
[[employees]]
name = "Bob"
email = "bob@northwind.example"
teams = ["support"]
[[employees]]
name = "Lea"
email = "lead@northwind.example"
role = "manager"
[routing.default]
team = "support"
sla_minutes = 30
"""


def start(session):
    sync_people_from_config(session, config(PEOPLE))
    late = mention(session, author(session))
    route_pending(session, config(PEOPLE), now=MONDAY_10)
    assign_waiting(session, now=MONDAY_10)
    return late


def ids(session, *names):
    return [get_employee_by_email(session, f"{n}@northwind.example").id for n in names]


def escalations(session):
    return session.scalars(
        select(ConversationEvent).where(ConversationEvent.kind == "escalate")
    ).all()


def test_nothing_happens_before_the_sla(session) -> None:
    late = start(session)
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(minutes=29)) == 0
    assert current_assignee(session, late.id) == ids(session, "ann")[0]


def test_overdue_goes_to_another_available_member(session) -> None:
    late = start(session)
    ann, bob = ids(session, "ann", "bob")
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(minutes=30)) == 1
    assert current_assignee(session, late.id) == bob
    [event] = escalations(session)
    assert event.employee_id == bob and f"from employee {ann}" in event.detail
    kinds = session.scalars(select(Notification.kind).where(Notification.employee_id == bob)).all()
    assert "escalation" in kinds
    # Once only.
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(hours=5)) == 0


def test_nobody_else_free_notifies_the_lead(session) -> None:
    late = start(session)
    set_away(session, email="bob@northwind.example", away=True)
    ann, lead = ids(session, "ann", "lead")
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(minutes=31)) == 1
    assert current_assignee(session, late.id) == ann
    [event] = escalations(session)
    assert event.employee_id == lead and "lead notified" in event.detail
    assert (
        session.scalars(select(Notification.kind).where(Notification.employee_id == lead)).all()
        == ["escalation"] * 2
    )  # email and webhook


def test_a_waiting_mention_past_its_sla_notifies_the_lead(session) -> None:
    set_away_all = ("ann", "bob")
    sync_people_from_config(session, config(PEOPLE))
    for name in set_away_all:
        set_away(session, email=f"{name}@northwind.example", away=True)
    mention(session, author(session))
    route_pending(session, config(PEOPLE), now=MONDAY_10)
    assert assign_waiting(session, now=MONDAY_10) == 0
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(hours=1)) == 1
    [event] = escalations(session)
    assert event.employee_id == ids(session, "lead")[0]


def test_a_first_reply_in_time_means_no_escalation(session) -> None:
    late = start(session)
    record_reply_posted(
        session,
        mention_id=late.id,
        employee_id=ids(session, "ann")[0],
        posted_at=MONDAY_10 + timedelta(minutes=10),
    )
    assert escalate_overdue(session, now=MONDAY_10 + timedelta(hours=2)) == 0
