"""Conversation lifecycle: reply, follow-up, next reply, resolve, reopen, auto-resolve; the history
and the response-time events (seconds and business-hours seconds)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from listener.store.models import STATUS_REPLIED, STATUS_RESOLVED
from responders.employees.service import get_employee_by_email, sync_people_from_config
from responders.inbox.history import conversation_history
from responders.inbox.models import Conversation
from responders.inbox.resolving import auto_resolve
from responders.inbox.service import (
    claim,
    inbox_stats,
    record_reply_posted,
    resolve,
    transfer,
)
from responders.reports.models import ResponseTimeEvent
from responders.routing.assignment import assign_waiting
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, author, config, mention

PEOPLE = """
[[teams]]
name = "support"
[[employees]]
name = "Ann"
email = "ann@northwind.example"
teams = ["support"]
working_hours = ["Mon-Fri 09:00-17:00"]
[[employees]]
name = "Bob"
email = "bob@northwind.example"
teams = ["support"]
"""
MIN = timedelta(minutes=1)


def person(session, name: str) -> int:
    return get_employee_by_email(session, f"{name}@northwind.example").id


def route(session, now):
    route_pending(session, config(PEOPLE), now=now)
    assign_waiting(session, now=now)


def events(session):
    return {
        e.kind: e for e in session.scalars(select(ResponseTimeEvent).order_by(ResponseTimeEvent.id))
    }


def test_the_whole_life_of_a_conversation(session) -> None:
    sync_people_from_config(session, config(PEOPLE))
    ann, bob = person(session, "ann"), person(session, "bob")
    customer = author(session, "customer")
    # Friday 16:50 UTC: Ann's shift ends at 17:00.
    friday = MONDAY_10 + timedelta(days=4, hours=6, minutes=50)
    first = mention(session, customer, posted_at=friday)
    route(session, friday + 2 * MIN)
    assert session.get(MentionRoute, first.id).assignee_id == ann

    # Ann answers on Monday 09:30: 64 h 40 min later, of which 10 + 30 minutes were working time.
    monday = MONDAY_10 + timedelta(days=7, minutes=-30)
    record_reply_posted(session, mention_id=first.id, employee_id=ann, posted_at=monday)
    assert first.status == STATUS_REPLIED
    first_events = events(session)
    response = first_events["first_response"]
    assert response.seconds == (monday - friday).total_seconds()
    assert response.business_seconds == 40 * 60
    assert (
        first_events["first_response_since_assignment"].seconds
        == (monday - friday - 2 * MIN).total_seconds()
    )

    # A follow-up goes back to Ann; Bob replies after a transfer: a next response, not a first.
    follow_up = mention(
        session, customer, conversation_id=first.conversation_id, posted_at=monday + 10 * MIN
    )
    route(session, monday + 11 * MIN)
    assert session.get(MentionRoute, follow_up.id).assignee_id == ann
    transfer(
        session, mention_id=follow_up.id, to_employee_id=bob, now=monday + 12 * MIN, actor_id=ann
    )
    record_reply_posted(
        session, mention_id=follow_up.id, employee_id=bob, posted_at=monday + 20 * MIN
    )
    next_response = events(session)["next_response"]
    assert next_response.seconds == 10 * 60 and next_response.employee_id == bob
    assert session.scalars(
        select(ResponseTimeEvent.kind).where(ResponseTimeEvent.kind == "first_response")
    ).all() == ["first_response"]

    resolve(session, mention_id=follow_up.id, now=monday + 30 * MIN, actor_id=bob)
    assert first.status == follow_up.status == STATUS_RESOLVED
    assert events(session)["resolution"].seconds == (monday + 30 * MIN - friday).total_seconds()

    # A follow-up after resolution reopens the conversation and returns to its holder (Bob now).
    again = mention(
        session, customer, conversation_id=first.conversation_id, posted_at=monday + 60 * MIN
    )
    route(session, monday + 61 * MIN)
    assert again.status == STATUS_ASSIGNED
    assert session.get(MentionRoute, again.id).assignee_id == bob

    conversation = session.get(Conversation, session.get(MentionRoute, first.id).conversation_id)
    history = [(e.kind, e.employee_id) for e in conversation_history(session, conversation.id)]
    assert history == [
        ("assign", ann),
        ("reply", ann),
        ("assign", ann),
        ("transfer", bob),
        ("reply", bob),
        ("resolve", bob),
        ("reopen", None),
        ("assign", bob),
    ]


def test_claim_and_stats(session) -> None:
    sync_people_from_config(session, config(PEOPLE))
    a, b, c = (mention(session, author(session, f"p{i}")) for i in range(3))
    route_pending(session, config(PEOPLE), now=MONDAY_10)
    assert inbox_stats(session) == {"routed": 3, "assigned_open": 0, "replied": 0, "resolved": 0}
    claim(session, mention_id=a.id, employee_id=person(session, "bob"), now=MONDAY_10)
    assign_waiting(session, now=MONDAY_10)
    record_reply_posted(
        session, mention_id=b.id, employee_id=person(session, "ann"), posted_at=MONDAY_10 + MIN
    )
    resolve(session, mention_id=c.id, now=MONDAY_10 + MIN)
    assert inbox_stats(session) == {"routed": 0, "assigned_open": 1, "replied": 1, "resolved": 1}


def test_auto_resolve_after_quiet_days_only(session) -> None:
    sync_people_from_config(session, config(PEOPLE))
    answered = mention(session, author(session, "a"))
    unanswered = mention(session, author(session, "b"))
    route(session, MONDAY_10)
    record_reply_posted(
        session,
        mention_id=answered.id,
        employee_id=person(session, "ann"),
        posted_at=MONDAY_10 + MIN,
    )
    assert auto_resolve(session, now=MONDAY_10 + timedelta(days=2), after_days=3) == 0
    assert auto_resolve(session, now=MONDAY_10 + timedelta(days=3, minutes=2), after_days=3) == 1
    assert answered.status == STATUS_RESOLVED
    assert unanswered.status == STATUS_ASSIGNED
