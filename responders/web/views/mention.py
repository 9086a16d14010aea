"""A mention's page and what an agent does there: claim, transfer, reply, correct, resolve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.classifying.models import Verdict
from listener.classifying.service import CorrectionError, record_correction
from listener.store.models import Mention
from responders.inbox import service as inbox
from responders.inbox.reopening import reopen
from responders.replies.service import ReplyInvalid, queue_reply
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.mention_page import mention_context, outbox_for, thread_for
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(include_in_schema=False)
Agent = Annotated[CurrentUser, Depends(require_role("agent"))]
Db = Annotated[Session, Depends(db_session)]

# What a redirect's ?done= may say: fixed words, never text from the request.
DONE = {
    "claimed": "It's yours now.",
    "transferred": "Transferred.",
    "resolved": "Resolved.",
    "reopened": "Reopened: it is back in the queue.",
    "queued": "Reply queued: it goes out within seconds. Its status is below.",
    "corrected": "Thanks: the correction is saved and will be used in training.",
}


def _mention(session: Session, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise HTTPException(404, f"no mention #{mention_id}")
    return mention


def _page(
    request: Request,
    session: Session,
    user: CurrentUser,
    mention: Mention,
    *,
    error: str | None = None,
    reply_text: str = "",
    status_code: int = 200,
) -> Response:
    state = web_state(request)
    context = mention_context(
        session, mention, employee_id=user.employee_id, topics=state.topic_names()
    )
    done = request.query_params.get("done")
    context.update(
        now=state.now(),
        error=error,
        flash=DONE.get(done or ""),
        flash_kind="ok",
        reply_text=reply_text,
    )
    return render(request, "desk/mention.html", context, status_code=status_code, active="desk")


def _back(mention_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/mentions/{mention_id}?done={done}", status_code=303)


@router.get("/mentions/{mention_id}")
def mention_page(request: Request, mention_id: int, user: Agent, session: Db) -> Response:
    return _page(request, session, user, _mention(session, mention_id))


@router.get("/mentions/{mention_id}/outbox")
def mention_outbox(request: Request, mention_id: int, _user: Agent, session: Db) -> Response:
    """The replies' statuses as a fragment; the page polls it while a reply is on its way."""
    mention = _mention(session, mention_id)
    thread = thread_for(session, mention)
    outbox = outbox_for(session, [m.id for m in thread])
    return render(request, "desk/_outbox.html", {"thread": thread, "outbox": outbox})


def _act(
    request: Request,
    session: Session,
    user: CurrentUser,
    mention_id: int,
    action: Callable[[datetime], object],
    done: str,
) -> Response:
    """Run one inbox action at the request's time; its InboxError is shown on the page."""
    mention = _mention(session, mention_id)
    try:
        action(web_state(request).now())
    except inbox.InboxError as exc:
        session.rollback()
        return _page(request, session, user, mention, error=str(exc), status_code=409)
    session.commit()
    return _back(mention_id, done)


def _needs_employee(user: CurrentUser) -> int:
    if user.employee_id is None:
        raise HTTPException(
            409, "your login is not linked to an employee, so you cannot hold or answer mentions"
        )
    return user.employee_id


@router.post("/mentions/{mention_id}/claim")
def claim(request: Request, mention_id: int, user: Agent, session: Db) -> Response:
    employee_id = _needs_employee(user)
    return _act(
        request,
        session,
        user,
        mention_id,
        lambda now: inbox.claim(session, mention_id=mention_id, employee_id=employee_id, now=now),
        "claimed",
    )


@router.post("/mentions/{mention_id}/transfer")
def transfer(
    request: Request,
    mention_id: int,
    user: Agent,
    session: Db,
    to_employee_id: Annotated[int, Form()],
) -> Response:
    return _act(
        request,
        session,
        user,
        mention_id,
        lambda now: inbox.transfer(
            session,
            mention_id=mention_id,
            to_employee_id=to_employee_id,
            now=now,
            actor_id=user.employee_id,
        ),
        "transferred",
    )


@router.post("/mentions/{mention_id}/resolve")
def resolve(request: Request, mention_id: int, user: Agent, session: Db) -> Response:
    return _act(
        request,
        session,
        user,
        mention_id,
        lambda now: inbox.resolve(
            session, mention_id=mention_id, now=now, actor_id=user.employee_id
        ),
        "resolved",
    )


@router.post("/mentions/{mention_id}/reopen")
def reopen_mention(request: Request, mention_id: int, user: Agent, session: Db) -> Response:
    return _act(
        request,
        session,
        user,
        mention_id,
        lambda now: reopen(session, mention_id=mention_id, now=now, actor_id=user.employee_id),
        "reopened",
    )


@router.post("/mentions/{mention_id}/reply")
def reply(
    request: Request,
    mention_id: int,
    user: Agent,
    session: Db,
    text: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:
    employee_id = _needs_employee(user)
    mention = _mention(session, mention_id)
    try:
        queue_reply(
            session,
            mention_id=mention_id,
            employee_id=employee_id,
            text=text,
            now=web_state(request).now(),
        )
    except ReplyInvalid as exc:
        session.rollback()
        # The text comes back in the box: nothing the person typed is lost.
        return _page(
            request, session, user, mention, error=str(exc), reply_text=text, status_code=422
        )
    session.commit()
    return RedirectResponse(f"/mentions/{mention_id}?done=queued#outbox", status_code=303)


@router.post("/mentions/{mention_id}/verdict")
def correct_verdict(
    request: Request,
    mention_id: int,
    user: Agent,
    session: Db,
    sentiment: Annotated[str | None, Form()] = None,
    complaint: Annotated[str | None, Form()] = None,
    topic: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Only fields that changed are recorded: each correction is a training label."""
    mention = _mention(session, mention_id)
    verdict = session.scalar(select(Verdict).where(Verdict.mention_id == mention_id))
    changes: list[tuple[str, object]] = []
    if sentiment and (verdict is None or sentiment != verdict.sentiment):
        changes.append(("sentiment", sentiment))
    if complaint in ("true", "false") and (
        verdict is None or (complaint == "true") != verdict.complaint
    ):
        changes.append(("complaint", complaint == "true"))
    if topic is not None and (verdict is None or (topic.strip() or None) != verdict.topic):
        changes.append(("topic", topic))
    try:
        for field, value in changes:
            record_correction(
                session,
                mention_id,
                field,
                value,
                corrected_by=user.email,
                topics=web_state(request).topic_names(),
            )
    except CorrectionError as exc:
        session.rollback()
        return _page(request, session, user, mention, error=str(exc), status_code=422)
    session.commit()
    return _back(mention_id, "corrected")
