"""Per-event figures: who posted, how far it reached, how original it was, and when.

Grouped reads over amplification_posts; nothing cached, so the report is always what is stored.
- reach: the followers of everyone who posted (each author once, their latest known count);
- engagement: likes, reposts and replies as first seen, where the network gives them;
- originality: the share of credited posts in the person's own words (not flagged scripted).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import Author, Mention
from responders.amplification.models import (
    KIND_EARNED,
    KIND_EMPLOYEE,
    KIND_SPEAKER,
    AmplificationEvent,
    EventPost,
    EventSpeaker,
)
from responders.employees.models import Employee


def event_report(session: Session, *, event: AmplificationEvent) -> dict[str, Any]:
    rows = session.execute(
        select(EventPost, Author.handle, Author.followers, Mention.url, Mention.text)
        .join(Author, Author.id == EventPost.author_id)
        .join(Mention, Mention.id == EventPost.mention_id)
        .where(EventPost.event_id == event.id)
        .order_by(EventPost.posted_at, EventPost.mention_id)
    ).all()
    posts = [row[0] for row in rows]
    followers = {post.author_id: count for post, _h, count, _u, _t in rows}
    by_kind = Counter(p.kind for p in posts)
    credited = [p for p in posts if p.kind != KIND_EARNED]
    scripted = [p for p in credited if p.scripted]
    authors_by_kind: dict[str, set[int]] = defaultdict(set)
    for post in posts:
        authors_by_kind[post.kind].add(post.author_id)
    engagement = [p.engagement for p in posts if p.engagement is not None]

    def reach(author_ids: set[int]) -> int:
        return sum(followers.get(a) or 0 for a in author_ids)

    all_authors = {p.author_id for p in posts}
    return {
        "event": event.name,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "employee_posts": by_kind[KIND_EMPLOYEE],
        "speaker_posts": by_kind[KIND_SPEAKER],
        "earned_posts": by_kind[KIND_EARNED],
        "posts": len(posts),
        "unique_voices": len(all_authors),
        "unique_voices_by_kind": {k: len(authors_by_kind[k]) for k in _KINDS},
        "reach": reach(all_authors),
        "reach_by_kind": {k: reach(authors_by_kind[k]) for k in _KINDS},
        "engagement": sum(engagement) if engagement else None,
        "posts_with_engagement": len(engagement),
        "scripted": len(scripted),
        "originality": (
            round((len(credited) - len(scripted)) / len(credited), 3) if credited else None
        ),
        "networks": dict(sorted(Counter(p.network for p in posts).items())),
        "timeline": timeline(posts),
        "leaderboard": leaderboard(session, posts, followers),
        "scripted_posts": [
            {
                "mention_id": p.mention_id,
                "url": url,
                "author": handle,
                "similarity": p.similarity,
                "like_talking_point": p.similar_point,
                "like_mention_id": p.similar_mention_id,
            }
            for p, handle, _f, url, _t in rows
            if p.kind != KIND_EARNED and p.scripted
        ],
    }


_KINDS = (KIND_EMPLOYEE, KIND_SPEAKER, KIND_EARNED)


def timeline(posts: list[EventPost]) -> list[dict[str, Any]]:
    """Posts per hour (per day when the posts span more than four days), by kind."""
    if not posts:
        return []
    first, last = posts[0].posted_at, posts[-1].posted_at
    step = timedelta(days=1) if last - first > timedelta(days=4) else timedelta(hours=1)

    def bucket(moment: datetime) -> datetime:
        if step == timedelta(days=1):
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return moment.replace(minute=0, second=0, microsecond=0)

    counts: dict[datetime, Counter[str]] = defaultdict(Counter)
    for post in posts:
        counts[bucket(post.posted_at)][post.kind] += 1
    moment, end = bucket(first), bucket(last)
    series = []
    while moment <= end:
        series.append({"at": moment.isoformat(), **{k: counts[moment][k] for k in _KINDS}})
        moment += step
    return series


def leaderboard(
    session: Session, posts: list[EventPost], followers: dict[int, int | None]
) -> list[dict[str, Any]]:
    """Employees and speakers, most posts in their own words first, then reach and engagement."""
    people: dict[tuple[str, int], dict[str, Any]] = {}
    for post in posts:
        if post.kind == KIND_EARNED:
            continue
        key = ("speaker", post.speaker_id) if post.speaker_id else ("employee", post.employee_id)
        entry = people.setdefault(
            key,
            {
                "kind": post.kind,
                "posts": 0,
                "own_words": 0,
                "scripted": 0,
                "engagement": 0,
                "authors": set(),
                "networks": set(),
            },
        )
        entry["posts"] += 1
        entry["scripted" if post.scripted else "own_words"] += 1
        entry["engagement"] += post.engagement or 0
        entry["authors"].add(post.author_id)
        entry["networks"].add(post.network)
    names = _names(session, people)
    board = [
        {
            "name": names.get(key, "?"),
            "kind": entry["kind"],
            "posts": entry["posts"],
            "own_words": entry["own_words"],
            "scripted": entry["scripted"],
            "reach": sum(followers.get(a) or 0 for a in entry["authors"]),
            "engagement": entry["engagement"],
            "networks": sorted(entry["networks"]),
        }
        for key, entry in people.items()
    ]
    board.sort(key=lambda e: (-e["own_words"], -e["reach"], -e["engagement"], e["name"]))
    for rank, entry in enumerate(board, start=1):
        entry["rank"] = rank
    return board


def _names(session: Session, people: dict[tuple[str, int], Any]) -> dict[tuple[str, int], str]:
    speaker_ids = [i for kind, i in people if kind == "speaker"]
    employee_ids = [i for kind, i in people if kind == "employee"]
    names: dict[tuple[str, int], str] = {}
    for speaker_id, name in session.execute(
        select(EventSpeaker.id, EventSpeaker.name).where(EventSpeaker.id.in_(speaker_ids))
    ):
        names[("speaker", speaker_id)] = name
    for employee_id, name in session.execute(
        select(Employee.id, Employee.name).where(Employee.id.in_(employee_ids))
    ):
        names[("employee", employee_id)] = name
    return names
