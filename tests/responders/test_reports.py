"""The manager report over two days made by the real services (tests/responders/report_story.py):
every figure checked against what was worked out by hand from the story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from responders.inbox.service import resolve
from responders.reports.service import build_report
from tests.responders.report_story import (
    BUSINESS_HOURS,
    MONDAY,
    NONE,
    NOW,
    TUESDAY,
    WALL_CLOCK,
    add_mention,
    app_config,
    assignee,
    at,
    build_story,
    figures,
    route_at,
)

DAY = timedelta(days=1)


def report(session, *, since=None, until=None, business_hours=False):
    return build_report(session, since=since, until=until, business_hours=business_hours, now=NOW)


def overall(result: dict) -> dict:
    return {key: result[key] for key in WALL_CLOCK}


def metrics(row: dict) -> dict:
    return {key: row[key] for key in WALL_CLOCK}


@pytest.fixture
def story(session):
    return build_story(session)


def test_the_story_went_as_told(session, story) -> None:
    m = story.mentions
    assert assignee(session, m["m1"]) == story.ann
    assert assignee(session, m["m2"]) == story.bob
    assert assignee(session, m["m3"]) == story.cat
    assert assignee(session, m["m4"]) == story.bob
    assert assignee(session, m["m5"]) == story.ann
    assert assignee(session, m["f1"]) == story.ann
    assert assignee(session, m["m6"]) == story.ann
    assert assignee(session, m["m7"]) == story.cat
    assert assignee(session, m["competitor"]) is None


def test_overall_figures_on_the_wall_clock(session, story) -> None:
    assert overall(report(session)) == WALL_CLOCK


def test_overall_figures_in_business_hours(session, story) -> None:
    assert overall(report(session, business_hours=True)) == BUSINESS_HOURS


def test_per_employee(session, story) -> None:
    rows = report(session)["by_employee"]
    assert [(r["employee_id"], r["employee"], r["email"]) for r in rows] == [
        (story.ann, "Ann", "ann@northwind.example"),
        (story.bob, "Bob", "bob@northwind.example"),
        (story.cat, "Cat", "cat@northwind.example"),
    ]
    ann, bob, cat = (metrics(r) for r in rows)
    # Ann: m1 1200 and m5 59400; the follow-up; the resolution.
    assert ann == {
        "first_response_seconds": figures(30300.0, 53580.0, 30300.0, 2),
        "first_response_since_assignment_seconds": figures(30300.0, 53580.0, 30300.0, 2),
        "next_response_seconds": figures(900.0, 900.0, 900.0, 1),
        "resolution_seconds": figures(97200.0, 97200.0, 97200.0, 1),
        "sla_met_pct": 50.0,
        "sla_met": 1,
        "sla_total": 2,
    }
    # Bob: m4 600 and m2 3600 (1800 of it after he had it).
    assert bob == {
        "first_response_seconds": figures(2100.0, 3300.0, 2100.0, 2),
        "first_response_since_assignment_seconds": figures(1200.0, 1680.0, 1200.0, 2),
        "next_response_seconds": NONE,
        "resolution_seconds": NONE,
        "sla_met_pct": 50.0,
        "sla_met": 1,
        "sla_total": 2,
    }
    assert cat["first_response_seconds"] == figures(1800.0, 1800.0, 1800.0, 1)
    assert (cat["sla_met_pct"], cat["sla_met"], cat["sla_total"]) == (100.0, 1, 1)


def test_per_employee_in_business_hours(session, story) -> None:
    ann = report(session, business_hours=True)["by_employee"][0]
    # m1 1200 and m5 1800 (10 minutes on Monday, 20 on Tuesday).
    assert ann["first_response_seconds"] == figures(1500.0, 1740.0, 1500.0, 2)
    assert ann["resolution_seconds"] == figures(39600.0, 39600.0, 39600.0, 1)
    assert (ann["sla_met"], ann["sla_total"]) == (2, 2)


def test_per_team(session, story) -> None:
    rows = report(session)["by_team"]
    assert [r["team"] for r in rows] == ["care", "community"]
    care, community = rows
    assert community["first_response_seconds"] == figures(1800.0, 1800.0, 1800.0, 1)
    assert community["sla_met_pct"] == 100.0
    # 600, 1200, 3600, 59400: p90 at rank 2.7 = 3600 + 0.7 * 55800.
    assert care["first_response_seconds"] == figures(2400.0, 42660.0, 16200.0, 4)
    assert care["next_response_seconds"]["count"] == 1
    assert care["resolution_seconds"]["count"] == 1
    assert (care["sla_met_pct"], care["sla_met"], care["sla_total"]) == (50.0, 2, 4)


def test_per_network(session, story) -> None:
    rows = {r["network"]: r for r in report(session)["by_network"]}
    assert list(rows) == ["reddit", "x"]
    # reddit: m4 600, m3 1800. x: m1 1200, m2 3600, m5 59400.
    assert rows["reddit"]["first_response_seconds"] == figures(1200.0, 1680.0, 1200.0, 2)
    assert rows["reddit"]["sla_met_pct"] == 100.0
    assert rows["x"]["first_response_seconds"] == figures(3600.0, 48240.0, 21400.0, 3)
    assert (rows["x"]["sla_met_pct"], rows["x"]["sla_met"], rows["x"]["sla_total"]) == (33.3, 1, 3)
    assert rows["x"]["resolution_seconds"]["count"] == 1


def test_per_topic(session, story) -> None:
    rows = {r["topic"]: r for r in report(session)["by_topic"]}
    assert list(rows) == ["(no topic)", "delays", "lost_luggage"]
    assert rows["(no topic)"]["first_response_seconds"] == figures(1800.0, 1800.0, 1800.0, 1)
    assert rows["delays"]["first_response_seconds"] == figures(31500.0, 53820.0, 31500.0, 2)
    assert rows["delays"]["sla_met_pct"] == 0.0
    bags = rows["lost_luggage"]
    assert bags["first_response_seconds"] == figures(900.0, 1140.0, 900.0, 2)
    # The follow-up and the resolution are about lost luggage too (f1's and m1's verdicts).
    assert bags["next_response_seconds"]["count"] == bags["resolution_seconds"]["count"] == 1


def test_per_day_the_response_was_given(session, story) -> None:
    rows = report(session)["by_day"]
    assert [r["day"] for r in rows] == ["2026-06-01", "2026-06-02"]
    monday, tuesday = rows
    # Monday: m1 1200, m3 1800, m2 3600 (m5 was answered on Tuesday).
    assert monday["first_response_seconds"] == figures(1800.0, 3240.0, 2200.0, 3)
    assert (monday["sla_met_pct"], monday["sla_met"], monday["sla_total"]) == (66.7, 2, 3)
    assert monday["resolution_seconds"] == NONE
    assert tuesday["first_response_seconds"] == figures(30000.0, 53520.0, 30000.0, 2)
    assert tuesday["next_response_seconds"]["count"] == 1
    assert tuesday["resolution_seconds"]["count"] == 1


def test_a_date_range_keeps_only_responses_given_in_it(session, story) -> None:
    tuesday_only = report(session, since=TUESDAY, until=TUESDAY + DAY)
    assert tuesday_only["first_response_seconds"] == figures(30000.0, 53520.0, 30000.0, 2)
    assert tuesday_only["resolution_seconds"]["count"] == 1
    assert [r["day"] for r in tuesday_only["by_day"]] == ["2026-06-02"]
    assert [r["day"] for r in tuesday_only["volume_by_day"]] == ["2026-06-02"]
    monday_only = report(session, since=MONDAY, until=TUESDAY)
    assert monday_only["first_response_seconds"] == figures(1800.0, 3240.0, 2200.0, 3)
    assert monday_only["next_response_seconds"] == NONE
    assert [r["employee"] for r in monday_only["by_employee"]] == ["Ann", "Bob", "Cat"]
    # The bounds: `until` excludes its instant, `since` includes it.
    just_before_m1_reply = report(session, until=at(MONDAY, 10, 20))
    assert just_before_m1_reply["first_response_seconds"]["count"] == 0
    from_m1_reply = report(session, since=at(MONDAY, 10, 20), until=at(MONDAY, 10, 21))
    assert from_m1_reply["first_response_seconds"] == figures(1200.0, 1200.0, 1200.0, 1)
    empty = report(session, since=TUESDAY + 5 * DAY)
    assert overall(empty) == {
        **{k: NONE for k in WALL_CLOCK if k.endswith("_seconds")},
        "sla_met_pct": None,
        "sla_met": 0,
        "sla_total": 0,
    }
    assert empty["by_employee"] == empty["volume_by_day"] == []


def test_mention_volume_and_sentiment_by_day(session, story) -> None:
    result = report(session)
    # The competitor's mention is not ours to count; m7 has no verdict yet.
    assert result["volume_by_day"] == [
        {
            "day": "2026-06-01",
            "mentions": 4,
            "complaints": 3,
            "negative": 3,
            "neutral": 0,
            "positive": 1,
            "unclassified": 0,
        },
        {
            "day": "2026-06-02",
            "mentions": 4,
            "complaints": 3,
            "negative": 3,
            "neutral": 0,
            "positive": 0,
            "unclassified": 1,
        },
    ]
    assert result["volume"] == {
        "mentions": 8,
        "complaints": 6,
        "negative": 6,
        "neutral": 0,
        "positive": 1,
        "unclassified": 1,
    }


def test_backlog_and_its_age(session, story) -> None:
    backlog = report(session)["backlog"]
    # m6 (14:00, due 14:30) and m7 (14:45, due 15:45), seen at 15:00.
    assert backlog["as_of"] == NOW.isoformat()
    assert backlog["count"] == 2 and backlog["overdue"] == 1
    assert backlog["assigned"] == 2 and backlog["unassigned"] == 0
    assert backlog["oldest_age_seconds"] == 3600.0
    assert backlog["median_age_seconds"] == 2250.0
    assert {b["age"]: b["count"] for b in backlog["by_age"]} == {
        "under 1 hour": 1,
        "1-4 hours": 1,
        "4-24 hours": 0,
        "1-3 days": 0,
        "over 3 days": 0,
    }
    assert [
        (t["team"], t["count"], t["overdue"], t["oldest_age_seconds"]) for t in backlog["by_team"]
    ] == [("care", 1, 1, 3600.0), ("community", 1, 0, 900.0)]


def test_a_resolution_nobody_held_counts_on_the_clock_only(session, story) -> None:
    # A mention for a team with nobody on shift (Saturday): routed, never assigned, resolved.
    saturday = MONDAY + 5 * DAY
    lonely = add_mention(
        session, network="x", posted_at=at(saturday, 10), verdict=(False, "neutral", None)
    )
    route_at(session, at(saturday, 10))
    assert assignee(session, lonely) is None
    resolve(session, mention_id=lonely.id, now=at(saturday, 11))
    wall = report(session)
    assert wall["resolution_seconds"] == figures(50400.0, 87840.0, 50400.0, 2)
    assert wall["by_employee"][0]["employee"] == "(nobody)"
    assert wall["by_employee"][0]["resolution_seconds"] == figures(3600.0, 3600.0, 3600.0, 1)
    business = report(session, business_hours=True)
    assert business["resolution_seconds"]["count"] == 1
    assert [r["employee"] for r in business["by_employee"]] == ["Ann", "Bob", "Cat"]
    assert app_config().routing.default.team == "community"


def test_days_are_utc_whatever_the_connection_zone(session) -> None:
    """On PostgreSQL, date() follows the session's time zone; the report's days must not."""
    late = add_mention(
        session,
        network="x",
        posted_at=datetime(2026, 6, 2, 1, 30, tzinfo=UTC),
        verdict=(False, "neutral", None),
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'America/New_York'"))
    rows = report(session)["volume_by_day"]
    assert [(r["day"], r["mentions"]) for r in rows] == [("2026-06-02", 1)]
    assert late.id is not None
