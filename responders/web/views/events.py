"""Event pages: everyone sees their invitations (talking points, share links); managers create
and edit events, invite people, and read each event's report with its timeline chart.

Talking points are facts and key messages; the share links fill in only the hashtag and link.
Every figure comes from responders.amplification.report, the one the CLI prints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from responders.amplification import service
from responders.amplification.chart import timeline_svg
from responders.amplification.invitations import invite, invitee_of, invitees, links_for
from responders.amplification.models import AmplificationEvent, EventPost, Invitation
from responders.amplification.report import event_report
from responders.amplification.share import NETWORK_ORDER
from responders.amplification.spec import EventSpecError, build_spec, parse_speaker
from responders.employees.models import Employee, Team
from responders.web.auth import CurrentUser, require_role
from responders.web.db import db_session
from responders.web.state import web_state
from responders.web.templating import render

router = APIRouter(tags=["events"])
Agent = Annotated[CurrentUser, Depends(require_role("agent"))]
Manager = Annotated[CurrentUser, Depends(require_role("manager"))]
Db = Annotated[Session, Depends(db_session)]
Text = Annotated[str, Form(max_length=20_000)]

NETWORK_NAMES = {"x": "X", "reddit": "Reddit", "mastodon": "Mastodon", "bluesky": "Bluesky"}


@router.get("/events", include_in_schema=False)
def events_page(request: Request, user: Agent, session: Db) -> Response:
    mine = []
    if user.employee_id is not None:
        for invitation, event in service.invitations_for_employee(
            session, employee_id=user.employee_id
        ):
            invitee = invitee_of(session, invitation)
            mine.append(
                {
                    "event": event,
                    "links": _ordered(links_for(event, invitee)),
                    "handles": invitee.handles,
                    "posts": _own_posts(session, event, invitation),
                }
            )
    events = service.list_events(session) if user.has_role("manager") else []
    now = web_state(request).now()
    flash = {"created": "Event created.", "saved": "Event saved."}.get(
        request.query_params.get("done", "")
    )
    return render(
        request,
        "events/index.html",
        {
            "mine": mine,
            "network_names": NETWORK_NAMES,
            "events": [{"event": e, "tracking": service.is_active(e, now)} for e in events],
            "flash": flash,
            "flash_kind": "ok",
        },
        active="events",
    )


@router.get("/events/new", include_in_schema=False)
def new_event(request: Request, _user: Manager, session: Db) -> Response:
    return _form(request, session, values={}, action="/events")


def _event_form(
    name: Text = "",
    description: Text = "",
    starts_at: Text = "",
    ends_at: Text = "",
    hashtags: Text = "",
    links: Text = "",
    talking_points: Text = "",
    speakers: Text = "",
    teams: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default
    employees: Annotated[list[str], Form()] = [],  # noqa: B006
) -> dict[str, Any]:
    """The create/edit form as typed, to build the spec from or to show again with its error."""
    return dict(locals())  # every parameter is one of the form's fields


EventForm = Annotated[dict[str, Any], Depends(_event_form)]


@router.post("/events", include_in_schema=False)
def create_event(request: Request, user: Manager, session: Db, values: EventForm) -> Response:
    try:
        spec = _spec(values)
        creator = session.get(Employee, user.employee_id) if user.employee_id else None
        event = service.create_event(
            session, spec=spec, created_by=creator, now=web_state(request).now()
        )
    except (EventSpecError, service.EventError) as exc:
        session.rollback()
        return _form(request, session, values=values, action="/events", error=str(exc))
    session.commit()
    return RedirectResponse(f"/events/{event.id}?done=created", status_code=303)


@router.get("/events/{event_id}", include_in_schema=False)
def event_page(request: Request, event_id: int, _user: Manager, session: Db) -> Response:
    event = _event(session, event_id)
    report = event_report(session, event=event)
    people = [
        {"invitee": i, "links": _ordered(links_for(event, i))}
        for i in invitees(session, event=event)
    ]
    flash = {
        "created": "Event created. Its hashtags and links are tracked around its dates.",
        "saved": "Event saved.",
    }.get(request.query_params.get("done", ""))
    invited = request.query_params.get("invited")
    if invited is not None and invited.isdigit():
        flash = f"{invited} new invitation(s) queued; the desk delivers them within a minute."
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "described": service.describe(session, event),
            "report": report,
            "people": people,
            "tracking": service.is_active(event, web_state(request).now()),
            "flash": flash,
            "flash_kind": "ok",
        },
        active="events",
    )


@router.get("/events/{event_id}/timeline.svg", include_in_schema=False)
def event_chart(event_id: int, _user: Manager, session: Db) -> Response:
    report = event_report(session, event=_event(session, event_id))
    return Response(
        timeline_svg(report),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'"},
    )


@router.get("/api/events/{event_id}/report")
def event_report_api(event_id: int, _user: Manager, session: Db) -> dict[str, Any]:
    """The event's report: the same object as `mentiondesk events report NAME --json`."""
    return event_report(session, event=_event(session, event_id))


