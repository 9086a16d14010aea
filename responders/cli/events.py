"""Event commands: events create|list|show|invite|report.

Events are for employees and speakers to talk about in their own words: the commands take facts
and key messages (talking points), never ready-made posts.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from config.errors import ConfigError
from listener.store.db import session_scope
from listener.store.types import utcnow
from responders.amplification import service
from responders.amplification.invitations import invite, invitees, links_for
from responders.amplification.report import event_report
from responders.amplification.spec import EventSpecError, build_spec, parse_speaker
from responders.cli import app
from responders.cli.common import (
    EXIT_CONFIG_ERROR,
    ConfigOption,
    exits_cleanly,
    fail,
    make_context,
)

EXIT_NOT_FOUND = 1

events_app = typer.Typer(
    help="Events employees and speakers share in their own words.", no_args_is_help=True
)
app.add_typer(events_app, name="events")


@contextmanager
def _transaction(config: Path | None) -> Iterator[Session]:
    try:
        with session_scope(make_context(config).session_factory) as session:
            yield session
    except service.EventError as exc:
        raise fail(str(exc).strip("'\""), EXIT_NOT_FOUND) from None


def _from_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise fail(f"{path}: cannot read it as TOML: {exc}") from None


@events_app.command("create")
@exits_cleanly
def create(
    name: str = typer.Argument(..., help="Unique; how the other commands refer to the event."),
    starts: str | None = typer.Option(None, "--starts", help="2026-12-03 or 2026-12-03T09:00Z."),
    ends: str | None = typer.Option(None, "--ends", help="A date means the end of that day."),
    hashtag: list[str] = typer.Option([], "--hashtag", help="Repeat for several."),
    link: list[str] = typer.Option([], "--link", help="The event page; repeat for several."),
    point: list[str] = typer.Option(
        [], "--point", help="A talking point: one fact or key message, not a ready-made post."
    ),
    speaker: list[str] = typer.Option(
        [],
        "--speaker",
        help="'employee=EMAIL' or 'name=Ada Lin,email=ada@x.org,x=ada_lin,bluesky=ada.bsky.social'",
    ),
    team: list[str] = typer.Option([], "--team", help="Audience: a whole team."),
    employee: list[str] = typer.Option([], "--employee", help="Audience: one employee (email)."),
    description: str = typer.Option("", "--description"),
    from_file: Path | None = typer.Option(
        None, "--file", help="A TOML file with the same fields (options given here win)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the event as JSON."),
    config: Path = ConfigOption,
) -> None:
    """Create an event; the listener starts tracking its hashtags and links around its dates."""
    fields: dict[str, Any] = _from_file(from_file) if from_file else {}
    fields["name"] = name
    given = {
        "starts_at": starts,
        "ends_at": ends,
        "hashtags": hashtag,
        "links": link,
        "talking_points": point,
        "teams": team,
        "employees": employee,
        "description": description,
    }
    fields.update({k: v for k, v in given.items() if v})
    try:
        if speaker:
            fields["speakers"] = [parse_speaker(s) for s in speaker]
        spec = build_spec(fields, origin=str(from_file) if from_file else "event")
    except EventSpecError as exc:
        raise fail(str(exc), EXIT_CONFIG_ERROR) from None
    with _transaction(config) as session:
        event = service.create_event(session, spec=spec)
        described = service.describe(session, event)
    if as_json:
        typer.echo(json.dumps(described, indent=2))
        return
    typer.echo(
        f"event #{described['id']} {name!r} created; tracking "
        f"{', '.join([*spec.hashtags, *spec.links])} from {described['track_from']} "
        f"to {described['track_until']}"
    )


@events_app.command("list")
@exits_cleanly
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    config: Path = ConfigOption,
) -> None:
    """Every event, latest first."""
    now = utcnow()
    with _transaction(config) as session:
        rows = [
            {
                "id": e.id,
                "name": e.name,
                "starts_at": e.starts_at.isoformat(),
                "ends_at": e.ends_at.isoformat(),
                "hashtags": list(e.hashtags),
                "tracking": service.is_active(e, now),
            }
            for e in service.list_events(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no events yet (mentiondesk events create NAME ...)")
    for row in rows:
        tracking = "tracking" if row["tracking"] else "not tracking"
        typer.echo(
            f"#{row['id']} {row['name']}  {row['starts_at'][:16]} - {row['ends_at'][:16]}  "
            f"{' '.join(row['hashtags'])}  ({tracking})"
        )


@events_app.command("show")
@exits_cleanly
def show(
    name: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    config: Path = ConfigOption,
) -> None:
    """The event, its talking points, speakers, audience and who has been invited."""
    with _transaction(config) as session:
        event = service.get_event(session, name=name)
        described = service.describe(session, event)
        described["invitations"] = [_invitee_json(event, i) for i in invitees(session, event=event)]
    if as_json:
        typer.echo(json.dumps(described, indent=2))
        return
    typer.echo(f"{described['name']}  {described['starts_at']} - {described['ends_at']}")
    if described["description"]:
        typer.echo(f"  {described['description']}")
    typer.echo(f"  hashtags: {' '.join(described['hashtags']) or '-'}")
    typer.echo(f"  links:    {' '.join(described['links']) or '-'}")
    typer.echo("  talking points:")
    for point in described["talking_points"]:
        typer.echo(f"    - {point}")
    for speaker in described["speakers"]:
        handles = ", ".join(f"{n} @{h}" for n, h in speaker["handles"].items())
        kind = "internal" if speaker["internal"] else "external"
        typer.echo(f"  speaker: {speaker['name']} ({kind}) {handles}")
    audience = described["audience"]
    typer.echo(f"  audience: teams {audience['teams']}, employees {audience['employees']}")
    typer.echo(f"  invited: {len(described['invitations'])}")


@events_app.command("invite")
@exits_cleanly
def invite_(
    name: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    config: Path = ConfigOption,
) -> None:
    """Invite the audience and the speakers not invited yet (email/webhook), then deliver."""
    ctx = make_context(config)
    with _transaction(config) as session:
        event = service.get_event(session, name=name)
        new = [_invitee_json(event, i) for i in invite(session, event=event)]
    delivered = _deliver(ctx)
    if as_json:
        typer.echo(json.dumps({"invited": new, "delivered": delivered}, indent=2))
        return
    if not new:
        typer.echo("everyone is invited already")
    for invitee in new:
        typer.echo(f"invited {invitee['name']} ({invitee['email'] or 'no email'})")
    if delivered is None:
        typer.echo("queued; `mentiondesk run` delivers them (no notify settings here)")
    else:
        typer.echo(f"{delivered} message(s) delivered now; failures are retried by the desk")


@events_app.command("report")
@exits_cleanly
def report(
    name: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    chart: Path | None = typer.Option(None, "--chart", help="Write the timeline as SVG here."),
    config: Path = ConfigOption,
) -> None:
    """Posts by employees and speakers, unique voices, reach, engagement, earned posts,
    originality, timeline and leaderboard."""
    with _transaction(config) as session:
        figures = event_report(session, event=service.get_event(session, name=name))
    if chart is not None:
        from responders.amplification.chart import timeline_svg

        chart.write_text(timeline_svg(figures), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    originality = (
        f"{figures['originality']:.0%} in their own words"
        if figures["originality"] is not None
        else "no posts by its people yet"
    )
    engagement = figures["engagement"] if figures["engagement"] is not None else "n/a"
    typer.echo(
        f"{figures['event']}\n"
        f"  employee posts {figures['employee_posts']}, speaker posts {figures['speaker_posts']}, "
        f"earned posts {figures['earned_posts']}\n"
        f"  unique voices {figures['unique_voices']}, reach {figures['reach']:,}, "
        f"engagement {engagement}\n"
        f"  originality: {originality} ({figures['scripted']} scripted)"
    )
    for entry in figures["leaderboard"][:10]:
        typer.echo(
            f"  {entry['rank']:>2}. {entry['name']} ({entry['kind']}): {entry['posts']} post(s), "
            f"{entry['own_words']} in own words, reach {entry['reach']:,}"
        )


def _invitee_json(event, invitee) -> dict[str, Any]:
    return {
        "name": invitee.name,
        "email": invitee.email,
        "speaker": invitee.speaker,
        "invited_at": invitee.invitation.invited_at.isoformat(),
        "reminded_at": (
            invitee.invitation.reminded_at.isoformat() if invitee.invitation.reminded_at else None
        ),
        "share_links": links_for(event, invitee),
    }


def _deliver(ctx) -> int | None:
    """One delivery pass with the configuration's notify settings; None without a config."""
    from responders.notify.service import deliver_pending

    try:
        notify = ctx.config.notify
    except ConfigError:
        return None
    return deliver_pending(ctx.session_factory, notify)
