"""The manager's report page, its SVG charts and CSV files, and the same report as JSON (/api).

Every figure comes from responders.reports.build_report, the one the CLI prints, so the page,
its downloads and `mentiondesk report --json` agree. The page always computes the report afresh;
its four charts and CSV links, asked for right after, reuse that report for a short while (see
_ReportCache), so they show what the page shows, and a page view costs one report, not five
(over 100k events each takes about a second).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from responders.reports.charts import CHARTS
from responders.reports.period import Period, PeriodError, parse_period
from responders.reports.service import build_report
from responders.reports.tables import TABLE_TITLES, report_tables, table_csv
from responders.reports.text import METRIC_TITLES, format_duration, format_percent
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(tags=["reports"])
Manager = Annotated[CurrentUser, Depends(require_role("manager"))]
Db = Annotated[Session, Depends(db_session)]
Day = Annotated[str | None, Query(description="YYYY-MM-DD (UTC), both ends included")]
Clock = Annotated[Literal["wall", "business"], Query(description="wall clock or business hours")]

DEFAULT_DAYS = 30
CACHE_SECONDS = 20.0
CHART_TITLES = {
    "first_response_by_day": "First response time by day: median and p90, in hours",
    "volume_by_day": "Mentions by day, stacked by sentiment, with complaints",
    "first_response_by_employee": "Median and p90 first response time per employee, in hours",
    "backlog_by_age": "Mentions waiting for a first reply, by how long they have waited",
}
GROUP_TABLES = {
    "by_employee": "employee",
    "by_team": "team",
    "by_network": "network",
    "by_topic": "topic",
    "by_day": "day",
}


class _ReportCache:
    """Reports by (period, clock) for CACHE_SECONDS; kept on the app, not in a global."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}

    def get(self, key: tuple[Any, ...], build, *, fresh: bool = False) -> dict[str, Any]:
        """The report kept for `key`, else (or when `fresh`) a new one, kept from now on."""
        now = time.monotonic()
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            hit = None if fresh else self._entries.get(key)
        if hit is not None:
            return hit[1]
        report = build()
        with self._lock:
            self._entries[key] = (now + CACHE_SECONDS, report)
        return report


def _cache(request: Request) -> _ReportCache:
    state = request.app.state
    if not hasattr(state, "reports_cache"):
        state.reports_cache = _ReportCache()
    return state.reports_cache


@dataclass(frozen=True)
class _Choice:
    """What the page, its charts and its CSVs were asked for."""

    period: Period
    since: str  # YYYY-MM-DD or "" (filled in with the default range), for links and names
    until: str
    clock: str

    @property
    def business(self) -> bool:
        return self.clock == "business"


def _choice(
    request: Request, since: Day = None, until: Day = None, clock: Clock = "wall"
) -> _Choice:
    """The chosen days, or the last DEFAULT_DAYS days up to today (UTC) when none are given."""
    if not since and not until:
        today = web_state(request).now().date()
        since, until = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
    try:
        period = parse_period(since, until)
    except PeriodError as exc:
        raise HTTPException(status_code=400, detail=f"date range: {exc}") from None
    # The days as read, not as typed: they go into links, the form and a file name header.
    first, last = period.first_day, period.last_day
    return _Choice(
        period, first.isoformat() if first else "", last.isoformat() if last else "", clock
    )


Choice = Annotated[_Choice, Depends(_choice)]


def _report(
    request: Request, session: Session, choice: _Choice, *, fresh: bool = False
) -> dict[str, Any]:
    period, business = choice.period, choice.business

    def build() -> dict[str, Any]:
        return build_report(
            session,
            since=period.since,
            until=period.until,
            business_hours=business,
            now=web_state(request).now(),
        )

    return _cache(request).get((period.since, period.until, business), build, fresh=fresh)


@router.get("/reports", include_in_schema=False)
def reports_page(request: Request, _user: Manager, session: Db, choice: Choice) -> Response:
    report = _report(request, session, choice, fresh=True)
    query = urlencode({"since": choice.since, "until": choice.until, "clock": choice.clock})
    context = {
        "report": report,
        "tables": report_tables(report),
        "since": choice.since,
        "until": choice.until,
        "clock": choice.clock,
        "query": query,
        "metric_titles": METRIC_TITLES,
        "table_titles": TABLE_TITLES,
        "group_tables": GROUP_TABLES,
        "chart_titles": CHART_TITLES,
        "duration": format_duration,
        "percent": format_percent,
        "today": web_state(request).now().date().isoformat(),
    }
    return render(request, "reports/index.html", context, active="reports")


@router.get("/reports/charts/{name}.svg", include_in_schema=False)
def report_chart(
    request: Request, _user: Manager, session: Db, name: str, choice: Choice
) -> Response:
    if name not in CHARTS:
        raise HTTPException(status_code=404, detail=f"no chart {name!r}")
    svg = CHARTS[name](_report(request, session, choice))
    # Shown through <img>, where nothing in it could run; opened on its own, it may still only
    # style itself.
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _filename(table: str, choice: _Choice) -> str:
    days = "-".join(part for part in (choice.since, choice.until) if part) or "all"
    hours = "-business-hours" if choice.business else ""
    return f"mentiondesk-{table}-{days}{hours}.csv"


@router.get("/reports/csv/{table}.csv", include_in_schema=False)
def report_csv(
    request: Request, _user: Manager, session: Db, table: str, choice: Choice
) -> Response:
    if table not in TABLE_TITLES:
        raise HTTPException(status_code=404, detail=f"no table {table!r}")
    tables = report_tables(_report(request, session, choice))
    filename = _filename(table, choice)
    return Response(
        table_csv(tables, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/reports")
def report_json(
    _user: Manager,
    session: Db,
    request: Request,
    since: Day = None,
    until: Day = None,
    business_hours: bool = False,
) -> dict[str, Any]:
    """The manager report, the same object as `mentiondesk report --json`. With no dates, all
    time (as the CLI)."""
    try:
        period = parse_period(since, until)
    except PeriodError as exc:
        raise HTTPException(status_code=400, detail=f"date range: {exc}") from None
    return build_report(
        session,
        since=period.since,
        until=period.until,
        business_hours=business_hours,
        now=web_state(request).now(),
    )
