"""Who is asking, and may they: session cookies or API tokens, roles, CSRF.

Every route depends on `require_role(ROLE)` (or, for the login page and the like, on `public`).
The role x route test in tests/web/ walks app.routes and fails on a route with neither, so a new
route cannot forget its check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from responders.users import service as users
from responders.users.models import ROLES, role_rank
from responders.web.state import web_state

SESSION_COOKIE = "md_session"
LOGIN_CSRF_COOKIE = "md_login_csrf"
CSRF_FIELD = "csrf_token"  # hidden form field
CSRF_HEADER = "X-CSRF-Token"  # for fetch() from our own scripts
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/api"


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    role: str
    employee_id: int | None
    name: str
    via: str  # "session" (a browser: CSRF applies) or "token" (the API)
    csrf_token: str | None  # the session's; None for API tokens

    def has_role(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)


class NotAuthenticated(Exception):
    """No valid session cookie or API token."""


class Forbidden(Exception):
    """Logged in, but the role does not allow this."""


class CsrfFailed(Exception):
    """An unsafe request from a browser without its session's CSRF token."""


def is_api(request: Request) -> bool:
    return request.url.path == API_PREFIX or request.url.path.startswith(API_PREFIX + "/")


def _load_user(request: Request) -> CurrentUser | None:
    state = web_state(request)
    now = state.now()
    header = request.headers.get("authorization", "")
    with state.session_factory() as session:
        # API tokens open /api only: on the pages a token could mint more tokens (outliving its
        # own revocation) or drive the forms without a session; there the cookie decides.
        if is_api(request) and header.lower().startswith("bearer "):
            user = users.user_for_api_token(session, token=header[7:].strip(), now=now)
            via, csrf = "token", None
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            row = (
                users.session_for_cookie(session, cookie_value=cookie, now=now) if cookie else None
            )
            user = row.user if row else None
            via, csrf = "session", row.csrf_token if row else None
        if user is None:
            session.commit()  # an expired session row was removed
            return None
        employee = user.employee
        current = CurrentUser(
            id=user.id,
            email=user.email,
            role=user.role,
            employee_id=user.employee_id,
            name=employee.name if employee else user.email,
            via=via,
            csrf_token=csrf,
        )
        session.commit()  # last-seen times
        return current


async def current_user(request: Request) -> CurrentUser | None:
    """The user behind this request, or None; looked up once per request."""
    if not hasattr(request.state, "user"):
        request.state.user = await run_in_threadpool(_load_user, request)
    return request.state.user


async def check_csrf(request: Request, expected: str | None) -> None:
    """The token must come back in the form field or the header; a cookie alone proves nothing."""
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if given is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette caches it; the route reads the same form
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if expected is None or not users.csrf_matches(expected, given):
        raise CsrfFailed()


@cache
def require_role(role: str) -> Callable[[Request], Awaitable[CurrentUser]]:
    """A dependency: the current user if their role is `role` or above, else 401/403.

    Unsafe methods from a browser session also need the CSRF token. Works the same for
    session cookies and `Authorization: Bearer <API token>`.
    """
    role_rank(role)  # fail at import on a typo

    async def dependency(request: Request) -> CurrentUser:
        user = await current_user(request)
        if user is None:
            raise NotAuthenticated()
        if not user.has_role(role):
            raise Forbidden()
        if request.method not in SAFE_METHODS and user.via == "session":
            await check_csrf(request, user.csrf_token)
        return user

    dependency.required_role = role  # type: ignore[attr-defined]  (read by the route matrix)
    dependency.__name__ = f"require_{role}"
    return dependency


def secure_cookies(request: Request) -> bool:
    """Cookies only over HTTPS: when configured so (behind a proxy) or when this request is."""
    return web_state(request).secure_cookies or request.url.scheme == "https"


def set_session_cookie(
    response: Response, request: Request, started: users.StartedSession, now: datetime
) -> None:
    """The login's cookie: script cannot read it; SameSite=Lax so that a link from a notification
    e-mail opens the desk logged in (writes still need the CSRF token)."""
    response.set_cookie(
        SESSION_COOKIE,
        started.cookie_value,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        max_age=int((started.expires_at - now).total_seconds()),
        path="/",
    )


async def public(request: Request) -> CurrentUser | None:
    """For the few routes anyone may reach (login, health): marks the route as deliberately open,
    and still tells the template who is logged in."""
    return await current_user(request)


public.is_public = True  # type: ignore[attr-defined]

__all__ = [
    "ROLES",
    "CurrentUser",
    "Forbidden",
    "NotAuthenticated",
    "CsrfFailed",
    "require_role",
    "public",
    "current_user",
]
