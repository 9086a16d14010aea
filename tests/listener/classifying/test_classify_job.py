"""The classify job and corrections against the real database (SQLite, or PostgreSQL when
MENTIONDESK_TEST_DATABASE_URL is set), with the real default model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from listener.classifying.classifier import Classifier
from listener.classifying.errors import ModelUnavailable
from listener.classifying.labels import (
    FLAG_EMPTY,
    FLAG_NON_TEXT,
    FLAG_TOO_LONG,
    FLAG_UNSUPPORTED_LANGUAGE,
)
from listener.classifying.models import Correction, Verdict
from listener.classifying.service import (
    CorrectionError,
    classify_pending,
    corrections_for_training,
    record_correction,
    verdict_stats,
)
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.sources.base import FetchResult, RawAuthor, RawMention
from listener.store.ingest import store_fetch_result
from listener.store.models import Mention
from tests.listener.classifying.test_tiny_model import make_tiny_sequence_model

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return build_classifier(ClassifierConfig())


def _store(
    session: Session, texts: list[tuple[str, str | None]], first_id: int = 1000
) -> list[int]:
    """Store posts (text, language) in order; returns their mention ids, oldest first."""
    mentions = [
        RawMention(
            network="x",
            external_id=str(first_id + i),
            url=f"https://x.com/i/status/{first_id + i}",
            author=RawAuthor(external_id="42", handle="flyer"),
            text=text,
            created_at=START + timedelta(minutes=i),
            brand="Northwind Air",
            matched_query="@northwindair",
            is_competitor=False,
            raw={},
            language=language,
        )
        for i, (text, language) in enumerate(texts)
    ]
    store_fetch_result(session, source_name="x", network="x", result=FetchResult(mentions=mentions))
    session.commit()
    return list(session.scalars(select(Mention.id).order_by(Mention.id)))


POSTS = [
    ("@northwindair lost my bag and nobody helps, worst airline ever", "en"),
    ("@northwindair thanks for the upgrade, lovely crew!", "en"),
    ("", None),
    ("https://t.co/xyz 🛫🛫", None),
    ("ノースウィンド航空の荷物が届きません", "ja"),
]


def test_job_classifies_new_mentions_oldest_first_in_batches(
    session: Session, classifier: Classifier
) -> None:
    ids = _store(session, POSTS)
    assert classify_pending(session, classifier, batch_size=2) == 2
    session.commit()
    statuses = dict(session.execute(select(Mention.id, Mention.status)).all())
    assert [statuses[i] for i in ids] == ["classified"] * 2 + ["new"] * 3
    assert classify_pending(session, classifier, batch_size=2) == 2
    assert classify_pending(session, classifier, batch_size=2) == 1
    assert classify_pending(session, classifier, batch_size=2) == 0
    session.commit()

    verdicts = {v.mention_id: v for v in session.scalars(select(Verdict))}
    assert sorted(verdicts) == ids
    angry, happy, empty, link_only, foreign = (verdicts[i] for i in ids)
    assert (angry.sentiment, angry.complaint) == ("negative", True)
    assert (happy.sentiment, happy.complaint) == ("positive", False)
    assert set(angry.sentiment_scores) == {"negative", "neutral", "positive"}
    assert [empty.flags, link_only.flags, foreign.flags] == [
        [FLAG_EMPTY],
        [FLAG_NON_TEXT],
        [FLAG_UNSUPPORTED_LANGUAGE],
    ]
    assert angry.flags == []
    assert {v.model_version for v in verdicts.values()} == {classifier.version}
    assert angry.created_at.tzinfo is not None


def test_stats_count_classified_mentions_complaints_sentiments_flags_and_models(
    session: Session, classifier: Classifier, tmp_path: Path
) -> None:
    _store(session, POSTS[:4])
    classify_pending(session, classifier)
    assert verdict_stats(session) == {
        "classified": 4,
        "complaints": 1,
        "by_sentiment": {"negative": 1, "neutral": 2, "positive": 1},
        "by_flag": {FLAG_EMPTY: 1, FLAG_NON_TEXT: 1},
        "by_model": {classifier.version: 4},
    }
    # A retrained model's verdicts are counted apart; a verdict with two flags counts under both.
    retrained = build_classifier(
        ClassifierConfig(
            sequence_classification_model=str(
                make_tiny_sequence_model(tmp_path / "retrained", {0: "neg", 1: "pos"})
            )
        )
    )
    _store(session, [("ノースウィンド航空の荷物が届きません" * 120, "ja"), POSTS[2]], first_id=2000)
    classify_pending(session, retrained)
    stats = verdict_stats(session)
    assert stats["by_flag"] == {
        FLAG_EMPTY: 2,
        FLAG_NON_TEXT: 1,
        FLAG_TOO_LONG: 1,
        FLAG_UNSUPPORTED_LANGUAGE: 1,
    }
    assert stats["by_model"] == {classifier.version: 4, retrained.version: 2}


def test_corrections_update_the_verdict_and_become_training_labels(
    session: Session, classifier: Classifier
) -> None:
    angry_id, happy_id, *_ = _store(session, POSTS[:2])
    classify_pending(session, classifier)
    first = record_correction(session, happy_id, "sentiment", "neutral", "ana@desk")
    record_correction(session, happy_id, "sentiment", "Negative", "bo@desk")
    record_correction(session, angry_id, "complaint", False, "ana@desk")
    record_correction(session, angry_id, "topic", "lost_luggage", "ana@desk")
    session.commit()

    assert (first.old, first.new, first.corrected_by) == ("positive", "neutral", "ana@desk")
    happy = session.scalar(select(Verdict).where(Verdict.mention_id == happy_id))
    angry = session.scalar(select(Verdict).where(Verdict.mention_id == angry_id))
    assert happy.sentiment == "negative" and happy.corrected_at is not None
    assert (angry.complaint, angry.complaint_score, angry.topic) == (False, 0.0, "lost_luggage")
    rows = session.scalars(select(Correction).order_by(Correction.id)).all()
    assert [(c.field, c.old, c.new) for c in rows] == [
        ("sentiment", "positive", "neutral"),
        ("sentiment", "neutral", "negative"),
        ("complaint", "true", "false"),
        ("topic", None, "lost_luggage"),
    ]
    labels = corrections_for_training(session)
    assert labels["sentiment"] == [(POSTS[1][0], "negative")]  # the latest correction wins
    assert labels["complaint"] == [(POSTS[0][0], "not_complaint")]
    assert labels["topic"] == [(POSTS[0][0], "lost_luggage")]
    # Filed under no topic at last: no example of any topic.
    record_correction(session, angry_id, "topic", None, "bo@desk")
    assert corrections_for_training(session)["topic"] == []


def test_a_topic_correction_must_name_a_configured_topic(session: Session) -> None:
    (mention_id,) = _store(session, POSTS[:1])
    configured = ["lost_luggage", "delay"]
    with pytest.raises(
        CorrectionError, match=r"configured topics \(delay, lost_luggage\) or empty"
    ):
        record_correction(session, mention_id, "topic", "baggage", "ana@desk", topics=configured)
    with pytest.raises(CorrectionError, match="no topics are"):
        record_correction(session, mention_id, "topic", "baggage", "ana@desk", topics=[])
    for value in ("delay", "", None):  # a configured topic, or none
        record_correction(session, mention_id, "topic", value, "ana@desk", topics=configured)
    rows = session.scalars(select(Correction).order_by(Correction.id)).all()
    assert [c.new for c in rows] == ["delay", None, None]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mood", "happy", "field must be"),
        ("sentiment", "furious", "sentiment must be"),
        ("complaint", "yes", "true or false"),
    ],
)
def test_bad_corrections_are_refused(
    session: Session, field: str, value: object, message: str
) -> None:
    (mention_id,) = _store(session, POSTS[:1])
    with pytest.raises(CorrectionError, match=message):
        record_correction(session, mention_id, field, value, "ana@desk")
    with pytest.raises(CorrectionError, match="no mention"):
        record_correction(session, mention_id + 999, "sentiment", "neutral", "ana@desk")


def test_workers_on_postgresql_skip_rows_another_worker_holds(
    session_factory: sessionmaker[Session], classifier: Classifier
) -> None:
    with session_factory() as setup:
        if setup.get_bind().dialect.name != "postgresql":
            pytest.skip("row locking with SKIP LOCKED is a PostgreSQL feature")
        ids = _store(setup, POSTS[:4])
    with session_factory() as first, session_factory() as second:
        assert classify_pending(first, classifier, batch_size=2) == 2  # holds its rows, uncommitted
        assert classify_pending(second, classifier, batch_size=2) == 2  # not blocked
        second.commit()
        first.commit()
    with session_factory() as check:
        claimed = list(check.scalars(select(Verdict.mention_id).order_by(Verdict.mention_id)))
    assert claimed == ids


def test_a_model_version_too_long_to_store_is_refused_before_any_mention_is_claimed(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # A second opinion puts two folder names in the version; these two are long.
    first = make_tiny_sequence_model(tmp_path / ("first-" + "a" * 90), {0: "neg", 1: "pos"})
    second = make_tiny_sequence_model(tmp_path / ("second-" + "b" * 90), {0: "neg", 1: "pos"})
    classifier = build_classifier(
        ClassifierConfig(
            sequence_classification_model=str(first),
            second_opinion={"sequence_classification_model": str(second)},
        )
    )
    assert len(classifier.version) > 200
    with session_factory() as session:
        ids = _store(session, POSTS[:2])
        too_long = r"is 2\d\d characters, and verdicts keep at most 200"
        with pytest.raises(ModelUnavailable, match=too_long):
            classify_pending(session, classifier)
        session.rollback()
        statuses = session.scalars(select(Mention.status).where(Mention.id.in_(ids))).all()
    assert statuses == ["new", "new"]  # nothing lost: the next run, with shorter names, takes them
