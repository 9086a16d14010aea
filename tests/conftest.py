"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
MENTIONDESK_TEST_DATABASE_URL is set) and a real sandbox network on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from listener.store import migrate
from listener.store.db import Base, make_engine, make_session_factory
from sandbox.server import SandboxServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PostgreSQL: the test database, reset and migrated once. SQLite: a migrated template file."""
    url = os.environ.get("MENTIONDESK_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def database_url(_migrated_database: str, tmp_path: Path) -> str:
    """The URL of a migrated, empty database for this test (subprocesses may use it too)."""
    if _migrated_database.startswith("sqlite"):
        # A file of its own per test: no lock or row left by another test can reach it.
        copy = tmp_path / "test.db"
        shutil.copyfile(_migrated_database.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    engine = make_engine(_migrated_database)
    _empty_all_tables(engine)
    engine.dispose()
    return _migrated_database


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The test's empty database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox network with no traffic; tests publish what they need."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"labelled data not found at {SHARED_DATA} (it ships only beside CI's clone)")
    return SHARED_DATA
