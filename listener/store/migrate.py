"""Alembic, driven from code: `mentiondesk db upgrade` and the test fixtures call this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolates '%'; URLs with encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    # "heads": each stage's tables may be a branch of their own; upgrade them all.
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str:
    from alembic.runtime.migration import MigrationContext

    from listener.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
            return ", ".join(sorted(heads)) or "(empty)"
    finally:
        engine.dispose()
