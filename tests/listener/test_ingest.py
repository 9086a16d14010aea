"""store_fetch_result against a real database (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from listener.sources.base import FetchResult, RawAuthor, RawMention, RejectedItem
from listener.store.db import session_scope
from listener.store.ingest import load_cursors, store_fetch_result
from listener.store.models import STATUS_NEW, Author, Cursor, Mention, RejectedPayload

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def author(n: int, *, handle: str | None = None, followers: int | None = 10) -> RawAuthor:
    return RawAuthor(
        external_id=f"u{n}",
        handle=handle or f"user{n}",
        display_name=f"User {n}",
        followers=followers,
    )


def mention(n: int, *, by: RawAuthor | None = None, text: str | None = None) -> RawMention:
    return RawMention(
        network="x",
        external_id=str(1000 + n),
        url=f"https://x.com/i/status/{1000 + n}",
        author=by or author(n % 3),
        text=text or f"@northwindair lost my bag again, flight {n}",
        created_at=T0 + timedelta(minutes=n),
        brand="Northwind Air",
        matched_query="@northwindair",
        is_competitor=False,
        raw={"id": str(1000 + n), "text": "…", "nested": {"emoji": "✈️", "n": n}},
        in_reply_to_id=None,
        conversation_id=str(1000 + n),
        language="en",
    )


def page(*ns: int, cursor: str | None = None, rejected: int = 0) -> FetchResult:
    return FetchResult(
        mentions=[mention(n) for n in ns],
        cursors={"mentions": cursor} if cursor else {},
        rejected=[
            RejectedItem(stream="mentions", reason="no author", payload=f'{{"id": "{i}"}}')
            for i in range(rejected)
        ],
    )


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def store(session_factory: sessionmaker[Session], result: FetchResult, source: str = "x") -> int:
    with session_scope(session_factory) as session:
        return store_fetch_result(session, source_name=source, network="x", result=result)


def test_stores_mentions_authors_and_cursor(session_factory, session):
    assert store(session_factory, page(1, 2, 3, cursor="1003")) == 3

    rows = session.scalars(select(Mention).order_by(Mention.external_id)).all()
    assert [m.external_id for m in rows] == ["1001", "1002", "1003"]
    first = rows[0]
    assert first.status == STATUS_NEW
    assert first.posted_at == T0 + timedelta(minutes=1)
    assert first.raw["nested"] == {"emoji": "✈️", "n": 1}
    assert first.author.handle == "user1"
    assert first.source_name == "x"
    assert count(session, Author) == 3
    assert load_cursors(session, "x") == {"mentions": "1003"}


def test_same_result_twice_is_stored_once(session_factory, session):
    result = page(1, 2, 3, cursor="1003")
    assert store(session_factory, result) == 3
    assert store(session_factory, result) == 0
    assert count(session, Mention) == 3
    assert count(session, Author) == 3


def test_overlapping_pages_store_only_new_mentions(session_factory, session):
    assert store(session_factory, page(1, 2, 3)) == 3
    assert store(session_factory, page(2, 3, 4, 5)) == 2
    assert sorted(session.scalars(select(Mention.external_id))) == [
        "1001",
        "1002",
        "1003",
        "1004",
        "1005",
    ]


def test_duplicate_inside_one_page_is_stored_once(session_factory, session):
    result = FetchResult(mentions=[mention(1), mention(1), mention(2)])
    assert store(session_factory, result) == 2
    assert count(session, Mention) == 2


def test_authors_are_refreshed_not_duplicated(session_factory, session):
    store(session_factory, FetchResult(mentions=[mention(1, by=author(7, followers=10))]))
    renamed = author(7, handle="newname", followers=None)
    store(session_factory, FetchResult(mentions=[mention(2, by=renamed)]))

    authors = session.scalars(select(Author)).all()
    assert len(authors) == 1
    assert authors[0].handle == "newname"
    assert authors[0].followers == 10  # an unknown count does not erase the known one
    mentions = session.scalars(select(Mention)).all()
    assert {m.author_id for m in mentions} == {authors[0].id}


def test_same_author_id_on_two_networks_are_two_authors(session_factory, session):
    with session_scope(session_factory) as s:
        store_fetch_result(s, source_name="x", network="x", result=page(1))
        reddit = RawMention(**{**_fields(mention(1)), "network": "reddit"})
        store_fetch_result(
            s, source_name="reddit", network="reddit", result=FetchResult(mentions=[reddit])
        )
    assert count(session, Author) == 2
    assert count(session, Mention) == 2


def _fields(m: RawMention) -> dict:
    return {name: getattr(m, name) for name in m.__slots__}


def test_rejected_items_are_kept(session_factory, session):
    assert store(session_factory, page(1, rejected=2)) == 1
    rejected = session.scalars(select(RejectedPayload)).all()
    assert len(rejected) == 2
    assert {r.source_name for r in rejected} == {"x"}
    assert rejected[0].reason == "no author"
    assert rejected[0].payload.startswith('{"id"')


def test_cursor_is_updated_in_place(session_factory, session):
    store(session_factory, page(1, cursor="1001"))
    store(session_factory, page(2, cursor="1002"))
    store(session_factory, FetchResult(cursors={"search:Northwind Air": "abc"}))
    assert load_cursors(session, "x") == {"mentions": "1002", "search:Northwind Air": "abc"}
    assert load_cursors(session, "other") == {}
    assert count(session, Cursor) == 2


def test_rollback_keeps_neither_mentions_nor_cursor(session_factory, session):
    class Crash(Exception):
        pass

    with pytest.raises(Crash), session_scope(session_factory) as s:
        assert store_fetch_result(s, source_name="x", network="x", result=page(1, 2, cursor="9"))
        raise Crash

    assert count(session, Mention) == 0
    assert count(session, Author) == 0
    assert load_cursors(session, "x") == {}


def test_does_not_commit(session_factory, session):
    with session_factory() as s:
        store_fetch_result(s, source_name="x", network="x", result=page(1, cursor="1001"))
        s.rollback()
    assert count(session, Mention) == 0


def test_large_page_in_one_call(session_factory, session):
    assert store(session_factory, page(*range(1, 1201), cursor="2200")) == 1200
    assert count(session, Mention) == 1200
    assert count(session, Author) == 3


def test_hostile_text_is_stored_verbatim(session_factory, session):
    hostile = "@northwindair '); DROP TABLE mentions; -- {0} %s \x00? 🚀"
    hostile = hostile.replace("\x00", "")  # PostgreSQL text cannot hold NUL; sources strip it
    store(session_factory, FetchResult(mentions=[mention(1, text=hostile)]))
    assert session.scalar(select(Mention.text)) == hostile


def test_concurrent_stores_of_the_same_pages_do_not_fail_or_duplicate(engine, session_factory):
    """Two pollers storing overlapping pages at the same time (PostgreSQL: real concurrency)."""
    results = [page(*range(i, i + 100), cursor=str(i)) for i in range(0, 300, 50)]
    errors: list[BaseException] = []
    stored: list[int] = []
    barrier = threading.Barrier(2)

    def worker(order: list[FetchResult]) -> None:
        try:
            barrier.wait()
            for result in order:
                stored.append(store(session_factory, result))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(results,)),
        threading.Thread(target=worker, args=(list(reversed(results)),)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    with session_factory() as s:
        assert count(s, Mention) == 350
        assert sum(stored) == 350
        assert count(s, Author) == 3
        assert count(s, Cursor) == 1
