"""Ingest throughput: mentions stored per second, end to end and for the storage step alone.

End to end: a sandbox network in this process holds a backlog of N posts per network; the real
sources (tweepy, praw, Mastodon.py, atproto) fetch it over HTTP and poll_once stores the brand
mentions, poll after poll, until nothing new arrives. Storage alone: store_fetch_result of pages
of 100 into a database that already holds N mentions (does the unique index slow down as the table
grows?).

    .venv/bin/python bench/ingest.py [--sizes 500 2000 8000] [--pg URL] [--no-pg] [--skip-e2e]

Each run uses a fresh temporary SQLite file, or a fresh schema in the PostgreSQL database (default
postgresql://postgres@127.0.0.1:5432/test_bench; skipped with a message when unreachable).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import reset_postgres_schema  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from listener.sources.base import FetchResult, RawAuthor, RawMention  # noqa: E402
from listener.store import migrate  # noqa: E402
from listener.store.db import make_engine, make_session_factory, session_scope  # noqa: E402
from listener.store.ingest import store_fetch_result  # noqa: E402
from listener.store.models import Mention  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test_bench"
PAGE = 100


# --- databases ------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="mentiondesk-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        yield url


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    reset_postgres_schema(url)
    migrate.upgrade(url)
    yield url


def postgres_reachable(url: str) -> str | None:
    """None if reachable (creating the database if missing), else why not."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(plain, connect_timeout=3).close()
        return None
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return str(exc).strip().splitlines()[0]
    base, _, name = plain.rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # our own constant name, not input
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


# --- storage alone --------------------------------------------------------------------------


def synthetic_page(start: int, *, count: int = PAGE, authors: int = 400) -> FetchResult:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    mentions = []
    for n in range(start, start + count):
        author_n = n % authors
        mentions.append(
            RawMention(
                network="x",
                external_id=str(1_900_000_000_000_000_000 + n),
                url=f"https://x.com/i/status/{n}",
                author=RawAuthor(f"u{author_n}", f"user{author_n}", f"User {author_n}", n % 5000),
                text=f"@northwindair my flight NW{n % 900} is delayed again, gate changed twice",
                created_at=t0 + timedelta(seconds=n),
                brand="Northwind Air",
                matched_query="@northwindair",
                is_competitor=False,
                raw={"id": str(n), "text": "…", "public_metrics": {"like_count": n % 7}},
                conversation_id=str(n),
                language="en",
            )
        )
    return FetchResult(mentions=mentions, cursors={"mentions": str(start + count)})


