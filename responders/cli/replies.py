"""Replying: `mentiondesk reply ID --text TEXT` (or --editor) and `mentiondesk outbox`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from config.errors import ConfigError
from listener.sources.registry import build_source
from listener.store.db import session_scope
from listener.store.models import Mention
from responders.cli import app
from responders.cli.common import (
    ConfigOption,
    Context,
    exits_cleanly,
    fail,
    logging_to_stderr,
    make_context,
)
from responders.employees.models import Employee
from responders.employees.service import get_employee_by_email
from responders.inbox.service import current_assignee
from responders.replies import sender
from responders.replies.models import STATUS_FAILED, STATUS_POSTED, OutboxReply
from responders.replies.service import ReplyInvalid, list_outbox, queue_reply, reply_url

EDITOR_TEMPLATE = "\n# Write your reply above. Lines starting with '#' are dropped.\n"


@app.command()
@exits_cleanly
def reply(
    mention_id: int = typer.Argument(..., help="The mention to answer (its id in the inbox)."),
    text: str | None = typer.Option(None, "--text", "-t", help="The reply, as you wrote it."),
    editor: bool = typer.Option(False, "--editor", help="Write the reply in $EDITOR."),
    employee_email: str | None = typer.Option(
        None, "--employee", help="Who is replying (default: the mention's assignee)."
    ),
    config: Path = ConfigOption,
) -> None:
    """Queue your reply to a mention and try to post it right away."""
    if editor:
        text = _from_editor(text or "")
    if not text or not text.strip():
        raise fail("nothing to send: give --text TEXT or --editor", code=1)
    ctx = make_context(config)
    with session_scope(ctx.session_factory) as session:
        employee_id = _replying_employee(session, mention_id, employee_email)
        try:
            queued = queue_reply(session, mention_id=mention_id, employee_id=employee_id, text=text)
        except ReplyInvalid as exc:
            raise fail(str(exc), code=1) from None
        reply_id, source_name = queued.id, queued.source_name
    typer.echo(f"reply #{reply_id} queued")
    with logging_to_stderr():
        sources = _sources_for(ctx, source_name)
        if sources:
            sender.send_pending(ctx.session_factory, sources, only_ids=[reply_id])
    with ctx.session_factory() as session:
        row = session.get_one(OutboxReply, reply_id)
        typer.echo(_describe(row, session.get_one(Mention, row.mention_id)))
        if row.status == STATUS_FAILED:
            raise typer.Exit(1)


@app.command()
@exits_cleanly
def outbox(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON array."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    config: Path = ConfigOption,
) -> None:
    """Recent replies and their status: queued, sending, posted (with link) or failed (why)."""
    ctx = make_context(config)
    with ctx.session_factory() as session:
        rows = list_outbox(session, limit=limit)
        items = [_as_dict(row, session.get_one(Mention, row.mention_id)) for row in rows]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    for item in items:
        where = item["link"] or item["error"] or ""
        typer.echo(f"#{item['id']:<5} {item['status']:<8} {item['network']:<8} {where}")
    if not items:
        typer.echo("the outbox is empty")


def _from_editor(initial: str) -> str:
    written = typer.edit(initial + EDITOR_TEMPLATE, extension=".txt")
    if written is None:
        return ""
    return "\n".join(line for line in written.splitlines() if not line.startswith("#")).strip()


def _replying_employee(session, mention_id: int, email: str | None) -> int:
    if email:
        try:
            return get_employee_by_email(session, email).id
        except LookupError as exc:
            raise fail(str(exc), code=1) from None
    assignee = current_assignee(session, mention_id)
    if assignee is None or session.get(Employee, assignee) is None:
        raise fail(f"mention #{mention_id} has no assignee: say who replies with --employee EMAIL")
    return assignee


def _sources_for(ctx: Context, source_name: str) -> dict[str, sender.ReplySource]:
    try:
        source_config = ctx.config.source(source_name)
        return {source_name: build_source(source_config, ctx.config.brands)}  # type: ignore[dict-item]
    except ConfigError as exc:
        typer.echo(f"not sending now ({exc}); `mentiondesk run` will send it", err=True)
        return {}


def _as_dict(row: OutboxReply, mention: Mention) -> dict[str, object]:
    return {
        "id": row.id,
        "mention_id": row.mention_id,
        "employee_id": row.employee_id,
        "network": row.network,
        "status": row.status,
        "attempts": row.attempts,
        "external_id": row.external_id,
        "link": reply_url(row, mention),
        "error": row.error,
        "text": row.text,
        "created_at": row.created_at.isoformat(),
        "posted_at": row.posted_at.isoformat() if row.posted_at else None,
    }


def _describe(row: OutboxReply, mention: Mention) -> str:
    if row.status == STATUS_POSTED:
        return f"posted: {reply_url(row, mention) or row.external_id}"
    if row.status == STATUS_FAILED:
        return f"failed: {row.error}"
    suffix = f" ({row.error})" if row.error else ""
    return f"{row.status}: will be retried by `mentiondesk run`{suffix}"
