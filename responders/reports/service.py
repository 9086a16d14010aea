"""The manager report: one dict that the CLI prints, the page draws and the CSV files hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from listener.store.types import utcnow
from responders.reports.backlog import backlog
from responders.reports.response_times import grouped_rows, measures, tally
from responders.reports.volume import volume_by_day, volume_totals


def build_report(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    business_hours: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Response times for responses given in [since, until) (either end open), in wall-clock or
    business-hours seconds; mention volume and sentiment for mentions posted in the same period;
    the backlog as of `now` (default: this moment), whatever the period.

    Read-only: it neither flushes nor commits.
    """
    now = now or utcnow()
    tallies = tally(measures(session, since=since, until=until, business_hours=business_hours))
    volume = volume_by_day(session, since=since, until=until)
    return {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "business_hours": business_hours,
            "generated_at": now.isoformat(),
        },
        **tallies.overall.figures(),
        **grouped_rows(session, tallies),
        "volume": volume_totals(volume),
        "volume_by_day": volume,
        "backlog": backlog(session, now=now),
    }
