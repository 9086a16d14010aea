"""The classifier's verdicts, as the few facts routing rules look at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.classifying.models import Verdict


@dataclass(frozen=True)
class VerdictFacts:
    complaint: bool | None
    sentiment: str | None
    topic: str | None


def verdict_facts(session: Session, mention_ids: Sequence[int]) -> dict[int, VerdictFacts]:
    """Facts per mention id; a mention without a verdict is simply absent."""
    if not mention_ids:
        return {}
    rows = session.execute(
        select(Verdict.mention_id, Verdict.complaint, Verdict.sentiment, Verdict.topic).where(
            Verdict.mention_id.in_(mention_ids)
        )
    ).all()
    return {
        mention_id: VerdictFacts(complaint, sentiment, topic)
        for mention_id, complaint, sentiment, topic in rows
    }
