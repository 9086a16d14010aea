"""Store one poll's result (authors, mentions, rejected items, cursors) in the caller's transaction.

Every write is a bulk, dialect-native upsert, so that a page of 100 costs a few statements and
so that two processes storing the same page at once neither duplicate rows nor fail: mentions use
INSERT … ON CONFLICT DO NOTHING, authors and cursors ON CONFLICT DO UPDATE. Rows are written in a
fixed order (authors, mentions, rejected, cursors; each sorted by key) so that concurrent
transactions on PostgreSQL take their row locks in the same order and cannot deadlock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from listener.sources.base import FetchResult, RawAuthor, RawMention
from listener.store.models import Author, Cursor, Mention, RejectedPayload
from listener.store.types import utcnow


def dialect_insert(session: Session, table: Table) -> Insert:
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL both have it)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert support for database dialect {name!r}")


def store_fetch_result(
    session: Session, *, source_name: str, network: str, result: FetchResult
) -> int:
    """Store `result` and return how many mentions were new. Flushes; the caller commits."""
    now = utcnow()
    mentions = _unique_mentions(result.mentions)
    author_ids = _upsert_authors(session, network, [m.author for m in mentions], now)
    stored = _insert_mentions(session, source_name, network, mentions, author_ids, now)
    _insert_rejected(session, source_name, network, result, now)
    _upsert_cursors(session, source_name, result.cursors, now)
    session.flush()
    return stored


def _unique_mentions(mentions: list[RawMention]) -> list[RawMention]:
    # One page can hold the same post twice (found by two queries); the first one wins.
    by_id: dict[str, RawMention] = {}
    for mention in mentions:
        by_id.setdefault(mention.external_id, mention)
    return [by_id[key] for key in sorted(by_id)]


_NAME_MAX = Author.__table__.c.display_name.type.length or 255


def _upsert_authors(
    session: Session, network: str, authors: list[RawAuthor], now: datetime
) -> dict[str, int]:
    """Insert new authors, refresh known ones; returns external_id -> authors.id."""
    latest: dict[str, RawAuthor] = {}
    for author in authors:
        latest[author.external_id] = author  # later items carry the fresher profile
    if not latest:
        return {}
    rows = [
        {
            "network": network,
            "external_id": a.external_id,
            # Cut to the columns' size: PostgreSQL refuses longer values (SQLite stores them), and
            # one stranger's 300-character name must not fail the whole page, poll after poll.
            "handle": a.handle[:_NAME_MAX],
            "display_name": a.display_name[:_NAME_MAX] if a.display_name else a.display_name,
            "followers": a.followers,
            "first_seen_at": now,
            "updated_at": now,
        }
        for _, a in sorted(latest.items())
    ]
    table = Author.__table__
    insert = dialect_insert(session, table)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.network, table.c.external_id],
        set_={
            "handle": insert.excluded.handle,
            "display_name": insert.excluded.display_name,
            # A page without follower counts must not erase the one we know.
            "followers": func.coalesce(insert.excluded.followers, table.c.followers),
            "updated_at": insert.excluded.updated_at,
        },
    )
    # A cached statement executed with many parameter sets: SQLAlchemy's "insertmanyvalues" sends
    # it as batched multi-row INSERTs without compiling a new statement for every page.
    result = session.execute(stmt.returning(table.c.external_id, table.c.id), rows)
    return {external_id: author_id for external_id, author_id in result}


def _insert_mentions(
    session: Session,
    source_name: str,
    network: str,
    mentions: list[RawMention],
    author_ids: dict[str, int],
    now: datetime,
) -> int:
    if not mentions:
        return 0
    rows = [
        {
            "network": network,
            "external_id": m.external_id,
            "source_name": source_name,
            "url": m.url,
            "author_id": author_ids[m.author.external_id],
            "text": m.text,
            "posted_at": m.created_at,
            "fetched_at": now,
            "in_reply_to_id": m.in_reply_to_id,
            "conversation_id": m.conversation_id,
            "language": m.language,
            "brand": m.brand,
            "matched_query": m.matched_query,
            "is_competitor": m.is_competitor,
            "raw": m.raw,
        }
        for m in mentions
    ]
    table = Mention.__table__
    stmt = (
        dialect_insert(session, table)
        .on_conflict_do_nothing(index_elements=[table.c.network, table.c.external_id])
        .returning(table.c.id)
    )
    # RETURNING yields only the rows actually inserted, on both dialects.
    return len(session.execute(stmt, rows).all())


def _insert_rejected(
    session: Session, source_name: str, network: str, result: FetchResult, now: datetime
) -> None:
    if not result.rejected:
        return
    rows = [
        {
            "source_name": source_name,
            "network": network,
            "stream": item.stream,
            "reason": item.reason,
            "payload": item.payload,
            "received_at": now,
        }
        for item in result.rejected
    ]
    session.execute(RejectedPayload.__table__.insert(), rows)


def _upsert_cursors(
    session: Session, source_name: str, cursors: dict[str, str], now: datetime
) -> None:
    if not cursors:
        return
    rows = [
        {"source_name": source_name, "stream": stream, "value": value, "updated_at": now}
        for stream, value in sorted(cursors.items())
    ]
    table = Cursor.__table__
    insert = dialect_insert(session, table)
    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.source_name, table.c.stream],
        set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
    )
    session.execute(stmt, rows)


def load_cursors(session: Session, source_name: str) -> dict[str, str]:
    """The stored cursors of one source, stream name -> value."""
    rows = session.execute(
        select(Cursor.stream, Cursor.value).where(Cursor.source_name == source_name)
    )
    return {stream: value for stream, value in rows}
