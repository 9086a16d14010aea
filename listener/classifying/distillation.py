"""A teacher's readings of the training texts, for fine-tuning the shipped model on them as well.

A bigger encoder tuned with the same recipe scores higher (all-mpnet-base-v2: +3.6 airline F1 on a
fold, heads/MODEL_CARD.md) but judges eight times slower. Distillation would keep the small model's
speed: while it is tuned, its heads also learn the teacher's probabilities (which say how sure, and
between which classes, where a label only names one), and each head learns from the other task's
texts through the teacher's readings of them (a complaint tweet's sentiment, an airline tweet's
complaint score). Measured on a fold (bench/teacher.py, then bench/crossval.py --teacher), it moved
the shipped blend's airline F1 by under half a point (its tuned model by up to 1.5, in 5 epochs):
not part of the shipped recipe, kept for the bench.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from listener.classifying.heads import HeadsMetadata
from listener.classifying.labels import SENTIMENTS
from listener.classifying.locations import METADATA_FILE
from listener.classifying.screening import FLAG_EMPTY, FLAG_NON_TEXT
from listener.classifying.settings import ClassifierConfig, build_classifier

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier
    from listener.classifying.training import Say


@dataclass(frozen=True)
class TeacherReading:
    sentiment: tuple[float, ...]  # SENTIMENTS order, not adjusted
    complaint: float  # P(complaint)

    def target(self, task: str) -> tuple[float, ...]:
        return self.sentiment if task == "sentiment" else (self.complaint,)


Teacher = Mapping[str, TeacherReading]  # by text


def teacher_classifier(settings: ClassifierConfig, folder: Path) -> Classifier:
    """The model in `folder`, over the encoder it was trained on (a bigger one than the config's,
    as a rule), to read the training texts with. No topics: they would cost another pass."""
    metadata_file = folder / METADATA_FILE
    if not metadata_file.is_file():
        raise ValueError(f"teacher {folder}: no trained model there (no {METADATA_FILE})")
    try:
        metadata = HeadsMetadata.from_json(metadata_file.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as error:
        raise ValueError(f"teacher {metadata_file}: {error}") from None
    return build_classifier(
        settings.model_copy(update={"heads": folder, "encoder": metadata.encoder, "topics": []})
    )


def read_with(
    classifier: Classifier, texts: list[str], say: Say | None = None, batch: int = 512
) -> dict[str, TeacherReading]:
    """The classifier's unadjusted probabilities for each text it judges (not the empty or
    letterless ones, which get no verdict of the model's)."""
    classifier.sentiment_adjustment = {}
    readings: dict[str, TeacherReading] = {}
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        for text, verdict in zip(part, classifier.classify(part), strict=True):
            if {FLAG_EMPTY, FLAG_NON_TEXT} & set(verdict.flags):
                continue
            readings[text] = TeacherReading(
                tuple(verdict.sentiment_scores[s] for s in SENTIMENTS), verdict.complaint_score
            )
        if say:
            say(f"  the teacher read {min(start + batch, len(texts))}/{len(texts)} texts")
    return readings


def load_teacher(path: Path, fold: int | None = None) -> dict[str, TeacherReading]:
    """Readings from a JSON-lines file of {"text", "sentiment", "complaint"[, "fold"]}; with
    `fold`, that fold's rows only."""
    teacher = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                row = json.loads(line)
                if fold is not None and row.get("fold") != fold:
                    continue
                sentiment = tuple(float(p) for p in row["sentiment"])
                if len(sentiment) != len(SENTIMENTS):
                    raise ValueError(f"sentiment needs {len(SENTIMENTS)} probabilities")
                teacher[row["text"]] = TeacherReading(sentiment, float(row["complaint"]))
            except (ValueError, KeyError, TypeError) as error:
                where = f"{path} line {number}"
                raise ValueError(f"{where}: not a teacher reading ({error})") from error
    return teacher
