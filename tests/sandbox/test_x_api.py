"""The sandbox's X API v2 against the real tweepy.Client (and raw HTTP where the wire matters)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

from sandbox.server import SandboxServer
from sandbox.x_api import REPLY_NOT_ALLOWED, REPLY_TARGET_GONE

BEARER = {"Authorization": "Bearer test-token"}


class _ToSandbox(HTTPAdapter):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = self.base + request.url.removeprefix("https://api.twitter.com")
        return super().send(request, **kwargs)


def tweepy_client(sandbox: SandboxServer, **kwargs: Any) -> tweepy.Client:
    kwargs.setdefault("bearer_token", "test-token")
    client = tweepy.Client(**kwargs)
    client.session.mount("https://api.twitter.com/", _ToSandbox(sandbox.url + "/x"))
    return client


def get(sandbox: SandboxServer, path: str, headers: dict[str, str] = BEARER, **params: Any):
    return requests.get(f"{sandbox.url}/x{path}", params=params, headers=headers, timeout=10)


@pytest.fixture
def brand(sandbox: SandboxServer):
    return sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)


def publish_many(
    sandbox: SandboxServer, count: int, text: str = "flying Northwind Air"
) -> list[str]:
    return [sandbox.state.publish("x", "alice", f"{text} #{i}").id for i in range(count)]


def test_search_returns_only_requested_fields_with_millisecond_times(sandbox, brand):
    sandbox.state.add_account("x", "alice", "Alice A.", followers=321)
    post = sandbox.state.publish("x", "alice", "Lost my bag on Northwind Air", lang="en")

    bare = get(sandbox, "/2/tweets/search/recent", query='"Northwind Air"').json()
    assert bare["data"] == [{"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}]
    assert "includes" not in bare

    full = get(
        sandbox,
        "/2/tweets/search/recent",
        query='"Northwind Air"',
        **{
            "tweet.fields": "created_at,author_id,lang,conversation_id",
            "expansions": "author_id",
            "user.fields": "public_metrics",
        },
    ).json()
    tweet = full["data"][0]
    assert tweet["created_at"].endswith("Z") and len(tweet["created_at"]) == 24  # ...:00.000Z
    assert tweet["author_id"] == full["includes"]["users"][0]["id"]
    assert full["includes"]["users"][0]["username"] == "alice"
    assert full["includes"]["users"][0]["public_metrics"]["followers_count"] == 321
    assert full["meta"] == {"newest_id": post.id, "oldest_id": post.id, "result_count": 1}

    # tweepy's own model parses the timestamp (it raises on the "...:00Z" form)
    response = tweepy_client(sandbox).search_recent_tweets(
        '"Northwind Air"', tweet_fields=["created_at"]
    )
    assert response.data[0].created_at.tzinfo is not None


def test_no_hits_is_only_a_zero_count(sandbox, brand):
    response = get(sandbox, "/2/tweets/search/recent", query="nothing")
    assert response.json() == {"meta": {"result_count": 0}}
    assert tweepy_client(sandbox).search_recent_tweets("nothing").data is None


def test_paginator_walks_every_page_newest_first(sandbox, brand):
    ids = publish_many(sandbox, 25)
    seen = [
        t.id
        for page in tweepy.Paginator(
            tweepy_client(sandbox).search_recent_tweets, '"Northwind Air"', max_results=10
        )
        for t in page.data
    ]
    assert [str(i) for i in seen] == list(reversed(ids))


def test_search_accepts_pagination_token_too(sandbox, brand):
    publish_many(sandbox, 12)
    first = get(sandbox, "/2/tweets/search/recent", query="Northwind", max_results=10).json()
    second = get(
        sandbox,
        "/2/tweets/search/recent",
        query="Northwind",
        max_results=10,
        pagination_token=first["meta"]["next_token"],
    ).json()
    assert second["meta"]["result_count"] == 2
    assert "next_token" not in second["meta"]


def test_since_id_and_until_id_are_exclusive(sandbox, brand):
    ids = publish_many(sandbox, 5)
    body = get(
        sandbox, "/2/tweets/search/recent", query="Northwind", since_id=ids[1], until_id=ids[4]
    ).json()
    assert [t["id"] for t in body["data"]] == [ids[3], ids[2]]


def test_query_language(sandbox, brand):
    state = sandbox.state
    wanted = state.publish("x", "alice", "Flying #FlyNorthwind today")
    state.publish("x", "bob", "Northwind Traders sample database")
    state.publish("x", "carol", "RT @alice: Flying #FlyNorthwind today")
    state.publish("x", "dave", "northwindish is not a word")
    query = '("Northwind Air" OR #flynorthwind OR northwind) -"Northwind Traders" -is:retweet'
    body = get(sandbox, "/2/tweets/search/recent", query=query).json()
    assert [t["id"] for t in body["data"]] == [wanted.id]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "x", "max_results": "5"}, "not between 10 and 100"),
        ({"query": "a" * 513}, "512"),
        ({"query": "(unbalanced"}, "parenthesis"),
        ({"query": "x", "tweet.fields": "created_at,bogus"}, "bogus"),
    ],
)
def test_invalid_search_requests_are_400_problems(sandbox, brand, params, message):
    response = get(sandbox, "/2/tweets/search/recent", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    assert body["status"] == 400
    assert message in body["errors"][0]["message"]
    with pytest.raises(tweepy.BadRequest):
        tweepy_client(sandbox).search_recent_tweets(
            **{k.replace(".", "_"): v for k, v in params.items()}
        )


def test_mentions_timeline_lists_posts_that_mention_the_handle(sandbox, brand):
    state = sandbox.state
    old = state.publish(
        "x", "alice", "@northwindair hello", created_at=datetime.now(UTC) - timedelta(days=9)
    )
    state.publish("x", "bob", "@northwindair2 is someone else")
    state.publish("x", "bob", "Northwind Air without the handle")
    new = state.publish("x", "carol", "where is my bag @NorthwindAir?")
    body = get(sandbox, f"/2/users/{brand.id}/mentions", max_results=5).json()
    assert [t["id"] for t in body["data"]] == [new.id, old.id]
    # recent search only sees seven days
    search = get(sandbox, "/2/tweets/search/recent", query="@northwindair").json()
    assert [t["id"] for t in search["data"]] == [new.id]
    with pytest.raises(tweepy.BadRequest):
        tweepy_client(sandbox).get_users_mentions(brand.id, max_results=4)


def test_user_lookups(sandbox, brand):
    client = tweepy_client(sandbox, return_type=dict)
    assert client.get_user(username="NorthwindAir")["data"] == {
        "id": brand.id,
        "name": "Northwind Air",
        "username": "northwindair",
    }
    assert "data" not in client.get_user(username="nobody")
    assert client.get_me(user_auth=False)["data"]["id"] == brand.id


def test_rate_limit_headers_on_every_answer_and_429_when_spent(sandbox, brand):
    ok = get(sandbox, "/2/tweets/search/recent", query="x")
    assert ok.headers["x-rate-limit-limit"] == "450"
    assert ok.headers["x-rate-limit-remaining"] == "449"
    assert int(ok.headers["x-rate-limit-reset"]) > time.time()

    client = tweepy_client(sandbox, return_type=dict)
    for _ in range(75):  # GET /2/users/me: 75 per 15 minutes per user
        assert get(sandbox, "/2/users/me").status_code == 200
    with pytest.raises(tweepy.TooManyRequests) as spent:
        client.get_me(user_auth=False)
    assert spent.value.response.json()["status"] == 429
    assert spent.value.reset_time > time.time()
    assert spent.value.response.headers["x-rate-limit-remaining"] == "0"
    # another token has its own counter
    other = tweepy_client(sandbox, bearer_token="other-token", return_type=dict)
    assert other.get_me(user_auth=False)["data"]["id"] == brand.id


def test_injected_rate_limit_resets_soon_and_always_has_the_header(sandbox, brand):
    sandbox.state.add_fault(network="x", kind="rate_limit")
    response = get(sandbox, "/2/tweets/search/recent", query="x")
    assert response.status_code == 429
    reset = int(response.headers["x-rate-limit-reset"])
    assert time.time() - 1 <= reset <= time.time() + 10
    assert response.json()["type"] == "https://api.x.com/2/problems/usage-capped"


def test_auth_is_required(sandbox, brand):
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer invalid"}):
        response = get(sandbox, "/2/tweets/search/recent", headers=headers, query="x")
        assert response.status_code == 401
        assert response.json()["title"] == "Unauthorized"
        assert "x-rate-limit-reset" in response.headers
    with pytest.raises(tweepy.Unauthorized):
        tweepy_client(sandbox, bearer_token="invalid").search_recent_tweets("x")


def test_faults_render_as_x_would(sandbox, brand):
    publish_many(sandbox, 3)
    state = sandbox.state
    state.add_fault(network="x", kind="server_error", status=503)
    with pytest.raises(tweepy.TwitterServerError):
        tweepy_client(sandbox).search_recent_tweets("Northwind")

    state.add_fault(network="x", kind="malformed")
    response = get(sandbox, "/2/tweets/search/recent", query="Northwind")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()

    state.add_fault(network="x", kind="malformed_item")
    page = get(
        sandbox, "/2/tweets/search/recent", query="Northwind", **{"tweet.fields": "created_at"}
    ).json()
    dates = [t["created_at"] for t in page["data"]]
    assert dates.count("not-a-date") == 1 and len(dates) == 3


def test_replies_follow_the_summoned_reply_rule(sandbox, brand):
    state = sandbox.state
    summoned = state.publish("x", "alice", "@northwindair my flight is late")
    keyword_hit = state.publish("x", "bob", "Northwind Air lost my bag")
    client = tweepy_client(
        sandbox,
        consumer_key="ck",
        consumer_secret="cs",
        access_token=f"{brand.id}-at",
        access_token_secret="ats",
        return_type=dict,
    )

    created = client.create_tweet(text="Sorry, we're on it", in_reply_to_tweet_id=summoned.id)
    reply_id = created["data"]["id"]
    assert created["data"] == {
        "id": reply_id,
        "text": "Sorry, we're on it",
        "edit_history_tweet_ids": [reply_id],
    }
    [reply] = state.snapshot()["replies"]["x"]
    assert reply["in_reply_to_id"] == summoned.id
    assert reply["author_handle"] == "northwindair"

    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="Hi Bob", in_reply_to_tweet_id=keyword_hit.id)
    body = refused.value.response.json()
    assert body["detail"] == REPLY_NOT_ALLOWED
    assert body["status"] == 403

    quoting = state.publish("x", "carol", "look at this", quoted_id=reply_id)
    assert client.create_tweet(text="Thanks Carol", in_reply_to_tweet_id=quoting.id)["data"]

    state.delete_post("x", summoned.id)
    with pytest.raises(tweepy.Forbidden) as gone:
        client.create_tweet(text="again", in_reply_to_tweet_id=summoned.id)
    assert gone.value.response.json()["detail"] == REPLY_TARGET_GONE

    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="x" * 281)


def test_posting_response_status_is_201(sandbox, brand):
    response = requests.post(
        f"{sandbox.url}/x/2/tweets", json={"text": "hello"}, headers=BEARER, timeout=10
    )
    assert response.status_code == 201
    assert response.headers["x-rate-limit-limit"] == "100"
