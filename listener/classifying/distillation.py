"""A teacher's readings of the training texts, for fine-tuning the shipped model on them as well.

A bigger encoder tuned with the same recipe scores higher (all-mpnet-base-v2: +3.6 airline F1 on a
fold, heads/MODEL_CARD.md) but judges eight times slower. Distillation keeps the small model's
speed: while it is tuned, its heads also learn the teacher's probabilities (which say how sure, and
between which classes, where a label only names one), and each head learns from the other task's
texts through the teacher's readings of them (a complaint tweet's sentiment, an airline tweet's
complaint score).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from listener.classifying.labels import SENTIMENTS
from listener.classifying.screening import FLAG_EMPTY, FLAG_NON_TEXT

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier


@dataclass(frozen=True)
class TeacherReading:
    sentiment: tuple[float, ...]  # SENTIMENTS order, not adjusted
    complaint: float  # P(complaint)

    def target(self, task: str) -> tuple[float, ...]:
        return self.sentiment if task == "sentiment" else (self.complaint,)


Teacher = Mapping[str, TeacherReading]  # by text


def read_with(classifier: Classifier, texts: list[str], batch: int = 512) -> dict[str, dict]:
    """The classifier's unadjusted probabilities for each text it judges (not the empty or
    letterless ones, which get no verdict of the model's)."""
    classifier.sentiment_adjustment = {}
    readings: dict[str, dict] = {}
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        for text, verdict in zip(part, classifier.classify(part), strict=True):
            if {FLAG_EMPTY, FLAG_NON_TEXT} & set(verdict.flags):
                continue
            readings[text] = {
                "sentiment": [verdict.sentiment_scores[s] for s in SENTIMENTS],
                "complaint": verdict.complaint_score,
            }
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
