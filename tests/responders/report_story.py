"""Two days at the desk, made with the real services (routing, assignment, replies, resolve), and
the figures a manager should see for them, worked out by hand below. Used by the report tests, the
CLI test and the report page's tests.

Monday 2026-06-01 (UTC; Ann, Bob and Cat all work Mon-Fri 09:00-17:00 UTC)
  m1  x       complaint, lost_luggage   10:00  assigned Ann 10:00   Ann replies 10:20   20 min
  m3  reddit  praise, no topic          10:00  assigned Cat 10:00   Cat replies 10:30   30 min
  m2  x       complaint, delays         10:00  assigned Bob 10:30   Bob replies 11:00   60 min
  m5  x       complaint, delays         16:50  assigned Ann 16:50   Ann replies Tue 09:20
      -> 16 h 30 min on the clock (59,400 s), 10 + 20 = 30 min of Ann's working time
  competitor  Skyline Airways           10:00  ignored by a rule: in no queue, in no figure
Tuesday 2026-06-02
  m4  reddit  complaint, lost_luggage   09:00  assigned Bob 09:00   Bob replies 09:10   10 min
  f1  x       m1's author again, 12:00  back to Ann (sticky)    Ann replies 12:15   next: 15 min
      Ann resolves m1's conversation at 13:00: 27 h after m1 (97,200 s); business 7 h + 4 h
  m6  x       complaint                 14:00  assigned Ann, unanswered (due 14:30: overdue)
  m7  x       no verdict (unclassified) 14:45  to community (Cat), unanswered (due 15:45)
The report is taken at Tuesday 15:00.

SLAs: complaints 30 minutes (team care), everything else 60 minutes (team community).
Team names differ from the web tests' users' teams (support, social), who must not share the work.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from config.settings import AppConfig, parse_config
from listener.classifying.models import Verdict
from listener.store.models import STATUS_CLASSIFIED, Author, Mention
from responders.employees.service import get_employee_by_email, sync_people_from_config
from responders.inbox.service import record_reply_posted, resolve
from responders.routing.assignment import assign_waiting
from responders.routing.models import MentionRoute
from responders.routing.service import route_pending

MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)
NOW = TUESDAY + timedelta(hours=15)

CONFIG = """
[[brands]]
name = "Northwind Air"
names = ["Northwind Air"]

[[brands]]
name = "Skyline Airways"
names = ["Skyline Airways"]
competitor = true

[[teams]]
name = "care"
[[teams]]
name = "community"

[[employees]]
name = "Ann"
email = "ann@northwind.example"
teams = ["care"]
working_hours = ["Mon-Fri 09:00-17:00"]
[[employees]]
name = "Bob"
email = "bob@northwind.example"
teams = ["care"]
working_hours = ["Mon-Fri 09:00-17:00"]
[[employees]]
name = "Cat"
email = "cat@northwind.example"
teams = ["community"]
working_hours = ["Mon-Fri 09:00-17:00"]

[[routing.rules]]
name = "competitors"
competitor = true
ignore = true

[[routing.rules]]
name = "complaints"
complaint = true
team = "care"
priority = "high"
sla_minutes = 30

