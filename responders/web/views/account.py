"""Your account: change your password, create and revoke your API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from responders.users import passwords
from responders.users import service as users
from responders.users.models import User
from responders.web.auth import CurrentUser, require_role, set_session_cookie
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(include_in_schema=False)
Agent = Annotated[CurrentUser, Depends(require_role("agent"))]
Db = Annotated[Session, Depends(db_session)]


def _page(
    request: Request, session: Session, user: CurrentUser, status_code: int = 200, **extra
) -> Response:
    context = {"tokens": users.list_api_tokens(session, user_id=user.id), **extra}
    return render(request, "account.html", context, status_code=status_code, active="account")


@router.get("/account")
def account(request: Request, user: Agent, session: Db) -> Response:
    flash = {"password": "Password changed.", "revoked": "Token revoked."}.get(
        request.query_params.get("done", "")
    )
    return _page(request, session, user, flash=flash, flash_kind="ok")


@router.post("/account/tokens")
def create_token(
    request: Request, user: Agent, session: Db, name: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    row = session.get(User, user.id)
    assert row is not None
    try:
        secret, _token = users.create_api_token(
            session, user=row, name=name, now=web_state(request).now()
        )
    except users.UserError as exc:
        session.rollback()
        return _page(request, session, user, error=str(exc), status_code=422)
    session.commit()
    # Shown once, on this response only; the database keeps a hash.
    return _page(
        request,
        session,
        user,
        new_token=secret,
        flash="Token created: copy it now, it is not shown again.",
        flash_kind="ok",
    )


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, user: Agent, session: Db) -> Response:
    try:
        users.revoke_api_token(
            session, token_id=token_id, user_id=user.id, now=web_state(request).now()
        )
    except users.UserError as exc:
        session.rollback()
        return _page(request, session, user, error=str(exc), status_code=404)
    session.commit()
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.post("/account/password")
def change_password(
    request: Request,
    user: Agent,
    session: Db,
    current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    row = session.get(User, user.id)
    assert row is not None
    if not passwords.verify_password(row.password_hash, current):
        return _page(
            request, session, user, error="Your current password is not right.", status_code=422
        )
    now = web_state(request).now()
    try:
        users.set_password(session, email=row.email, password=new, now=now)
    except users.UserError as exc:
        session.rollback()
        return _page(request, session, user, error=str(exc), status_code=422)
    # Every session was ended (others may have known the old password); start a fresh one here.
    started = users.start_session(session, user=row, now=now)
    session.commit()
    response = RedirectResponse("/account?done=password", status_code=303)
    set_session_cookie(response, request, started, now)
    return response
