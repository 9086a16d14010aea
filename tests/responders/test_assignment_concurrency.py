"""Two workers with their own connections assign a burst of 1,000 mentions: none twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from listener.store.db import session_scope
from listener.store.models import Author, Mention
from responders.employees.service import sync_people_from_config
from responders.inbox.models import ConversationEvent
from responders.routing.assignment import assign_waiting
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, config

BURST = 1000
PEOPLE = """
[[teams]]
name = "support"
picker = "fewest_open"
[[teams]]
name = "vip"
[[routing.rules]]
name = "vip"
min_followers = 1000
team = "vip"
"""
PEOPLE += "".join(
    f'[[employees]]\nname = "E{i}"\nemail = "e{i}@northwind.example"\n'
    f'teams = ["{"vip" if i % 3 == 0 else "support"}"]\ncapacity = 400\n'
    for i in range(6)
)


def _burst(session) -> None:
    authors = [
        Author(
            network="x", external_id=f"a{i}", handle=f"a{i}", followers=5000 if i % 4 == 0 else 1
        )
        for i in range(BURST)
    ]
    session.add_all(authors)
    session.flush()
    session.add_all(
        Mention(
            network="x",
            external_id=str(i),
            source_name="x",
            url=f"https://x.example/{i}",
            author_id=a.id,
            text="Northwind Air lost my bag",
            posted_at=MONDAY_10,
            fetched_at=MONDAY_10,
            brand="Northwind Air",
            matched_query="Northwind Air",
            status="classified",
            raw={},
        )
        for i, a in enumerate(authors)
    )


def test_two_workers_never_assign_a_mention_twice(engine, session_factory) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; concurrent workers are a PostgreSQL setup")
    cfg = config(PEOPLE)
    with session_scope(session_factory) as session:
        sync_people_from_config(session, cfg)
        _burst(session)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            while True:
                with session_scope(session_factory) as session:
                    routed = route_pending(session, cfg, now=MONDAY_10, batch_size=50)
                with session_scope(session_factory) as session:
                    assigned = assign_waiting(session, now=MONDAY_10, batch_size=50)
                if not routed and not assigned:
                    return
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors

    with session_factory() as session:
        assigned = session.scalar(
            select(func.count()).select_from(Mention).where(Mention.status == STATUS_ASSIGNED)
        )
        assert assigned == BURST
        assign_events = Counter(
            session.scalars(
                select(ConversationEvent.mention_id).where(ConversationEvent.kind == "assign")
            )
        )
        assert len(assign_events) == BURST and set(assign_events.values()) == {1}
        assert session.scalar(select(func.count()).select_from(MentionRoute)) == BURST
        per_person = Counter(session.scalars(select(MentionRoute.assignee_id)))
        assert max(per_person.values()) <= 400
