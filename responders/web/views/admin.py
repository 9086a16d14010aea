"""The admin page: sources' health and cursors, people and teams, routing rules, classifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from responders.web.admin_page import admin_context
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin")
def admin(
    request: Request,
    _user: Annotated[CurrentUser, Depends(require_role("admin"))],
    session: Annotated[Session, Depends(db_session)],
) -> Response:
    context = admin_context(session, web_state(request).config)
    return render(request, "admin/admin.html", context, active="admin")
