"""BlueskySource: the real atproto SDK against the sandbox's Bluesky XRPC API over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from config.settings import Brand, SourceConfig
from listener.polling import poll_once
from listener.sources import bluesky
from listener.sources.errors import (
    AuthFailed,
    BadPayload,
    RateLimited,
    ReplyNotAllowed,
    ReplyTargetGone,
    SourceUnavailable,
)
from listener.store.ingest import load_cursors
from listener.store.models import Mention, RejectedPayload
from sandbox.server import SandboxServer
from tests.listener.source_faults import request_timeout_for

BRANDS = [
    Brand(
        name="Northwind Air",
        names=["Northwind Air"],
        handles=["@northwindair"],
        hashtags=["#flynorthwind"],
        exclude=["Northwind Traders"],
    ),
    Brand(name="Skyline Airways", names=["Skyline Airways"], competitor=True),
]
BRAND = "northwindair.bsky.social"
ALICE = "alice.bsky.social"


@pytest.fixture
def pds(sandbox: SandboxServer) -> SandboxServer:
    sandbox.state.add_account("bluesky", BRAND, "Northwind Air", is_brand=True)
    sandbox.state.add_account("bluesky", ALICE, "Alice A.", followers=12_500)
    return sandbox


@pytest.fixture
def make_source(pds: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_BSKY_HANDLE", BRAND)
    monkeypatch.setenv("TEST_BSKY_PASSWORD", "app-password")

    def make(page_size: int = 100, **overrides) -> bluesky.BlueskySource:
        settings = {
            "name": "bluesky",
            "network": "bluesky",
            "credentials": {"handle": "TEST_BSKY_HANDLE", "app_password": "TEST_BSKY_PASSWORD"},
            "api_base_url": pds.url + "/bluesky",
            "max_pages": 5,
            "request_timeout_seconds": 5,
            **overrides,
        }
        return bluesky.build(SourceConfig(**settings), BRANDS, page_size=page_size)

    return make


def publish(sandbox: SandboxServer, text: str, author: str = ALICE, **kwargs):
    return sandbox.state.publish("bluesky", author, text, **kwargs)


def uri(post) -> str:
    return f"at://{post.author_id}/app.bsky.feed.post/{post.id}"


def logins(sandbox: SandboxServer) -> int:
    return sum("createSession" in r["path"] for r in sandbox.state.request_log)


def fetch_all(source, cursors: dict[str, str]):
    result = source.fetch(cursors)
    return result, {**cursors, **result.cursors}


def test_notifications_and_searches_become_raw_mentions(pds, make_source):
    mention = publish(pds, f"@{BRAND} my bag never arrived")
    tagged = publish(pds, "Sunset from the wing #FlyNorthwind", author="bob.bsky.social")
    found = publish(pds, "Northwind Air was late", author="carol.bsky.social", lang="de")
    rival = publish(
        pds, "Skyline Airways was on time", author="dan.bsky.social", in_reply_to_id=found.id
    )
    publish(pds, "nothing about airlines", author="erin.bsky.social")

    result = make_source().fetch({})

    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {uri(p) for p in (mention, tagged, found, rival)}
    first = by_id[uri(mention)]
    assert first.matched_query == f"@{BRAND}" and first.brand == "Northwind Air"
    assert first.url == f"https://bsky.app/profile/{ALICE}/post/{mention.id}"
    assert first.author.external_id == mention.author_id
    assert (first.author.handle, first.author.display_name) == (ALICE, "Alice A.")
    assert first.author.followers == 12_500  # from getProfiles, for routing's big-account rule
    assert abs(first.created_at - mention.created_at) < timedelta(milliseconds=1)
    assert first.raw["record"]["text"] == mention.text
    assert by_id[uri(tagged)].matched_query == "#flynorthwind"
    assert by_id[uri(found)].language == "de"
    answer = by_id[uri(rival)]
    assert answer.is_competitor and answer.brand == "Skyline Airways"
    assert answer.in_reply_to_id == answer.conversation_id == uri(found)
    assert set(result.cursors) == {
        "notifications",
        "search:Northwind Air:Northwind Air",
        "search:Northwind Air:#flynorthwind",
        "search:Skyline Airways:Skyline Airways",
    }
    assert result.rejected == []


def test_replies_to_the_brand_are_notifications_too(pds, make_source):
    ours = publish(pds, "We are sorry to hear that.", author=BRAND)
    answer = publish(pds, "still waiting though", in_reply_to_id=ours.id)
    result = make_source(search_posts=False).fetch({})
    [only] = result.mentions
    assert only.external_id == uri(answer) and only.brand == "Northwind Air"
    assert only.raw["reason"] == "reply"


def test_page_cap_never_skips_posts(pds, make_source):
    source = make_source(page_size=3, max_pages=2)
    published = [publish(pds, f"Northwind Air trip {i}") for i in range(5)]
    collected: list[str] = []
    cursors: dict[str, str] = {}
    for round_number in range(8):
        result, cursors = fetch_all(source, cursors)
        collected += [m.external_id for m in result.mentions]
        if round_number < 3:  # traffic keeps coming while the gap is read
            published += [publish(pds, f"Northwind Air more {round_number}.{i}") for i in range(8)]
    assert set(collected) == {uri(p) for p in published}


def test_a_gap_left_by_the_page_cap_is_read_first_then_closed(pds, make_source):
    source = make_source(page_size=3, max_pages=2, search_posts=False)
    old = publish(pds, f"@{BRAND} before", created_at=datetime.now(UTC) - timedelta(seconds=5))
    _, cursors = fetch_all(source, {})
    burst = [publish(pds, f"@{BRAND} burst {i}") for i in range(10)]  # more than 2 pages of 3

    first, cursors = fetch_all(source, cursors)
    assert {m.external_id for m in first.mentions} == {uri(p) for p in burst[-6:]}
    assert '"resume"' in cursors["notifications"]  # the unread rest, remembered
    meanwhile = publish(pds, f"@{BRAND} meanwhile")

    second, cursors = fetch_all(source, cursors)
    assert {uri(p) for p in burst[:4]} <= {m.external_id for m in second.mentions}
    assert '"resume"' not in cursors["notifications"]  # gap closed: the mark moved on
    third, _ = fetch_all(source, cursors)
    assert uri(meanwhile) in {m.external_id for m in third.mentions}
    assert uri(old) not in {m.external_id for m in third.mentions}  # behind the mark now


def test_first_poll_reads_back_max_pages_only(pds, make_source):
    posts = [publish(pds, f"Northwind Air {i}") for i in range(10)]
    result = make_source(page_size=3, max_pages=2, search_posts=True).fetch({})
    assert {m.external_id for m in result.mentions} == {uri(p) for p in posts[-6:]}


def test_one_broken_post_is_rejected_once_and_the_rest_kept(pds, make_source):
    posts = [publish(pds, f"@{BRAND} trip {i}") for i in range(3)]
    pds.state.add_fault(
        network="bluesky", kind="malformed_item", path_contains="listNotif", count=-1
    )
    source = make_source(search_posts=False)
    result, cursors = fetch_all(source, {})
    assert {m.external_id for m in result.mentions} == {uri(posts[0]), uri(posts[2])}
    [rejected] = result.rejected
    assert rejected.stream == "notifications" and "not-a-date" in rejected.payload
    again, _ = fetch_all(source, cursors)  # the same page read again: reported once only
    assert again.rejected == []


def test_rate_limit_becomes_rate_limited_with_the_reset_time(pds, make_source):
    pds.state.add_fault(network="bluesky", kind="rate_limit", path_contains="searchPosts")
    started = datetime.now(UTC)
    with pytest.raises(RateLimited) as limited:
        make_source().fetch({})
    assert started < limited.value.retry_at < started + timedelta(seconds=30)


def test_polling_stops_before_the_window_is_spent(pds, make_source):
    requests.post(
        f"{pds.url}/bluesky/_sandbox/rate_limit",
        json={"requests_per_window": 30, "window_seconds": 300},
        timeout=5,
    ).raise_for_status()
    source = make_source()
    mention = publish(pds, f"@{BRAND} are you there?")
    with pytest.raises(RateLimited, match="kept for replies"):
        for _ in range(10):
            source.fetch({})
    assert 429 not in [r["status"] for r in pds.state.request_log]
    assert source.reply(uri(mention), "Yes, we are!")  # the reserve is for replies


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "server_error", "status": 503}, SourceUnavailable),
        ({"kind": "server_error", "status": 502}, SourceUnavailable),
        ({"kind": "malformed"}, BadPayload),
        ({"kind": "slow", "delay_seconds": 1.0}, SourceUnavailable),
    ],
)
def test_network_failures_are_translated(pds, make_source, fault, error):
    publish(pds, f"@{BRAND} hi")
    pds.state.add_fault(network="bluesky", path_contains="listNotifications", **fault)
    with pytest.raises(error):
        make_source(request_timeout_seconds=request_timeout_for(fault)).fetch({})


def test_refused_password_is_auth_failed(pds, make_source, monkeypatch):
    monkeypatch.setenv("TEST_BSKY_PASSWORD", "invalid")
    with pytest.raises(AuthFailed):
        make_source().fetch({})


def test_unreachable_pds_is_source_unavailable(make_source):
    with pytest.raises(SourceUnavailable):
        make_source(api_base_url="http://127.0.0.1:9/bluesky").fetch({})


def test_one_login_serves_every_poll_and_reply(pds, make_source):
    source = make_source()
    asked = publish(pds, f"@{BRAND} hello")
    cursors: dict[str, str] = {}
    for _ in range(5):
        _, cursors = fetch_all(source, cursors)
    source.reply(uri(asked), "Hello!")
    assert source.find_reply(uri(asked), "Hello!")
    assert logins(pds) == 1


def test_an_expired_session_is_replaced_by_one_new_login(pds, make_source):
    source = make_source()
    source.fetch({})
    requests.post(f"{pds.url}/bluesky/_sandbox/expire_sessions", timeout=5).raise_for_status()
    mention = publish(pds, f"@{BRAND} hello again")
    result = source.fetch({})
    assert uri(mention) in {m.external_id for m in result.mentions}
    assert logins(pds) == 2


def test_logins_over_their_own_limit_are_rate_limited(pds, make_source):
    requests.post(
        f"{pds.url}/bluesky/_sandbox/rate_limit", json={"logins_per_window": 1}, timeout=5
    ).raise_for_status()
    make_source().fetch({})
    with pytest.raises(RateLimited):
        make_source().fetch({})  # a second process, a second login: refused


def test_poll_stores_once_and_cursors_survive_a_restart(pds, make_source, session_factory):
    posts = [publish(pds, f"@{BRAND} #flynorthwind Northwind Air {i}") for i in range(5)]
    assert poll_once(session_factory, make_source(page_size=2)).stored == 5
    with session_factory() as session:
        assert load_cursors(session, "bluesky")["notifications"]

    later = [publish(pds, f"@{BRAND} later {i}") for i in range(3)]
    restarted = make_source(page_size=2)  # a new process: only the database remembers
    outcome = poll_once(session_factory, restarted)
    assert outcome.stored == 3 and outcome.ok
    assert poll_once(session_factory, restarted).stored == 0
    with session_factory() as session:
        stored = set(session.scalars(select(Mention.external_id)))
    assert stored == {uri(p) for p in posts + later}


def test_a_broken_post_is_kept_in_rejected_payloads(pds, make_source, session_factory):
    publish(pds, f"@{BRAND} one")
    publish(pds, f"@{BRAND} two")
    pds.state.add_fault(network="bluesky", kind="malformed_item", path_contains="listNotif")
    outcome = poll_once(session_factory, make_source(search_posts=False))
    assert (outcome.stored, outcome.rejected) == (1, 1)
    with session_factory() as session:
        [kept] = session.scalars(select(RejectedPayload)).all()
    assert kept.network == "bluesky" and "not-a-date" in kept.payload


# --- replies ------------------------------------------------------------------------------------
def sent_refs(pds: SandboxServer) -> list[tuple[str, str, str]]:
    replies = pds.state.snapshot()["replies"]["bluesky"]
    return [
        (r["text"], r["extra"]["reply"]["root"]["uri"], r["extra"]["reply"]["parent"]["uri"])
        for r in replies
    ]


def test_replies_carry_the_thread_root_and_the_parent(pds, make_source):
    root = publish(pds, f"@{BRAND} my flight was cancelled")
    answer = publish(pds, "and nobody helps", author="bob.bsky.social", in_reply_to_id=root.id)
    deeper = publish(
        pds, f"@{BRAND} same here", author="carol.bsky.social", in_reply_to_id=answer.id
    )
    source = make_source()

    to_root = source.reply(uri(root), "Sorry, Alice")
    to_reply = source.reply(uri(answer), "Sorry, Bob")
    to_deeper = source.reply(uri(deeper), "Sorry, Carol")

    assert sent_refs(pds) == [
        ("Sorry, Alice", uri(root), uri(root)),
        ("Sorry, Bob", uri(root), uri(answer)),
        ("Sorry, Carol", uri(root), uri(deeper)),  # a reply to a reply to a reply: root is root
    ]
    replies = pds.state.snapshot()["replies"]["bluesky"]
    assert [f"at://{r['author_id']}/app.bsky.feed.post/{r['id']}" for r in replies] == [
        to_root,
        to_reply,
        to_deeper,
    ]
    assert {r["conversation_id"] for r in replies} == {root.id}
    assert source.find_reply(uri(deeper), "Sorry,   Carol") == to_deeper
    assert source.find_reply(uri(deeper), "Sorry, Dave") is None


def test_links_and_mentions_in_a_reply_become_facets(pds, make_source):
    asked = publish(pds, f"@{BRAND} where do I claim?")
    make_source().reply(uri(asked), f"@{ALICE} see https://example.com/claims")
    [reply] = pds.state.snapshot()["replies"]["bluesky"]
    kinds = {f["features"][0]["$type"] for f in reply["extra"]["facets"]}
    assert kinds == {"app.bsky.richtext.facet#mention", "app.bsky.richtext.facet#link"}


def test_reply_refusals_say_why(pds, make_source):
    source = make_source()
    gone = publish(pds, f"@{BRAND} hello")
    pds.state.delete_post("bluesky", gone.id)
    with pytest.raises(ReplyTargetGone):
        source.reply(uri(gone), "Hi")
    assert source.find_reply(uri(gone), "Hi") is None
    gated = publish(pds, f"@{BRAND} no replies please", replies_disabled=True)
    with pytest.raises(ReplyNotAllowed):
        source.reply(uri(gated), "Hi")
    asked = publish(pds, f"@{BRAND} hello")
    with pytest.raises(bluesky.BlueskyReplyRejected, match="300 graphemes"):
        source.reply(uri(asked), "é" * 301)
    assert pds.state.snapshot()["replies"]["bluesky"] == []


def test_our_replies_are_not_read_back_as_mentions(pds, make_source):
    source = make_source()
    asked = publish(pds, f"@{BRAND} #flynorthwind help")
    first, cursors = fetch_all(source, {})
    assert len(first.mentions) == 1
    source.reply(uri(asked), "Northwind Air is on it #flynorthwind")
    second, _ = fetch_all(source, cursors)
    assert [m.external_id for m in second.mentions] == [uri(asked)]  # re-read at the mark only
