"""Test data for routing and inbox tests: authors, mentions, employees, a config. Our own rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from config.people import EmployeeConfig
from config.settings import AppConfig, parse_config
from listener.store.models import STATUS_CLASSIFIED, Author, Mention
from responders.employees.models import Employee
from responders.employees.service import upsert_employee

# A Monday, far from any daylight-saving change.
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)

BRAND = """
[[brands]]
name = "Northwind Air"
names = ["Northwind Air"]

[[brands]]
name = "Skyline Airways"
names = ["Skyline Airways"]
competitor = true
"""


def config(extra: str = "") -> AppConfig:
    return parse_config(BRAND + extra, origin="test.toml")


def author(session: Session, handle: str = "traveller", followers: int = 10) -> Author:
    row = Author(network="x", external_id=f"u{next(_ids)}", handle=handle, followers=followers)
    session.add(row)
    session.flush()
    return row


def mention(
    session: Session,
    who: Author,
    *,
    text: str = "Northwind Air lost my bag",
    posted_at: datetime = MONDAY_10,
    status: str = STATUS_CLASSIFIED,
    conversation_id: str | None = None,
    language: str | None = "en",
    brand: str = "Northwind Air",
    competitor: bool = False,
) -> Mention:
    external_id = str(next(_ids) + 1_000_000)
    row = Mention(
        network="x",
        external_id=external_id,
        source_name="x",
        url=f"https://x.example/{external_id}",
        author_id=who.id,
        text=text,
        posted_at=posted_at,
        fetched_at=posted_at,
        conversation_id=conversation_id or external_id,
        language=language,
        brand=brand,
        matched_query=brand,
        is_competitor=competitor,
        status=status,
        raw={},
    )
    session.add(row)
    session.flush()
    return row


def employee(
    session: Session, email: str, teams: tuple[str, ...] = ("support",), **fields
) -> Employee:
    spec = EmployeeConfig(name=email.split("@")[0], email=email, teams=list(teams), **fields)
    return upsert_employee(session, spec=spec)