[routing.default]
team = "community"
sla_minutes = 60
"""

_ids = itertools.count(1)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def app_config() -> AppConfig:
    return parse_config(CONFIG, origin="report_story.toml")


@dataclass
class Story:
    ann: int
    bob: int
    cat: int
    mentions: dict[str, Mention]


def _author(session: Session, network: str) -> Author:
    row = Author(network=network, external_id=f"ra{next(_ids)}", handle=f"customer{next(_ids)}")
    session.add(row)
    session.flush()
    return row


def add_mention(
    session: Session,
    *,
    network: str,
    posted_at: datetime,
    verdict: tuple[bool, str, str | None] | None,
    author: Author | None = None,
    thread: str | None = None,
    brand: str = "Northwind Air",
) -> Mention:
    """A classified mention with the verdict (complaint, sentiment, topic) the classifier stored."""
    author = author or _author(session, network)
    external_id = f"rm{next(_ids)}"
    row = Mention(
        network=network,
        external_id=external_id,
        source_name=network,
        url=f"https://{network}.example/{external_id}",
        author_id=author.id,
        text=f"{brand}: a message",
        posted_at=posted_at,
        fetched_at=posted_at,
        conversation_id=thread or external_id,
        language="en",
        brand=brand,
        matched_query=brand,
        is_competitor=brand != "Northwind Air",
        status=STATUS_CLASSIFIED,
        raw={},
    )
    session.add(row)
    session.flush()
    if verdict is not None:
        complaint, sentiment, topic = verdict
        session.add(
            Verdict(
                mention_id=row.id,
                sentiment=sentiment,
                sentiment_scores={sentiment: 0.9},
                complaint=complaint,
                complaint_score=0.9 if complaint else 0.1,
                topic=topic,
                flags=[],
                model_version="report-story",
            )
        )
        session.flush()
    return row


def route_at(session: Session, now: datetime) -> None:
    route_pending(session, app_config(), now=now)
    assign_waiting(session, now=now)


def _reply(session: Session, mention: Mention, employee_id: int, posted_at: datetime) -> None:
    record_reply_posted(
        session, mention_id=mention.id, employee_id=employee_id, posted_at=posted_at
    )


def assignee(session: Session, mention: Mention) -> int | None:
    route = session.get(MentionRoute, mention.id)
    return route.assignee_id if route else None


def build_story(session: Session) -> Story:
    """Both days, in the order they happen. Flushed, not committed."""
    sync_people_from_config(session, app_config())
    ann, bob, cat = (
        get_employee_by_email(session, f"{name}@northwind.example").id
        for name in ("ann", "bob", "cat")
    )
    complaint_bags = (True, "negative", "lost_luggage")
    complaint_delay = (True, "negative", "delays")
    m = {}
    m["m1"] = add_mention(session, network="x", posted_at=at(MONDAY, 10), verdict=complaint_bags)
    m["m3"] = add_mention(
        session, network="reddit", posted_at=at(MONDAY, 10), verdict=(False, "positive", None)
    )
    m["competitor"] = add_mention(
        session,
        network="x",
        posted_at=at(MONDAY, 10),
        verdict=(True, "negative", "delays"),
        brand="Skyline Airways",
    )
    route_at(session, at(MONDAY, 10))
    m["m2"] = add_mention(session, network="x", posted_at=at(MONDAY, 10), verdict=complaint_delay)
    route_at(session, at(MONDAY, 10, 30))
    _reply(session, m["m1"], ann, at(MONDAY, 10, 20))
    _reply(session, m["m3"], cat, at(MONDAY, 10, 30))
    _reply(session, m["m2"], bob, at(MONDAY, 11))
    m["m5"] = add_mention(
        session, network="x", posted_at=at(MONDAY, 16, 50), verdict=complaint_delay
    )
    route_at(session, at(MONDAY, 16, 50))

    m["m4"] = add_mention(
        session, network="reddit", posted_at=at(TUESDAY, 9), verdict=complaint_bags
    )
    route_at(session, at(TUESDAY, 9))
    _reply(session, m["m4"], bob, at(TUESDAY, 9, 10))
    _reply(session, m["m5"], ann, at(TUESDAY, 9, 20))
    first = m["m1"]
    m["f1"] = add_mention(
        session,
        network="x",
        posted_at=at(TUESDAY, 12),
        verdict=complaint_bags,
        author=session.get(Author, first.author_id),
        thread=first.conversation_id,
    )
    route_at(session, at(TUESDAY, 12))
    _reply(session, m["f1"], ann, at(TUESDAY, 12, 15))
    resolve(session, mention_id=first.id, now=at(TUESDAY, 13), actor_id=ann)

    m["m6"] = add_mention(session, network="x", posted_at=at(TUESDAY, 14), verdict=complaint_delay)
    m["m7"] = add_mention(session, network="x", posted_at=at(TUESDAY, 14, 45), verdict=None)
    route_at(session, at(TUESDAY, 14, 45))
    return Story(ann=ann, bob=bob, cat=cat, mentions=m)


def figures(median: float | None, p90: float | None, mean: float | None, count: int) -> dict:
    return {"median": median, "p90": p90, "mean": mean, "count": count}


NONE = figures(None, None, None, 0)

# Worked out by hand from the story above (percentiles interpolate between ranks:
# p90 of n sorted values sits at rank 0.9 * (n - 1)).
# First responses, wall clock: 600, 1200, 1800, 3600, 59400.
#   median 1800; p90 at rank 3.6 = 3600 + 0.6 * 55800 = 37080; mean 66600 / 5 = 13320.
# In business hours m5 took 1800 instead: 600, 1200, 1800, 1800, 3600.
#   median 1800; p90 = 1800 + 0.6 * 1800 = 2880; mean 9000 / 5 = 1800.
WALL_CLOCK = {
    "first_response_seconds": figures(1800.0, 37080.0, 13320.0, 5),
    # m2 was assigned 30 minutes after it was posted, the rest at once: 600, 1200, 1800, 1800,
    # 59400. p90 = 1800 + 0.6 * 57600 = 36360; mean 64800 / 5 = 12960.
    "first_response_since_assignment_seconds": figures(1800.0, 36360.0, 12960.0, 5),
    "next_response_seconds": figures(900.0, 900.0, 900.0, 1),
    "resolution_seconds": figures(97200.0, 97200.0, 97200.0, 1),
    # Met: m1 (20 of 30 min), m3 (30 of 60), m4 (10 of 30). Missed: m2 (60 of 30), m5.
    "sla_met_pct": 60.0,
    "sla_met": 3,
    "sla_total": 5,
}
BUSINESS_HOURS = {
    "first_response_seconds": figures(1800.0, 2880.0, 1800.0, 5),
    # 600, 1200, 1800, 1800, 1800: mean 7200 / 5 = 1440.
    "first_response_since_assignment_seconds": figures(1800.0, 1800.0, 1440.0, 5),
    "next_response_seconds": figures(900.0, 900.0, 900.0, 1),
    # Ann's hours between Monday 10:00 and Tuesday 13:00: 7 h + 4 h.
    "resolution_seconds": figures(39600.0, 39600.0, 39600.0, 1),
    # m5 now meets its 30 minutes (of working time).
    "sla_met_pct": 80.0,
    "sla_met": 4,
    "sla_total": 5,
}
