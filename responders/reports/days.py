"""A timestamp column's UTC calendar day, in SQL that means the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, cast, func
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def utc_day(session: Session, column) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        # date(timestamptz) would use the connection's time zone; the report's days are UTC.
        return cast(func.timezone("UTC", column), Date)
    # SQLite keeps UTCDateTime as naive UTC text ("2026-06-01 10:00:00.000000").
    return func.date(column)


def as_day(value: date | str) -> str:
    """ISO day from either database (PostgreSQL hands back a date, SQLite a string)."""
    return value.isoformat() if isinstance(value, date) else str(value)
