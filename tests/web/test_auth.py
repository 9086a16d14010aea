"""Logging in and out, sessions, CSRF, the login throttle, API tokens."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from responders.users import service as users
from responders.users.models import ApiToken, User, WebSession
from responders.web.auth import SESSION_COOKIE
from tests.web.conftest import PASSWORD, csrf_of


def _login_token(client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_login_sets_an_httponly_samesite_cookie_and_logout_ends_the_session(
    client_for, web_users, session_factory
):
    client = client_for(None)
    token = _login_token(client)
    response = client.post(
        "/login",
        data={"email": "SAM@northwind.example ", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/desk").status_code == 200

    with session_factory() as session:
        row = session.scalars(select(WebSession)).one()
        # Only a hash of the cookie is stored.
        assert client.cookies[SESSION_COOKIE] not in row.token_hash

    response = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 303
    with session_factory() as session:
        assert session.scalars(select(WebSession)).all() == []
    client.cookies.set(SESSION_COOKIE, row.token_hash)  # nor does the old cookie work again
    assert client.get("/desk").status_code == 303


def test_cookie_is_secure_behind_https(web_app, web_users):
    from fastapi.testclient import TestClient

    client = TestClient(web_app, base_url="https://desk.example", follow_redirects=False)
    token = _login_token(client)
    response = client.post(
        "/login",
        data={"email": web_users["agent"].email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_email_say_the_same(client_for, web_users):
    client = client_for(None)
    for email in (web_users["agent"].email, "nobody@northwind.example"):
        response = client.post(
            "/login",
            data={"email": email, "password": "wrong wrong", "csrf_token": _login_token(client)},
        )
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
    assert SESSION_COOKIE not in client.cookies


def test_login_form_without_its_csrf_token_is_refused(client_for, web_users):
    client = client_for(None)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": web_users["agent"].email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_login_attempts_are_rate_limited_per_email(client_for, web_users):
    client = client_for(None)
    email = web_users["agent"].email
    for _ in range(users.MAX_FAILURES_PER_EMAIL):
        response = client.post(
            "/login",
            data={"email": email, "password": "guess guess", "csrf_token": _login_token(client)},
        )
        assert response.status_code == 401
    # Now even the right password is refused until the window has passed.
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": _login_token(client)}
    )
    assert response.status_code == 429
    assert "too many failed logins" in response.text.lower()
    assert int(response.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in client.cookies


def test_throttle_opens_again_after_the_window(session_factory, web_users):
    now = datetime.now(UTC)
    email = web_users["agent"].email
    with session_factory() as session:
        for i in range(users.MAX_FAILURES_PER_EMAIL):
            with contextlib.suppress(users.LoginRefused):
                users.authenticate(
                    session,
                    email=email,
                    password="nope nope",
                    address="10.0.0.1",
                    now=now + timedelta(seconds=i),
                )
        try:
            users.authenticate(
                session,
                email=email,
                password=PASSWORD,
                address="10.0.0.1",
                now=now + timedelta(minutes=1),
            )
        except users.LoginThrottled as exc:
            assert timedelta(minutes=13) < exc.retry_after <= timedelta(minutes=14)
        else:
            raise AssertionError("the sixth try was not throttled")
        later = now + users.THROTTLE_WINDOW + timedelta(seconds=10)
        assert (
            users.authenticate(
                session, email=email, password=PASSWORD, address="10.0.0.1", now=later
            ).email
            == email
        )


def test_post_without_csrf_token_is_refused(client_for, session_factory, web_users):
    client = client_for("agent")
    response = client.post("/desk/away", data={})
    assert response.status_code == 403
    assert "security token" in response.text
    response = client.post("/desk/away", data={"csrf_token": "not-the-token"})
    assert response.status_code == 403
    with session_factory() as session:
        from responders.employees.models import Employee

        assert session.get(Employee, web_users["agent"].employee_id).away is False
    response = client.post("/desk/away", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 303
    with session_factory() as session:
        from responders.employees.models import Employee

        assert session.get(Employee, web_users["agent"].employee_id).away is True


def test_next_parameter_only_goes_to_this_site(client_for, web_users):
    client = client_for(None)
    for target, expected in (
        ("/admin", "/admin"),
        ("https://evil.example/", "/desk"),
        ("//evil.example", "/desk"),
    ):
        client.cookies.clear()
        response = client.post(
            "/login",
            data={
                "email": web_users["admin"].email,
                "password": PASSWORD,
                "csrf_token": _login_token(client),
                "next": target,
            },
        )
        assert response.headers["location"] == expected


def test_api_tokens_are_stored_hashed_and_can_be_revoked(client_for, session_factory, web_users):
    client = client_for("agent")
    response = client.post(
        "/account/tokens", data={"name": "crm sync", "csrf_token": csrf_of(client, "/account")}
    )
    assert response.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', response.text).group(1)
    assert token.startswith("mdk_")
    with session_factory() as session:
        row = session.scalars(select(ApiToken)).one()
        assert token not in (row.token_hash, row.prefix) and row.prefix == token[:12]

    api = client_for(None)
    me = api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == web_users["agent"].email
    # An API token needs no CSRF token for writes (it is not a cookie a browser sends by itself).
    away = api.post("/api/mentions/999/claim", headers={"Authorization": f"Bearer {token}"})
    assert away.status_code == 404

    response = client.post(
        f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_of(client, "/account")}
    )
    assert response.status_code == 303
    assert api.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_password_change_logs_out_other_sessions(client_for, web_users, session_factory):
    first = client_for("agent")
    second = client_for("agent")
    response = first.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a brand new passphrase",
            "csrf_token": csrf_of(first, "/account"),
        },
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]  # the same flags as at login
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert first.get("/desk").status_code == 200  # this browser got a fresh session
    assert second.get("/desk").status_code == 303  # the other one is logged out
    with session_factory() as session:
        user = session.scalars(select(User).where(User.email == web_users["agent"].email)).one()
        assert user.password_hash.startswith("$argon2id$")


def test_pages_send_a_strict_content_security_policy(client_for):
    client = client_for("agent")
    for path in ("/login", "/desk", "/api/me"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        # No inline script anywhere: even text that escaped escaping could not run.
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/app.js").headers.get("cache-control", "")


def test_templates_never_put_data_in_inline_script():
    from pathlib import Path

    import responders.web as web

    for template in Path(web.__file__).parent.joinpath("templates").rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text):
            assert "src=" in match.group(0), f"{template}: inline <script>"
        assert "|safe" not in text.replace(" ", ""), f"{template}: |safe"
        assert not re.search(r"<[^>]+\son[a-z]+=", text), f"{template}: event-handler attribute"


def test_idle_sessions_expire_and_are_tidied_away(session_factory, web_users):
    now = datetime.now(UTC)
    with session_factory() as session:
        user = session.get(User, web_users["agent"].user_id)
        started = users.start_session(session, user=user, now=now)
        session.commit()
        assert users.session_for_cookie(
            session, cookie_value=started.cookie_value, now=now + timedelta(hours=11)
        )
        later = now + timedelta(hours=11) + users.SESSION_IDLE + timedelta(seconds=1)
        assert (
            users.session_for_cookie(session, cookie_value=started.cookie_value, now=later) is None
        )
        forgotten = users.start_session(session, user=user, now=now)
        users.tidy_up(session, now=now + users.SESSION_MAX)
        session.commit()
        assert session.get(WebSession, users.tokens.digest(forgotten.cookie_value)) is None
