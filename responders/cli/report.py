"""`mentiondesk report`: response times, SLA, volume and backlog, as a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from responders.cli import app
from responders.cli.common import ConfigOption, exits_cleanly, fail, make_context
from responders.reports.period import PeriodError, parse_period
from responders.reports.service import build_report
from responders.reports.text import render_text


@app.command()
@exits_cleanly
def report(
    since: str | None = typer.Option(None, "--since", help="First day, YYYY-MM-DD (UTC)."),
    until: str | None = typer.Option(None, "--until", help="Last day, included, YYYY-MM-DD."),
    business_hours: bool = typer.Option(
        False, "--business-hours", help="Count only the answering employee's working hours."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    config: Path = ConfigOption,
) -> None:
    """Response times (median, p90, mean), SLA met, per employee/team/network/topic/day; mention
    volume and sentiment; the backlog and its age."""
    try:
        period = parse_period(since, until)
    except PeriodError as exc:
        raise fail(str(exc)) from None
    with make_context(config).session_factory() as session:
        figures = build_report(
            session, since=period.since, until=period.until, business_hours=business_hours
        )
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    typer.echo(render_text(figures))
