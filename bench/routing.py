"""Routing throughput and latency: mentions routed and assigned per second, and the time from
fetch to assignment (median, p95), on SQLite and PostgreSQL.

A burst of N classified mentions (verdicts stored, fetched_at = the moment they were inserted)
is drained by the same job the scheduler runs (responders.pipeline.route_job) over 20 employees
in two teams. Classification is measured separately by bench/classify.py.

    .venv/bin/python bench/routing.py [--sizes 200 1000 5000] [--pg URL] [--no-pg]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from config.settings import parse_config  # noqa: E402
from listener.classifying.models import Verdict  # noqa: E402
from listener.store import migrate  # noqa: E402
from listener.store.db import make_engine, make_session_factory, session_scope  # noqa: E402
from listener.store.models import STATUS_CLASSIFIED, Author, Mention  # noqa: E402
from responders.inbox.models import ConversationEvent  # noqa: E402
from responders.pipeline import route_job, sync_people  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test_bench"

PEOPLE = "\n".join(
    f"""
[[employees]]
name = "Agent {i}"
email = "agent{i}@bench.example"
teams = ["{"support" if i % 2 else "social"}"]
capacity = 10000
"""
    for i in range(20)
)
CONFIG = f"""
[[brands]]
name = "Northwind Air"
names = ["Northwind Air"]

[[teams]]
name = "support"
[[teams]]
name = "social"
{PEOPLE}
[[routing.rules]]
name = "complaints"
complaint = true
team = "support"
priority = "high"
[routing.default]
team = "social"
"""


def _fresh_database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _insert_burst(session_factory, n: int) -> datetime:
    fetched_at = datetime.now(UTC)
    with session_scope(session_factory) as session:
        authors = [
            Author(network="x", external_id=f"a{i}", handle=f"user{i}") for i in range(n // 3 + 1)
        ]
        session.add_all(authors)
        session.flush()
        for i in range(n):
            mention = Mention(
                network="x",
                external_id=str(10**12 + i),
                source_name="x",
                url=f"https://x.com/i/web/status/{10**12 + i}",
                author_id=authors[i % len(authors)].id,
                text="Northwind Air lost my bag" if i % 2 else "Northwind Air was lovely",
                posted_at=fetched_at,
                fetched_at=fetched_at,
                conversation_id=str(10**12 + i),
                language="en",
                brand="Northwind Air",
                matched_query="Northwind Air",
                is_competitor=False,
                status=STATUS_CLASSIFIED,
                raw={},
            )
            session.add(mention)
            session.flush()
            session.add(
                Verdict(
                    mention_id=mention.id,
                    sentiment="negative" if i % 2 else "positive",
                    sentiment_scores={},
                    complaint=bool(i % 2),
                    complaint_score=0.5,
                    flags=[],
                    model_version="bench",
                )
            )
    return fetched_at


def run(url: str | None, n: int) -> str:
    db = _fresh_database(url)
    migrate.upgrade(db)
    engine = make_engine(db)
    factory = make_session_factory(engine)
    config = parse_config(CONFIG, origin="bench")
    sync_people(factory, config)
    _insert_burst(factory, n)
    started = time.perf_counter()
    start_wall = datetime.now(UTC)
    assigned = 0
    while assigned < n:
        got = route_job(factory, config)
        if got == 0:
            break
        assigned += got
    elapsed = time.perf_counter() - started
    with factory() as session:
        rows = session.execute(
            select(ConversationEvent.at, Mention.fetched_at)
            .join(Mention, Mention.id == ConversationEvent.mention_id)
            .where(ConversationEvent.kind == "assign")
        ).all()
    # fetched_at is the insert moment; latency counts from when routing could start.
    latencies = sorted((at - max(fetched, start_wall)).total_seconds() for at, fetched in rows)
    engine.dispose()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    median = statistics.median(latencies) if latencies else float("nan")
    return (
        f"{'postgresql' if url else 'sqlite':<10} n={n:<6} assigned={len(rows):<6} "
        f"{len(rows) / elapsed:8.0f}/s   fetch→assign median {median:6.2f} s  p95 {p95:6.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    for n in args.sizes:
        print(run(None, n), flush=True)
        if not args.no_pg:
            try:
                print(run(args.pg, n), flush=True)
            except Exception as exc:  # unreachable server: say so, keep the SQLite figures
                print(f"postgresql skipped: {type(exc).__name__}: {exc}".splitlines()[0])


if __name__ == "__main__":
    main()
