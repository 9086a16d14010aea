"""The JSON API under /api: the same roles as the pages, for API tokens and our own scripts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.classifying.models import Verdict
from listener.classifying.service import CorrectionError, record_correction
from listener.stats import source_status
from listener.store.models import Mention
from responders.employees.models import Employee
from responders.inbox import service as inbox
from responders.inbox.queues import QueueItem, my_queue, team_queue
from responders.inbox.reopening import reopen
from responders.replies.models import OutboxReply
from responders.replies.service import ReplyInvalid, list_outbox, queue_reply, reply_url
from responders.routing.models import MentionRoute
from responders.web.admin_page import classifier as classifier_figures
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.state import web_state

router = APIRouter(prefix="/api", tags=["desk"])
Agent = Annotated[CurrentUser, Depends(require_role("agent"))]
Admin = Annotated[CurrentUser, Depends(require_role("admin"))]
Db = Annotated[Session, Depends(db_session)]


class Me(BaseModel):
    id: int
    email: str
    role: str
    employee_id: int | None
    name: str


class Queues(BaseModel):
    # The inbox's own QueueItem dataclass is the schema: one definition of a queue row.
    mine: list[QueueItem]
    team: list[QueueItem]


class OutboxEntry(BaseModel):
    id: int
    mention_id: int
    status: Literal["queued", "sending", "posted", "failed"]
    text: str
    employee_id: int
    created_at: datetime
    posted_at: datetime | None
    url: str | None
    error: str | None


class VerdictOut(BaseModel):
    sentiment: str
    # The model's probabilities (a corrected field keeps the model's figures beside the person's
    # label; `corrected` says a person changed something).
    sentiment_scores: dict[str, float]
    complaint: bool
    complaint_score: float
    topic: str | None
    # Why the verdict may be poor, or which model gave part of it (e.g. "unsupported_language").
    flags: list[str]
    model_version: str
    corrected: bool


class MentionOut(BaseModel):
    id: int
    network: str
    status: str
    url: str
    text: str
    brand: str
    posted_at: datetime
    author_handle: str
    author_name: str | None
    followers: int | None
    team_id: int | None
    assignee_id: int | None
    priority: str | None
    due_at: datetime | None
    verdict: VerdictOut | None
    outbox: list[OutboxEntry]


class TransferIn(BaseModel):
    to_employee_id: int


class ReplyIn(BaseModel):
    text: str = Field(max_length=40_000)


class CorrectionIn(BaseModel):
    field: Literal["sentiment", "complaint", "topic"]
    value: str | bool | None


class Done(BaseModel):
    ok: bool = True
    status: str


def _outbox_entry(reply: OutboxReply) -> OutboxEntry:
    return OutboxEntry(
        id=reply.id,
        mention_id=reply.mention_id,
        status=reply.status,  # type: ignore[arg-type]
        text=reply.text,
        employee_id=reply.employee_id,
        created_at=reply.created_at,
        posted_at=reply.posted_at,
        url=reply_url(reply, reply.mention),
        error=reply.error,
    )


def _mention(session: Session, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise HTTPException(404, f"no mention #{mention_id}")
    return mention


def _employee_id(user: CurrentUser) -> int:
    if user.employee_id is None:
        raise HTTPException(409, "this login is not linked to an employee")
    return user.employee_id


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(request: Request, _user: Agent) -> dict[str, Any]:
    """This API's OpenAPI schema."""
    return request.app.openapi()


@router.get("/me", response_model=Me)
def me(user: Agent) -> Me:
    """Who the token or session belongs to."""
    return Me(
        id=user.id, email=user.email, role=user.role, employee_id=user.employee_id, name=user.name
    )


@router.get("/queue", response_model=Queues)
def queue(user: Agent, session: Db) -> Queues:
    """My queue and my teams' queue, most urgent first (priority, then SLA due time)."""
    employee = session.get(Employee, user.employee_id) if user.employee_id else None
    mine = my_queue(session, employee_id=employee.id) if employee else []
    team = team_queue(session, employee_id=employee.id if employee else None)
    return Queues(mine=mine, team=team)


@router.get("/mentions/{mention_id}", response_model=MentionOut)
def mention_detail(mention_id: int, _user: Agent, session: Db) -> MentionOut:
    mention = _mention(session, mention_id)
    route = session.get(MentionRoute, mention_id)
    verdict = session.scalar(select(Verdict).where(Verdict.mention_id == mention_id))
    replies = session.scalars(
        select(OutboxReply).where(OutboxReply.mention_id == mention_id).order_by(OutboxReply.id)
    )
    return MentionOut(
        id=mention.id,
        network=mention.network,
        status=mention.status,
        url=mention.url,
        text=mention.text,
        brand=mention.brand,
        posted_at=mention.posted_at,
        author_handle=mention.author.handle,
        author_name=mention.author.display_name,
        followers=mention.author.followers,
        team_id=route.team_id if route else None,
        assignee_id=route.assignee_id if route else None,
        priority=route.priority if route else None,
        due_at=route.due_at if route else None,
        verdict=VerdictOut(
            sentiment=verdict.sentiment,
            sentiment_scores=verdict.sentiment_scores,
            complaint=verdict.complaint,
            complaint_score=verdict.complaint_score,
            topic=verdict.topic,
            flags=list(verdict.flags or ()),
            model_version=verdict.model_version,
            corrected=verdict.corrected_at is not None,
        )
        if verdict
        else None,
        outbox=[_outbox_entry(r) for r in replies],
    )


