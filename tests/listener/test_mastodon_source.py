"""MastodonSource: the real Mastodon.py client against the sandbox's Mastodon API over HTTP."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from config.errors import ConfigError
from config.settings import Brand, SourceConfig
from listener.polling import poll_once
from listener.sources import mastodon
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


@pytest.fixture
def instance(sandbox: SandboxServer) -> SandboxServer:
    sandbox.state.add_account("mastodon", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("mastodon", "alice", "Alice A.", followers=120)
    return sandbox


@pytest.fixture
def make_source(instance: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_MASTODON_TOKEN", "sandbox-token")

    def make(page_size: int = 40, sandbox: SandboxServer | None = None, **overrides):
        settings = {
            "name": "mastodon",
            "network": "mastodon",
            "credentials": {"access_token": "TEST_MASTODON_TOKEN"},
            "api_base_url": (sandbox or instance).url + "/mastodon",
            "account_handle": "northwindair",
            "max_pages": 5,
            "request_timeout_seconds": 5,
            **overrides,
        }
        return mastodon.build(SourceConfig(**settings), BRANDS, page_size=page_size)

    return make


def publish(sandbox: SandboxServer, text: str, author: str = "alice", **kwargs):
    return sandbox.state.publish("mastodon", author, text, **kwargs)


def key(sandbox: SandboxServer, post) -> str:
    return f"127.0.0.1:{sandbox.port}/mastodon/{post.id}"


def fetch_all(source, cursors: dict[str, str]):
    result = source.fetch(cursors)
    return result, {**cursors, **result.cursors}


def test_mentions_hashtags_and_search_become_raw_mentions(instance, make_source):
    mention = publish(instance, "@northwindair my bag <b>never</b> arrived & I'm upset")
    tagged = publish(instance, "Sunset over the wing #FlyNorthwind", author="bob")
    found = publish(instance, "Northwind Air was late", author="carol", lang="de")
    reply = publish(instance, "Skyline Airways was on time", author="dan", in_reply_to_id=found.id)
    publish(instance, "nothing about airlines", author="erin")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Mastodon.py version or deprecation warnings
        result = make_source().fetch({})

    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {key(instance, p) for p in (mention, tagged, found, reply)}
    first = by_id[key(instance, mention)]
    assert first.text == "@northwindair my bag <b>never</b> arrived & I'm upset"  # plain text
    assert "&lt;b&gt;" in first.raw["status"]["content"]  # the raw HTML stays in the payload
    assert first.matched_query == "@northwindair" and first.brand == "Northwind Air"
    assert first.url == f"{instance.url}/mastodon/@alice/{mention.id}"
    assert first.author.handle == "alice" and first.author.display_name == "Alice A."
    assert first.author.followers == 120
    assert abs(first.created_at - mention.created_at) < timedelta(milliseconds=1)
    assert by_id[key(instance, tagged)].matched_query == "#flynorthwind"
    assert by_id[key(instance, found)].language == "de"
    rival = by_id[key(instance, reply)]
    assert rival.is_competitor and rival.brand == "Skyline Airways"
    assert rival.in_reply_to_id == rival.conversation_id == key(instance, found)
    assert set(result.cursors) == {
        "mentions",
        "tag:flynorthwind",
        "search:Northwind Air:Northwind Air",
        "search:Skyline Airways:Skyline Airways",
    }
    assert result.rejected == []


def test_cursors_walk_forward_through_link_headers_and_never_skip(instance, make_source):
    source = make_source(page_size=3, max_pages=2)  # 6 statuses per stream per poll
    # The first poll reads back at most max_pages pages; everything after it is walked forward.
    published = [
        publish(instance, f"@northwindair #flynorthwind Northwind Air {i}") for i in range(5)
    ]
    collected: list[str] = []
    cursors: dict[str, str] = {}
    for round_number in range(6):
        result, cursors = fetch_all(source, cursors)
        collected += [m.external_id for m in result.mentions]
        if round_number < 3:  # traffic keeps coming while the backlog is read
            published += [
                publish(instance, f"@northwindair more {round_number}.{i}") for i in range(7)
            ]
    # Every post, whichever stream found it first (the database keeps one of each).
    assert set(collected) == {key(instance, p) for p in published}
    assert len(collected) < 2 * len(published)
    paths = [r["path"] for r in instance.state.request_log]
    assert "/mastodon/api/v1/notifications" in paths


def test_first_poll_reads_back_max_pages_newest_first(instance, make_source):
    posts = [publish(instance, f"@northwindair hello {i}") for i in range(10)]
    result = make_source(page_size=3, max_pages=2, search_posts=False).fetch({})
    assert {m.external_id for m in result.mentions} == {key(instance, p) for p in posts[-6:]}
    assert result.cursors["mentions"] == str(int(posts[-1].id) + 1)  # the notification's id


def test_own_posts_exclusions_and_other_brands_handles(instance, make_source):
    publish(instance, "Northwind Air here: sorry @alice", author="northwindair")
    publish(instance, "Northwind Traders sample db, nothing to do with Northwind Air")
    result = make_source().fetch({})
    assert result.mentions == [] and result.rejected == []


def test_one_broken_status_is_rejected_and_the_rest_kept(instance, make_source):
    posts = [publish(instance, f"Northwind Air trip {i}") for i in range(3)]
    instance.state.add_fault(network="mastodon", kind="malformed_item", path_contains="search")
    result = make_source(account_handle=None).fetch({})
    assert len(result.mentions) == 2
    [rejected] = result.rejected
    assert rejected.stream == "search:Northwind Air:Northwind Air"
    assert "created_at" in rejected.reason and "not-a-date" in rejected.payload
    assert result.cursors["search:Northwind Air:Northwind Air"] == posts[-1].id


def test_rate_limit_becomes_rate_limited_with_the_reset_time(instance, make_source):
    instance.state.add_fault(network="mastodon", kind="rate_limit")
    started = datetime.now(UTC)
    with pytest.raises(RateLimited) as limited:
        make_source().fetch({})
    assert started < limited.value.retry_at < started + timedelta(seconds=30)


def test_polling_stops_before_the_window_is_spent(instance, make_source):
    requests.post(
        f"{instance.url}/mastodon/_sandbox/rate_limit",
        json={"requests_per_window": 14, "window_seconds": 300},
        timeout=5,
    ).raise_for_status()
    source = make_source()
    with pytest.raises(RateLimited, match="kept for replies") as limited:
        for _ in range(10):
            source.fetch({})
    assert limited.value.retry_at > datetime.now(UTC) + timedelta(seconds=1)
    statuses = [r["status"] for r in instance.state.request_log]
    assert 429 not in statuses  # stopped before Mastodon had to refuse anything
    mention = publish(instance, "@northwindair still there?")
    assert source.reply(key(instance, mention), "Yes!")  # the reserve is for replies


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "server_error", "status": 503}, SourceUnavailable),
        ({"kind": "server_error", "status": 502}, SourceUnavailable),
        ({"kind": "malformed"}, BadPayload),
        ({"kind": "slow", "delay_seconds": 1.0}, SourceUnavailable),
    ],
)
def test_network_failures_are_translated(instance, make_source, fault, error):
    publish(instance, "@northwindair hi")
    instance.state.add_fault(network="mastodon", path_contains="notifications", **fault)
    with pytest.raises(error):
        make_source(request_timeout_seconds=request_timeout_for(fault)).fetch({})


def test_refused_token_is_auth_failed(instance, make_source, monkeypatch):
    monkeypatch.setenv("TEST_MASTODON_TOKEN", "invalid")
    with pytest.raises(AuthFailed):
        make_source().fetch({})


def test_unreachable_instance_is_source_unavailable(make_source):
    with pytest.raises(SourceUnavailable):
        make_source(api_base_url="http://127.0.0.1:9/mastodon").fetch({})


def test_search_refused_by_the_server_is_skipped_and_the_rest_read(instance, make_source, caplog):
    mention = publish(instance, "@northwindair hi")
    instance.state.add_fault(
        network="mastodon", kind="server_error", status=422, path_contains="/api/v2/search"
    )
    source = make_source()
    result = source.fetch({})
    assert [m.external_id for m in result.mentions] == [key(instance, mention)]
    assert "status search is not available" in caplog.text
    searches = sum("/search" in r["path"] for r in instance.state.request_log)
    assert searches == 1  # the first refusal switched the other searches off too
    source.fetch(result.cursors)
    assert sum("/search" in r["path"] for r in instance.state.request_log) == searches


def test_config_needs_an_instance_and_credentials(make_source, monkeypatch):
    with pytest.raises(ConfigError, match="api_base_url"):
        make_source(api_base_url=None)
    monkeypatch.delenv("TEST_MASTODON_TOKEN")
    with pytest.raises(ConfigError, match="TEST_MASTODON_TOKEN"):
        make_source()


def test_two_instances_with_the_same_local_ids_never_collide(
    instance, make_source, session_factory
):
    with SandboxServer() as other:
        other.state.add_account("mastodon", "northwindair", is_brand=True)
        here = publish(instance, "@northwindair from the first instance")
        there = publish(other, "@northwindair from the second instance")
        assert here.id == there.id  # local ids: each instance counts its own
        first = make_source(name="mastodon-social")
        second = make_source(name="mastodon-other", sandbox=other)
        assert poll_once(session_factory, first).stored == 1
        assert poll_once(session_factory, second).stored == 1
    with session_factory() as session:
        stored = {m.source_name: m.external_id for m in session.scalars(select(Mention))}
    assert stored == {"mastodon-social": key(instance, here), "mastodon-other": key(other, there)}


def test_poll_stores_once_and_cursors_survive_a_restart(instance, make_source, session_factory):
    posts = [publish(instance, f"@northwindair #flynorthwind Northwind Air {i}") for i in range(5)]
    assert poll_once(session_factory, make_source(page_size=2)).stored == 5
    with session_factory() as session:
        cursors = load_cursors(session, "mastodon")
    assert cursors["mentions"] == str(int(posts[-1].id) + 1)

    later = [publish(instance, f"@northwindair later {i}") for i in range(3)]
    restarted = make_source(page_size=2)  # a new process: only the database remembers
    outcome = poll_once(session_factory, restarted)
    assert outcome.stored == 3 and outcome.ok
    assert poll_once(session_factory, restarted).stored == 0
    with session_factory() as session:
        stored = set(session.scalars(select(Mention.external_id)))
    assert stored == {key(instance, p) for p in posts + later}


def test_a_broken_status_is_kept_in_rejected_payloads(instance, make_source, session_factory):
    publish(instance, "@northwindair one")
    publish(instance, "@northwindair two")
    instance.state.add_fault(network="mastodon", kind="malformed_item", path_contains="notif")
    outcome = poll_once(session_factory, make_source(search_posts=False))
    assert (outcome.stored, outcome.rejected) == (1, 1)
    with session_factory() as session:
        [kept] = session.scalars(select(RejectedPayload)).all()
    assert kept.network == "mastodon" and "not-a-date" in kept.payload


# --- replies ------------------------------------------------------------------------------------
def test_reply_lands_in_the_thread_addressed_to_the_author(instance, make_source):
    asked = publish(instance, "@northwindair where is my bag?", visibility="unlisted")
    source = make_source()
    reply_id = source.reply(key(instance, asked), "Sorry! DM us your booking code.")
    [reply] = instance.state.snapshot()["replies"]["mastodon"]
    assert reply_id == f"127.0.0.1:{instance.port}/mastodon/{reply['id']}"
    assert reply["in_reply_to_id"] == asked.id
    assert reply["text"] == "@alice Sorry! DM us your booking code."
    assert reply["author_handle"] == "northwindair"
    assert reply["extra"]["visibility"] == "unlisted"  # the thread's visibility is kept
    assert source.find_reply(key(instance, asked), "Sorry! DM us your booking code.") == reply_id
    assert source.find_reply(key(instance, asked), "Something else") is None


def test_reply_that_already_names_the_author_is_posted_as_written(instance, make_source):
    asked = publish(instance, "@northwindair hello")
    make_source().reply(key(instance, asked), "Hi @Alice, how can we help?")
    [reply] = instance.state.snapshot()["replies"]["mastodon"]
    assert reply["text"] == "Hi @Alice, how can we help?"


def test_the_same_reply_retried_is_posted_once(instance, make_source):
    asked = publish(instance, "@northwindair hello")
    source = make_source()
    first = source.reply(key(instance, asked), "Hello!")
    assert source.reply(key(instance, asked), "Hello!") == first  # Idempotency-Key
    assert len(instance.state.snapshot()["replies"]["mastodon"]) == 1


def test_reply_refusals_say_why(instance, make_source):
    source = make_source()
    gone = publish(instance, "@northwindair hello")
    instance.state.delete_post("mastodon", gone.id)
    with pytest.raises(ReplyTargetGone):
        source.reply(key(instance, gone), "Hi")
    asked = publish(instance, "@northwindair hello")
    with pytest.raises(mastodon.MastodonReplyRejected, match="character limit"):
        source.reply(key(instance, asked), "x" * 501)
    with pytest.raises(ReplyNotAllowed, match="not a status of"):
        source.reply(f"mastodon.example/{asked.id}", "Hi")
    assert instance.state.snapshot()["replies"]["mastodon"] == []


def test_our_replies_are_not_read_back_as_mentions(instance, make_source):
    source = make_source()
    asked = publish(instance, "@northwindair #flynorthwind help")
    first, cursors = fetch_all(source, {})
    assert len(first.mentions) == 1
    source.reply(key(instance, asked), "Northwind Air is on it #flynorthwind @northwindair")
    second, _ = fetch_all(source, cursors)
    assert second.mentions == []
