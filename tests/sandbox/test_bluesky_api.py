"""The sandbox's Bluesky XRPC API, on the wire and through the real atproto SDK (API-NOTES §4)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, UnauthorizedError

from sandbox.server import SandboxServer

BRAND = "northwindair.bsky.social"


@pytest.fixture
def pds(sandbox: SandboxServer) -> SandboxServer:
    sandbox.state.add_account("bluesky", BRAND, "Northwind Air", is_brand=True, followers=9)
    return sandbox


def xrpc(sandbox: SandboxServer, nsid: str) -> str:
    return f"{sandbox.url}/bluesky/xrpc/{nsid}"


def login(sandbox: SandboxServer, password: str = "app-password") -> requests.Response:  # noqa: S107
    return requests.post(
        xrpc(sandbox, "com.atproto.server.createSession"),
        json={"identifier": BRAND, "password": password},
        timeout=10,
    )


def bearer(sandbox: SandboxServer) -> dict[str, str]:
    return {"Authorization": "Bearer " + login(sandbox).json()["accessJwt"]}


def payload(jwt: str) -> dict:
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_sessions_are_jwt_shaped_without_a_did_doc(pds):
    response = login(pds)
    body = response.json()
    assert response.status_code == 200 and "didDoc" not in body
    assert body["handle"] == BRAND and body["did"].startswith("did:plc:")
    claims = payload(body["accessJwt"])
    assert isinstance(claims["exp"], int) and claims["exp"] >= time.time() + 2 * 3600 - 60
    assert claims["sub"] == body["did"]
    assert payload(body["refreshJwt"])["scope"] == "com.atproto.refresh"


def test_the_sdk_logs_in_stays_on_this_base_url_and_reads_the_profile(pds):
    client = Client(base_url=pds.url + "/bluesky")
    profile = client.login(BRAND, "app-password")
    assert profile.did == pds.state.brand_account("bluesky").id and profile.followers_count == 9
    assert client._base_url == pds.url + "/bluesky/xrpc"  # no didDoc sent it elsewhere


def test_bad_passwords_and_tokens_are_refused(pds):
    with pytest.raises(UnauthorizedError):
        Client(base_url=pds.url + "/bluesky").login(BRAND, "invalid")
    anonymous = requests.get(xrpc(pds, "app.bsky.feed.searchPosts"), params={"q": "x"}, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "AuthenticationRequired"


def test_expired_sessions_are_400_expired_token(pds):
    headers = bearer(pds)
    requests.post(f"{pds.url}/bluesky/_sandbox/expire_sessions", timeout=5).raise_for_status()
    response = requests.get(
        xrpc(pds, "app.bsky.feed.searchPosts"), params={"q": "x"}, headers=headers, timeout=5
    )
    assert response.status_code == 400 and response.json()["error"] == "ExpiredToken"


def test_rate_limit_headers_and_the_separate_login_limit(pds):
    answer = login(pds)
    assert answer.headers["RateLimit-Policy"] == "30;w=300"
    assert int(answer.headers["RateLimit-Reset"]) > time.time()
    requests.post(
        f"{pds.url}/bluesky/_sandbox/rate_limit", json={"logins_per_window": 1}, timeout=5
    ).raise_for_status()
    login(pds)
    refused = login(pds)
    assert refused.status_code == 429 and refused.json()["error"] == "RateLimitExceeded"
    assert int(refused.headers["Retry-After"]) >= 1
    read = requests.get(xrpc(pds, "app.bsky.actor.getProfile"), params={"actor": BRAND}, timeout=5)
    assert read.headers["RateLimit-Policy"] == "3000;w=300"


def test_search_pages_newest_first_by_offset_and_honours_since(pds):
    start = datetime.now(UTC) - timedelta(minutes=5)
    posts = [
        pds.state.publish(
            "bluesky",
            "alice.bsky.social",
            f"Northwind Air {i}",
            created_at=start + timedelta(seconds=i),
        )
        for i in range(5)
    ]
    headers = bearer(pds)

    def search(**params) -> dict:
        url = xrpc(pds, "app.bsky.feed.searchPosts")
        return requests.get(
            url, params={"q": "northwind air", **params}, headers=headers, timeout=5
        ).json()

    first = search(limit=2)
    assert [p["uri"].rsplit("/", 1)[1] for p in first["posts"]] == [posts[4].id, posts[3].id]
    assert first["cursor"] == "2" and first["hitsTotal"] == 5
    last = search(limit=2, cursor="4")
    assert len(last["posts"]) == 1 and "cursor" not in last
    newest = search(since=first["posts"][0]["indexedAt"])
    assert [p["uri"] for p in newest["posts"]] == [first["posts"][0]["uri"]]


def test_notifications_mention_and_reply_with_repeated_reasons(pds):
    brand = pds.state.brand_account("bluesky")
    ours = pds.state.publish("bluesky", BRAND, "hello from us")
    mention = pds.state.publish("bluesky", "alice.bsky.social", f"@{BRAND} hi")
    reply = pds.state.publish("bluesky", "bob.bsky.social", "thanks", in_reply_to_id=ours.id)
    client = Client(base_url=pds.url + "/bluesky")
    client.login(BRAND, "app-password")
    params = models.AppBskyNotificationListNotifications.Params(reasons=["mention", "reply"])
    listed = client.app.bsky.notification.list_notifications(params).notifications
    assert [(n.reason, n.uri.rsplit("/", 1)[1]) for n in listed] == [
        ("reply", reply.id),
        ("mention", mention.id),
    ]
    assert listed[1].record.facets[0].features[0].did == brand.id
    only = models.AppBskyNotificationListNotifications.Params(reasons=["reply"])
    assert len(client.app.bsky.notification.list_notifications(only).notifications) == 1


def test_records_are_validated_and_threads_found(pds):
    client = Client(base_url=pds.url + "/bluesky")
    client.login(BRAND, "app-password")
    with pytest.raises(BadRequestError, match="300 graphemes"):
        client.send_post("👍🏽" * 301)  # 301 graphemes, each two code points
    assert client.send_post("👍🏽" * 300).uri.startswith("at://")
    with pytest.raises(BadRequestError, match="NotFound"):
        client.get_post_thread(f"at://{BRAND}/app.bsky.feed.post/nothing")
