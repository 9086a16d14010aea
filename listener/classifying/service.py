"""The classify job and corrections. Functions take a Session and flush; the caller commits."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.classifying.errors import ModelUnavailable
from listener.classifying.labels import CORRECTABLE_FIELDS, SENTIMENTS
from listener.classifying.models import Correction, Verdict
from listener.store.models import STATUS_CLASSIFIED, STATUS_NEW, Mention
from listener.store.types import utcnow

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier

logger = logging.getLogger(__name__)


class CorrectionError(ValueError):
    """A correction names an unknown mention, field or value."""


def _claim_new(session: Session, batch_size: int) -> list[Mention]:
    query = (
        select(Mention).where(Mention.status == STATUS_NEW).order_by(Mention.id).limit(batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers share the queue: each takes rows nobody else holds.
        query = query.with_for_update(skip_locked=True, of=Mention)
    return list(session.scalars(query))


def classify_pending(session: Session, classifier: Classifier, *, batch_size: int = 32) -> int:
    """Classify one batch of `new` mentions, oldest first. Returns how many were classified."""
    longest = Verdict.model_version.type.length
    if len(classifier.version) > longest:
        # PostgreSQL would refuse every verdict; say why before any mention is claimed.
        raise ModelUnavailable(
            f"model version {classifier.version!r} is {len(classifier.version)} characters, "
            f"and verdicts keep at most {longest}: give the model folders shorter names"
        )
    mentions = _claim_new(session, batch_size)
    if not mentions:
        return 0
    verdicts = classifier.classify(
        [m.text for m in mentions], languages=[m.language for m in mentions]
    )
    for mention, verdict in zip(mentions, verdicts, strict=True):
        session.add(
            Verdict(
                mention_id=mention.id,
                sentiment=verdict.sentiment,
                sentiment_scores=verdict.sentiment_scores,
                complaint=verdict.complaint,
                complaint_score=verdict.complaint_score,
                topic=verdict.topic,
                flags=list(verdict.flags),
                model_version=verdict.model_version,
            )
        )
        mention.status = STATUS_CLASSIFIED
    session.flush()
    logger.info("classified %d mention(s) with %s", len(mentions), classifier.version)
    return len(mentions)


def _as_text(field: str, value: object) -> str | None:
    if field == "sentiment":
        label = str(value).strip().lower()
        if label not in SENTIMENTS:
            raise CorrectionError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
        return label
    if field == "complaint":
        if not isinstance(value, bool):
            raise CorrectionError("complaint must be true or false")
        return "true" if value else "false"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def record_correction(
    session: Session,
    mention_id: int,
    field: str,
    value: object,
    corrected_by: str,
    *,
    topics: Collection[str] | None = None,
) -> Correction:
    """Store a person's label and apply it to the verdict. topic: a name, or None for no topic.

    `topics`: the configured topic names, which a topic correction must be one of (a typo would
    otherwise become a topic of its own in reports and training); None where they are unknown."""
    if field not in CORRECTABLE_FIELDS:
        raise CorrectionError(f"field must be one of {', '.join(CORRECTABLE_FIELDS)}")
    if not corrected_by.strip():
        raise CorrectionError("corrected_by must name who made the correction")
    new = _as_text(field, value)
    if field == "topic" and new is not None and topics is not None and new not in topics:
        raise CorrectionError(_unknown_topic(new, topics))
    verdict = session.scalar(select(Verdict).where(Verdict.mention_id == mention_id))
    if verdict is None:
        if session.get(Mention, mention_id) is None:
            raise CorrectionError(f"no mention with id {mention_id}")
        old = None  # not classified yet; the label still counts for training
    else:
        current = getattr(verdict, field)
        old = None if current is None else _as_text(field, current)
        if field == "complaint":
            verdict.complaint = new == "true"
            verdict.complaint_score = 1.0 if verdict.complaint else 0.0
        elif field == "sentiment":
            verdict.sentiment = new  # type: ignore[assignment]
        else:
            verdict.topic = new
        verdict.corrected_at = utcnow()
    correction = Correction(
        mention_id=mention_id, field=field, old=old, new=new, corrected_by=corrected_by
    )
    session.add(correction)
    session.flush()
    return correction


def _unknown_topic(name: str, topics: Collection[str]) -> str:
    if not topics:
        return (
            f"topic {name!r} is not configured, and no topics are ([[classifier.topics]]): "
            "a topic can only be cleared"
        )
    return (
        f"topic must be one of the configured topics ({', '.join(sorted(topics))}) "
        f"or empty for none, not {name!r}"
    )


# A complaint correction ("true"/"false") as the complaint head's label.
COMPLAINT_LABELS = {"true": "complaint", "false": "not_complaint"}


def corrections_for_training(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The latest correction per mention and field, as (text, label) per field: sentiment and
    complaint labels for the heads, topic names (a correction to no topic left out) for topic
    examples."""
    rows = session.execute(
        select(Correction.mention_id, Correction.field, Correction.new, Mention.text)
        .join(Mention, Mention.id == Correction.mention_id)
        .order_by(Correction.id)
    )
    latest: dict[tuple[int, str], tuple[str, str | None]] = {}
    for mention_id, field, new, text in rows:
        latest[(mention_id, field)] = (text, new)
    out: dict[str, list[tuple[str, str]]] = {field: [] for field in CORRECTABLE_FIELDS}
    for (_, field), (text, new) in latest.items():
        if new is None or field not in out:
            continue
        out[field].append((text, COMPLAINT_LABELS[new] if field == "complaint" else new))
    return out


def verdict_stats(session: Session) -> dict[str, object]:
    """For `mentiondesk stats`: classified mentions, complaints, and counts by sentiment, by
    verdict flag (how many were judged poorly or by the second opinion) and by model version
    (whether a retrained model is in use)."""
    classified = session.scalar(select(func.count()).select_from(Verdict)) or 0
    complaints = (
        session.scalar(select(func.count()).select_from(Verdict).where(Verdict.complaint.is_(True)))
        or 0
    )
    by_sentiment = dict.fromkeys(SENTIMENTS, 0)
    by_sentiment.update(
        session.execute(select(Verdict.sentiment, func.count()).group_by(Verdict.sentiment)).all()
    )
    by_flag: Counter[str] = Counter()
    # Few distinct flag lists exist, so grouping by the whole list is cheap on both databases.
    for flags, count in session.execute(
        select(Verdict.flags, func.count()).group_by(Verdict.flags)
    ):
        by_flag.update(dict.fromkeys(flags or [], count))
    by_model = dict(
        session.execute(
            select(Verdict.model_version, func.count()).group_by(Verdict.model_version)
        ).all()
    )
    return {
        "classified": classified,
        "complaints": complaints,
        "by_sentiment": by_sentiment,
        "by_flag": dict(sorted(by_flag.items())),
        "by_model": by_model,
    }
