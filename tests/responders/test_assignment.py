"""Routing and assignment in the database: queues, capacity, away, shifts, language, stickiness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from listener.store.models import STATUS_ROUTED
from responders.employees.service import set_away, sync_people_from_config
from responders.inbox.models import ConversationEvent
from responders.inbox.service import current_assignee, record_reply_posted
from responders.notify.models import Notification
from responders.routing.assignment import assign_waiting
from responders.routing.models import STATUS_ASSIGNED, STATUS_IGNORED, MentionRoute
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, author, config, employee, mention

PEOPLE = """
[[teams]]
name = "support"
lead = "lead@northwind.example"
[[teams]]
name = "german"
picker = "fewest_open"

[[employees]]
name = "Ann"
email = "ann@northwind.example"
teams = ["support"]
capacity = 2
[[employees]]
name = "Bob"
email = "bob@northwind.example"
teams = ["support"]
capacity = 2
[[employees]]
name = "Lea"
email = "lead@northwind.example"
role = "manager"
[[employees]]
name = "Jonas"
email = "jonas@northwind.example"
teams = ["german"]
languages = ["de", "en"]
time_zone = "Europe/Berlin"
working_hours = ["Mon-Fri 09:00-17:00"]

[[routing.rules]]
name = "competitors"
competitor = true
ignore = true
[[routing.rules]]
name = "german"
language = ["de"]
team = "german"
require_language = true
"""


def setup(session):
    cfg = config(PEOPLE)
    sync_people_from_config(session, cfg)
    return cfg


def route_and_assign(session, cfg, now=MONDAY_10) -> int:
    route_pending(session, cfg, now=now)
    return assign_waiting(session, now=now)


def test_round_robin_assignment_with_history_and_notifications(session) -> None:
    cfg = setup(session)
    ann, bob = (employee_email(session, e) for e in ("ann", "bob"))
    mentions = [mention(session, author(session, f"p{i}")) for i in range(3)]
    assert route_and_assign(session, cfg) == 3
    assert [current_assignee(session, m.id) for m in mentions] == [ann, bob, ann]
    assert all(m.status == STATUS_ASSIGNED for m in mentions)
    kinds = session.scalars(select(ConversationEvent.kind)).all()
    assert kinds == ["assign"] * 3
    notified = session.scalars(
        select(Notification.employee_id).where(Notification.kind == "assignment")
    )
    assert sorted(set(notified)) == [ann, bob]


def employee_email(session, name: str) -> int:
    from responders.employees.service import get_employee_by_email

    return get_employee_by_email(session, f"{name}@northwind.example").id


def test_capacity_full_means_the_mention_waits_then_goes_when_someone_is_free(session) -> None:
    cfg = setup(session)
    mentions = [mention(session, author(session, f"p{i}")) for i in range(5)]
    assert route_and_assign(session, cfg) == 4  # Ann 2 + Bob 2
    waiting = mentions[4]
    assert waiting.status == STATUS_ROUTED and current_assignee(session, waiting.id) is None
    assert assign_waiting(session, now=MONDAY_10) == 0
    # Ann answers one: she is below capacity again, and the queue moves.
    record_reply_posted(
        session,
        mention_id=mentions[0].id,
        employee_id=employee_email(session, "ann"),
        posted_at=MONDAY_10 + timedelta(minutes=5),
    )
    assert assign_waiting(session, now=MONDAY_10 + timedelta(minutes=6)) == 1
    assert current_assignee(session, waiting.id) == employee_email(session, "ann")


def test_away_people_get_nothing_until_back(session) -> None:
    cfg = setup(session)
    set_away(session, email="ann@northwind.example", away=True)
    set_away(session, email="bob@northwind.example", away=True)
    first = mention(session, author(session))
    assert route_and_assign(session, cfg) == 0
    set_away(session, email="bob@northwind.example", away=False)
    assert assign_waiting(session, now=MONDAY_10) == 1
    assert current_assignee(session, first.id) == employee_email(session, "bob")


def test_language_rule_needs_a_speaker_on_shift(session) -> None:
    cfg = setup(session)
    jonas = employee_email(session, "jonas")
    # 05:00 UTC Monday is 07:00 in Berlin: Jonas is not on shift yet.
    early = MONDAY_10 - timedelta(hours=5)
    german = mention(
        session,
        author(session),
        text="Northwind Air hat meinen Koffer",
        language="de",
        posted_at=early,
    )
    assert route_and_assign(session, cfg, now=early) == 0
    assert german.status == STATUS_ROUTED
    assert assign_waiting(session, now=MONDAY_10) == 1  # 12:00 in Berlin
    assert current_assignee(session, german.id) == jonas


def test_a_required_language_nobody_speaks_waits(session) -> None:
    cfg = setup(session)
    employee(session, "ines@northwind.example", teams=("german",), languages=["en"])
    german = mention(session, author(session), language="de")
    route_and_assign(session, cfg)
    # Ines is on shift with free capacity but does not speak German; Jonas does.
    assert current_assignee(session, german.id) == employee_email(session, "jonas")


def test_ignored_mentions_never_reach_a_queue(session) -> None:
    cfg = setup(session)
    rival = mention(session, author(session), brand="Skyline Airways", competitor=True)
    assert route_and_assign(session, cfg) == 0
    assert rival.status == STATUS_IGNORED
    route = session.get(MentionRoute, rival.id)
    assert route.ignored and route.rule == "competitors" and route.assignee_id is None


def test_follow_up_from_the_same_author_goes_to_the_same_person(session) -> None:
    cfg = setup(session)
    customer, other = author(session, "customer"), author(session, "other")
    first = mention(session, customer)
    route_and_assign(session, cfg)
    holder = current_assignee(session, first.id)
    # Round robin would hand the next one to the other agent; the follow-up sticks.
    follow_up = mention(
        session,
        customer,
        conversation_id=first.conversation_id,
        posted_at=MONDAY_10 + timedelta(minutes=3),
    )
    stranger = mention(
        session,
        other,
        conversation_id=first.conversation_id,
        posted_at=MONDAY_10 + timedelta(minutes=4),
    )
    route_and_assign(session, cfg, now=MONDAY_10 + timedelta(minutes=5))
    assert current_assignee(session, follow_up.id) == holder
    assert current_assignee(session, stranger.id) != holder  # someone else in the thread
    assert (
        session.get(MentionRoute, follow_up.id).conversation_id
        == session.get(MentionRoute, first.id).conversation_id
    )


def test_sticky_holder_away_falls_back_to_the_team(session) -> None:
    cfg = setup(session)
    customer = author(session, "customer")
    first = mention(session, customer)
    route_and_assign(session, cfg)
    holder = current_assignee(session, first.id)
    away_email = (
        "ann@northwind.example"
        if holder == employee_email(session, "ann")
        else "bob@northwind.example"
    )
    set_away(session, email=away_email, away=True)
    follow_up = mention(session, customer, conversation_id=first.conversation_id)
    route_and_assign(session, cfg)
    assert current_assignee(session, follow_up.id) not in (None, holder)


def test_sync_is_idempotent_and_keeps_the_away_switch(session) -> None:
    cfg = setup(session)
    set_away(session, email="ann@northwind.example", away=True)
    sync_people_from_config(session, cfg)
    from responders.employees.service import get_employee_by_email, list_employees

    assert len(list_employees(session)) == 4
    ann = get_employee_by_email(session, "ann@northwind.example")
    assert ann.away and [t.name for t in ann.teams] == ["support"]
