"""Routing throughput and latency: mentions routed and assigned per second, and the time from
fetch to assignment (median, p95), on SQLite and PostgreSQL.

A burst of N classified mentions (verdicts stored, fetched_at = the moment they were inserted)
is drained by the same job the scheduler runs (responders.pipeline.route_job) over 20 employees
in two teams. Classification is measured separately by bench/classify.py.

A steady run then feeds mentions at a fixed rate (as pollers store pages) while one worker runs
the route job in a loop, which is what the goal "p95 within 1 s of fetch" is about.

    .venv/bin/python bench/routing.py [--sizes 200 1000 5000] [--rates 200 500] [--seconds 20]
                                      [--pg URL] [--no-pg]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import fresh_database  # noqa: E402
from sqlalchemy import select  # noqa: E402

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


def _insert_burst(session_factory, n: int, first: int = 0) -> datetime:
    fetched_at = datetime.now(UTC)
    with session_scope(session_factory) as session:
        authors = [
            Author(network="x", external_id=f"a{first}-{i}", handle=f"user{i}")
            for i in range(n // 3 + 1)
        ]
        session.add_all(authors)
        session.flush()
        for i in range(first, first + n):
            mention = Mention(
                network="x",
                external_id=str(10**12 + i),
                source_name="x",
                url=f"https://x.com/i/web/status/{10**12 + i}",
                author_id=authors[(i - first) % len(authors)].id,
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


def _prepare(url: str | None):
    db = fresh_database(url)
    migrate.upgrade(db)
    engine = make_engine(db)
    factory = make_session_factory(engine)
    config = parse_config(CONFIG, origin="bench")
    sync_people(factory, config)
    return engine, factory, config


def _latencies(factory, since: datetime) -> list[float]:
    with factory() as session:
        rows = session.execute(
            select(ConversationEvent.at, Mention.fetched_at)
            .join(Mention, Mention.id == ConversationEvent.mention_id)
            .where(ConversationEvent.kind == "assign")
        ).all()
    # fetched_at is the insert moment; latency counts from when routing could start.
    return sorted((at - max(fetched, since)).total_seconds() for at, fetched in rows)


def _summary(latencies: list[float]) -> str:
    if not latencies:
        return "nothing assigned"
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return f"fetch→assign median {statistics.median(latencies):6.2f} s  p95 {p95:6.2f} s"


def run_steady(url: str | None, rate: int, seconds: float, idle_seconds: float) -> str:
    """Mentions arrive at `rate` a second (in tenth-of-a-second batches, as a poller stores a
    page); one worker runs the route job in a loop, idling `idle_seconds` when it finds nothing."""
    engine, factory, config = _prepare(url)
    stop = threading.Event()
    inserted = 0

    def feed() -> None:
        nonlocal inserted
        per_tick = max(1, rate // 10)
        next_tick = time.perf_counter()
        deadline = next_tick + seconds
        while next_tick < deadline:
            _insert_burst(factory, per_tick, first=inserted)
            inserted += per_tick
            next_tick += 0.1
            time.sleep(max(0.0, next_tick - time.perf_counter()))
        stop.set()

    started = datetime.now(UTC)
    feeder = threading.Thread(target=feed)
    feeder.start()
    assigned = 0
    while True:
        done = stop.is_set()
        got = route_job(factory, config)
        assigned += got
        if got == 0:
            if done:
                break
            time.sleep(idle_seconds)
    feeder.join()
    latencies = _latencies(factory, started)
    engine.dispose()
    return (
        f"{'postgresql' if url else 'sqlite':<10} steady {rate}/s for {seconds:.0f} s: "
        f"arrived={inserted} assigned={len(latencies)}  {_summary(latencies)}"
    )


def run(url: str | None, n: int) -> str:
    engine, factory, config = _prepare(url)
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
    latencies = _latencies(factory, start_wall)
    engine.dispose()
    return (
        f"{'postgresql' if url else 'sqlite':<10} burst n={n:<6} assigned={len(latencies):<6} "
        f"{len(latencies) / elapsed:8.0f}/s   {_summary(latencies)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--rates", type=int, nargs="*", default=[200], help="steady arrivals/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of a steady run")
    parser.add_argument(
        "--idle", type=float, default=0.2, help="route job's pause when its queue is empty (s)"
    )
    args = parser.parse_args()
    urls = [None] if args.no_pg else [None, args.pg]
    runs = [lambda u, n=n: run(u, n) for n in args.sizes] + [
        lambda u, r=r: run_steady(u, r, args.seconds, args.idle) for r in args.rates
    ]
    for measure in runs:
        for url in urls:
            try:
                print(measure(url), flush=True)
            except Exception as exc:  # unreachable server: say so, keep the SQLite figures
                print(f"postgresql skipped: {type(exc).__name__}: {exc}".splitlines()[0])


if __name__ == "__main__":
    main()
