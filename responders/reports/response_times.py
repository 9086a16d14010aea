"""Response-time figures over the append-only events, overall and per employee, team, network,
topic and day.

One query reads the period's events with what they are grouped by (the verdict's topic, the
route's SLA); the grouping and the percentiles happen here, the same way on SQLite and PostgreSQL.
An event belongs to the period, and to the UTC day, in which the response (or resolution) was given:
a past day's figures never change afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from listener.classifying.models import Verdict
from responders.employees.models import Employee, Team
from responders.reports.days import utc_day
from responders.reports.figures import percent, summarize
from responders.reports.models import (
    FIRST_RESPONSE,
    FIRST_RESPONSE_SINCE_ASSIGNMENT,
    NEXT_RESPONSE,
    RESOLUTION,
    ResponseTimeEvent,
)
from responders.routing.models import MentionRoute

# Event kind -> the report's name for its figures, in the order they are shown.
METRICS: dict[str, str] = {
    FIRST_RESPONSE: "first_response_seconds",
    FIRST_RESPONSE_SINCE_ASSIGNMENT: "first_response_since_assignment_seconds",
    NEXT_RESPONSE: "next_response_seconds",
    RESOLUTION: "resolution_seconds",
}
# In Measure's order.
DIMENSIONS: tuple[str, ...] = ("employee", "team", "network", "topic", "day")
NOBODY = "(nobody)"
NO_TEAM = "(no team)"
NO_TOPIC = "(no topic)"


class Measure(NamedTuple):
    """One event as the report sees it: what, how long, SLA, then one key per dimension."""

    kind: str
    seconds: float
    sla_met: int | None  # 1 or 0 for first responses to a routed mention, else None
    employee: int | None
    team: int | None
    network: str
    topic: str | None
    day: str


@dataclass
class Tally:
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sla_met: int = 0
    sla_total: int = 0

    def add(self, kind: str, seconds: float, sla_met: int | None) -> None:
        self.values[kind].append(seconds)
        if sla_met is not None:
            self.sla_total += 1
            self.sla_met += sla_met

    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            name: summarize(self.values.get(kind, [])) for kind, name in METRICS.items()
        }
        figures["sla_met_pct"] = percent(self.sla_met, self.sla_total)
        figures["sla_met"] = self.sla_met
        figures["sla_total"] = self.sla_total
        return figures


def measures(
    session: Session, *, since: datetime | None, until: datetime | None, business_hours: bool
) -> Iterable[Measure]:
    """The period's events. In business hours, events nobody's hours apply to are left out.

    The database works out the day and whether the SLA was met, so no timestamp has to be
    turned into a Python object (most of the time on 100k events went there).
    """
    event, route = ResponseTimeEvent, MentionRoute
    seconds = event.business_seconds if business_hours else event.seconds
    # Wall clock: the deadline the desk counted down to. Business hours: the SLA's minutes of
    # working time.
    in_time = (
        seconds <= route.sla_minutes * 60 if business_hours else event.ended_at <= route.due_at
    )
    sla_met = case(
        (
            and_(event.kind == FIRST_RESPONSE, route.due_at.is_not(None), route.ignored.is_(False)),
            case((in_time, 1), else_=0),
        ),
        else_=None,
    )
    query = (
        select(
            event.kind,
            seconds,
            sla_met,
            event.employee_id,
            event.team_id,
            event.network,
            Verdict.topic,
            utc_day(session, event.ended_at),
        )
        .outerjoin(Verdict, Verdict.mention_id == event.mention_id)
        .outerjoin(route, route.mention_id == event.mention_id)
        .where(seconds.is_not(None))
    )
    if since is not None:
        query = query.where(event.ended_at >= since)
    if until is not None:
        query = query.where(event.ended_at < until)
    if since is not None or until is not None:
        # The (kind, ended_at) index finds a period's events. With no period, reading the table
        # straight through is twice as fast on SQLite, which would otherwise use the index.
        query = query.where(event.kind.in_(METRICS))
    # Core rows straight from the connection: no ORM row processing for a read of this size.
    for row in session.connection().execute(query):
        if row[0] in METRICS:
            yield Measure._make(row)


@dataclass
class Tallies:
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, dict[Hashable, Tally]] = field(
        default_factory=lambda: {d: defaultdict(Tally) for d in DIMENSIONS}
    )

    def add(self, measure: Measure) -> None:
        kind, seconds, sla_met, *keys = measure
        self.overall.add(kind, seconds, sla_met)
        for groups, key in zip(self.groups.values(), keys, strict=True):
            groups[key].add(kind, seconds, sla_met)


def tally(measured: Iterable[Measure]) -> Tallies:
    tallies = Tallies()
    for measure in measured:
        tallies.add(measure)
    return tallies


def _labels(session: Session) -> tuple[dict[int, Employee], dict[int, str]]:
    employees = {e.id: e for e in session.scalars(select(Employee))}
    teams = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
    return employees, teams


def grouped_rows(session: Session, tallies: Tallies) -> dict[str, list[dict[str, Any]]]:
    """by_employee, by_team, by_network, by_topic, by_day: a row per group, named and sorted."""
    employees, teams = _labels(session)

    def employee_row(key: Any) -> dict[str, Any]:
        person = employees.get(key)
        return {
            "employee_id": key,
            "employee": person.name if person else NOBODY,
            "email": person.email if person else None,
        }

    def team_row(key: Any) -> dict[str, Any]:
        return {"team_id": key, "team": teams.get(key, NO_TEAM) if key is not None else NO_TEAM}

    naming = {
        "employee": employee_row,
        "team": team_row,
        "network": lambda key: {"network": key},
        "topic": lambda key: {"topic": key if key is not None else NO_TOPIC},
        "day": lambda key: {"day": key},
    }
    sort_by = {"employee": "employee", "team": "team", "network": "network", "topic": "topic"}
    tables: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        rows = [
            {**naming[dimension](key), **group.figures()}
            for key, group in tallies.groups[dimension].items()
        ]
        label = sort_by.get(dimension, "day")
        rows.sort(key=lambda row, label=label: str(row[label]).casefold())
        tables[f"by_{dimension}"] = rows
    return tables
