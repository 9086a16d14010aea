"""The classifier's verdicts, as the few facts routing rules look at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class VerdictFacts:
    complaint: bool | None
    sentiment: str | None
    topic: str | None


def verdict_facts(session: Session, mention_ids: Sequence[int]) -> dict[int, VerdictFacts]:
    """Facts per mention id; a mention without a verdict is simply absent."""
    # The classifier's table is not in the tree yet: rules on complaint/sentiment/topic then
    # see None and do not match.
    return {}
