"""The reply sender with the real tweepy, praw, Mastodon.py and atproto clients against the sandbox
over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from config.settings import Brand, SourceConfig
from listener.sources import bluesky, mastodon, reddit, x
from listener.store.models import Author, Mention
from responders.employees.models import Employee
from responders.replies import sender
from responders.replies.models import (
    STATUS_FAILED,
    STATUS_POSTED,
    STATUS_QUEUED,
    STATUS_SENDING,
    OutboxReply,
)
from responders.replies.service import queue_reply, reply_url
from sandbox.server import SandboxServer
from sandbox.state import Post

BRANDS = [Brand(name="Northwind Air", names=["Northwind Air"], handles=["@northwindair"])]


@pytest.fixture
def network(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit",
        json={"requests_per_window": 1_000_000},
        timeout=10,
    ).raise_for_status()
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("reddit", "northwindair", is_brand=True)
    sandbox.state.add_account("mastodon", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("bluesky", "northwindair.bsky.social", is_brand=True)
    for key, value in {
        "T_X_BEARER": "sandbox-token",
        "T_R_ID": "client",
        "T_R_SECRET": "secret",
        "T_R_USER": "northwindair",
        "T_R_PASSWORD": "hunter2",
        "T_M_TOKEN": "sandbox-token",
        "T_B_HANDLE": "northwindair.bsky.social",
        "T_B_PASSWORD": "app-password",
    }.items():
        monkeypatch.setenv(key, value)
    yield sandbox


def x_source(network: SandboxServer) -> x.XSource:
    config = SourceConfig(
        name="x-main",
        network="x",
        credentials={"bearer_token": "T_X_BEARER"},
        api_base_url=network.url + "/x",
        account_handle="northwindair",
        request_timeout_seconds=5,
    )
    return x.build(config, BRANDS)


def reddit_source(network: SandboxServer) -> reddit.RedditSource:
    config = SourceConfig(
        name="reddit-main",
        network="reddit",
        credentials={
            "client_id": "T_R_ID",
            "client_secret": "T_R_SECRET",
            "username": "T_R_USER",
            "password": "T_R_PASSWORD",
        },
        api_base_url=network.url + "/reddit",
        account_handle="northwindair",
        subreddits=["all"],
        request_timeout_seconds=5,
    )
    return reddit.build(config, BRANDS)


def mastodon_source(network: SandboxServer) -> mastodon.MastodonSource:
    config = SourceConfig(
        name="mastodon-main",
        network="mastodon",
        credentials={"access_token": "T_M_TOKEN"},
        api_base_url=network.url + "/mastodon",
        account_handle="northwindair",
        request_timeout_seconds=5,
    )
    return mastodon.build(config, BRANDS)


def bluesky_source(network: SandboxServer) -> bluesky.BlueskySource:
    config = SourceConfig(
        name="bluesky-main",
        network="bluesky",
        credentials={"handle": "T_B_HANDLE", "app_password": "T_B_PASSWORD"},
        api_base_url=network.url + "/bluesky",
        request_timeout_seconds=5,
    )
    return bluesky.build(config, BRANDS)


SOURCES = {
    "x": x_source,
    "reddit": reddit_source,
    "mastodon": mastodon_source,
    "bluesky": bluesky_source,
}


def external_id(network: SandboxServer, post: Post) -> str:
    """The post's id as each source stores it."""
    if post.network == "reddit":
        return ("t3_" if post.in_reply_to_id is None else "t1_") + post.id
    if post.network == "mastodon":
        return f"127.0.0.1:{network.port}/mastodon/{post.id}"
    if post.network == "bluesky":
        return f"at://{post.author_id}/app.bsky.feed.post/{post.id}"
    return post.id


def customer_post(
    network: SandboxServer, name: str, text: str = "@northwindair hello?", author: str = "alice"
) -> Post:
    """A post by `author` that the brand may answer on network `name`."""
    if name == "reddit":
        return network.state.publish("reddit", author, "", subreddit="travel", title="Northwind?")
    if name == "bluesky":
        text = text.replace("@northwindair", "@northwindair.bsky.social")
        return network.state.publish("bluesky", f"{author}.bsky.social", text)
    return network.state.publish(name, author, text)


