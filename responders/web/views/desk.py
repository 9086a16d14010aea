"""The staff desk: my queue and my team's, refreshed without a reload; away and back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from responders.employees.models import Employee
from responders.inbox.queues import my_queue, team_queue
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(include_in_schema=False)
Agent = Annotated[CurrentUser, Depends(require_role("agent"))]
Db = Annotated[Session, Depends(db_session)]


def desk_context(session: Session, user: CurrentUser) -> dict:
    employee = session.get(Employee, user.employee_id) if user.employee_id else None
    return {
        "employee": employee,
        "mine": my_queue(session, employee_id=employee.id) if employee else [],
        "team": team_queue(session, employee_id=employee.id if employee else None),
    }


@router.get("/")
def home(_user: Agent) -> Response:
    return RedirectResponse("/desk", status_code=303)


@router.get("/desk")
def desk(request: Request, user: Agent, session: Db) -> Response:
    context = desk_context(session, user)
    context["now"] = web_state(request).now()
    return render(request, "desk/desk.html", context, active="desk")


@router.get("/desk/queues")
def desk_queues(request: Request, user: Agent, session: Db) -> Response:
    """The two queues as an HTML fragment; the desk page swaps it in every few seconds."""
    context = desk_context(session, user)
    context["now"] = web_state(request).now()
    return render(request, "desk/_queues.html", context)


def _set_away(session: Session, user: CurrentUser, away: bool) -> None:
    if user.employee_id is None:
        return
    employee = session.get(Employee, user.employee_id)
    if employee is not None:
        employee.away = away
        session.commit()


@router.post("/desk/away")
def go_away(user: Agent, session: Db) -> Response:
    """Away: routing stops giving me new work (what I hold stays mine)."""
    _set_away(session, user, True)
    return RedirectResponse("/desk", status_code=303)


@router.post("/desk/back")
def come_back(user: Agent, session: Db) -> Response:
    _set_away(session, user, False)
    return RedirectResponse("/desk", status_code=303)
