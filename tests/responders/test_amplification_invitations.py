"""Invitations and reminders: delivered by a real SMTP server and webhook; the share links fill in
only the hashtag and the link, never words."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from config.notify import EmailSettings, NotifyConfig
from config.settings import parse_config
from responders.amplification.invitations import invite, remind_upcoming
from responders.amplification.models import Invitation
from responders.amplification.service import create_event
from responders.amplification.share import share_links
from responders.cli.common import DEMO_CONFIG
from responders.cli.events_demo import demo_event_spec
from responders.notify.models import STATUS_SENT, Notification
from responders.notify.service import deliver_pending
from responders.pipeline import sync_people
from sandbox import event_traffic
from tests.responders.test_notify import WEBHOOK_ENV, Webhook, smtp  # noqa: F401 - fixture

_URL = re.compile(r"https?://\S+")


@pytest.fixture
def event(session_factory):
    config = parse_config(DEMO_CONFIG.read_text(), origin="demo.toml")
    sync_people(session_factory, config)
    with session_factory() as session:
        created = create_event(session, spec=demo_event_spec())
        session.commit()
        return created


def _prefilled_words(text: str, hashtags: list[str]) -> str:
    """What is left of a share link's text once its hashtags and link are taken out."""
    text = _URL.sub(" ", text)
    for tag in hashtags:
        text = text.replace(tag, " ")
    return text.strip()


def assert_no_body_text(url: str, hashtags: list[str]) -> None:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.netloc == "twitter.com":
        assert parts.path == "/intent/tweet"
        assert set(query) <= {"hashtags", "url"}, query
        assert query["hashtags"] == [",".join(t.lstrip("#") for t in hashtags)]
    elif parts.netloc == "www.reddit.com":
        assert parts.path == "/submit" and set(query) == {"url"}, query
    else:  # Mastodon's share page and Bluesky's composer have one text field
        assert set(query) == {"text"}, query
        assert _prefilled_words(query["text"][0], hashtags) == "", query


def test_invitations_reach_everyone_with_talking_points_and_links_but_no_words(
    session_factory,
    event,
    smtp,  # noqa: F811 - the imported fixture
    monkeypatch,
) -> None:
    inbox, port = smtp
    hook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, hook.url)
    with session_factory() as session:
        invited = invite(session, event=event)
        session.commit()
        assert invite(session, event=event) == []  # again: nobody new
    names = sorted(i.name for i in invited)
    # The social team (Maria, Priya), the named employees, both speakers; Maria once.
    assert names == ["Dr. Ada Lin", "Jonas Weber", "Maria Lopez", "Priya Shah", "Sam Okafor"]

    settings = NotifyConfig(
        email=EmailSettings(smtp_host="127.0.0.1", smtp_port=port, sender="desk@northwind.example"),
        webhook_url_env=WEBHOOK_ENV,
    )
    deliver_pending(session_factory, settings)
    recipients = sorted(to for tos, _ in inbox.messages for to in tos)
    assert recipients == [
        "ada.lin@aero-research.example",
        "jonas@northwind.example",
        "maria@northwind.example",
        "priya@northwind.example",
        "sam@northwind.example",
    ]
    assert len(hook.received) == 4  # the outside speaker gets email only

    tokens = set()
    for _, raw in inbox.messages:
        body = message_from_bytes(raw).get_payload(decode=True).decode()
        for point in event_traffic.TALKING_POINTS:
            assert point in body
        # Every link but the event page itself is a share link.
        shares = [u for u in _URL.findall(body) if urlsplit(u).netloc != "northwind.example"]
        share_hosts = sorted(urlsplit(u).netloc for u in shares)
        assert share_hosts == ["bsky.app", "mastodon.social", "twitter.com", "www.reddit.com"]
        for url in shares:
            assert_no_body_text(url, [event_traffic.EVENT_HASHTAG])
        x_link = next(u for u in shares if "twitter.com" in u)
        personal = parse_qs(urlsplit(x_link).query)["url"][0]
        assert personal.startswith(event_traffic.EVENT_LINK + "?ref=")
        tokens.add(personal)
    assert len(tokens) == 5  # one personal link each
    with session_factory() as session:
        sent = session.scalars(
            select(Notification).where(Notification.kind == "event_invitation")
        ).all()
        assert {n.status for n in sent} == {STATUS_SENT}


def test_share_links_fill_in_only_hashtags_and_link() -> None:
    links = share_links(
        hashtags=["#NWSummit26", "#FlyCleaner"],
        links=["https://northwind.example/summit?lang=en"],
        token="tok123",
        handles={"mastodon": "@priya@aviation.social"},
    )
    assert links["x"] == (
        "https://twitter.com/intent/tweet?hashtags=NWSummit26%2CFlyCleaner"
        "&url=https%3A%2F%2Fnorthwind.example%2Fsummit%3Flang%3Den%26ref%3Dtok123"
    )
    assert links["mastodon"].startswith("https://aviation.social/share?text=")
    for url in links.values():
        assert_no_body_text(url, ["#NWSummit26", "#FlyCleaner"])


@pytest.mark.parametrize(
    "handle",
    [
        "priya@mastodon.social@evil.example",  # userinfo: the browser would open evil.example
        "priya@evil.example/phish?x=",
        "priya@evil.example#",
        "priya@",
        "priya@aviation social",
    ],
)
def test_a_handle_that_is_not_user_at_host_shares_on_the_default_instance(handle) -> None:
    links = share_links(hashtags=["#NWSummit26"], links=[], token="t", handles={"mastodon": handle})
    assert urlsplit(links["mastodon"]).netloc == "mastodon.social"
    assert links["mastodon"].startswith("https://mastodon.social/share?text=")


def test_reminders_go_out_once_shortly_before_the_event(session_factory, event) -> None:
    with session_factory() as session:
        invite(session, event=event)
        session.commit()
        assert remind_upcoming(session, now=event.starts_at - timedelta(days=3)) == 0
        assert remind_upcoming(session, now=event.starts_at - timedelta(hours=2)) == 5
        session.commit()
        assert remind_upcoming(session, now=event.starts_at - timedelta(hours=1)) == 0
        assert all(i.reminded_at for i in session.scalars(select(Invitation)))
        reminders = session.scalars(
            select(Notification).where(Notification.kind == "event_reminder")
        ).all()
        # Employees on both channels, the outside speaker by email.
        assert len(reminders) == 4 * 2 + 1
        assert all(event_traffic.TALKING_POINTS[0] in n.body for n in reminders)
