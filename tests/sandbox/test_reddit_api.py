"""The sandbox's Reddit API against the real praw client (and raw HTTP where the wire matters)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import praw
import prawcore
import pytest
import requests
from praw.exceptions import RedditAPIException

from sandbox.reddit_api import REQUESTS_PER_WINDOW, WINDOW_SECONDS
from sandbox.server import SandboxServer
from sandbox.state import Post

PASSWORD = "hunter2"
CLIENT_SECRET = "secret"


@pytest.fixture
def network(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """A generous limit, so prawcore's proactive pacing (0.6 s a request at 1000/600 s) is off."""
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit",
        json={"requests_per_window": 1_000_000},
        timeout=10,
    ).raise_for_status()
    sandbox.state.add_account("reddit", "northwindair", is_brand=True)
    yield sandbox


def praw_client(sandbox: SandboxServer, password: str = PASSWORD) -> praw.Reddit:
    return praw.Reddit(
        client_id="client",
        client_secret=CLIENT_SECRET,
        username="northwindair",
        password=password,
        user_agent="python:mentiondesk-tests:0.1 (by /u/northwindair)",
        oauth_url=f"{sandbox.url}/reddit/",
        reddit_url=f"{sandbox.url}/reddit",
        check_for_updates=False,
        check_for_async=False,
    )


def token(sandbox: SandboxServer, password: str = PASSWORD, secret: str = CLIENT_SECRET):
    return requests.post(
        f"{sandbox.url}/reddit/api/v1/access_token",
        auth=("client", secret),
        data={"grant_type": "password", "username": "northwindair", "password": password},
        timeout=10,
    )


def get(sandbox: SandboxServer, path: str, access_token: str | None, **params: Any):
    headers = {"Authorization": f"bearer {access_token}"} if access_token else {}
    return requests.get(
        f"{sandbox.url}/reddit{path}",
        params=params,
        headers=headers,
        timeout=10,
        allow_redirects=False,
    )


def submission(sandbox: SandboxServer, title: str, subreddit: str = "travel", **kw: Any) -> Post:
    return sandbox.state.publish(
        "reddit", kw.pop("author", "alice"), kw.pop("text", ""), subreddit=subreddit, title=title
    )


def comment(sandbox: SandboxServer, parent: Post, text: str, author: str = "bob") -> Post:
    return sandbox.state.publish(
        "reddit", author, text, in_reply_to_id=parent.id, subreddit=parent.extra["subreddit"]
    )


def test_token_handshake_like_reddit(sandbox):
    granted = token(sandbox)
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "bearer" and body["scope"] == "*"
    assert body["expires_in"] > 0 and body["access_token"]

    wrong_password = token(sandbox, password="invalid")
    assert wrong_password.status_code == 200  # Reddit reports a bad grant inside a 200
    assert wrong_password.json() == {"error": "invalid_grant"}
    assert token(sandbox, secret="invalid").status_code == 401


def test_praw_logs_in_and_maps_refusals(network):
    assert praw_client(network).user.me().name == "northwindair"
    with pytest.raises(prawcore.OAuthException):
        praw_client(network, password="invalid").user.me()


@pytest.mark.parametrize("path", ["/r/all/new", "/r/all/new/", "/message/mentions", "/api/v1/me"])
def test_401_carries_www_authenticate_and_no_slash_redirects(sandbox, path):
    for access_token in (None, "not-a-token"):
        answer = get(sandbox, path, access_token)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="reddit", error="invalid_token"'


def test_rate_limit_headers_are_realistic(sandbox):
    access_token = token(sandbox).json()["access_token"]
    first = get(sandbox, "/r/all/new/", access_token)
    second = get(sandbox, "/r/all/new/", access_token)

    assert first.headers["x-ratelimit-used"] == "1"
    assert second.headers["x-ratelimit-used"] == "2"
    assert float(second.headers["x-ratelimit-remaining"]) == REQUESTS_PER_WINDOW - 2
    assert 0 < int(second.headers["x-ratelimit-reset"]) <= WINDOW_SECONDS


