"""The routing job: classified mentions, oldest first, get a team, priority and SLA (or ignore)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import AppConfig
from listener.store.models import STATUS_CLASSIFIED, STATUS_ROUTED, Author, Mention
from responders.employees.service import ensure_team
from responders.inbox.conversations import open_conversations_for
from responders.inbox.models import Conversation
from responders.routing.facts import MentionFacts
from responders.routing.models import STATUS_IGNORED, MentionRoute
from responders.routing.rules import Decision, decide
from responders.routing.verdicts import VerdictFacts, verdict_facts

log = logging.getLogger(__name__)


def facts_for(
    mention: Mention, followers: int | None, verdict: VerdictFacts | None
) -> MentionFacts:
    return MentionFacts(
        network=mention.network,
        brand=mention.brand,
        is_competitor=mention.is_competitor,
        text=mention.text,
        language=mention.language,
        author_followers=followers,
        complaint=verdict.complaint if verdict else None,
        sentiment=verdict.sentiment if verdict else None,
        topic=verdict.topic if verdict else None,
    )


def _claim_classified(session: Session, batch_size: int) -> list[Mention]:
    # SKIP LOCKED: several workers on PostgreSQL each take a different batch (SQLite ignores it).
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.status == STATUS_CLASSIFIED)
            .order_by(Mention.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
    )


def route_pending(
    session: Session, config: AppConfig, *, now: datetime, batch_size: int = 200
) -> int:
    """Route one batch; returns how many mentions it routed (ignored ones included)."""
    mentions = _claim_classified(session, batch_size)
    if not mentions:
        return 0
    verdicts = verdict_facts(session, [m.id for m in mentions])
    rows = session.execute(
        select(Author.id, Author.followers).where(Author.id.in_({m.author_id for m in mentions}))
    )
    followers = {author_id: count for author_id, count in rows}
    conversations = open_conversations_for(session, mentions, now=now)
    team_ids: dict[str, int] = {}
    for mention in mentions:
        decision = decide(
            config.routing,
            facts_for(mention, followers.get(mention.author_id), verdicts.get(mention.id)),
        )
        if decision.team is not None and decision.team not in team_ids:
            team_ids[decision.team] = ensure_team(session, name=decision.team).id
        team_id = team_ids.get(decision.team or "")
        _apply(session, mention, conversations[mention.id], decision, team_id, now)
    session.flush()
    log.info("routed %d mention(s)", len(mentions))
    return len(mentions)


def _apply(
    session: Session,
    mention: Mention,
    conversation: Conversation,
    decision: Decision,
    team_id: int | None,
    now: datetime,
) -> None:
    # The SLA clock starts when we could first have known: late-fetched old posts are not
    # overdue the moment they arrive.
    clock_start = max(mention.posted_at, mention.fetched_at or mention.posted_at)
    session.add(
        MentionRoute(
            mention_id=mention.id,
            conversation_id=conversation.id,
            rule=decision.rule,
            team_id=team_id,
            priority=decision.priority,
            priority_rank=decision.priority_rank,
            sla_minutes=decision.sla_minutes,
            due_at=clock_start + timedelta(minutes=decision.sla_minutes),
            require_language=mention.language if decision.require_language else None,
            require_skill=decision.require_skill,
            ignored=decision.ignore,
            routed_at=now,
        )
    )
    mention.status = STATUS_IGNORED if decision.ignore else STATUS_ROUTED
    if conversation.team_id is None and team_id is not None:
        conversation.team_id = team_id