def store_mention(
    session: Session, post: Post, *, source_name: str, key: str | None = None
) -> Mention:
    """The mention a source would have stored for `post`; `key`: its id, where the network's own
    id is not enough (Mastodon's carry the instance, Bluesky's are AT URIs)."""
    network = post.network
    if network == "reddit":
        external_id = ("t3_" if post.in_reply_to_id is None else "t1_") + post.id
        url = f"https://www.reddit.com/r/travel/comments/{post.conversation_id}/delay/"
    elif network == "bluesky":
        external_id = key or f"at://{post.author_id}/app.bsky.feed.post/{post.id}"
        url = f"https://bsky.app/profile/{post.author_id}/post/{post.id}"
    else:
        external_id, url = key or post.id, f"https://x.com/someone/status/{post.id}"
    author = Author(network=network, external_id=post.author_id, handle=post.author_id)
    mention = Mention(
        network=network,
        external_id=external_id,
        source_name=source_name,
        url=url,
        author=author,
        text=post.text,
        posted_at=post.created_at,
        brand="Northwind Air",
        matched_query="@northwindair",
        raw={},
    )
    session.add(mention)
    session.commit()
    return mention


def queue(session: Session, mention: Mention, text: str) -> OutboxReply:
    employee = session.scalar(select(Employee)) or Employee(name="Ann", email="ann@example.com")
    session.add(employee)
    session.flush()
    reply = queue_reply(session, mention_id=mention.id, employee_id=employee.id, text=text)
    session.commit()
    return reply


def sandbox_replies(network: SandboxServer, name: str) -> list[dict]:
    state = requests.get(f"{network.url}/_sandbox/state", timeout=10).json()
    return state["replies"][name]


def reload(factory: sessionmaker[Session], reply: OutboxReply) -> OutboxReply:
    with factory() as s:
        return s.get_one(OutboxReply, reply.id, options=[selectinload(OutboxReply.mention)])


def test_x_reply_lands_once_in_the_thread(network, session, session_factory):
    post = network.state.publish("x", "alice", "@northwindair my bag is lost")
    reply = queue(session, store_mention(session, post, source_name="x-main"), "So sorry, DM us")
    sources = {"x-main": x_source(network)}

    assert sender.send_pending(session_factory, sources) == 1
    assert sender.send_pending(session_factory, sources) == 0  # nothing left to send

    [posted] = sandbox_replies(network, "x")
    assert (posted["in_reply_to_id"], posted["text"]) == (post.id, "So sorry, DM us")
    assert posted["conversation_id"] == post.id and posted["author_handle"] == "northwindair"
    row = reload(session_factory, reply)
    assert (row.status, row.external_id, row.error) == (STATUS_POSTED, posted["id"], None)
    assert reply_url(row, row.mention) == f"https://x.com/i/web/status/{posted['id']}"
    assert row.mention.status == "replied"  # the inbox recorded it in the same transaction


def test_reddit_reply_lands_once_under_the_comment(network, session, session_factory):
    root = network.state.publish("reddit", "traveller", "", subreddit="travel", title="Delay")
    asked = network.state.publish(
        "reddit", "bob", "u/northwindair any news?", in_reply_to_id=root.id, subreddit="travel"
    )
    mention = store_mention(session, asked, source_name="reddit-main")
    reply = queue(session, mention, "We are on it, Bob.")
    # Looked up by network when no source has the row's name.
    sources = {"reddit": reddit_source(network)}

    assert sender.send_pending(session_factory, sources) == 1
    assert sender.send_pending(session_factory, sources) == 0

    [posted] = sandbox_replies(network, "reddit")
    assert (posted["in_reply_to_id"], posted["conversation_id"]) == (asked.id, root.id)
    row = reload(session_factory, reply)
    assert (row.status, row.external_id) == (STATUS_POSTED, f"t1_{posted['id']}")
    assert reply_url(row, row.mention) == (
        f"https://www.reddit.com/r/travel/comments/{root.id}/delay/{posted['id']}/"
    )


def test_x_reply_rule_fails_with_the_post_link(network, session, session_factory):
    post = network.state.publish("x", "carol", "Northwind Air lost my bag again")  # no @mention
    mention = store_mention(session, post, source_name="x-main")
    reply = queue(session, mention, "Sorry Carol!")

    assert sender.send_pending(session_factory, {"x": x_source(network)}) == 0

    row = reload(session_factory, reply)
    assert row.status == STATUS_FAILED
    assert "X only lets the account reply to people who mentioned" in row.error
    assert mention.url in row.error
    assert sandbox_replies(network, "x") == []


