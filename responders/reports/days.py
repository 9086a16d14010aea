"""A timestamp column's UTC calendar day, in SQL that means the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Date, String, cast, func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def utc_day(session: Session, column) -> ColumnElement:
    """The day as "YYYY-MM-DD" text: cheap to fetch, sorts and groups like the date."""
    if session.get_bind().dialect.name == "postgresql":
        # date(timestamptz) would use the connection's time zone; the report's days are UTC.
        return cast(cast(func.timezone("UTC", column), Date), String)
    # SQLite keeps UTCDateTime as naive UTC text ("2026-06-01 10:00:00.000000").
    return func.date(column)
