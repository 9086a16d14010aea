"""Logging in and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from responders.users import service as users
from responders.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    public,
    require_role,
    secure_cookies,
    set_session_cookie,
)
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `next=https://evil.example` or `//evil` goes to the desk."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/desk"
    return target


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.login_csrf = token
    response = render(
        request,
        "login.html",
        {"next": next_path, "email": email, "error": error},
        status_code=status_code,
        active="login",
    )
    # Double-submit token for the login form itself (there is no session yet).
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


@router.get("/login")
def login_form(
    request: Request,
    user: Annotated[CurrentUser | None, Depends(public)],
    next: str | None = None,  # noqa: A002 (the query parameter's name)
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    _user: Annotated[CurrentUser | None, Depends(public)],
    session: Annotated[Session, Depends(db_session)],
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/desk",  # noqa: A002
) -> Response:
    next_path = _safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not users.csrf_matches(expected, csrf_token):
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error="The form expired. Please try again.",
            status_code=403,
        )
    now = web_state(request).now()
    try:
        user = users.authenticate(
            session, email=email, password=password, address=_client_address(request), now=now
        )
    except users.LoginThrottled as exc:
        session.commit()
        response = _login_page(
            request,
            next_path=next_path,
            email=email,
            error=str(exc).capitalize() + ".",
            status_code=429,
        )
        response.headers["Retry-After"] = str(int(exc.retry_after.total_seconds()) + 1)
        return response
    except users.LoginRefused:
        session.commit()  # the failed attempt counts
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error="Wrong email or password.",
            status_code=401,
        )
    users.tidy_up(session, now=now)
    started = users.start_session(session, user=user, now=now)
    session.commit()
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, request, started, now)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    _user: Annotated[CurrentUser, Depends(require_role("agent"))],
    session: Annotated[Session, Depends(db_session)],
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        users.end_session(session, cookie_value=cookie)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
