"""The backlog now: mentions in a queue that nobody has answered yet, and how long they waited."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import Mention
from responders.employees.models import Team
from responders.inbox.service import WAITING
from responders.reports.figures import SECONDS_DIGITS, percentile
from responders.routing.models import MentionRoute

HOUR = 3600.0
# (upper bound in seconds, label); the last bucket has no bound.
AGE_BUCKETS: tuple[tuple[float | None, str], ...] = (
    (HOUR, "under 1 hour"),
    (4 * HOUR, "1-4 hours"),
    (24 * HOUR, "4-24 hours"),
    (72 * HOUR, "1-3 days"),
    (None, "over 3 days"),
)
NO_TEAM = "(no team)"
BACKLOG_TEAM_COLUMNS = (
    "team_id",
    "team",
    "count",
    "overdue",
    "oldest_age_seconds",
    "median_age_seconds",
)


def _bucket(age: float) -> str:
    for bound, label in AGE_BUCKETS:
        if bound is None or age < bound:
            return label
    raise AssertionError("the last bucket has no bound")


def _ages(ages: list[float]) -> dict[str, float | None]:
    if not ages:
        return {"oldest_age_seconds": None, "median_age_seconds": None}
    ordered = sorted(ages)
    return {
        "oldest_age_seconds": round(ordered[-1], SECONDS_DIGITS),
        "median_age_seconds": round(percentile(ordered, 0.5), SECONDS_DIGITS),
    }


def backlog(session: Session, *, now: datetime) -> dict[str, Any]:
    """Waiting mentions (routed or assigned, not ignored) as of `now`; age runs from posting."""
    rows = session.execute(
        select(
            Mention.posted_at, MentionRoute.due_at, MentionRoute.team_id, MentionRoute.assignee_id
        )
        .join(MentionRoute, MentionRoute.mention_id == Mention.id)
        .where(Mention.status.in_(WAITING), MentionRoute.ignored.is_(False))
    ).all()
    team_names = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
    ages: list[float] = []
    overdue = assigned = 0
    buckets = dict.fromkeys((label for _, label in AGE_BUCKETS), 0)
    teams: dict[int | None, dict[str, Any]] = defaultdict(lambda: {"ages": [], "overdue": 0})
    for posted_at, due_at, team_id, assignee_id in rows:
        age = max(0.0, (now - posted_at).total_seconds())
        late = due_at < now
        ages.append(age)
        overdue += late
        assigned += assignee_id is not None
        buckets[_bucket(age)] += 1
        teams[team_id]["ages"].append(age)
        teams[team_id]["overdue"] += late
    by_team = [
        {
            "team_id": team_id,
            "team": team_names.get(team_id, NO_TEAM) if team_id is not None else NO_TEAM,
            "count": len(group["ages"]),
            "overdue": group["overdue"],
            **_ages(group["ages"]),
        }
        for team_id, group in teams.items()
    ]
    by_team.sort(key=lambda row: row["team"])
    return {
        "as_of": now.isoformat(),
        "count": len(ages),
        "overdue": overdue,
        "assigned": assigned,
        "unassigned": len(ages) - assigned,
        **_ages(ages),
        "by_age": [{"age": label, "count": count} for label, count in buckets.items()],
        "by_team": by_team,
    }
