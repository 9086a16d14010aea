"""How long the manager report takes over many response-time events, on SQLite and PostgreSQL.

A month of desk history is written in bulk, shaped like what the services record: M answered
mentions (verdict, route with SLA, conversation), each with a first response and a first response
since assignment; a quarter also get a next response and a resolution (so 100,000 events for
M = 40,000), plus a backlog of waiting mentions. Rows go in with executemany, not through the
services, so that setting up 100k events takes seconds; tests/responders/test_reports.py checks
the figures on rows the real services made.

Timed (median of --repeat runs): build_report over the whole month, over its last week, in business
hours; then the four SVG charts and every CSV table from one report.

    .venv/bin/python bench/reports.py [--events 100000] [--pg URL] [--no-pg] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import fresh_database  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from listener.classifying.models import Verdict  # noqa: E402
from listener.store import migrate  # noqa: E402
from listener.store.db import make_engine, make_session_factory, session_scope  # noqa: E402
from listener.store.models import Author, Mention  # noqa: E402
from responders.employees.models import Employee, Team, team_members  # noqa: E402
from responders.inbox.models import Conversation  # noqa: E402
from responders.reports.charts import CHARTS  # noqa: E402
from responders.reports.models import ResponseTimeEvent  # noqa: E402
from responders.reports.service import build_report  # noqa: E402
from responders.reports.tables import report_tables, table_csv  # noqa: E402
from responders.routing.models import MentionRoute  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/h_reports_bench"
START = datetime(2026, 5, 1, tzinfo=UTC)
DAYS = 30
NETWORKS = ("x", "reddit", "mastodon", "bluesky")
TOPICS = ("lost_luggage", "delays", "refunds", "staff", None)
SENTIMENTS = ("negative", "neutral", "positive")
CHUNK = 5000


def _insert(session, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[i : i + CHUNK])


def _populate(factory, events: int, backlog: int) -> int:
    """Write the month; returns how many events were written."""
    rng = random.Random(7)
    answered = events * 2 // 5  # 2 events each, plus 2 for every 4th: 2.5 per mention
    waiting = backlog
    with session_scope(factory) as session:
        _insert(session, Team, [{"id": 1, "name": "support"}, {"id": 2, "name": "social"}])
        _insert(
            session,
            Employee,
            [
                {
                    "id": i,
                    "name": f"Agent {i}",
                    "email": f"agent{i}@bench.example",
                    "working_hours": ["Mon-Fri 09:00-17:00"],
                }
                for i in range(1, 21)
            ],
        )
        _insert(
            session,
            team_members,
            [{"team_id": 1 + i % 2, "employee_id": i} for i in range(1, 21)],
        )
        _insert(
            session,
            Author,
            [
                {"id": i, "network": "x", "external_id": f"a{i}", "handle": f"user{i}"}
                for i in range(1, 5001)
            ],
        )
        mentions, verdicts, conversations, routes, rows = [], [], [], [], []
        for i in range(1, answered + waiting + 1):
            posted = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
            network = NETWORKS[i % len(NETWORKS)]
            complaint = rng.random() < 0.4
            is_waiting = i > answered
            team_id = 1 if complaint else 2
            sla = 30 if complaint else 60
            mentions.append(
                {
                    "id": i,
                    "network": network,
                    "external_id": str(i),
                    "source_name": network,
                    "url": f"https://{network}.example/{i}",
                    "author_id": 1 + i % 5000,
                    "text": "Northwind Air ...",
                    "posted_at": posted,
                    "fetched_at": posted,
                    "brand": "Northwind Air",
                    "matched_query": "Northwind Air",
                    "status": "assigned" if is_waiting else "replied",
                    "raw": {},
                }
            )
            verdicts.append(
                {
                    "mention_id": i,
                    "sentiment": "negative" if complaint else rng.choice(SENTIMENTS),
                    "sentiment_scores": {},
                    "complaint": complaint,
                    "complaint_score": 0.5,
                    "topic": rng.choice(TOPICS),
                    "flags": [],
                    "model_version": "bench",
                }
            )
            conversations.append(
                {
                    "id": i,
                    "key": f"{network}:{i}:{i}",
                    "network": network,
                    "author_id": 1 + i % 5000,
                    "team_id": team_id,
                    "assignee_id": 1 + i % 20,
                    "opened_at": posted,
                    "last_activity_at": posted,
                }
            )
            routes.append(
                {
                    "mention_id": i,
                    "conversation_id": i,
                    "rule": "bench",
                    "team_id": team_id,
                    "sla_minutes": sla,
                    "due_at": posted + timedelta(minutes=sla),
                    "routed_at": posted,
                    "assignee_id": 1 + i % 20,
                    "assigned_at": posted + timedelta(seconds=30),
                }
            )
            if is_waiting:
                continue
            employee = 1 + i % 20
            common = {
                "conversation_id": i,
                "mention_id": i,
                "employee_id": employee,
                "team_id": team_id,
                "network": network,
                "brand": "Northwind Air",
            }

            def event(kind: str, start: datetime, seconds: float, common=common) -> dict:
                return {
                    **common,
                    "kind": kind,
                    "started_at": start,
                    "ended_at": start + timedelta(seconds=seconds),
                    "seconds": seconds,
                    "business_seconds": seconds * 0.6,
                }

            first = rng.lognormvariate(7.5, 1.2)
            rows.append(event("first_response", posted, first))
            rows.append(event("first_response_since_assignment", posted, first - 30))
            if i % 4 == 0:
                rows.append(event("next_response", posted + timedelta(hours=2), 900.0))
                rows.append(event("resolution", posted, first + rng.uniform(3600, 3 * 86400)))
        for table, data in (
            (Mention, mentions),
            (Verdict, verdicts),
            (Conversation, conversations),
            (MentionRoute, routes),
            (ResponseTimeEvent, rows),
        ):
            _insert(session, table, data)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
    return len(rows)


def _timed(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(url: str | None, events: int, backlog: int, repeat: int) -> list[str]:
    db = fresh_database(url)
    migrate.upgrade(db)
    engine = make_engine(db)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    written = _populate(factory, events, backlog)
    setup = time.perf_counter() - started
    name = "postgresql" if url else "sqlite"
    end = START + timedelta(days=DAYS + 1)
    now = end

    def report(since: datetime | None, business_hours: bool = False) -> dict:
        with factory() as session:
            return build_report(
                session, since=since, until=end, business_hours=business_hours, now=now
            )

    whole = report(None)
    tables = report_tables(whole)
    lines = [
        f"{name:<10} {written} events, {whole['first_response_seconds']['count']} first responses,"
        f" backlog {whole['backlog']['count']} (written in {setup:.1f} s)"
    ]
    for label, action in (
        ("build_report, whole month", lambda: report(None)),
        ("build_report, last 7 days", lambda: report(end - timedelta(days=7))),
        ("build_report, month, business hours", lambda: report(None, business_hours=True)),
        ("4 SVG charts", lambda: [chart(whole) for chart in CHARTS.values()]),
        ("every CSV table", lambda: [table_csv(tables, t) for t in tables]),
    ):
        lines.append(f"{name:<10}   {label:<38} {_timed(action, repeat) * 1000:8.0f} ms")
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    urls = [None] if args.no_pg else [None, args.pg]
    for url in urls:
        try:
            lines = run(url, args.events, args.backlog, args.repeat)
        except Exception as exc:  # unreachable server: say so, keep the SQLite figures
            lines = [f"postgresql skipped: {type(exc).__name__}: {exc}".splitlines()[0]]
        for line in lines:
            print(line, flush=True)


if __name__ == "__main__":
    main()
