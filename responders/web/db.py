"""A database session per request. Routes commit what they change; services only flush."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session


def db_session(request: Request) -> Iterator[Session]:
    session = request.app.state.web.session_factory()
    try:
        yield session
    finally:
        session.close()
