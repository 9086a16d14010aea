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

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.classifying.models import Verdict
from responders.employees.models import Employee, Team
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
DIMENSIONS: tuple[str, ...] = ("employee", "team", "network", "topic", "day")
NOBODY = "(nobody)"
NO_TEAM = "(no team)"
NO_TOPIC = "(no topic)"


class Measure(NamedTuple):
    """One event as the report sees it."""

    kind: str
    seconds: float
    sla_met: bool | None  # first responses to a routed mention only
    keys: dict[str, Hashable]


@dataclass
class Tally:
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sla_met: int = 0
    sla_total: int = 0

    def add(self, measure: Measure) -> None:
        self.values[measure.kind].append(measure.seconds)
        if measure.sla_met is not None:
            self.sla_total += 1
            self.sla_met += measure.sla_met

    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            name: summarize(self.values.get(kind, [])) for kind, name in METRICS.items()
        }
        figures["sla_met_pct"] = percent(self.sla_met, self.sla_total)
        figures["sla_met"] = self.sla_met
        figures["sla_total"] = self.sla_total
        return figures


def _events(session: Session, since: datetime | None, until: datetime | None):
    event = ResponseTimeEvent
    query = (
        select(
            event.kind,
            event.seconds,
            event.business_seconds,
            event.ended_at,
            event.employee_id,
            event.team_id,
            event.network,
            Verdict.topic,
            MentionRoute.due_at,
            MentionRoute.sla_minutes,
            MentionRoute.ignored,
        )
        .outerjoin(Verdict, Verdict.mention_id == event.mention_id)
        .outerjoin(MentionRoute, MentionRoute.mention_id == event.mention_id)
        .where(event.kind.in_(METRICS))
    )
    if since is not None:
        query = query.where(event.ended_at >= since)
    if until is not None:
        query = query.where(event.ended_at < until)
    return session.execute(query)


def measures(
    session: Session, *, since: datetime | None, until: datetime | None, business_hours: bool
) -> Iterable[Measure]:
    """The period's events. In business hours, events nobody's hours apply to are left out."""
    for row in _events(session, since, until):
        (kind, seconds, business, ended_at, employee_id, team_id, network, topic, *route) = row
        due_at, sla_minutes, ignored = route
        if business_hours:
            if business is None:
                continue
            seconds = business
        sla_met = None
        if kind == FIRST_RESPONSE and due_at is not None and not ignored:
            # Wall clock: the deadline the desk counted down to. Business hours: the SLA's
            # minutes of working time.
            sla_met = seconds <= sla_minutes * 60 if business_hours else ended_at <= due_at
        keys = {
            "employee": employee_id,
            "team": team_id,
            "network": network,
            "topic": topic,
            "day": ended_at.date().isoformat(),
        }
        yield Measure(kind=kind, seconds=seconds, sla_met=sla_met, keys=keys)


@dataclass
class Tallies:
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, dict[Hashable, Tally]] = field(
        default_factory=lambda: {d: defaultdict(Tally) for d in DIMENSIONS}
    )

    def add(self, measure: Measure) -> None:
        self.overall.add(measure)
        for dimension, key in measure.keys.items():
            self.groups[dimension][key].add(measure)


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