def test_over_the_limit_is_a_429(sandbox):
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit", json={"requests_per_window": 2}, timeout=10
    )
    access_token = token(sandbox).json()["access_token"]
    statuses = [get(sandbox, "/api/v1/me", access_token).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    last = get(sandbox, "/api/v1/me", access_token)
    assert last.headers["x-ratelimit-remaining"] == "0.0"
    assert last.headers["retry-after"] == last.headers["x-ratelimit-reset"]


def test_listing_shape_and_thing_fields(network):
    post = submission(network, "Northwind Air review", text="Great crew")
    reply = comment(network, post, "agreed, Northwind Air rocks")
    access_token = token(network).json()["access_token"]

    listing = get(network, "/r/travel/new/", access_token, limit=5).json()
    assert listing["kind"] == "Listing"
    assert {"after", "before", "dist", "children"} <= set(listing["data"])
    assert listing["data"]["dist"] == 1 and listing["data"]["after"] is None
    t3 = listing["data"]["children"][0]
    assert t3["kind"] == "t3"
    assert t3["data"]["name"] == f"t3_{post.id}" and t3["data"]["id"] == post.id
    assert t3["data"]["title"] == "Northwind Air review" and t3["data"]["selftext"] == "Great crew"
    assert isinstance(t3["data"]["created_utc"], float)
    assert t3["data"]["num_comments"] == 1 and t3["data"]["author"] == "alice"
    assert t3["data"]["permalink"] == f"/r/travel/comments/{post.id}/northwind_air_review/"
    assert t3["data"]["url"] == "https://www.reddit.com" + t3["data"]["permalink"]

    t1 = get(network, "/r/travel/comments/", access_token).json()["data"]["children"][0]
    assert t1["kind"] == "t1"
    assert t1["data"]["name"] == f"t1_{reply.id}"
    assert t1["data"]["link_id"] == t1["data"]["parent_id"] == f"t3_{post.id}"
    assert t1["data"]["body"] == "agreed, Northwind Air rocks"
    assert t1["data"]["permalink"].endswith(f"/{post.id}/northwind_air_review/{reply.id}/")


def test_before_and_after_page_like_reddit(network):
    post = submission(network, "thread")
    names = [f"t1_{comment(network, post, f'c{i}').id}" for i in range(5)]  # oldest first
    access_token = token(network).json()["access_token"]

    def page(**params: Any) -> tuple[list[str], dict[str, Any]]:
        data = get(network, "/r/travel/comments/", access_token, limit=2, **params).json()["data"]
        return [c["data"]["name"] for c in data["children"]], data

    newest, data = page()
    assert newest == [names[4], names[3]] and data["after"] == names[3] and data["before"] is None
    older, data = page(after=names[3])
    assert older == [names[2], names[1]] and data["after"] == names[1]
    assert page(after=names[1])[0] == [names[0]]
    # `before`: the items just newer than the given one, still newest first.
    newer, data = page(before=names[0])
    assert newer == [names[2], names[1]] and data["before"] == names[2]
    assert page(before=names[4])[0] == []


def test_praw_search_and_comment_listings(network):
    hit = submission(network, "Flying Northwind Air", subreddit="flying")
    submission(network, "Northwind Air in travel", subreddit="travel")
    submission(network, "nothing to see", subreddit="flying")
    talk = comment(network, hit, "first comment")
    reddit = praw_client(network)

    everywhere = reddit.subreddit("all").search("Northwind", sort="new", time_filter="week")
    assert len(list(everywhere)) == 2
    flying = list(reddit.subreddit("flying").search('"Northwind Air" OR nope', sort="new"))
    assert [s.id for s in flying] == [hit.id]  # restrict_sr=True keeps it to r/flying
    assert [c.id for c in reddit.subreddit("flying").comments(limit=10)] == [talk.id]
    assert [s.id for s in reddit.subreddit("flying").new(limit=10)][-1] == hit.id


def test_praw_pages_through_a_long_listing(network):
    post = submission(network, "busy thread")
    for i in range(130):
        comment(network, post, f"comment {i}")
    reddit = praw_client(network)

    assert len(list(reddit.subreddit("travel").comments(limit=None))) == 130


def test_mentions_are_inbox_items_for_the_logged_in_user(network):
    post = submission(network, "Lost bag")
    mention = comment(network, post, "hey u/northwindair where is it?")
    comment(network, post, "no mention of northwindair here")
    comment(network, post, "u/northwindair replying to myself", author="northwindair")
    reddit = praw_client(network)

    items = list(reddit.inbox.mentions())

    assert [m.id for m in items] == [mention.id]
    assert items[0].subject == "username mention" and items[0].type == "username_mention"
    assert items[0].context == f"/r/travel/comments/{post.id}/lost_bag/{mention.id}/?context=3"
    assert items[0].link_title == "Lost bag" and items[0].dest == "northwindair"
    assert items[0].was_comment and items[0].new
    paths = [e["path"] for e in network.state.request_log if e["method"] == "GET"]
    assert "/reddit/message/mentions" in paths  # praw sends it without a trailing slash


def test_reply_publishes_as_the_logged_in_user(network):
    post = submission(network, "Delay")
    reddit = praw_client(network)

    created = reddit.submission(post.id).reply("We're on it.")

    assert created.fullname.startswith("t1_") and created.body == "We're on it."
    replies = network.state.snapshot()["replies"]["reddit"]
    assert [(r["text"], r["in_reply_to_id"], r["author_handle"]) for r in replies] == [
        ("We're on it.", post.id, "northwindair")
    ]
    with pytest.raises(RedditAPIException, match="TOO_LONG"):
        reddit.submission(post.id).reply("x" * 10_001)


def test_info_returns_things_by_fullname(network):
    post = submission(network, "Info me")
    reply = comment(network, post, "a comment")
    reddit = praw_client(network)

    found = list(reddit.info(fullnames=[f"t1_{reply.id}", f"t3_{post.id}", "t3_zzzzzzz"]))

    assert [thing.fullname for thing in found] == [f"t1_{reply.id}", f"t3_{post.id}"]


def test_faults_render_the_reddit_way(network):
    submission(network, "one")
    submission(network, "two")
    access_token = token(network).json()["access_token"]

    network.state.add_fault(network="reddit", kind="rate_limit")
    limited = get(network, "/r/all/new", access_token)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == limited.headers["x-ratelimit-reset"]
    assert limited.headers["x-ratelimit-remaining"] == "0.0"

    network.state.add_fault(network="reddit", kind="server_error", status=502)
    assert get(network, "/r/all/new", access_token).status_code == 502

    network.state.add_fault(network="reddit", kind="malformed")
    with pytest.raises(ValueError):
        get(network, "/r/all/new", access_token).json()

    network.state.add_fault(network="reddit", kind="malformed_item")
    children = get(network, "/r/all/new", access_token).json()["data"]["children"]
    assert sorted(str(c["data"]["created_utc"]) == "yesterday" for c in children) == [False, True]