def bench_store_only(url: str, existing: int, pages: int = 20) -> float:
    """Mentions per second for `pages` new pages stored into a table already holding `existing`."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        for start in range(0, existing, 1000):  # fill quickly: ten pages per transaction
            with session_scope(factory) as session:
                for p in range(start, min(start + 1000, existing), PAGE):
                    result = synthetic_page(p, count=min(PAGE, existing - p))
                    store_fetch_result(session, source_name="x", network="x", result=result)
        first = existing + 10_000_000
        results = [synthetic_page(first + i * PAGE) for i in range(pages)]
        began = time.perf_counter()
        for result in results:
            with session_scope(factory) as session:  # one transaction per page, like a poll
                store_fetch_result(session, source_name="x", network="x", result=result)
        elapsed = time.perf_counter() - began
        with factory() as session:
            assert (
                session.scalar(select(func.count()).select_from(Mention)) == existing + pages * PAGE
            )
        return pages * PAGE / elapsed
    finally:
        engine.dispose()


# --- end to end -----------------------------------------------------------------------------


CREDENTIALS = {
    "x": {"bearer_token": "MD_BENCH_X_BEARER"},
    "reddit": {
        "client_id": "MD_BENCH_REDDIT_ID",
        "client_secret": "MD_BENCH_REDDIT_SECRET",
        "username": "MD_BENCH_REDDIT_USER",
        "password": "MD_BENCH_REDDIT_PASSWORD",
    },
    "mastodon": {"access_token": "MD_BENCH_MASTODON_TOKEN"},
    "bluesky": {"handle": "MD_BENCH_BLUESKY_HANDLE", "app_password": "MD_BENCH_BLUESKY_PASSWORD"},
}
ACCOUNT_HANDLES = {"bluesky": "northwindair.bsky.social"}
# No pacing in the sandbox: the benchmark measures our code and the clients, not the networks'.
RATE_LIMITS = {
    "reddit": {"requests_per_window": 10_000_000, "window_seconds": 2},
    "mastodon": {"requests_per_window": 10_000_000},
    "bluesky": {"requests_per_window": 10_000_000},
}


def bench_end_to_end(url: str, per_network: int) -> dict[str, float]:
    """Mentions per second through the real clients and poll_once, per network.

    The sources read up to 1000 pages per poll, so each network's backlog drains in one poll or
    a few; the clock covers fetching (HTTP + JSON + normalising) and storing.
    """
    import requests

    from config.settings import SourceConfig, load_config
    from listener.polling import poll_once
    from listener.sources.registry import build_source
    from sandbox.seeder import Seeder
    from sandbox.server import SandboxServer

    brands = load_config(ROOT / "config" / "demo.toml").brands
    for creds in CREDENTIALS.values():
        for env_name in creds.values():
            os.environ.setdefault(env_name, "bench")
    os.environ["MD_BENCH_REDDIT_USER"] = "northwindair"  # the inbox is the brand account's
    os.environ["MD_BENCH_BLUESKY_HANDLE"] = ACCOUNT_HANDLES["bluesky"]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    figures: dict[str, float] = {}
    try:
        with SandboxServer() as sandbox:
            for network, policy in RATE_LIMITS.items():
                requests.post(
                    f"{sandbox.url}/{network}/_sandbox/rate_limit", json=policy, timeout=5
                ).raise_for_status()
            seeder = Seeder(sandbox.state, networks=tuple(CREDENTIALS), seed=1)
            seeder.setup()
            seeder.backlog(per_network)
            for network in CREDENTIALS:
                config = SourceConfig(
                    name=network,
                    network=network,
                    api_base_url=f"{sandbox.url}/{network}",
                    account_handle=ACCOUNT_HANDLES.get(network, "northwindair"),
                    credentials=CREDENTIALS[network],
                    max_pages=1000,
                )
                source = build_source(config, brands)
                began = time.perf_counter()
                stored = 0
                for _ in range(50):
                    outcome = poll_once(factory, source)
                    if outcome.error:
                        raise RuntimeError(f"{network}: {outcome.error}")
                    stored += outcome.stored
                    if outcome.stored == 0:
                        break
                elapsed = time.perf_counter() - began
                figures[f"{network} ({stored} stored)"] = stored / elapsed
    finally:
        engine.dispose()
    return figures


# --- the report -----------------------------------------------------------------------------


def run_for(label: str, database: Callable[[], contextmanager], args: argparse.Namespace) -> None:
    print(f"\n== {label} ==")
    if not args.skip_e2e:
        for size in args.sizes:
            with database() as url:
                figures = bench_end_to_end(url, size)
            print(
                f"end to end, backlog {size:>6}/network: "
                + ", ".join(f"{k} {v:8.0f}/s" for k, v in figures.items())
            )
    for size in args.sizes:
        with database() as url:
            rate = bench_store_only(url, existing=size * 2)
        print(f"store_fetch_result alone, table holding {size * 2:>6}: {rate:8.0f} mentions/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 8000])
    parser.add_argument("--pg", default=os.environ.get("MENTIONDESK_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true", help="only the storage benchmark")
    args = parser.parse_args(argv)

    run_for("SQLite", sqlite_database, args)
    if args.no_pg:
        return 0
    problem = postgres_reachable(args.pg)
    if problem:
        print(f"\n== PostgreSQL skipped: {args.pg} unreachable ({problem}) ==")
        return 0
    run_for("PostgreSQL", lambda: postgres_database(args.pg), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
