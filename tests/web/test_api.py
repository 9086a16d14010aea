"""The JSON API with per-user tokens: schema, queue, a reply through the outbox, corrections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from listener.classifying.models import Correction, Verdict
from listener.store.db import session_scope
from responders.users import service as users
from responders.users.models import User
from tests.web.test_desk import COMPLAINT


@pytest.fixture
def token_for(session_factory, web_users):
    def make(role: str) -> dict[str, str]:
        with session_scope(session_factory) as session:
            user = session.get(User, web_users[role].user_id)
            secret, _ = users.create_api_token(
                session, user=user, name="test", now=datetime.now(UTC)
            )
        return {"Authorization": f"Bearer {secret}"}

    return make


def test_openapi_schema_needs_a_login_and_lists_only_the_api(client_for, token_for):
    assert client_for(None).get("/api/openapi.json").status_code == 401
    schema = client_for(None).get("/api/openapi.json", headers=token_for("agent")).json()
    paths = set(schema["paths"])
    assert {"/api/queue", "/api/mentions/{mention_id}/reply", "/api/outbox/{reply_id}"} <= paths
    assert all(p.startswith("/api/") for p in paths)
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # No CDN-based docs pages.
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client_for("admin").get(path).status_code == 404


def test_reply_through_the_api(desk, client_for, token_for, web_users):
    post = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(post)
    api = client_for(None)
    headers = token_for("agent")

    queue = api.get("/api/queue", headers=headers).json()
    assert mention_id in [i["mention_id"] for i in queue["mine"] + queue["team"]]
    detail = api.get(f"/api/mentions/{mention_id}", headers=headers).json()
    assert detail["author_handle"] == "dana_flies" and detail["verdict"]["complaint"] is True
    # The model's figures come with its labels, for integrations that weigh them.
    verdict = detail["verdict"]
    assert set(verdict["sentiment_scores"]) == {"negative", "neutral", "positive"}
    assert (
        max(verdict["sentiment_scores"], key=verdict["sentiment_scores"].get)
        == (verdict["sentiment"])
    )
    assert verdict["complaint_score"] >= 0.5 and verdict["flags"] == []

    too_long = api.post(
        f"/api/mentions/{mention_id}/reply", headers=headers, json={"text": "x" * 300}
    )
    assert too_long.status_code == 422 and "x allows 280" in too_long.json()["detail"]
    queued = api.post(
        f"/api/mentions/{mention_id}/reply", headers=headers, json={"text": "Sorry, Dana!"}
    )
    assert queued.status_code == 202
    entry = queued.json()
    assert entry["status"] == "queued" and entry["employee_id"] == web_users["agent"].employee_id

    assert desk.send() == 1
    posted = api.get(f"/api/outbox/{entry['id']}", headers=headers).json()
    assert posted["status"] == "posted" and posted["url"].startswith("https://x.com/i/web/status/")
    assert desk.sandbox.state.snapshot()["replies"]["x"][0]["text"] == "Sorry, Dana!"

    resolved = api.post(f"/api/mentions/{mention_id}/resolve", headers=headers)
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    reopened = api.post(f"/api/mentions/{mention_id}/reopen", headers=headers)
    assert reopened.status_code == 200 and reopened.json()["status"] in ("assigned", "routed")
    manager_id = web_users["manager"].employee_id
    transferred = api.post(
        f"/api/mentions/{mention_id}/transfer", headers=headers, json={"to_employee_id": manager_id}
    )
    assert transferred.status_code == 200 and transferred.json()["status"] == "assigned"
    assert api.get(f"/api/mentions/{mention_id}", headers=headers).json()["assignee_id"] == (
        manager_id
    )
    assert api.post("/api/mentions/999999/claim", headers=headers).status_code == 404


def test_corrections_through_the_api(desk, client_for, token_for, session_factory):
    post = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(post)
    api = client_for(None)
    headers = token_for("agent")
    ok = api.post(
        f"/api/mentions/{mention_id}/corrections",
        headers=headers,
        json={"field": "sentiment", "value": "neutral"},
    )
    assert ok.status_code == 200
    bad = api.post(
        f"/api/mentions/{mention_id}/corrections",
        headers=headers,
        json={"field": "sentiment", "value": "meh"},
    )
    assert bad.status_code == 422
    # Topics: one of the configured ones, or null for none.
    typo = api.post(
        f"/api/mentions/{mention_id}/corrections",
        headers=headers,
        json={"field": "topic", "value": "baggage"},
    )
    assert typo.status_code == 422 and "configured topics (delay, lost_luggage" in typo.text
    cleared = api.post(
        f"/api/mentions/{mention_id}/corrections",
        headers=headers,
        json={"field": "topic", "value": None},
    )
    assert cleared.status_code == 200
    with session_factory() as session:
        assert [(c.field, c.new) for c in session.scalars(select(Correction))] == [
            ("sentiment", "neutral"),
            ("topic", None),
        ]
    stats = api.get("/api/admin/classifier", headers=token_for("admin")).json()
    assert stats["corrections"] == 2 and stats["current_version"]
    # Both were made after the current model began judging: no model has them yet.
    assert stats["corrections_since_current"] == 2 and stats["current_since"]
    [version] = stats["versions"]
    assert (version["verdicts"], version["corrected"]) == (1, 1)
    assert stats["by_model"] == {stats["current_version"]: 1} and stats["by_flag"] == {}


def test_cookie_session_api_writes_need_the_csrf_header(desk, client_for):
    post = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(post)
    sam = client_for("agent")
    assert sam.post(f"/api/mentions/{mention_id}/claim").status_code == 403
    token = sam.get("/desk").text.split('data-csrf="', 1)[1].split('"', 1)[0]
    claimed = sam.post(f"/api/mentions/{mention_id}/claim", headers={"X-CSRF-Token": token})
    assert claimed.status_code == 200 and claimed.json()["status"] == "assigned"


def test_an_api_token_opens_only_the_api(client_for, token_for, session_factory, web_users):
    """A token is for /api: it cannot mint more tokens (which would outlive revoking it), change
    the password or use the admin pages, where a browser session and its CSRF token are needed."""
    api = client_for(None)
    agent, admin = token_for("agent"), token_for("admin")
    assert api.get("/api/me", headers=agent).status_code == 200
    minted = api.post("/account/tokens", data={"name": "backdoor"}, headers=agent)
    assert minted.status_code == 303 and minted.headers["location"].startswith("/login")
    with session_factory() as session:
        names = [t.name for t in users.list_api_tokens(session, user_id=web_users["agent"].user_id)]
    assert "backdoor" not in names
    assert api.get("/account", headers=agent).status_code == 303
    assert api.get("/admin", headers=admin).status_code == 303


def test_the_admin_sees_how_many_corrections_no_model_has_yet(
    desk, client_for, token_for, session_factory
):
    first = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    api, headers = client_for(None), token_for("agent")

    def correct(post, value: str) -> None:
        response = api.post(
            f"/api/mentions/{desk.mention_id(post)}/corrections",
            headers=headers,
            json={"field": "sentiment", "value": value},
        )
        assert response.status_code == 200

    correct(first, "neutral")
    # A retrained model takes over: its first verdict comes after that correction.
    with session_scope(session_factory) as session:
        retrained = Verdict(
            mention_id=desk.mention_id(first),
            sentiment="negative",
            sentiment_scores={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
            complaint=True,
            complaint_score=0.9,
            model_version="minilm-l6+tuned+heads-retrained",
        )
        session.execute(delete(Verdict))
        session.add(retrained)
    figures = api.get("/api/admin/classifier", headers=token_for("admin")).json()
    assert figures["current_version"] == "minilm-l6+tuned+heads-retrained"
    assert (figures["corrections"], figures["corrections_since_current"]) == (1, 0)

    correct(first, "positive")
    figures = api.get("/api/admin/classifier", headers=token_for("admin")).json()
    assert (figures["corrections"], figures["corrections_since_current"]) == (2, 1)
    page = client_for("admin").get("/admin").text
    assert '<strong id="corrections-new">1</strong> since the current model began judging' in page


def test_the_admin_sees_the_newest_corrections_with_the_posts_escaped(
    desk, client_for, token_for, session_factory
):
    hostile = '<img src=x onerror="alert(1)"> @northwindair lost my bag'
    post = desk.post("mallory", hostile)
    desk.listen()
    mention_id = desk.mention_id(post)
    api, headers = client_for(None), token_for("agent")
    for field, value in (("complaint", False), ("topic", "refund"), ("topic", "lost_luggage")):
        response = api.post(
            f"/api/mentions/{mention_id}/corrections",
            headers=headers,
            json={"field": field, "value": value},
        )
        assert response.status_code == 200
    figures = api.get("/api/admin/classifier", headers=token_for("admin")).json()
    newest = [(c["field"], c["old"], c["new"], c["by"]) for c in figures["recent_corrections"]]
    assert newest == [
        ("topic", "refund", "lost_luggage", "sam@northwind.example"),
        ("topic", newest[1][1], "refund", "sam@northwind.example"),
        ("complaint", "true", "false", "sam@northwind.example"),
    ]
    assert figures["recent_corrections"][0]["text"] == hostile
    page = client_for("admin").get("/admin").text
    table = page[
        page.index('id="recent-corrections"') : page.index(
            "</table>", page.index('id="recent-corrections"')
        )
    ]
    assert table.count("<tr>") == 4  # the header and three corrections
    assert "refund → <strong>lost_luggage</strong>" in table
    assert "<img" not in table and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in table