@pytest.mark.parametrize("name", list(SOURCES))
def test_deleted_post_fails_with_the_reason(network, session, session_factory, name):
    post = customer_post(network, name)
    sources = {name: SOURCES[name](network)}
    mention = store_mention(session, post, source_name=name, key=external_id(network, post))
    reply = queue(session, mention, "Hello!")
    network.state.delete_post(name, post.id)

    assert sender.send_pending(session_factory, sources) == 0

    row = reload(session_factory, reply)
    assert row.status == STATUS_FAILED
    assert "deleted" in row.error
    assert sandbox_replies(network, name) == []


def test_x_forbidden_account_fails_with_the_reason(network, session, session_factory):
    post = network.state.publish("x", "alice", "@northwindair hello?")
    reply = queue(session, store_mention(session, post, source_name="x-main"), "Hi")
    network.state.accounts["x"].pop(network.state.brand_account("x").id)  # app lost its access

    sender.send_pending(session_factory, {"x": x_source(network)})

    row = reload(session_factory, reply)
    assert row.status == STATUS_FAILED
    assert "refused the reply" in row.error and "403" in row.error


WRITE_PATHS = {
    "x": "/2/tweets",
    "reddit": "/api/comment",
    "mastodon": "/api/v1/statuses",
    "bluesky": "createRecord",
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_rate_limit_waits_for_the_reset_then_posts_once(network, session, session_factory, name):
    post = customer_post(network, name)
    sources, path = {name: SOURCES[name](network)}, WRITE_PATHS[name]
    mention = store_mention(session, post, source_name=name, key=external_id(network, post))
    reply = queue(session, mention, "Hello!")
    network.state.add_fault(network=name, kind="rate_limit", path_contains=path, count=1)
    now = datetime.now(UTC)

    assert sender.send_pending(session_factory, sources, now=now) == 0
    row = reload(session_factory, reply)
    assert row.status == STATUS_QUEUED and row.next_attempt_at > now
    assert "rate limit" in row.error.lower()
    assert sender.send_pending(session_factory, sources, now=now) == 0  # not due yet

    assert sender.send_pending(session_factory, sources, now=row.next_attempt_at) == 1
    assert len(sandbox_replies(network, name)) == 1
    assert reload(session_factory, reply).status == STATUS_POSTED


def test_server_errors_back_off_exponentially(network, session, session_factory):
    post = network.state.publish("x", "alice", "@northwindair hello?")
    reply = queue(session, store_mention(session, post, source_name="x-main"), "Hello!")
    network.state.add_fault(network="x", kind="server_error", path_contains="/2/tweets", count=2)
    sources = {"x": x_source(network)}
    now = datetime.now(UTC)

    sender.send_pending(session_factory, sources, now=now)
    first = reload(session_factory, reply)
    later = first.next_attempt_at
    sender.send_pending(session_factory, sources, now=later)
    second = reload(session_factory, reply)

    assert (first.status, second.status) == (STATUS_QUEUED, STATUS_QUEUED)
    assert first.next_attempt_at - now == sender.backoff(1)
    assert second.next_attempt_at - later == sender.backoff(2) > sender.backoff(1)
    assert sender.send_pending(session_factory, sources, now=second.next_attempt_at) == 1
    assert len(sandbox_replies(network, "x")) == 1


def test_a_claim_left_by_a_dead_sender_is_settled_by_asking_the_network(
    network, session, session_factory
):
    """Died after posting (reply on X, row still "sending") and died before posting."""
    source = x_source(network)
    went_out = network.state.publish("x", "alice", "@northwindair one")
    never_sent = network.state.publish("x", "bob", "@northwindair two")
    first = queue(session, store_mention(session, went_out, source_name="x-main"), "Reply one")
    second = queue(session, store_mention(session, never_sent, source_name="x-main"), "Reply 2")
    crashed_at = datetime.now(UTC)
    posted_id = source.reply(went_out.id, "Reply one")
    for row in (first, second):
        row.status, row.claimed_at, row.attempts = STATUS_SENDING, crashed_at, 1
    session.commit()

    # Within the lease the claim is someone's work in progress: left alone.
    assert sender.send_pending(session_factory, {"x": source}, now=crashed_at) == 0
    assert reload(session_factory, first).status == STATUS_SENDING

    after_lease = crashed_at + sender.SENDING_LEASE + timedelta(seconds=1)
    assert sender.send_pending(session_factory, {"x": source}, now=after_lease) == 2

    replies = sandbox_replies(network, "x")
    assert sorted((r["in_reply_to_id"], r["text"]) for r in replies) == sorted(
        [(went_out.id, "Reply one"), (never_sent.id, "Reply 2")]
    )
    assert reload(session_factory, first).external_id == posted_id


def test_rows_without_a_source_here_stay_queued(network, session, session_factory):
    post = network.state.publish("x", "alice", "@northwindair hello?")
    reply = queue(session, store_mention(session, post, source_name="x-main"), "Hello!")

    assert sender.send_pending(session_factory, {"reddit": reddit_source(network)}) == 0
    assert reload(session_factory, reply).status == STATUS_QUEUED


def test_mastodon_reply_lands_once_in_the_thread(network, session, session_factory):
    post = network.state.publish("mastodon", "alice", "@northwindair my bag is lost")
    mention = store_mention(
        session, post, source_name="mastodon-main", key=external_id(network, post)
    )
    reply = queue(session, mention, "So sorry, DM us")
    sources = {"mastodon-main": mastodon_source(network)}

    assert sender.send_pending(session_factory, sources) == 1
    assert sender.send_pending(session_factory, sources) == 0

    [posted] = sandbox_replies(network, "mastodon")
    assert (posted["in_reply_to_id"], posted["author_handle"]) == (post.id, "northwindair")
    assert posted["text"] == "@alice So sorry, DM us"  # addressed, so Mastodon notifies Alice
    row = reload(session_factory, reply)
    assert (row.status, row.error) == (STATUS_POSTED, None)
    assert row.external_id == f"127.0.0.1:{network.port}/mastodon/{posted['id']}"
    assert reply_url(row, row.mention) == (
        f"https://127.0.0.1:{network.port}/mastodon/statuses/{posted['id']}"
    )
    assert row.mention.status == "replied"


def test_bluesky_reply_to_a_reply_lands_once_under_the_thread_root(
    network, session, session_factory
):
    root = network.state.publish("bluesky", "alice.bsky.social", "Northwind Air lost my bag")
    answer = network.state.publish(
        "bluesky", "bob.bsky.social", "same here", in_reply_to_id=root.id
    )
    deeper = network.state.publish(
        "bluesky", "carol.bsky.social", "@northwindair.bsky.social me too", in_reply_to_id=answer.id
    )
    reply = queue(session, store_mention(session, deeper, source_name="bluesky-main"), "Sorry!")
    sources = {"bluesky": bluesky_source(network)}  # found by network name

    assert sender.send_pending(session_factory, sources) == 1
    assert sender.send_pending(session_factory, sources) == 0

    [posted] = sandbox_replies(network, "bluesky")
    refs = posted["extra"]["reply"]
    assert refs["root"]["uri"] == external_id(network, root)
    assert refs["parent"]["uri"] == external_id(network, deeper)
    assert (posted["in_reply_to_id"], posted["conversation_id"]) == (deeper.id, root.id)
    row = reload(session_factory, reply)
    assert row.status == STATUS_POSTED
    assert row.external_id == f"at://{posted['author_id']}/app.bsky.feed.post/{posted['id']}"
    assert reply_url(row, row.mention) == (
        f"https://bsky.app/profile/{posted['author_id']}/post/{posted['id']}"
    )


@pytest.mark.parametrize("name", ["mastodon", "bluesky"])
def test_dead_sender_claims_are_settled_by_asking_each_network(
    network, session, session_factory, name
):
    """Died after posting (reply on the network, row still "sending") and before posting."""
    source = SOURCES[name](network)
    went_out = customer_post(network, name, "@northwindair one")
    never_sent = customer_post(network, name, "@northwindair two", author="bob")
    first = queue(
        session,
        store_mention(session, went_out, source_name=name, key=external_id(network, went_out)),
        "Reply one",
    )
    second = queue(
        session,
        store_mention(session, never_sent, source_name=name, key=external_id(network, never_sent)),
        "Reply 2",
    )
    crashed_at = datetime.now(UTC)
    posted_id = source.reply(external_id(network, went_out), "Reply one")
    for row in (first, second):
        row.status, row.claimed_at, row.attempts = STATUS_SENDING, crashed_at, 1
    session.commit()

    after_lease = crashed_at + sender.SENDING_LEASE + timedelta(seconds=1)
    assert sender.send_pending(session_factory, {name: source}, now=after_lease) == 2

    replies = sandbox_replies(network, name)
    assert sorted(r["in_reply_to_id"] for r in replies) == sorted([went_out.id, never_sent.id])
    assert reload(session_factory, first).external_id == posted_id
