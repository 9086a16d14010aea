"""People and inbox commands: employees add|list|away|back, inbox, claim, transfer, resolve."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from config.people import ALWAYS, EmployeeConfig
from listener.store.db import session_scope
from responders.cli import app
from responders.cli.common import ConfigOption, exits_cleanly, fail, make_context
from responders.cli.terminal import one_line
from responders.employees.service import (
    UnknownEmployee,
    get_employee_by_email,
    list_employees,
    set_away,
    upsert_employee,
)
from responders.inbox import service as inbox
from responders.inbox.listing import InboxItem, list_inbox

EXIT_NOT_FOUND = 1

employees_app = typer.Typer(help="The people who answer.", no_args_is_help=True)
app.add_typer(employees_app, name="employees")


@contextmanager
def _transaction(config: Path | None) -> Iterator[Session]:
    """One transaction on the configured database (or the demo's, with no configuration)."""
    try:
        with session_scope(make_context(config).session_factory) as session:
            yield session
    except (UnknownEmployee, inbox.InboxError) as exc:
        raise fail(str(exc).strip("'\""), EXIT_NOT_FOUND) from None


@employees_app.command("add")
@exits_cleanly
def employees_add(
    email: str = typer.Argument(..., help="Unique; how commands refer to the person."),
    name: str = typer.Option(..., "--name"),
    team: list[str] = typer.Option([], "--team", help="Repeat for several teams."),
    language: list[str] = typer.Option(["en"], "--language"),
    skill: list[str] = typer.Option([], "--skill", help="A topic they handle well."),
    role: str = typer.Option("agent", "--role", help="agent | manager | admin"),
    time_zone: str = typer.Option("UTC", "--time-zone"),
    hours: list[str] = typer.Option([ALWAYS], "--hours", help="Like 'Mon-Fri 09:00-17:00'."),
    capacity: int = typer.Option(10, "--capacity", help="Most open assignments at once."),
    config: Path = ConfigOption,
) -> None:
    """Add an employee, or update the one with this email."""
    try:
        spec = EmployeeConfig(
            name=name,
            email=email,
            teams=team,
            languages=language,
            skills=skill,
            role=role,
            time_zone=time_zone,
            working_hours=hours,
            capacity=capacity,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise fail(problems) from None
    with _transaction(config) as session:
        employee = upsert_employee(session, spec=spec)
        typer.echo(f"employee #{employee.id} {employee.email} saved")


@employees_app.command("list")
@exits_cleanly
def employees_list(
    as_json: bool = typer.Option(False, "--json"), config: Path = ConfigOption
) -> None:
    """Everyone, with teams, hours and whether they are away."""
    with _transaction(config) as session:
        rows = [
            {
                "id": e.id,
                "name": e.name,
                "email": e.email,
                "role": e.role,
                "teams": [t.name for t in e.teams],
                "languages": e.languages,
                "skills": e.skills,
                "time_zone": e.time_zone,
                "working_hours": e.working_hours,
                "capacity": e.capacity,
                "away": e.away,
            }
            for e in list_employees(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        away = " (away)" if row["away"] else ""
        typer.echo(
            f"{row['email']:<32} {row['name']}{away}  teams: {', '.join(row['teams']) or '-'}"
        )


def _switch(email: str, away: bool, config: Path | None) -> None:
    with _transaction(config) as session:
        set_away(session, email=email, away=away)
    typer.echo(f"{email} is {'away' if away else 'back'}")


@employees_app.command("away")
@exits_cleanly
def employees_away(email: str, config: Path = ConfigOption) -> None:
    """Take someone out of assignment (holiday, sick, busy)."""
    _switch(email, True, config)


@employees_app.command("back")
@exits_cleanly
def employees_back(email: str, config: Path = ConfigOption) -> None:
    """Put someone back into assignment."""
    _switch(email, False, config)


@app.command("inbox")
@exits_cleanly
def inbox_command(
    employee: str | None = typer.Option(None, "--employee", help="Only this person's (email)."),
    as_json: bool = typer.Option(False, "--json"),
    config: Path = ConfigOption,
) -> None:
    """Mentions waiting for an answer, most urgent first."""
    with _transaction(config) as session:
        employee_id = get_employee_by_email(session, employee).id if employee else None
        items = list_inbox(session, employee_id=employee_id)
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in items], indent=2))
        return
    if not items:
        typer.echo("nothing waiting")
    for item in items:
        who = item.assignee or f"queue {item.team}"
        typer.echo(
            f"#{item.mention_id} [{item.priority}] {item.network} @{one_line(item.author)} → {who}"
            f"{_verdict_words(item)}"
        )
        typer.echo(f"    {one_line(item.text[:120])}")


def _verdict_words(item: InboxItem) -> str:
    """ "  complaint, negative, lost_luggage (flagged: too_long)", or "" before a verdict."""
    if item.sentiment is None:
        return ""
    words = ["complaint" if item.complaint else "no complaint", item.sentiment]
    if item.topic:
        words.append(item.topic)
    flags = f" (flagged: {', '.join(item.verdict_flags)})" if item.verdict_flags else ""
    return f"  {', '.join(words)}{flags}"


def _act(config: Path | None, action: Callable[[Session], str]) -> None:
    with _transaction(config) as session:
        message = action(session)
    typer.echo(message)


@app.command()
@exits_cleanly
def claim(
    mention_id: int,
    employee: str = typer.Option(..., "--employee", help="Who takes it (email)."),
    config: Path = ConfigOption,
) -> None:
    """Take a mention yourself."""

    def run(session: Session) -> str:
        who = get_employee_by_email(session, employee)
        inbox.claim(session, mention_id=mention_id, employee_id=who.id, now=datetime.now(UTC))
        return f"#{mention_id} is now {who.email}'s"

    _act(config, run)


@app.command()
@exits_cleanly
def transfer(
    mention_id: int,
    to: str = typer.Option(..., "--to", help="The new holder (email)."),
    by: str | None = typer.Option(None, "--by", help="Who hands it over (email), for history."),
    config: Path = ConfigOption,
) -> None:
    """Hand a mention to someone else."""

    def run(session: Session) -> str:
        target = get_employee_by_email(session, to)
        actor = get_employee_by_email(session, by).id if by else None
        inbox.transfer(
            session,
            mention_id=mention_id,
            to_employee_id=target.id,
            now=datetime.now(UTC),
            actor_id=actor,
        )
        return f"#{mention_id} transferred to {target.email}"

    _act(config, run)


@app.command()
@exits_cleanly
def resolve(
    mention_id: int,
    by: str | None = typer.Option(None, "--by", help="Who resolves it (email), for history."),
    config: Path = ConfigOption,
) -> None:
    """Resolve a mention's conversation."""

    def run(session: Session) -> str:
        actor = get_employee_by_email(session, by).id if by else None
        inbox.resolve(session, mention_id=mention_id, now=datetime.now(UTC), actor_id=actor)
        return f"#{mention_id} resolved"

    _act(config, run)
