"""Crediting: which stored mentions are about an active event, and whose they are.

For each event being tracked, mentions carrying its hashtags or links become EventPost rows:
- by a speaker's handle (an internal speaker's employee handles too): a speaker post;
- by any employee's handle: an employee post;
- by anyone else: earned reach.
Employee and speaker posts waiting for routing (status "classified") get the status "credited",
so routing never puts them in the support inbox; the pipeline runs this step right before
routing. Only "classified" ones: a "new" mention may be in the classifier's hands, which would
write "classified" over our status (SQLite has no row locks), so it is recorded now and its status
changed once it is classified (`credit_waiting`). Their originality is measured against the
talking points and the earlier posts of other people (see originality.py); a copy found later
than its original is flagged, and an original that arrives after its copy flags the copy then.

Two passes: before routing, only the mentions routing has not taken yet (status new/classified,
an indexed look); on its own schedule, a full pass over mentions fetched since the last one
(`scanned_through`, with a margin for transactions that committed late), which also records
earned posts routed already and the posts of an event created after they were fetched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from listener.store.models import STATUS_CLASSIFIED, STATUS_NEW, Author, Mention
from listener.store.types import utcnow
from responders.amplification.models import (
    KIND_EARNED,
    KIND_EMPLOYEE,
    KIND_SPEAKER,
    STATUS_CREDITED,
    AmplificationEvent,
    EventPost,
)
from responders.amplification.originality import resemblance
from responders.amplification.terms import EventTerms
from responders.employees.models import Employee

log = logging.getLogger(__name__)

SCAN_MARGIN = timedelta(minutes=10)  # mentions may commit a little after their fetched_at
LATE_GRACE = timedelta(days=2)  # keep crediting posts that are fetched late


@dataclass(frozen=True)
class Voice:
    kind: str
    employee_id: int | None = None
    speaker_id: int | None = None


def handle_key(network: str, handle: str) -> str:
    """How handles are compared: case-insensitive, without a leading @ or u/."""
    bare = handle.strip().lstrip("@").lower()
    if network == "reddit":
        bare = bare.removeprefix("u/")
    return f"{network}:{bare}"


def _keys(network: str, handle: str, post_url: str | None) -> list[str]:
    keys = [handle_key(network, handle)]
    # Mastodon: a bare acct is local to the instance the post was read from, so it is also
    # user@that-instance. A remote acct (user@host) is never cut to its local part: anyone can
    # register an employee's username on another instance.
    home = urlsplit(post_url).hostname if post_url else None
    if network == "mastodon" and "@" not in handle.lstrip("@") and home:
        keys.append(handle_key(network, f"{handle.lstrip('@')}@{home}"))
    return keys


def known_voices(session: Session, event: AmplificationEvent) -> dict[str, Voice]:
    """(network:handle) -> whose voice it is, for this event. Speakers win over employees."""
    voices: dict[str, Voice] = {}
    for employee_id, handles in session.execute(select(Employee.id, Employee.handles)):
        for network, handle in (handles or {}).items():
            if handle:
                voices[handle_key(network, handle)] = Voice(KIND_EMPLOYEE, employee_id=employee_id)
    for speaker in event.speakers:
        for network, handle in speaker.handles.items():
            voices[handle_key(network, handle)] = Voice(
                KIND_SPEAKER, employee_id=speaker.employee_id, speaker_id=speaker.id
            )
    return voices


def voice_of(
    voices: dict[str, Voice], network: str, handle: str, post_url: str | None = None
) -> Voice | None:
    for key in _keys(network, handle, post_url):
        if key in voices:
            return voices[key]
    return None


def record_event_posts(
    session: Session,
    *,
    now: datetime | None = None,
    unrouted_only: bool = False,
    batch_size: int = 500,
) -> int:
    """Record the new posts of every event being tracked; returns how many.

    `unrouted_only`: look only at mentions routing has not taken yet (new, classified). That is
    the gate routing's job runs first, every time it looks for work, so it must stay as cheap as
    routing's own look (the status index); the full scan, which also finds posts routed already
    (earned reach, events created late), runs on its own slower schedule.
    """
    now = now or utcnow()
    events = session.scalars(
        select(AmplificationEvent)
        .where(
            AmplificationEvent.track_from <= now,
            AmplificationEvent.track_until >= now - LATE_GRACE,
        )
        .order_by(AmplificationEvent.starts_at, AmplificationEvent.id)
    ).all()
    recorded = 0
    for event in events:
        recorded += _record_for(session, event, batch_size, unrouted_only)
    session.flush()
    credit_waiting(session)
    return recorded


def credit_waiting(session: Session) -> int:
    """Classified mentions already recorded as an employee's or speaker's post become
    "credited" before routing can take them (those recorded while still new)."""
    mentions = list(
        session.scalars(
            select(Mention)
            .where(
                Mention.status == STATUS_CLASSIFIED,
                exists().where(EventPost.mention_id == Mention.id, EventPost.kind != KIND_EARNED),
            )
            .with_for_update(skip_locked=True, of=Mention)
        )
    )
    for mention in mentions:
        mention.status = STATUS_CREDITED
    session.flush()
    return len(mentions)


def _record_for(
    session: Session, event: AmplificationEvent, batch_size: int, unrouted_only: bool
) -> int:
    terms = EventTerms.of(list(event.hashtags), list(event.links))
    if not terms.all:
        return 0
    scan_started = datetime.now(UTC)  # the real clock: fetched_at is stamped with it
    query = (
        select(Mention)
        .where(
            Mention.posted_at >= event.track_from,
            Mention.posted_at <= event.track_until,
            ~exists().where(EventPost.mention_id == Mention.id),
            # A cheap filter in SQL; the exact whole-word match is checked below.
            or_(
                *(func.lower(Mention.text).contains(t.lower(), autoescape=True) for t in terms.all)
            ),
        )
        .order_by(Mention.id)
        .limit(batch_size)
        # Several workers on PostgreSQL: each mention is credited by one of them.
        .with_for_update(skip_locked=True, of=Mention)
    )
    if unrouted_only:
        query = query.where(Mention.status.in_((STATUS_NEW, STATUS_CLASSIFIED)))
    elif event.scanned_through is not None:
        query = query.where(Mention.fetched_at >= event.scanned_through - SCAN_MARGIN)
    recorded = 0
    last_id = 0
    while True:  # page by id, so candidates that only look like a match cannot block the scan
        candidates = list(session.scalars(query.where(Mention.id > last_id)))
        recorded += _record_page(session, event, terms, candidates)
        if len(candidates) < batch_size:
            break
        last_id = candidates[-1].id
    if not unrouted_only:
        event.scanned_through = scan_started
    return recorded


def _record_page(
    session: Session, event: AmplificationEvent, terms: EventTerms, candidates: list[Mention]
) -> int:
    matching = [m for m in candidates if terms.matches(m.text)]
    if not matching:
        return 0
    voices = known_voices(session, event)
    authors = {
        a.id: a
        for a in session.scalars(
            select(Author).where(Author.id.in_({m.author_id for m in matching}))
        )
    }
    credited: list[tuple[EventPost, Mention]] = []
    for mention in matching:
        author = authors[mention.author_id]
        voice = voice_of(voices, mention.network, author.handle, mention.url) or Voice(KIND_EARNED)
        post = EventPost(
            mention_id=mention.id,
            event_id=event.id,
            kind=voice.kind,
            employee_id=voice.employee_id,
            speaker_id=voice.speaker_id,
            network=mention.network,
            author_id=author.id,
            posted_at=mention.posted_at,
            followers=author.followers,
            engagement=engagement(mention.network, mention.raw),
            recorded_at=utcnow(),
        )
        session.add(post)
        if voice.kind != KIND_EARNED:
            credited.append((post, mention))
            if mention.status == STATUS_CLASSIFIED:
                mention.status = STATUS_CREDITED
    session.flush()
    if credited:
        _measure_originality(session, event, credited)
    log.info("event %s: %d new post(s), %d by its people", event.name, len(matching), len(credited))
    return len(matching)


def _measure_originality(
    session: Session, event: AmplificationEvent, new: list[tuple[EventPost, Mention]]
) -> None:
    """Score the new credited posts, and re-score older-recorded ones that turn out to be later
    copies of a new one."""
    rows = session.execute(
        select(EventPost, Mention.text)
        .join(Mention, Mention.id == EventPost.mention_id)
        .where(EventPost.event_id == event.id, EventPost.kind != KIND_EARNED)
    ).all()
    everyone = [(post, text) for post, text in rows]
    points = list(event.talking_points)
    new_ids = {post.mention_id for post, _ in new}

    def earlier_by_others(post: EventPost) -> list[tuple[int, str]]:
        return [
            (other.mention_id, text)
            for other, text in everyone
            if _order(other) < _order(post) and _person(other) != _person(post)
        ]

    for post, mention in sorted(new, key=lambda pair: _order(pair[0])):
        found = resemblance(
            mention.text, talking_points=points, earlier_posts=earlier_by_others(post)
        )
        _set(post, found)
    for post, text in everyone:
        if post.mention_id in new_ids:
            continue
        sources = [(m, t) for m, t in earlier_by_others(post) if m in new_ids]
        if not sources:
            continue
        found = resemblance(text, talking_points=[], earlier_posts=sources)
        if found.similarity > (post.similarity or 0.0):
            _set(post, found)


def _set(post: EventPost, found) -> None:
    post.similarity = found.similarity
    post.similar_point = found.point
    post.similar_mention_id = found.mention_id
    post.scripted = found.scripted


def _order(post: EventPost) -> tuple[datetime, int]:
    return (post.posted_at, post.mention_id)


def _person(post: EventPost) -> tuple[str, int | None]:
    if post.speaker_id is not None:
        return ("speaker", post.speaker_id)
    if post.employee_id is not None:
        return ("employee", post.employee_id)
    return ("author", post.author_id)


def engagement(network: str, raw: dict[str, Any] | None) -> int | None:
    """Likes + reposts + replies as the network reported them when the post was fetched."""
    if not isinstance(raw, dict):
        return None
    if network == "x":
        metrics = raw.get("public_metrics")
        keys = ("like_count", "retweet_count", "reply_count", "quote_count")
    elif network == "reddit":
        metrics, keys = raw, ("score", "num_comments")
    elif network == "mastodon":
        metrics, keys = raw, ("favourites_count", "reblogs_count", "replies_count")
    elif network == "bluesky":
        metrics = raw.get("post", raw) if isinstance(raw.get("post"), dict) else raw
        keys = ("likeCount", "repostCount", "replyCount", "quoteCount")
    else:
        return None
    if not isinstance(metrics, dict):
        return None
    values = [metrics.get(k) for k in keys]
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return sum(numbers) if numbers else None
