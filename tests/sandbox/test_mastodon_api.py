"""The sandbox's Mastodon API, on the wire and through the real Mastodon.py (API-NOTES.md §3)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from sandbox.server import SandboxServer

AUTH = {"Authorization": "Bearer sandbox-token"}


@pytest.fixture
def instance(sandbox: SandboxServer) -> SandboxServer:
    sandbox.state.add_account("mastodon", "northwindair", "Northwind Air", is_brand=True)
    return sandbox


def api(sandbox: SandboxServer, token: str = "sandbox-token") -> Mastodon:  # noqa: S107
    return Mastodon(
        access_token=token, api_base_url=sandbox.url + "/mastodon", ratelimit_method="throw"
    )


def get(sandbox: SandboxServer, path: str, **params) -> requests.Response:
    return requests.get(f"{sandbox.url}/mastodon{path}", params=params, headers=AUTH, timeout=10)


def publish(sandbox: SandboxServer, n: int, text: str = "@northwindair #flynorthwind hi {}"):
    return [sandbox.state.publish("mastodon", "alice", text.format(i)) for i in range(n)]


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/", "/api/v2/instance/"])
def test_instance_documents_answer_with_and_without_the_slash(instance, path):
    response = get(instance, path)
    assert response.status_code == 200 and response.json()["version"] == "4.3.0"
    if "v2" in path:
        assert response.json()["api_versions"] == {"mastodon": 2}


def test_no_client_warnings_about_versions_or_timelines(instance):
    publish(instance, 1)
    client = api(instance)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.notifications(types=["mention"])
        client.timeline_hashtag("flynorthwind")
        client.search_v2("hi", result_type="statuses")
        assert client.retrieve_mastodon_version() == "4.3.0"


def test_link_headers_page_with_max_id_and_min_id(instance):
    posts = publish(instance, 5)
    response = get(instance, "/api/v1/timelines/tag/flynorthwind", limit=2)
    assert [s["id"] for s in response.json()] == [posts[4].id, posts[3].id]  # newest first
    links = response.links
    assert links["next"]["url"].endswith(f"max_id={posts[3].id}")
    assert links["prev"]["url"].endswith(f"min_id={posts[4].id}")
    last = get(instance, "/api/v1/timelines/tag/flynorthwind", limit=2, max_id=posts[1].id)
    assert [s["id"] for s in last.json()] == [posts[0].id]
    assert "next" not in last.links  # a short page is the end


def test_min_id_gives_the_statuses_just_newer_and_since_id_the_newest(instance):
    posts = publish(instance, 6)
    path = "/api/v1/timelines/tag/flynorthwind"
    after = get(instance, path, limit=2, min_id=posts[1].id).json()
    assert [s["id"] for s in after] == [posts[3].id, posts[2].id]
    newest = get(instance, path, limit=2, since_id=posts[1].id).json()
    assert [s["id"] for s in newest] == [posts[5].id, posts[4].id]


def test_mastodon_py_follows_the_links(instance):
    posts = publish(instance, 5)
    client = api(instance)
    first = client.notifications(types=["mention"], limit=2)
    older = client.fetch_next(first)
    newer = client.fetch_previous(older)
    assert [str(n.status.id) for n in older] == [posts[2].id, posts[1].id]
    assert [str(n.status.id) for n in newer] == [posts[4].id, posts[3].id]


def test_statuses_are_html_with_entities_mastodon_py_reads(instance):
    instance.state.publish("mastodon", "bob", "<b>hi</b> @northwindair https://example.com/x #Tag")
    [status] = api(instance).timeline_hashtag("tag")
    assert "&lt;b&gt;hi&lt;/b&gt;" in status.content and 'class="u-url mention"' in status.content
    assert status.created_at.tzinfo is not None
    assert [m.acct for m in status.mentions] == ["northwindair"]
    assert [t.name for t in status.tags] == ["tag"]


def test_rate_limit_headers_on_every_answer_and_429_when_spent(instance):
    requests.post(
        f"{instance.url}/mastodon/_sandbox/rate_limit", json={"requests_per_window": 2}, timeout=5
    ).raise_for_status()
    first = get(instance, "/api/v1/notifications")
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    reset = datetime.fromisoformat(first.headers["X-RateLimit-Reset"])
    assert datetime.now(UTC) < reset <= datetime.now(UTC) + timedelta(seconds=300)
    assert "date" in first.headers
    get(instance, "/api/v1/notifications")
    spent = get(instance, "/api/v1/notifications")
    assert spent.status_code == 429 and spent.json() == {"error": "Too many requests"}


def test_injected_rate_limit_resets_within_seconds(instance):
    instance.state.add_fault(network="mastodon", kind="rate_limit")
    response = get(instance, "/api/v1/notifications")
    assert response.status_code == 429
    reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"])
    assert reset <= datetime.now(UTC) + timedelta(seconds=5)


def test_tokens_are_checked(instance):
    with pytest.raises(MastodonUnauthorizedError):
        api(instance, token="invalid").notifications()
    anonymous = requests.get(f"{instance.url}/mastodon/api/v1/notifications", timeout=10)
    assert anonymous.status_code == 401


def test_posting_is_form_encoded_and_validated_like_mastodon(instance):
    client = api(instance)
    [target] = publish(instance, 1)
    link = "https://example.com/" + "a" * 200  # counts as 23
    reply = client.status_post("ok " + link, in_reply_to_id=target.id, visibility="unlisted")
    assert str(reply.in_reply_to_id) == target.id and reply.visibility == "unlisted"
    with pytest.raises(MastodonAPIError, match="character limit"):
        client.status_post("x" * 501)
    with pytest.raises(MastodonNotFoundError):
        client.status_post("hi", in_reply_to_id="1")
    first = client.status_post("once", idempotency_key="k")
    assert client.status_post("once", idempotency_key="k").id == first.id


def test_context_lists_ancestors_and_descendants(instance):
    root, middle = publish(instance, 2)
    instance.state.posts["mastodon"][middle.id].in_reply_to_id = root.id
    context = api(instance).status_context(middle.id)
    assert [str(s.id) for s in context.ancestors] == [root.id]
    assert get(instance, "/api/v1/statuses/1").status_code == 404


def test_search_finds_words_and_phrases_and_resolves_links(instance):
    wanted = instance.state.publish("mastodon", "bob", "Flying Northwind Air today")
    instance.state.publish("mastodon", "bob", "Northwind Traders air quality")
    found = get(instance, "/api/v2/search", q='"Northwind Air"', type="statuses").json()
    assert [s["id"] for s in found["statuses"]] == [wanted.id]
    url = found["statuses"][0]["url"]
    resolved = get(instance, "/api/v2/search", q=url, resolve="1").json()
    assert [s["id"] for s in resolved["statuses"]] == [wanted.id]
    assert "Link" not in get(instance, "/api/v2/search", q="air").headers
