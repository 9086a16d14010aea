"""XSource: the real tweepy.Client against the sandbox's X API over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.errors import ConfigError
from config.settings import Brand, SourceConfig
from listener.sources.errors import AuthFailed, BadPayload, RateLimited, SourceUnavailable
from listener.sources.x import ReplyRejected, XSource, build, build_query
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
def x_sandbox(sandbox: SandboxServer) -> SandboxServer:
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    sandbox.state.add_account("x", "alice", "Alice A.", followers=120)
    return sandbox


@pytest.fixture
def make_source(x_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TEST_X_BEARER", "sandbox-token")

    def make(page_size: int = 10, **overrides) -> XSource:
        settings = {
            "name": "x",
            "network": "x",
            "credentials": {"bearer_token": "TEST_X_BEARER"},
            "api_base_url": x_sandbox.url + "/x",
            "account_handle": "northwindair",
            "max_pages": 5,
            "request_timeout_seconds": 5,
            **overrides,
        }
        return build(SourceConfig(**settings), BRANDS, page_size=page_size)

    return make


def publish(sandbox: SandboxServer, text: str, author: str = "alice", **kwargs):
    return sandbox.state.publish("x", author, text, **kwargs)


def fetch_all(source: XSource, cursors: dict[str, str]):
    """One poll, the way the poller does it: cursors that advanced replace the old ones."""
    result = source.fetch(cursors)
    return result, {**cursors, **result.cursors}


def test_query_covers_terms_and_exclusions():
    assert build_query(BRANDS[0]) == (
        '("Northwind Air" OR @northwindair OR #flynorthwind) -"Northwind Traders" -is:retweet'
    )


def test_brand_search_and_mentions_become_raw_mentions(x_sandbox, make_source):
    root = publish(x_sandbox, "@northwindair my bag never arrived", lang="en")
    reply = publish(
        x_sandbox, "Still waiting, Northwind Air", author="alice", in_reply_to_id=root.id
    )
    rival = publish(x_sandbox, "Skyline Airways was on time", author="bob", lang="fr")

    result = make_source().fetch({})

    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {root.id, reply.id, rival.id}  # each post once, across streams
    first = by_id[root.id]
    assert first.brand == "Northwind Air" and not first.is_competitor
    assert first.url == f"https://x.com/alice/status/{root.id}"
    assert first.author.handle == "alice"
    assert first.author.display_name == "Alice A."
    assert first.author.followers == 120
    assert first.created_at.tzinfo is not None
    assert abs(first.created_at - root.created_at) < timedelta(milliseconds=1)
    assert first.raw["id"] == root.id
    assert by_id[reply.id].in_reply_to_id == root.id
    assert by_id[reply.id].conversation_id == root.id
    assert by_id[rival.id].is_competitor and by_id[rival.id].brand == "Skyline Airways"
    assert by_id[rival.id].language == "fr"
    assert set(result.cursors) == {"search:Northwind Air", "search:Skyline Airways", "mentions"}
    assert result.rejected == []


def test_mentions_stream_finds_mentions_search_would_not(x_sandbox, make_source):
    # Older than recent search's seven days: only the mentions timeline still has it.
    old = publish(
        x_sandbox, "@northwindair hello?", created_at=datetime.now(UTC) - timedelta(days=8)
    )
    result = make_source().fetch({})
    assert [m.external_id for m in result.mentions] == [old.id]
    assert result.mentions[0].matched_query == "@northwindair"
    assert result.cursors == {"mentions": old.id}


def test_pages_are_followed_and_cursors_return_only_new_posts(x_sandbox, make_source):
    source = make_source(page_size=10)
    first_batch = {publish(x_sandbox, f"Northwind Air flight {i}").id for i in range(23)}

    result, cursors = fetch_all(source, {})
    assert {m.external_id for m in result.mentions} == first_batch

    again, cursors = fetch_all(source, cursors)
    assert again.mentions == [] and again.cursors == {}

    newer = {publish(x_sandbox, f"Northwind Air again {i}").id for i in range(3)}
    third, cursors = fetch_all(source, cursors)
    assert {m.external_id for m in third.mentions} == newer


def test_page_cap_never_skips_posts(x_sandbox, make_source):
    source = make_source(page_size=10, max_pages=1)
    published = [publish(x_sandbox, f"Northwind Air post {i}").id for i in range(25)]
    collected: list[str] = []
    cursors: dict[str, str] = {}
    for round_number in range(5):
        result, cursors = fetch_all(source, cursors)
        collected += [m.external_id for m in result.mentions]
        if round_number == 0:  # traffic keeps coming while the backlog is read
            published.append(publish(x_sandbox, "Northwind Air meanwhile").id)
    assert sorted(collected) == sorted(published)  # all of them, each once


def test_exclusions_and_retweets_are_skipped_not_rejected(x_sandbox, make_source):
    publish(x_sandbox, "Northwind Traders is a sample database about Northwind Air")
    publish(x_sandbox, "RT @bob: Northwind Air is great", retweeted_id="1")
    result = make_source().fetch({})
    assert result.mentions == [] and result.rejected == []


def test_one_broken_post_is_rejected_and_the_rest_of_the_page_kept(x_sandbox, make_source):
    ids = [publish(x_sandbox, f"Northwind Air trip {i}").id for i in range(3)]
    x_sandbox.state.add_fault(network="x", kind="malformed_item", path_contains="search")
    result = make_source().fetch({})
    assert len(result.mentions) == 2
    [rejected] = result.rejected
    assert rejected.stream == "search:Northwind Air"
    assert "not-a-date" in rejected.payload
    assert {m.external_id for m in result.mentions} | {ids[-1]} == set(ids)
    assert result.cursors["search:Northwind Air"] == ids[-1]


def test_rate_limit_becomes_rate_limited_with_retry_at(x_sandbox, make_source):
    x_sandbox.state.add_fault(network="x", kind="rate_limit")
    with pytest.raises(RateLimited) as limited:
        make_source().fetch({})
    now = datetime.now(UTC)
    assert now < limited.value.retry_at < now + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "server_error", "status": 503}, SourceUnavailable),
        ({"kind": "server_error", "status": 500}, SourceUnavailable),
        ({"kind": "malformed"}, BadPayload),
        ({"kind": "slow", "delay_seconds": 1.0}, SourceUnavailable),
    ],
)
def test_network_failures_are_translated(x_sandbox, make_source, fault, error):
    publish(x_sandbox, "Northwind Air")
    x_sandbox.state.add_fault(network="x", path_contains="search", **fault)
    with pytest.raises(error):
        make_source(request_timeout_seconds=request_timeout_for(fault)).fetch({})


def test_refused_token_is_auth_failed(x_sandbox, make_source, monkeypatch):
    monkeypatch.setenv("TEST_X_BEARER", "invalid")
    with pytest.raises(AuthFailed):
        make_source().fetch({})


def test_unknown_account_handle_is_auth_failed(x_sandbox, make_source):
    with pytest.raises(AuthFailed, match="nobody_here"):
        make_source(account_handle="nobody_here").fetch({})


def test_unreachable_network_is_source_unavailable(make_source):
    with pytest.raises(SourceUnavailable):
        make_source(api_base_url="http://127.0.0.1:9/x").fetch({})


def test_missing_credentials_are_a_config_error(make_source, monkeypatch):
    monkeypatch.delenv("TEST_X_BEARER")
    with pytest.raises(ConfigError, match="TEST_X_BEARER"):
        make_source()


def test_reply_to_a_mention_is_posted(x_sandbox, make_source):
    mention = publish(x_sandbox, "@northwindair where is my bag?")
    reply_id = make_source().reply(mention.id, "We're sorry, Alice: DM us your booking code.")
    [reply] = x_sandbox.state.snapshot()["replies"]["x"]
    assert reply["id"] == reply_id
    assert reply["in_reply_to_id"] == mention.id
    assert reply["author_handle"] == "northwindair"


def test_our_own_replies_are_not_mentions(x_sandbox, make_source):
    source = make_source()
    mention = publish(x_sandbox, "@northwindair where is my bag?")
    first, cursors = fetch_all(source, {})
    assert [m.external_id for m in first.mentions] == [mention.id]
    source.reply(mention.id, "Sorry! Northwind Air will find it @alice")
    second, _ = fetch_all(source, cursors)
    assert second.mentions == []
    assert second.cursors  # the reply was read, and passed over


def test_reply_with_oauth1_keys(x_sandbox, make_source, monkeypatch):
    for key in ("CK", "CS", "AT", "ATS"):
        monkeypatch.setenv(f"TEST_X_{key}", f"{key.lower()}-value")
    source = make_source(
        credentials={
            "bearer_token": "TEST_X_BEARER",
            "consumer_key": "TEST_X_CK",
            "consumer_secret": "TEST_X_CS",
            "access_token": "TEST_X_AT",
            "access_token_secret": "TEST_X_ATS",
        }
    )
    mention = publish(x_sandbox, "@northwindair thanks!")
    assert source.reply(mention.id, "You're welcome!")


def test_reply_where_not_summoned_is_rejected(x_sandbox, make_source):
    keyword_hit = publish(x_sandbox, "Northwind Air lost my bag")
    with pytest.raises(ReplyRejected, match="not allowed"):
        make_source().reply(keyword_hit.id, "Sorry!")
    assert x_sandbox.state.snapshot()["replies"]["x"] == []