@router.post("/events/{event_id}/invite", include_in_schema=False)
def invite_people(request: Request, event_id: int, _user: Manager, session: Db) -> Response:
    new = invite(session, event=_event(session, event_id), now=web_state(request).now())
    session.commit()
    return RedirectResponse(f"/events/{event_id}?invited={len(new)}", status_code=303)


@router.get("/events/{event_id}/edit", include_in_schema=False)
def edit_event(request: Request, event_id: int, _user: Manager, session: Db) -> Response:
    event = _event(session, event_id)
    return _form(
        request, session, values=_values_of(session, event), action=f"/events/{event.id}/edit"
    )


@router.post("/events/{event_id}/edit", include_in_schema=False)
def save_event(
    request: Request, event_id: int, _user: Manager, session: Db, values: EventForm
) -> Response:
    event = _event(session, event_id)
    try:
        service.update_event(session, event=event, spec=_spec(values), now=web_state(request).now())
    except (EventSpecError, service.EventError) as exc:
        session.rollback()
        action = f"/events/{event_id}/edit"
        return _form(request, session, values=values, action=action, error=str(exc))
    session.commit()
    return RedirectResponse(f"/events/{event_id}?done=saved", status_code=303)


# --- helpers ---------------------------------------------------------------------------------
def _event(session: Session, event_id: int) -> AmplificationEvent:
    event = session.get(AmplificationEvent, event_id)
    if event is None:
        raise HTTPException(404, "no such event")
    return event


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _spec(values: dict[str, Any]):
    """The form as an EventSpec: hashtags split on spaces or commas, the rest one per line."""
    fields: dict[str, Any] = {
        "name": values["name"].strip(),
        "description": values["description"].strip(),
        "starts_at": values["starts_at"].strip(),
        "ends_at": values["ends_at"].strip(),
        "hashtags": values["hashtags"].replace(",", " ").split(),
        "links": _lines(values["links"]),
        "talking_points": _lines(values["talking_points"]),
        "speakers": [parse_speaker(line) for line in _lines(values["speakers"])],
        "teams": values["teams"],
        "employees": values["employees"],
    }
    return build_spec(fields, origin="event")


def _values_of(session: Session, event: AmplificationEvent) -> dict[str, Any]:
    described = service.describe(session, event)
    speakers = []
    for s in event.speakers:
        if s.employee_id is not None:
            email = session.scalar(select(Employee.email).where(Employee.id == s.employee_id))
            speakers.append(f"employee={email}")
            continue
        parts = [f"name={s.name}"] + ([f"email={s.email}"] if s.email else [])
        parts += [f"{network}={handle}" for network, handle in s.handles.items()]
        speakers.append(", ".join(parts))
    return {
        "name": event.name,
        "description": event.description,
        "starts_at": event.starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": event.ends_at.strftime("%Y-%m-%dT%H:%M"),
        "hashtags": " ".join(event.hashtags),
        "links": "\n".join(event.links),
        "talking_points": "\n".join(event.talking_points),
        "speakers": "\n".join(speakers),
        "teams": described["audience"]["teams"],
        "employees": described["audience"]["employees"],
    }


def _form(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any],
    action: str,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "events/form.html",
        {
            "values": {"teams": [], "employees": [], **values},
            "action": action,
            "error": error,
            "all_teams": list(session.scalars(select(Team.name).order_by(Team.name))),
            "all_employees": list(
                session.execute(select(Employee.email, Employee.name).order_by(Employee.name))
            ),
        },
        status_code=422 if error else 200,
        active="events",
    )


def _ordered(links: dict[str, str]) -> list[tuple[str, str]]:
    return [(network, links[network]) for network in NETWORK_ORDER if network in links]


def _own_posts(
    session: Session, event: AmplificationEvent, invitation: Invitation
) -> dict[str, int]:
    """How many of this person's posts about the event were credited, and in their own words."""
    who = (
        EventPost.speaker_id == invitation.speaker_id
        if invitation.speaker_id is not None
        else EventPost.employee_id == invitation.employee_id
    )
    posts = list(session.scalars(select(EventPost).where(EventPost.event_id == event.id, who)))
    return {"credited": len(posts), "own_words": sum(not p.scripted for p in posts)}
