"""The sentiment adjustment, chosen and checked on rows no model was trained on.

    .venv/bin/python bench/adjustment.py READINGS.jsonl [--step 0.05] [--weight W]

READINGS.jsonl is written by `bench/crossval.py --readings FILE`: each held-out row's true label
and the tuned and untuned models' probabilities, per fold. The adjustment is a number per
sentiment added to the blend's log-probabilities before the verdict (a prior shift: scores are
multiplied by exp(adjustment) and normalised again); positive's stays 0, as only differences count.

Nested cross-validation: for each fold, the adjustment that maximises the mean of the two
sentiment goals (airline macro-F1 and general-topic macro-recall) on the *other* folds' rows is
scored on this fold's rows, beside no adjustment. The mean over folds of those scores is an honest
estimate of what the adjustment gains; the adjustment picked on every fold's rows is the one to
ship (`SENTIMENT_ADJUSTMENT` in listener/classifying/blending.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from listener.classifying.labels import SENTIMENTS

# The sentiment sets and the figure issue 3 sets a goal on for each.
GOALS = {"airline-sentiment-train": "macro_f1", "tweeteval-sentiment-val": "macro_recall"}


def read(path: Path, weight: float | None) -> dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """fold -> set -> (log-probabilities of the blend [n, 3], true class indices [n])."""
    folds: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        if row["set"] not in GOALS:
            continue
        if "tuned" not in row:
            sys.exit(f"{path}:{number}: no tuned/untuned readings (a --method heads run?)")
        share = row["blend_weight"] if weight is None else weight
        probabilities = (1 - share) * np.array(row["tuned"]) + share * np.array(row["untuned"])
        truth = np.array([SENTIMENTS.index(label) for label in row["truth"]])
        folds.setdefault(row["fold"], {})[row["set"]] = (np.log(probabilities + 1e-9), truth)
    return folds


def figure(log_probabilities: np.ndarray, truth: np.ndarray, adjustment, metric: str) -> float:
    predicted = (log_probabilities + np.asarray(adjustment)).argmax(axis=1)
    classes = len(SENTIMENTS)
    confusion = np.bincount(truth * classes + predicted, minlength=classes**2).reshape(
        classes, classes
    )
    hits = np.diag(confusion).astype(float)
    recall = hits / np.maximum(confusion.sum(axis=1), 1)
    if metric == "macro_recall":
        return 100 * recall.mean()
    precision = hits / np.maximum(confusion.sum(axis=0), 1)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return 100 * f1.mean()


def figures(sets: dict[str, tuple[np.ndarray, np.ndarray]], adjustment) -> dict[str, float]:
    return {name: figure(*sets[name], adjustment, GOALS[name]) for name in GOALS if name in sets}


def pooled(folds: dict[int, dict], numbers: list[int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        name: (
            np.concatenate([folds[n][name][0] for n in numbers]),
            np.concatenate([folds[n][name][1] for n in numbers]),
        )
        for name in GOALS
    }


def best_adjustment(sets: dict, grid: np.ndarray) -> tuple[float, float, float]:
    """(negative, neutral, positive=0) maximising the mean of the two goal figures; ties go to
    the smallest shift."""
    best = None
    for negative in grid:
        for neutral in grid:
            adjustment = (float(negative), float(neutral), 0.0)
            score = statistics.mean(figures(sets, adjustment).values())
            key = (round(score, 9), -abs(negative) - abs(neutral))
            if best is None or key > best[0]:
                best = (key, adjustment)
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readings", type=Path)
    parser.add_argument("--step", type=float, default=0.05)
    parser.add_argument("--limit", type=float, default=1.5, help="largest shift tried")
    parser.add_argument("--weight", type=float, default=None, help="blend share of untuned")
    args = parser.parse_args()
    folds = read(args.readings, args.weight)
    complete = sorted(n for n, sets in folds.items() if set(GOALS) <= set(sets))
    if len(complete) < 2:
        sys.exit(f"{args.readings}: need the sentiment sets of at least 2 folds, got {complete}")
    grid = np.round(np.arange(-args.limit, args.limit + args.step / 2, args.step), 4)
    print(f"{'fold':4} {'adjustment (neg, neu)':>22} {'airline F1':>17} {'general R':>17}")
    gains: dict[str, list[float]] = {name: [] for name in GOALS}
    for number in complete:
        others = [n for n in complete if n != number]
        adjustment = best_adjustment(pooled(folds, others), grid)
        before = figures(folds[number], (0.0, 0.0, 0.0))
        after = figures(folds[number], adjustment)
        cells = []
        for name in GOALS:
            gains[name].append(after[name] - before[name])
            cells.append(f"{before[name]:6.2f} -> {after[name]:6.2f}")
        print(f"{number:<4} {adjustment[0]:>+10.2f} {adjustment[1]:>+10.2f} " + " ".join(cells))
    print(
        "mean gain on the fold left out: "
        + ", ".join(
            f"{name} {statistics.mean(g):+.2f} (folds {', '.join(f'{x:+.1f}' for x in g)})"
            for name, g in gains.items()
        )
    )
    chosen = best_adjustment(pooled(folds, complete), grid)
    print(
        f"picked on folds {', '.join(map(str, complete))}: negative {chosen[0]:+.2f}, "
        f"neutral {chosen[1]:+.2f}, positive +0.00"
    )


if __name__ == "__main__":
    main()
