"""A stranger's overlong profile name is cut to the column, not a failed poll (PostgreSQL refuses
values longer than the column; SQLite would have stored them)."""

from __future__ import annotations

from sqlalchemy import select

from config.settings import Brand, SourceConfig
from listener.polling import poll_once
from listener.sources.x import build
from listener.store.models import Author, Mention


def test_overlong_display_name_is_cut_and_the_mention_stored(sandbox, session_factory, monkeypatch):
    monkeypatch.setenv("TEST_X_BEARER", "sandbox-token")
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("x", "longname", "B" * 400, followers=3)
    sandbox.state.publish("x", "longname", "@northwindair my bag never arrived")
    source = build(
        SourceConfig(
            name="x",
            network="x",
            credentials={"bearer_token": "TEST_X_BEARER"},
            api_base_url=sandbox.url + "/x",
            account_handle="northwindair",
        ),
        [Brand(name="Northwind Air", names=["Northwind Air"], handles=["@northwindair"])],
    )
    outcome = poll_once(session_factory, source)
    assert outcome.error is None and outcome.stored == 1
    with session_factory() as session:
        author = session.scalars(select(Author).where(Author.handle == "longname")).one()
        assert author.display_name == "B" * 255
        assert session.scalars(select(Mention.text)).one() == "@northwindair my bag never arrived"
