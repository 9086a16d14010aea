"""Databases for the bench scripts: a throwaway SQLite file, or an emptied PostgreSQL schema."""

from __future__ import annotations

import tempfile

from sqlalchemy import text

from listener.store.db import make_engine


def reset_postgres_schema(url: str) -> None:
    """Drop and recreate `public`: the bench owns the database it is pointed at."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def fresh_database(url: str | None) -> str:
    """A new SQLite file when `url` is None, else `url` with an empty schema."""
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    reset_postgres_schema(url)
    return url
