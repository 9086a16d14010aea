"""The sandbox's /_sandbox admin endpoints, over real HTTP."""

from __future__ import annotations

import requests

from sandbox.seeder import Seeder
from sandbox.server import SandboxServer
from sandbox.state import NETWORKS, SandboxState


def _state(sandbox: SandboxServer) -> dict:
    response = requests.get(f"{sandbox.url}/_sandbox/state", timeout=10)
    assert response.status_code == 200
    return response.json()


def test_state_of_a_fresh_sandbox_is_empty(sandbox):
    state = _state(sandbox)
    assert set(state) >= {"accounts", "posts", "replies", "faults", "fault_hits"}
    for network in NETWORKS:
        assert state["posts"][network] == []
        assert state["replies"][network] == []
    assert state["faults"] == []


def test_publish_creates_a_post_visible_in_state(sandbox):
    url = f"{sandbox.url}/_sandbox/publish"
    first = requests.post(
        url,
        json={"network": "x", "author": "jenna_flies", "text": "@northwindair lost my bag 😡"},
        timeout=10,
    )
    assert first.status_code == 201
    assert first.json()["network"] == "x"
    reply = requests.post(
        url,
        json={
            "network": "x",
            "author": "jenna_flies",
            "text": "still waiting…",
            "in_reply_to_id": first.json()["id"],
            "lang": "en",
        },
        timeout=10,
    )
    assert reply.status_code == 201

    posts = _state(sandbox)["posts"]["x"]
    assert [p["text"] for p in posts] == ["@northwindair lost my bag 😡", "still waiting…"]
    assert posts[0]["author_handle"] == "jenna_flies"
    assert posts[1]["in_reply_to_id"] == posts[0]["id"]
    assert posts[1]["conversation_id"] == posts[0]["id"]
    assert int(posts[1]["id"]) > int(posts[0]["id"])


def test_publish_keeps_network_extras_and_separates_replies_sent_through_the_api(sandbox):
    url = f"{sandbox.url}/_sandbox/publish"
    submission = {
        "network": "reddit",
        "author": "throwaway_kev_2291",
        "text": "They cancelled and kept my money.",
        "subreddit": "personalfinance",
        "title": "Northwind Air refund?",
    }
    assert requests.post(url, json=submission, timeout=10).status_code == 201
    bot = {"network": "reddit", "author": "northwindair", "text": "Sorry!", "via_api": True}
    assert requests.post(url, json=bot, timeout=10).status_code == 201

    state = _state(sandbox)
    [post] = state["posts"]["reddit"]
    assert post["extra"] == {"subreddit": "personalfinance", "title": "Northwind Air refund?"}
    assert [r["text"] for r in state["replies"]["reddit"]] == ["Sorry!"]


def test_publish_rejects_bad_requests(sandbox):
    url = f"{sandbox.url}/_sandbox/publish"
    missing_text = requests.post(url, json={"network": "x", "author": "a"}, timeout=10)
    assert missing_text.status_code == 400
    unknown_network = requests.post(
        url, json={"network": "myspace", "author": "a", "text": "hi"}, timeout=10
    )
    assert unknown_network.status_code == 400
    orphan = requests.post(
        url,
        json={"network": "x", "author": "a", "text": "hi", "in_reply_to_id": "404"},
        timeout=10,
    )
    assert orphan.status_code == 404
    assert _state(sandbox)["posts"]["x"] == []


def test_faults_are_added_listed_validated_and_cleared(sandbox):
    url = f"{sandbox.url}/_sandbox/faults"
    created = requests.post(
        url,
        json={"network": "x", "kind": "rate_limit", "count": 2, "path_contains": "/2/"},
        timeout=10,
    )
    assert created.status_code == 201
    anywhere = requests.post(
        url, json={"network": "*", "kind": "slow", "delay_seconds": 0.1}, timeout=10
    )
    assert anywhere.status_code == 201
    assert anywhere.json()["id"] != created.json()["id"]

    faults = _state(sandbox)["faults"]
    assert [(f["network"], f["kind"], f["count"]) for f in faults] == [
        ("x", "rate_limit", 2),
        ("*", "slow", 1),
    ]

    for bad in (
        {"network": "x", "kind": "meteor_strike"},
        {"network": "myspace", "kind": "rate_limit"},
        {"network": "x", "kind": "rate_limit", "colour": "red"},
    ):
        assert requests.post(url, json=bad, timeout=10).status_code == 400, bad
    assert len(_state(sandbox)["faults"]) == 2

    cleared = requests.delete(url, timeout=10)
    assert cleared.status_code == 200
    assert _state(sandbox)["faults"] == []


def test_seed_without_a_seeder_is_a_conflict(sandbox):
    response = requests.post(f"{sandbox.url}/_sandbox/seed", json={"count": 3}, timeout=10)
    assert response.status_code == 409
    assert all(not posts for posts in _state(sandbox)["posts"].values())


def test_seed_with_a_seeder_publishes_now():
    state = SandboxState()
    with SandboxServer(state, seeder=Seeder(state, networks=("x", "reddit"), seed=2)) as server:
        response = requests.post(f"{server.url}/_sandbox/seed", json={"count": 7}, timeout=10)
        assert response.status_code == 200
        published = response.json()["published"]
        assert len(published) == 7
        assert {p["network"] for p in published} <= {"x", "reddit"}

        default = requests.post(f"{server.url}/_sandbox/seed", timeout=10)
        assert len(default.json()["published"]) == 10

        snapshot = _state(server)
    ids = {(p["network"], p["id"]) for p in published}
    stored = {(n, p["id"]) for n in ("x", "reddit") for p in snapshot["posts"][n]}
    assert ids <= stored
    assert len(stored) == 17
    handles = {a["handle"] for a in snapshot["accounts"]["x"]}
    assert "northwindair" in handles and len(handles) > 30


def test_seed_accepts_curls_form_content_type_and_rejects_bad_bodies():
    state = SandboxState()
    with SandboxServer(state, seeder=Seeder(state, networks=("x",), seed=3)) as server:
        # `curl -d '{"count": 4}'` sends application/x-www-form-urlencoded, as the README shows.
        form = requests.post(
            f"{server.url}/_sandbox/seed",
            data='{"count": 4}',
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert form.status_code == 200 and len(form.json()["published"]) == 4
        for body in ("nope", "[1]", '{"count": "many"}', '{"count": 0}'):
            bad = requests.post(f"{server.url}/_sandbox/seed", data=body, timeout=10)
            assert bad.status_code == 400, body
