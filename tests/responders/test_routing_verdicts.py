"""Routing reads the classifier's verdicts: complaint, sentiment and topic rules match on them."""

from __future__ import annotations

from sqlalchemy import select

from listener.classifying.models import Verdict
from responders.routing.models import MentionRoute
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, author, config, mention

RULES = """
[[teams]]
name = "support"
[[teams]]
name = "baggage"
[[teams]]
name = "social"

[[classifier.topics]]
name = "lost_luggage"
description = "Lost, delayed or damaged bags"

[[routing.rules]]
name = "lost bags"
topic = ["lost_luggage"]
team = "baggage"
priority = "high"

[[routing.rules]]
name = "complaints"
complaint = true
team = "support"
priority = "high"
sla_minutes = 30

[[routing.rules]]
name = "happy"
sentiment = ["positive"]
team = "social"
priority = "low"

[routing.default]
team = "support"
"""


def verdict(session, m, *, complaint: bool, sentiment: str, topic: str | None = None) -> None:
    session.add(
        Verdict(
            mention_id=m.id,
            sentiment=sentiment,
            sentiment_scores={sentiment: 0.9},
            complaint=complaint,
            complaint_score=0.9 if complaint else 0.1,
            topic=topic,
            flags=[],
            model_version="test",
        )
    )
    session.flush()


def test_rules_match_on_the_stored_verdict(session) -> None:
    cfg = config(RULES)
    bag, complaint, praise, unclassified = (
        mention(session, author(session, f"a{i}")) for i in range(4)
    )
    verdict(session, bag, complaint=True, sentiment="negative", topic="lost_luggage")
    verdict(session, complaint, complaint=True, sentiment="negative")
    verdict(session, praise, complaint=False, sentiment="positive")

    assert route_pending(session, cfg, now=MONDAY_10) == 4
    routes = {r.mention_id: r for r in session.scalars(select(MentionRoute))}
    assert routes[bag.id].rule == "lost bags"
    assert routes[complaint.id].rule == "complaints"
    assert routes[complaint.id].priority == "high"
    assert routes[praise.id].rule == "happy"
    # No verdict: only rules that don't ask about it can match; here the default does.
    assert routes[unclassified.id].rule == "default"
