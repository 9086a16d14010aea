"""Classification figures in plain Python: macro-F1, macro-recall, per-class report, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class ClassFigures:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    labels: list[str]
    per_class: list[ClassFigures]
    confusion: list[list[int]]  # rows: true label, columns: predicted label
    accuracy: float
    total: int

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.per_class) / len(self.per_class)

    @property
    def macro_recall(self) -> float:
        return sum(c.recall for c in self.per_class) / len(self.per_class)

    def as_dict(self) -> dict:
        return {
            "macro_f1": round(self.macro_f1 * 100, 2),
            "macro_recall": round(self.macro_recall * 100, 2),
            "accuracy": round(self.accuracy * 100, 2),
            "total": self.total,
            "per_class": {
                c.label: {
                    "precision": round(c.precision * 100, 2),
                    "recall": round(c.recall * 100, 2),
                    "f1": round(c.f1 * 100, 2),
                    "support": c.support,
                }
                for c in self.per_class
            },
            "confusion": {"labels": self.labels, "rows_true_columns_predicted": self.confusion},
        }

    def render(self) -> str:
        width = max(len(label) for label in self.labels) + 2
        lines = [
            f"macro-F1 {self.macro_f1 * 100:.1f}  macro-recall {self.macro_recall * 100:.1f}  "
            f"accuracy {self.accuracy * 100:.1f}  (n={self.total})",
            f"{'':{width}}precision  recall     f1  support",
        ]
        for c in self.per_class:
            lines.append(
                f"{c.label:{width}}{c.precision * 100:9.1f} {c.recall * 100:7.1f} "
                f"{c.f1 * 100:6.1f} {c.support:8d}"
            )
        lines.append("confusion (rows: true, columns: predicted)")
        lines.append(f"{'':{width}}" + "".join(f"{label:>{width}}" for label in self.labels))
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{label:{width}}" + "".join(f"{n:>{width}d}" for n in row))
        return "\n".join(lines)


def report(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Report:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        confusion[index[t]][index[p]] += 1
    per_class = []
    for i, label in enumerate(labels):
        tp = confusion[i][i]
        support = sum(confusion[i])
        predicted_n = sum(row[i] for row in confusion)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append(ClassFigures(label, precision, recall, f1, support))
    correct = sum(confusion[i][i] for i in range(len(labels)))
    total = len(truth)
    return Report(list(labels), per_class, confusion, correct / total if total else 0.0, total)
