"""Measuring a classifier on a labelled file, with VADER's figures on the same rows beside it."""

from __future__ import annotations

from dataclasses import dataclass

from listener.classifying import metrics
from listener.classifying.classifier import Classifier, Progress
from listener.classifying.datasets import COMPLAINT_LABELS
from listener.classifying.labels import SENTIMENTS, TASKS
from listener.classifying.training import vader_labels


@dataclass
class Evaluation:
    task: str
    model_version: str
    model: metrics.Report
    vader: metrics.Report

    def as_dict(self) -> dict:
        return {
            "task": self.task,
            "model": self.model_version,
            "figures": self.model.as_dict(),
            "vader": self.vader.as_dict(),
        }

    def render(self) -> str:
        return (
            f"{self.task} — {self.model_version}\n{self.model.render()}\n\n"
            f"{self.task} — VADER baseline (same rows)\n{self.vader.render()}"
        )


def evaluate(
    classifier: Classifier,
    texts: list[str],
    truth: list[str],
    *,
    task: str,
    progress: Progress | None = None,
) -> Evaluation:
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}")
    verdicts = classifier.classify(texts, progress=progress)
    if task == "sentiment":
        labels, predicted = list(SENTIMENTS), [v.sentiment for v in verdicts]
    else:
        labels = list(COMPLAINT_LABELS)
        predicted = [COMPLAINT_LABELS[int(v.complaint)] for v in verdicts]
    return Evaluation(
        task=task,
        model_version=classifier.version,
        model=metrics.report(truth, predicted, labels),
        vader=metrics.report(truth, vader_labels(task, texts), labels),
    )
