"""Listening commands: db upgrade, poll, run, status, stats."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path

import typer

from listener import polling
from listener.classifying.service import verdict_stats
from listener.stats import mention_stats, source_status
from listener.store import migrate
from listener.tracking import TrackingSource, build_tracking_sources, tracked_brands_provider
from responders.cli import app
from responders.cli.common import (
    ConfigOption,
    exits_cleanly,
    fail,
    logging_to_stderr,
    make_context,
)
from responders.inbox.service import inbox_stats

log = logging.getLogger(__name__)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@exits_cleanly
def db_upgrade(config: Path = ConfigOption) -> None:
    """Create or upgrade the database schema (Alembic) to the newest version."""
    ctx = make_context(config)
    url = ctx.database_url
    migrate.upgrade(url)
    typer.echo(f"database is at revision {migrate.current_revision(url)}")


@app.command()
@exits_cleanly
def poll(
    config: Path = ConfigOption,
    once: bool = typer.Option(False, "--once", help="Poll each source once, then exit."),
    source: str | None = typer.Option(None, "--source", help="Only this source (by name)."),
) -> None:
    """Poll sources for new mentions. With --once, poll each once and exit (cron, tests)."""
    if not once:
        raise fail("`poll` without --once is `mentiondesk run`")
    ctx = make_context(config)
    with logging_to_stderr():
        chosen = [ctx.config.source(source)] if source else ctx.config.sources
        tracked = tracked_brands_provider(ctx.session_factory)  # e.g. an event's hashtags
        sources = [
            TrackingSource(s, ctx.config.brands, tracked) for s in chosen if s.enabled or source
        ]
        if not sources:
            raise fail("no enabled sources in the configuration")
        failed = False
        for src in sources:
            outcome = polling.poll_once(ctx.session_factory, src)
            typer.echo(_describe(outcome))
            failed |= outcome.error is not None
    raise typer.Exit(1 if failed else 0)


def _describe(outcome: polling.PollOutcome) -> str:
    if outcome.skipped_until is not None:
        return f"{outcome.source_name}: paused until {outcome.skipped_until:%Y-%m-%d %H:%M:%S}Z"
    if outcome.error is not None:
        return f"{outcome.source_name}: failed: {outcome.error}"
    rejected = f", {outcome.rejected} rejected" if outcome.rejected else ""
    return f"{outcome.source_name}: {outcome.stored} new mention(s){rejected}"


@app.command()
@exits_cleanly
def run(
    config: Path = ConfigOption,
    web_port: int = typer.Option(8000, "--web-port", help="Port of the web dashboard."),
    web_host: str = typer.Option(
        "127.0.0.1", "--web-host", help="Address the dashboard binds (0.0.0.0: every interface)."
    ),
    no_web: bool = typer.Option(False, "--no-web", help="Do not serve the dashboard."),
) -> None:
    """Run the listener, the desk's jobs and the dashboard, until Ctrl-C."""
    ctx = make_context(config)
    with logging_to_stderr():
        sources = build_tracking_sources(
            ctx.config.sources, ctx.config.brands, tracked_brands_provider(ctx.session_factory)
        )
        if not sources:
            raise fail("no enabled sources in the configuration")
        migrate.upgrade(ctx.database_url)
        # Imported here: the classifier pulls in torch, which other commands must not wait for.
        from listener.classifying.reloading import ReloadingClassifier
        from responders.pipeline import build_desk_scheduler

        classifier = ReloadingClassifier(ctx.config.classifier, data_dir=ctx.settings.data_dir)
        scheduler = build_desk_scheduler(
            ctx.config, ctx.session_factory, sources, classifier=classifier
        )
        web = None if no_web else _start_web(ctx, web_host, web_port)
        scheduler.start()
        typer.echo(f"listening to {', '.join(s.name for s in sources)}; Ctrl-C to stop")
        try:
            wait_for_ctrl_c()
        finally:
            if web is not None:
                web.stop()
            scheduler.shutdown(wait=True)


def _start_web(ctx, host: str, port: int):
    from responders.users.service import count_users
    from responders.web.app import create_app
    from responders.web.serve import WebServer, WebServerError

    app_ = create_app(session_factory=ctx.session_factory, config=ctx.config)
    try:
        web = WebServer(app_, host=host, port=port).start()
    except WebServerError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"dashboard at {web.url}/login")
    with ctx.session_factory() as session:
        if count_users(session) == 0:
            typer.echo(
                "no logins yet: create one with "
                "`mentiondesk users create EMAIL --role admin` (there are no default passwords)"
            )
    return web


def wait_for_ctrl_c() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@app.command()
@exits_cleanly
def stats(
    config: Path = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Mention counts: per network, brand, status; verdicts (complaints, sentiment); queues."""
    with make_context(config).session_factory() as session:
        figures = mention_stats(session)
        figures.update(verdict_stats(session))
        figures.update(inbox_stats(session))
    if as_json:
        typer.echo(json.dumps(figures, indent=2, sort_keys=True))
        return
    typer.echo(f"mentions: {figures['total']} ({figures['competitor']} about competitors)")
    for network, count in figures["mentions"].items():
        typer.echo(f"  {network:<9} {count}")
    sentiments = ", ".join(f"{label} {n}" for label, n in figures["by_sentiment"].items())
    typer.echo(
        f"classified: {figures['classified']} ({figures['complaints']} complaints; {sentiments})"
    )
    for flag, count in figures["by_flag"].items():
        typer.echo(f"  flagged {flag}: {count}")
    for model, count in figures["by_model"].items():
        typer.echo(f"  model {model}: {count}")
    typer.echo(
        f"queues: {figures['routed']} routed, {figures['assigned_open']} assigned and open, "
        f"{figures['replied']} replied, {figures['resolved']} resolved"
    )


@app.command()
@exits_cleanly
def status(
    config: Path = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Per source: health (last success, last error, paused until), cursors, mentions stored."""
    ctx = make_context(config)
    names = [s.name for s in ctx.config.sources] if ctx.has_config else []
    with ctx.session_factory() as session:
        rows = source_status(session, names)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no sources have been polled yet")
    for row in rows:
        state = "paused until " + row["paused_until"] if row["paused_until"] else "ok"
        if row["last_error"] and row["consecutive_failures"]:
            state = f"failing ({row['consecutive_failures']}x): {row['last_error']}"
        typer.echo(f"{row['source']}: {row['mentions']} mentions; {state}")
        typer.echo(f"  last success: {row['last_success_at'] or 'never'}")
        for stream, value in row["cursors"].items():
            typer.echo(f"  cursor {stream}: {value}")
