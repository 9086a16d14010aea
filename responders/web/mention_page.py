"""Everything the mention page shows, gathered in one place (the view stays about HTTP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.classifying.labels import SENTIMENTS, UNJUDGED_FLAGS
from listener.classifying.models import Correction, Verdict
from listener.store.models import STATUS_RESOLVED, Mention
from responders.employees.models import Employee, Team
from responders.inbox.history import conversation_history
from responders.inbox.models import CONVERSATION_RESOLVED, Conversation
from responders.inbox.queues import my_queue, team_queue
from responders.replies import limits
from responders.replies.models import OutboxReply
from responders.replies.service import reply_url
from responders.routing.models import MentionRoute


@dataclass(frozen=True)
class OutboxRow:
    id: int
    status: str
    text: str
    author: str
    created_at: Any
    posted_at: Any
    url: str | None
    error: str | None
    attempts: int


def thread_for(session: Session, mention: Mention) -> list[Mention]:
    """The posts of the mention's thread we have stored, oldest first (at least the mention)."""
    if mention.conversation_id is None:
        return [mention]
    return list(
        session.scalars(
            select(Mention)
            .where(
                Mention.network == mention.network,
                (Mention.conversation_id == mention.conversation_id)
                | (Mention.external_id == mention.conversation_id),
            )
            .order_by(Mention.posted_at, Mention.id)
            .limit(100)
        )
    )


def outbox_for(session: Session, mention_ids: list[int]) -> dict[int, list[OutboxRow]]:
    """Our replies to these mentions, per mention, oldest first."""
    names = dict(session.execute(select(Employee.id, Employee.name)).all())
    rows: dict[int, list[OutboxRow]] = {}
    for reply in session.scalars(
        select(OutboxReply).where(OutboxReply.mention_id.in_(mention_ids)).order_by(OutboxReply.id)
    ):
        rows.setdefault(reply.mention_id, []).append(
            OutboxRow(
                id=reply.id,
                status=reply.status,
                text=reply.text,
                author=names.get(reply.employee_id, f"employee #{reply.employee_id}"),
                created_at=reply.created_at,
                posted_at=reply.posted_at,
                url=reply_url(reply, reply.mention),
                error=reply.error,
                attempts=reply.attempts,
            )
        )
    return rows


def next_in_queue(session: Session, mention_id: int, employee_id: int | None) -> int | None:
    """The most urgent other mention in my queue (else my teams'), for "Next" after answering."""
    if employee_id is None:
        return None
    for queue in (my_queue, team_queue):
        for item in queue(session, employee_id=employee_id, limit=5):
            if item.mention_id != mention_id:
                return item.mention_id
    return None


@dataclass(frozen=True)
class Certainty:
    """How sure the model was of the verdict's sentiment and complaint flag, in percent; None
    where a person has corrected that field since, or the post was not judged at all."""

    sentiment: int | None
    complaint: int | None


def certainty(verdict: Verdict, corrected: set[str]) -> Certainty:
    if set(verdict.flags or ()) & set(UNJUDGED_FLAGS):
        return Certainty(None, None)
    score = verdict.sentiment_scores.get(verdict.sentiment)
    complaint = verdict.complaint_score if verdict.complaint else 1 - verdict.complaint_score
    return Certainty(
        None if "sentiment" in corrected or score is None else round(100 * score),
        None if "complaint" in corrected else round(100 * complaint),
    )


def topic_choices(current: str | None, topics: list[str] | None) -> list[tuple[str, str]] | None:
    """(value, label) options for correcting the topic: none, then each configured topic; a
    current topic no longer configured stays choosable. None without a config (free text)."""
    if topics is None:
        return None
    choices = [("", "(no topic)"), *((name, name) for name in topics)]
    if current and current not in topics:
        choices.append((current, f"{current} (no longer configured)"))
    return choices


def mention_context(
    session: Session, mention: Mention, *, employee_id: int | None, topics: list[str] | None = None
) -> dict[str, Any]:
    route = session.get(MentionRoute, mention.id)
    conversation = session.get(Conversation, route.conversation_id) if route else None
    thread = thread_for(session, mention)
    names = dict(session.execute(select(Employee.id, Employee.name)).all())
    history = conversation_history(session, conversation.id) if conversation else []
    team = session.get(Team, route.team_id) if route and route.team_id else None
    verdict = session.scalar(select(Verdict).where(Verdict.mention_id == mention.id))
    corrected = list(
        session.scalars(select(Correction.field).where(Correction.mention_id == mention.id))
    )
    limit = limits.LIMITS.get(mention.network)
    resolved = (conversation is not None and conversation.status == CONVERSATION_RESOLVED) or (
        mention.status == STATUS_RESOLVED
    )
    # Transfer targets: the team's members first, then everyone else who is not away.
    people = list(session.scalars(select(Employee).order_by(Employee.name)))
    members = {e.id for e in team.members} if team else set()
    people.sort(key=lambda e: (e.id not in members, e.away, e.name))
    return {
        "next_id": next_in_queue(session, mention.id, employee_id),
        "mention": mention,
        "author": mention.author,
        "route": route,
        "team": team,
        "conversation": conversation,
        "thread": thread,
        "outbox": outbox_for(session, [m.id for m in thread]),
        "history": history,
        "names": names,
        "verdict": verdict,
        "certainty": certainty(verdict, set(corrected)) if verdict else None,
        "topic_choices": topic_choices(verdict.topic if verdict else None, topics),
        "corrections": len(corrected),
        "sentiments": SENTIMENTS,
        "limit": limit,
        "resolved": resolved,
        "assignee_id": route.assignee_id if route else None,
        "is_mine": route is not None
        and employee_id is not None
        and route.assignee_id == employee_id,
        "people": people,
        "members": members,
    }
