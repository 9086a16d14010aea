"""Alembic environment: runs against the URL the caller put in the config (see migrate.py)."""

from __future__ import annotations

from alembic import context

import listener.classifying.models  # noqa: F401
import listener.store.models  # noqa: F401  (registers the tables on Base.metadata)
from listener.store.db import Base, make_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `mentiondesk db upgrade`")
run_migrations_online()
