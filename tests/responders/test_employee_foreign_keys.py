"""Migration 0007: replies and notifications must name a real employee; the made-up 0 that once
marked an outside speaker's message becomes NULL on upgrade, and nothing else is touched."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from listener.store import migrate
from listener.store.db import make_engine

BEFORE_0007 = ["0002", "0004", "0005", "0006"]
NOTIFICATION = (
    "INSERT INTO notifications (kind, channel, employee_id, subject, body, status, attempts,"
    " next_attempt_at, created_at) VALUES ('k', 'email', :employee, 's', 'b', 'pending', 0,"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def test_upgrade_keeps_real_employees_and_clears_the_made_up_zero(tmp_path) -> None:
    # Its own SQLite file: the shared test database is already at the newest revision.
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = migrate.alembic_config(url)
    for revision in BEFORE_0007:
        command.upgrade(config, revision)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO employees (id, name, email, handles, languages, skills, role,"
                " time_zone, working_hours, capacity, away, created_at) VALUES (1, 'Sam',"
                " 'sam@example.com', '{}', '[]', '[]', 'agent', 'UTC', '[]', 5, false,"
                " CURRENT_TIMESTAMP)"
            )
        )
        for employee in (0, 1):
            conn.execute(text(NOTIFICATION), {"employee": employee})

    migrate.upgrade(url)

    with engine.begin() as conn:
        rows = conn.execute(text("SELECT employee_id FROM notifications ORDER BY id")).all()
    assert [r[0] for r in rows] == [None, 1]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(NOTIFICATION), {"employee": 99})
    engine.dispose()