def _inbox_action(
    request: Request, session: Session, mention_id: int, action: Callable[[datetime], object]
) -> Done:
    """Run one inbox action at the request's time; an InboxError is a 409 saying why."""
    mention = _mention(session, mention_id)
    try:
        action(web_state(request).now())
    except inbox.InboxError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return Done(status=mention.status)


@router.post("/mentions/{mention_id}/claim", response_model=Done)
def api_claim(request: Request, mention_id: int, user: Agent, session: Db) -> Done:
    employee_id = _employee_id(user)
    return _inbox_action(
        request,
        session,
        mention_id,
        lambda now: inbox.claim(session, mention_id=mention_id, employee_id=employee_id, now=now),
    )


@router.post("/mentions/{mention_id}/transfer", response_model=Done)
def api_transfer(
    request: Request, mention_id: int, body: TransferIn, user: Agent, session: Db
) -> Done:
    return _inbox_action(
        request,
        session,
        mention_id,
        lambda now: inbox.transfer(
            session,
            mention_id=mention_id,
            to_employee_id=body.to_employee_id,
            now=now,
            actor_id=user.employee_id,
        ),
    )


@router.post("/mentions/{mention_id}/resolve", response_model=Done)
def api_resolve(request: Request, mention_id: int, user: Agent, session: Db) -> Done:
    return _inbox_action(
        request,
        session,
        mention_id,
        lambda now: inbox.resolve(
            session, mention_id=mention_id, now=now, actor_id=user.employee_id
        ),
    )


@router.post("/mentions/{mention_id}/reopen", response_model=Done)
def api_reopen(request: Request, mention_id: int, user: Agent, session: Db) -> Done:
    return _inbox_action(
        request,
        session,
        mention_id,
        lambda now: reopen(session, mention_id=mention_id, now=now, actor_id=user.employee_id),
    )


@router.post("/mentions/{mention_id}/reply", response_model=OutboxEntry, status_code=202)
def api_reply(
    request: Request, mention_id: int, body: ReplyIn, user: Agent, session: Db
) -> OutboxEntry:
    """Queue a reply in the outbox; the sender posts it (poll GET /api/outbox/{id})."""
    employee_id = _employee_id(user)
    _mention(session, mention_id)
    try:
        reply = queue_reply(
            session,
            mention_id=mention_id,
            employee_id=employee_id,
            text=body.text,
            now=web_state(request).now(),
        )
    except ReplyInvalid as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return _outbox_entry(reply)


@router.post("/mentions/{mention_id}/corrections", response_model=Done)
def api_correct(
    request: Request, mention_id: int, body: CorrectionIn, user: Agent, session: Db
) -> Done:
    """Correct one field of the classifier's verdict (it becomes a training label). A topic must
    be one of the configured topics, or null for none."""
    mention = _mention(session, mention_id)
    try:
        record_correction(
            session,
            mention_id,
            body.field,
            body.value,
            corrected_by=user.email,
            topics=web_state(request).topic_names(),
        )
    except CorrectionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return Done(status=mention.status)


@router.get("/outbox", response_model=list[OutboxEntry])
def api_outbox(
    _user: Agent, session: Db, limit: int = 50, status: str | None = None
) -> list[OutboxEntry]:
    return [
        _outbox_entry(r) for r in list_outbox(session, limit=min(max(limit, 1), 500), status=status)
    ]


@router.get("/outbox/{reply_id}", response_model=OutboxEntry)
def api_outbox_entry(reply_id: int, _user: Agent, session: Db) -> OutboxEntry:
    reply = session.get(OutboxReply, reply_id)
    if reply is None:
        raise HTTPException(404, f"no reply #{reply_id}")
    return _outbox_entry(reply)


@router.get("/admin/sources", tags=["admin"])
def api_sources(request: Request, _user: Admin, session: Db) -> list[dict[str, Any]]:
    """Per source: health, cursors, mentions stored."""
    config = web_state(request).config
    names = [s.name for s in config.sources] if config else []
    return source_status(session, names)


@router.get("/admin/classifier", tags=["admin"])
def api_classifier(_user: Admin, session: Db) -> dict[str, Any]:
    """The classifier's current version and when it began judging, verdict counts (by
    sentiment, flag and model version), each version's verdicts and how many people corrected,
    and the corrections: all, those made since the current version began judging, and the
    newest (to check the labels training will learn from)."""
    figures = classifier_figures(session)
    figures["versions"] = [
        {**v, "first": _iso(v["first"]), "latest": _iso(v["latest"])} for v in figures["versions"]
    ]
    figures["current_since"] = _iso(figures["current_since"])
    figures["recent_corrections"] = [
        {**c, "at": _iso(c["at"])} for c in figures["recent_corrections"]
    ]
    return figures


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
