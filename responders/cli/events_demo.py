"""The demo's event, built from the sandbox's script of it (the CLI's demo wiring may import
sandbox/; the amplification package may not)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from listener.store.db import session_scope
from listener.store.types import utcnow
from responders.amplification.invitations import invite
from responders.amplification.service import create_event
from responders.amplification.spec import EventSpec, SpeakerSpec
from sandbox import event_traffic
from sandbox.state import SandboxState


def demo_event_spec(now: datetime | None = None) -> EventSpec:
    """Northwind Summit 2026, starting tomorrow; the audience is the social team plus Sam."""
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    starts = now + event_traffic.EVENT_STARTS_IN
    speakers = [
        SpeakerSpec(employee=p.email, name=p.name)
        if p.internal
        else SpeakerSpec(name=p.name, email=p.email, handles=dict(p.handles))
        for p in event_traffic.SPEAKERS
    ]
    return EventSpec(
        name=event_traffic.EVENT_NAME,
        description=event_traffic.EVENT_DESCRIPTION,
        starts_at=starts,
        ends_at=starts + event_traffic.EVENT_LASTS,
        hashtags=[event_traffic.EVENT_HASHTAG],
        links=[event_traffic.EVENT_LINK],
        talking_points=list(event_traffic.TALKING_POINTS),
        speakers=speakers,
        teams=["social"],
        employees=[p.email for p in event_traffic.EMPLOYEES if p.email],
    )


def start_demo_event(
    session_factory: sessionmaker[Session], state: SandboxState, *, posts_per_minute: float = 1.0
) -> event_traffic.EventTraffic:
    """Create the demo event, invite its people, publish its story on the sandbox (own posts,
    a pasted talking point, a copied post, outsiders) and keep a trickle going. People must be
    in the database already. Returns the traffic, to stop() at the end."""
    with session_scope(session_factory) as session:
        event = create_event(session, spec=demo_event_spec())
        invite(session, event=event)
    traffic = event_traffic.EventTraffic(state, networks=("x", "reddit"))
    traffic.publish_script()
    traffic.start(posts_per_minute)
    return traffic
