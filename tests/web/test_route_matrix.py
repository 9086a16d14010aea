"""Role x route: every route of the app (found by walking app.routes, so new routes are covered
without editing this file) refuses anonymous visitors and every role below the one it requires."""

from __future__ import annotations

import re

import pytest

from responders.users.models import ROLES, role_rank
from responders.web.routes import iter_routes
from tests.web.conftest import csrf_of, login_client

# Deliberately open: the login form and its post. Anything else without a role check fails.
PUBLIC = {("GET", "/login"), ("POST", "/login")}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _marker(dependant) -> tuple[str | None, bool]:
    """(required role, public?) found anywhere in the route's dependency tree."""
    role, public = None, False
    stack = [dependant]
    while stack:
        dep = stack.pop()
        call = getattr(dep, "call", None)
        if getattr(call, "required_role", None):
            found = call.required_role
            role = found if role is None or role_rank(found) > role_rank(role) else role
        if getattr(call, "is_public", False):
            public = True
        stack.extend(getattr(dep, "dependencies", []))
    return role, public


def _endpoints(app) -> list[tuple[str, str, str | None, bool]]:
    rows = []
    for info in iter_routes(app):
        if info.dependant is None:  # a mount: only /static is expected
            assert info.path == "/static", f"unexpected mount {info.path}"
            continue
        role, public = _marker(info.dependant)
        for method in sorted(info.methods - {"HEAD", "OPTIONS"}):
            rows.append((method, info.path, role, public))
    return rows


def test_every_route_checks_a_role_or_is_knowingly_public(web_app) -> None:
    endpoints = _endpoints(web_app)
    assert len(endpoints) > 20
    for method, path, role, public in endpoints:
        if (method, path) in PUBLIC:
            assert public, f"{method} {path} should be marked public"
        else:
            assert role is not None, f"{method} {path} has no require_role(...) dependency"


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _refused(response, method: str, path: str, anonymous: bool) -> bool:
    if anonymous:
        if path.startswith("/api/"):
            return response.status_code == 401
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    return response.status_code == 403


def test_role_x_route_matrix(web_app, web_users, client_for) -> None:
    clients = {role: client_for(role) for role in ROLES}
    clients[None] = client_for(None)
    tokens = {role: csrf_of(clients[role]) for role in ROLES}
    checked = 0
    for method, path, required, _public in _endpoints(web_app):
        if required is None:
            continue
        url = _concrete(path)
        for role in (None, *ROLES):
            client = clients[role]
            data = {"csrf_token": tokens[role]} if role and method in UNSAFE else None
            response = client.request(method, url, data=data)
            allowed = role is not None and role_rank(role) >= role_rank(required)
            if allowed:
                assert response.status_code not in (401, 403), (
                    method,
                    path,
                    role,
                    response.text[:300],
                )
                if path == "/logout":  # its success is a redirect to /login, ending the session
                    assert 'md_session=""' in response.headers.get("set-cookie", ""), role
                else:
                    assert not (
                        response.status_code == 303
                        and response.headers["location"].startswith("/login")
                    ), (method, path, role)
                if method in UNSAFE and client.get("/api/me").status_code != 200:
                    # That route logged the client out (POST /logout): log in again.
                    login_client(client, web_users[role].email, web_users[role].password)
                    tokens[role] = csrf_of(client)
            else:
                assert _refused(response, method, path, role is None), (
                    f"{method} {path} let {role or 'anonymous'} through: {response.status_code}"
                )
            checked += 1
    assert checked >= 4 * 20


@pytest.mark.parametrize("path", ["/api/queue", "/api/admin/sources"])
def test_api_with_a_bad_token_is_401(client_for, path) -> None:
    client = client_for(None)
    response = client.get(path, headers={"Authorization": "Bearer mdk_not-a-real-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
