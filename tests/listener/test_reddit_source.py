"""The Reddit source with the real praw client against the sandbox network over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from config.settings import Brand, SourceConfig
from listener.polling import poll_once
from listener.sources import reddit
from listener.sources.errors import (
    AuthFailed,
    BadPayload,
    RateLimited,
    SourceError,
    SourceUnavailable,
)
from listener.store.models import Cursor, Mention, RejectedPayload
from sandbox.server import SandboxServer
from sandbox.state import Post

BRANDS = [
    Brand(
        name="Northwind Air",
        names=["Northwind Air", "Northwind Airlines"],
        handles=["@northwindair"],
        hashtags=["#flynorthwind"],
        exclude=["Northwind Traders"],
    ),
    Brand(name="Skyline Airways", names=["Skyline Airways"], competitor=True),
]
ENV = {
    "TEST_REDDIT_CLIENT_ID": "mentiondesk-test",
    "TEST_REDDIT_CLIENT_SECRET": "s3cret",
    "TEST_REDDIT_USERNAME": "northwindair",
    "TEST_REDDIT_PASSWORD": "hunter2",
}


@pytest.fixture
def network(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox with a generous rate limit, so prawcore's proactive pacing never sleeps."""
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit",
        json={"requests_per_window": 1_000_000},
        timeout=10,
    ).raise_for_status()
    sandbox.state.add_account("reddit", "northwindair", is_brand=True)
    yield sandbox


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return dict(ENV)


def make_source(
    network: SandboxServer, credentials: dict[str, str], **settings: object
) -> reddit.RedditSource:
    fields: dict[str, object] = {
        "name": "reddit-test",
        "network": "reddit",
        "api_base_url": f"{network.url}/reddit",
        "account_handle": "northwindair",
        "subreddits": ["all"],
        "credentials": {
            "client_id": "TEST_REDDIT_CLIENT_ID",
            "client_secret": "TEST_REDDIT_CLIENT_SECRET",
            "username": "TEST_REDDIT_USERNAME",
            "password": "TEST_REDDIT_PASSWORD",
        },
        **settings,
    }
    return reddit.build(SourceConfig.model_validate(fields), BRANDS)


def submission(network: SandboxServer, title: str, text: str = "", **extra: object) -> Post:
    author = str(extra.pop("author", "traveller"))
    subreddit = str(extra.pop("subreddit", "travel"))
    return network.state.publish("reddit", author, text, subreddit=subreddit, title=title)


def comment(network: SandboxServer, parent: Post, text: str, author: str = "commenter") -> Post:
    return network.state.publish(
        "reddit", author, text, in_reply_to_id=parent.id, subreddit=parent.extra["subreddit"]
    )


def test_search_finds_brand_submissions_and_filters_fuzzy_results(network, credentials):
    ours = submission(network, "Northwind Air lost my bag", "Three days and counting.")
    theirs = submission(network, "Skyline Airways upgrade", "Nice seats", subreddit="flying")
    submission(network, "Northwind Traders database", "air quotes everywhere")  # excluded term
    fuzz = submission(network, "northwind is a wind", "and air is air")  # search's, not ours
    source = make_source(network, credentials)

    result = source.fetch({})

    by_id = {m.external_id: m for m in result.mentions}
    assert set(by_id) == {f"t3_{ours.id}", f"t3_{theirs.id}"}
    mine = by_id[f"t3_{ours.id}"]
    assert mine.brand == "Northwind Air" and mine.matched_query == "Northwind Air"
    assert not mine.is_competitor
    assert mine.text == "Northwind Air lost my bag\n\nThree days and counting."
    assert (
        mine.url == f"https://www.reddit.com/r/travel/comments/{ours.id}/northwind_air_lost_my_bag/"
    )
    assert mine.author.handle == "traveller" and mine.author.external_id.startswith("t2_")
    assert mine.author.followers is None
    assert mine.conversation_id == f"t3_{ours.id}" and mine.in_reply_to_id is None
    assert abs(mine.created_at - ours.created_at).total_seconds() < 0.001  # float precision
    assert mine.created_at.tzinfo is not None
    assert by_id[f"t3_{theirs.id}"].is_competitor
    assert by_id[f"t3_{theirs.id}"].brand == "Skyline Airways"
    assert result.cursors == {
        "search:Northwind Air:all": f"t3_{fuzz.id}",  # the newest result read, matched or not
        "search:Skyline Airways:all": f"t3_{theirs.id}",
    }
    assert result.rejected == []
    json.dumps([m.raw for m in result.mentions])  # raw is stored as JSON


