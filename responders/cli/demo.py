"""`mentiondesk demo`: the sandbox network, its seeder and the listener; no accounts needed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import typer

from config.settings import load_config
from listener.stats import mention_stats
from listener.store import migrate
from listener.store.db import make_engine, make_session_factory, session_scope
from listener.tracking import build_tracking_sources, tracked_brands_provider
from responders.cli import app
from responders.cli.common import (
    DEMO_CONFIG,
    DEMO_DATA_DIR,
    exits_cleanly,
    fail,
    logging_to_stderr,
    use_demo_credentials,
)
from responders.cli.events_demo import start_demo_event
from responders.cli.listen import wait_for_ctrl_c
from sandbox.app import available_networks
from sandbox.seeder import Seeder
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

DEMO_SANDBOX_PORT = 8401  # demo.toml's api_base_url points here


@app.command()
@exits_cleanly
def demo(
    posts_per_minute: float = typer.Option(6.0, help="How fast the sandbox's customers post."),
    backlog: int = typer.Option(
        15, help="Posts per network published before listening starts (so there is something)."
    ),
    data_dir: Path = typer.Option(DEMO_DATA_DIR, help="The demo's own data folder."),
    seed: int | None = typer.Option(None, help="Seed for a repeatable story."),
    web_port: int = typer.Option(8000, "--web-port", help="Port of the web dashboard."),
    web_host: str = typer.Option("127.0.0.1", "--web-host", help="Address the dashboard binds."),
) -> None:
    """Start the sandbox network, its seeder and the listener with the demo configuration."""
    # Imported here: the classifier pulls in torch, which other commands must not wait for.
    from listener.classifying.reloading import ReloadingClassifier
    from responders.pipeline import build_desk_scheduler

    use_demo_credentials()
    demo_config = load_config(DEMO_CONFIG)
    database = data_dir / "mentiondesk.db"
    # The sandbox keeps its posts in memory and starts a new story each run; a database left
    # from an earlier run would hold posts this sandbox never published.
    for stale in data_dir.glob("mentiondesk.db*"):
        stale.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{database.resolve()}"
    with logging_to_stderr():
        migrate.upgrade(url)
        session_factory = make_session_factory(make_engine(url))

        state = SandboxState()
        seeder = Seeder(state, networks=available_networks(), seed=seed)  # all four networks
        try:
            server = SandboxServer(state, port=DEMO_SANDBOX_PORT, seeder=seeder).start()
        except OSError as exc:  # the port is taken: say so instead of a traceback
            raise fail(
                f"the sandbox cannot listen on 127.0.0.1:{DEMO_SANDBOX_PORT} ({exc.strerror}); "
                "is another demo running?"
            ) from None
        seeder.setup()
        seeder.backlog(backlog)
        seeder.start(posts_per_minute)

        sources = build_tracking_sources(
            demo_config.sources, demo_config.brands, tracked_brands_provider(session_factory)
        )
        classifier = ReloadingClassifier(demo_config.classifier, data_dir=data_dir)
        scheduler = build_desk_scheduler(
            demo_config, session_factory, sources, classifier=classifier
        )
        # The demo event (people are in the database now): its posts are credited, copies flagged.
        event_traffic = start_demo_event(session_factory, state)
        scheduler.start()
        web = None
        try:
            web, logins = _start_web(session_factory, demo_config, web_host, web_port)
            _print_where_to_look(server.url, data_dir)
            _print_logins(web.url, logins)
            _report_until_ctrl_c(session_factory)
        finally:
            if web is not None:
                web.stop()
            scheduler.shutdown(wait=False)
            event_traffic.stop()
            seeder.stop()
            server.stop()


def _start_web(session_factory, demo_config, host: str, port: int):
    """The dashboard, with one demo login per role (fresh random passwords every start)."""
    from datetime import UTC, datetime

    from responders.users.demo import create_demo_users
    from responders.web.app import create_app
    from responders.web.serve import WebServer, WebServerError

    with session_scope(session_factory) as session:
        logins = create_demo_users(session, now=datetime.now(UTC))
    app_ = create_app(session_factory=session_factory, config=demo_config)
    try:
        return WebServer(app_, host=host, port=port).start(), logins
    except WebServerError as exc:
        raise fail(str(exc)) from None


def _print_logins(url: str, logins) -> None:
    lines = "\n".join(f"  {lg.role:<8} {lg.email:<26} {lg.password}" for lg in logins)
    typer.echo(f"dashboard         {url}/login")
    typer.echo(f"demo logins (new passwords every start):\n{lines}\n")


def _print_where_to_look(sandbox_url: str, data_dir: Path) -> None:
    typer.echo(
        f"""
mentiondesk demo is running (Ctrl-C to stop).
  sandbox network   {sandbox_url}/_sandbox/state   (everything the fake customers posted)
  more traffic now  curl -X POST {sandbox_url}/_sandbox/seed -d '{{"count": 50}}'
  in another terminal (the commands find the demo by themselves):
  counts            .venv/bin/mentiondesk stats --json
  sources           .venv/bin/mentiondesk status
  a person's queue  .venv/bin/mentiondesk inbox --employee sam@northwind.example
  answer one        .venv/bin/mentiondesk reply ID --text "Sorry about that, DM us your booking ref"
  what was sent     .venv/bin/mentiondesk outbox
  the demo event    .venv/bin/mentiondesk events report "Northwind Summit 2026"
  database          {data_dir / "mentiondesk.db"}
"""
    )


def _report_until_ctrl_c(session_factory, every_seconds: float = 15.0) -> None:
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every_seconds):
            with session_scope(session_factory) as session:
                figures = mention_stats(session)
            per_network = ", ".join(f"{n} {c}" for n, c in figures["mentions"].items() if c)
            typer.echo(f"{time.strftime('%H:%M:%S')} mentions: {figures['total']} ({per_network})")

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    try:
        wait_for_ctrl_c()
    finally:
        stop.set()