def test_comments_in_named_subreddits_are_brand_filtered(network, credentials):
    post = submission(network, "Airline food thread", subreddit="flying")
    hit = comment(network, post, "Northwind Airlines served cold pasta", author="hungry")
    unmatched = comment(network, post, "mine was fine")
    elsewhere = submission(network, "Other sub", subreddit="travel")
    comment(network, elsewhere, "Northwind Air again")  # not a subreddit we read comments of
    source = make_source(network, credentials, subreddits=["r/flying"])

    result = source.fetch({})

    assert [s.name for s in source.streams] == [
        "search:Northwind Air:flying",
        "search:Skyline Airways:flying",
        "comments:flying",
        "mentions",
    ]
    assert [m.external_id for m in result.mentions] == [f"t1_{hit.id}"]
    found = result.mentions[0]
    assert found.text == "Northwind Airlines served cold pasta"
    assert found.in_reply_to_id == f"t3_{post.id}"
    assert found.conversation_id == f"t3_{post.id}"
    assert found.url.endswith(f"/r/flying/comments/{post.id}/airline_food_thread/{hit.id}/")
    assert found.matched_query == "Northwind Airlines"
    # The comment cursor is the newest comment read, matched or not.
    assert result.cursors["comments:flying"] == f"t1_{unmatched.id}"


def test_inbox_mentions_are_kept_and_attributed_to_the_account_brand(network, credentials):
    post = submission(network, "Lost luggage", subreddit="travel")
    asked = comment(network, post, "u/northwindair where is my suitcase?", author="angry")
    comment(network, post, "u/someoneelse hello")
    source = make_source(network, credentials)

    result = source.fetch({})

    assert [m.external_id for m in result.mentions] == [f"t1_{asked.id}"]
    mention = result.mentions[0]
    assert mention.brand == "Northwind Air" and mention.matched_query == "u/northwindair"
    assert mention.url.endswith(f"/r/travel/comments/{post.id}/lost_luggage/{asked.id}/")
    assert mention.conversation_id == f"t3_{post.id}"
    assert mention.in_reply_to_id == f"t3_{post.id}"
    assert mention.author.handle == "angry"
    assert result.cursors["mentions"] == f"t1_{asked.id}"


def test_cursors_give_only_new_items_on_the_next_fetch(network, credentials):
    first = submission(network, "Northwind Air was late")
    source = make_source(network, credentials)
    before = source.fetch({})
    assert [m.external_id for m in before.mentions] == [f"t3_{first.id}"]

    assert source.fetch(before.cursors).mentions == []  # nothing new
    second = submission(network, "Northwind Air was early")
    submission(network, "unrelated")
    after = source.fetch(before.cursors)

    assert [m.external_id for m in after.mentions] == [f"t3_{second.id}"]
    assert after.cursors["search:Northwind Air:all"] == f"t3_{second.id}"


def test_capped_pages_never_skip_items(network, credentials):
    seed = submission(network, "Northwind Air thread", subreddit="flying")
    comment(network, seed, "first!")  # gives the comment stream its first cursor
    source = make_source(network, credentials, subreddits=["flying"], max_pages=2)
    cursors = source.fetch({}).cursors
    assert "comments:flying" in cursors

    wanted = {f"t1_{comment(network, seed, f'Northwind Air #{i}').id}" for i in range(250)}
    got: list[str] = []
    for _ in range(3):  # 2 pages of 100 per poll: 200, then 50, then nothing
        result = source.fetch(cursors)
        got += [m.external_id for m in result.mentions]
        cursors = {**cursors, **result.cursors}

    assert len(got) == len(set(got)) == 250
    assert set(got) == wanted
    assert cursors["comments:flying"] == max(wanted, key=lambda n: int(n[3:], 36))


def test_first_fetch_reads_past_the_first_page(network, credentials):
    seed = submission(network, "Skyline Airways thread", subreddit="flying")
    for i in range(130):
        comment(network, seed, f"Skyline Airways comment {i}")
    source = make_source(network, credentials, subreddits=["flying"], max_pages=3)

    result = source.fetch({})

    comments = [m for m in result.mentions if m.external_id.startswith("t1_")]
    assert len(comments) == 130 and all(m.is_competitor for m in comments)


def test_one_malformed_child_is_rejected_and_the_rest_kept(network, credentials):
    for i in range(3):
        submission(network, f"Northwind Air story {i}")
    network.state.add_fault(network="reddit", kind="malformed_item", path_contains="/search")
    source = make_source(network, credentials, account_handle=None)

    result = source.fetch({})

    assert len(result.mentions) == 2
    assert len(result.rejected) == 1
    rejected = result.rejected[0]
    assert rejected.stream == "search:Northwind Air:all"
    assert "created_utc" in rejected.reason
    assert json.loads(rejected.payload)["data"]["created_utc"] == "yesterday"
    # The rejected item is recorded, so the cursor may move past it.
    assert result.cursors["search:Northwind Air:all"].startswith("t3_")


def test_429_becomes_rate_limited_with_retry_time(network, credentials):
    network.state.add_fault(network="reddit", kind="rate_limit", path_contains="/search")
    source = make_source(network, credentials)

    with pytest.raises(RateLimited) as caught:
        source.fetch({})

    assert caught.value.retry_at > datetime.now(UTC)


def test_server_errors_become_source_unavailable_after_prawcore_retries(network, credentials):
    # prawcore tries three times (with 0-2 s and 2-4 s pauses) before giving up.
    network.state.add_fault(network="reddit", kind="server_error", status=503, count=3)
    source = make_source(network, credentials)

    with pytest.raises(SourceUnavailable):
        source.fetch({})

    assert [h["kind"] for h in network.state.fault_hits] == ["server_error"] * 3


def test_timeouts_use_the_configured_limit(network, credentials):
    network.state.add_fault(network="reddit", kind="timeout", delay_seconds=1, count=3)
    source = make_source(network, credentials, request_timeout_seconds=0.3)

    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        source.fetch({})


@pytest.mark.parametrize("secret", ["TEST_REDDIT_PASSWORD", "TEST_REDDIT_CLIENT_SECRET"])
def test_refused_credentials_become_auth_failed(network, credentials, monkeypatch, secret):
    monkeypatch.setenv(secret, "invalid")  # the sandbox refuses this password / client secret
    source = make_source(network, credentials)

    with pytest.raises(AuthFailed):
        source.fetch({})


def test_malformed_body_becomes_bad_payload(network, credentials):
    network.state.add_fault(network="reddit", kind="malformed", path_contains="/search")
    source = make_source(network, credentials)

    with pytest.raises(BadPayload):
        source.fetch({})


def test_reply_is_published_as_the_account(network, credentials):
    post = submission(network, "Northwind Air delay")
    asked = comment(network, post, "u/northwindair any update?")
    source = make_source(network, credentials)

    to_comment = source.reply(f"t1_{asked.id}", "Sorry! DM us your booking code.")
    to_post = source.reply(f"t3_{post.id}", "We are looking into it.")

    replies = requests.get(f"{network.url}/_sandbox/state", timeout=10).json()["replies"]["reddit"]
    assert [(f"t1_{r['id']}", r["in_reply_to_id"], r["author_handle"]) for r in replies] == [
        (to_comment, asked.id, "northwindair"),
        (to_post, post.id, "northwindair"),
    ]


def test_rejected_reply_raises_a_source_error(network, credentials):
    post = submission(network, "Northwind Air delay")
    source = make_source(network, credentials)

    with pytest.raises(SourceError, match="TOO_LONG"):
        source.reply(f"t3_{post.id}", "x" * 10_001)
    with pytest.raises(ValueError):
        source.reply("t5_abc", "not a comment or submission")


def test_search_query_quotes_phrases_and_drops_sigils():
    assert reddit.search_query(BRANDS[0]) == (
        '"Northwind Air" OR "Northwind Airlines" OR northwindair OR flynorthwind'
    )


def test_poll_once_stores_reddit_mentions_cursors_and_rejects(
    network, credentials, session_factory
):
    post = submission(network, "Northwind Air lost my bag", "Help!")
    comment(network, post, "u/northwindair please help")
    network.state.add_fault(network="reddit", kind="malformed_item", path_contains="/mentions")
    comment(network, post, "u/northwindair me too")
    source = make_source(network, credentials)

    outcome = poll_once(session_factory, source)
    again = poll_once(session_factory, source)

    assert outcome.ok and outcome.stored == 2 and outcome.rejected == 1
    assert again.ok and again.stored == 0
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 2
        assert session.scalar(select(func.count()).select_from(RejectedPayload)) == 1
        streams = set(session.scalars(select(Cursor.stream)))
        assert streams == {"search:Northwind Air:all", "mentions"}
