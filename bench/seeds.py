"""How much several fine-tuning seeds would gain: each seed's figures, and their average's.

    .venv/bin/python bench/seeds.py READINGS-SEED7.jsonl READINGS-SEED8.jsonl [...]

Each file is written by `bench/crossval.py --readings FILE --seed N` on the same folds. For
every fold in all files, each seed's model is scored as a blend in two passes (its tuned model
mixed with the untuned heads at its blend weight, the shipped sentiment adjustment on top: what
crossval.py prints as "two passes"; the soup has no bridge, so it is compared this way), then
the ensemble: the tuned models' probabilities averaged over the seeds, blended and adjusted the
same way. The ensemble costs one encoder pass per seed at every verdict, so it is an upper bound
of what averaging seeds can buy, e.g. before distilling it into one model or averaging the
seeds' weights (a "soup": bench/soup.py). The untuned heads do not depend on the fine-tuning
seed; they are taken from the first file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from crossval import GOALS as CROSSVAL_GOALS  # bench/ is on the path: a sibling
from crossval import predicted

from listener.classifying import metrics
from listener.classifying.blending import SENTIMENT_ADJUSTMENT
from listener.classifying.datasets import COMPLAINT_LABELS
from listener.classifying.heads import adjust_sentiment, blend
from listener.classifying.labels import SENTIMENTS

# set -> (figure name, metric): the goals of issue 3, as crossval.py scores them.
GOALS = {name: goal for (name, _task), goal in CROSSVAL_GOALS.items()}
COMPLAINT_THRESHOLD = 0.5  # the classifier's default; crossval's models keep it


def read(path: Path) -> dict[tuple[int, str], dict]:
    """(fold, set) -> the readings line of one seed's run."""
    lines = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(text)
        if "tuned" not in row or "untuned" not in row:
            sys.exit(f"{path}:{number}: no tuned and untuned readings (a --method heads run?)")
        lines[(row["fold"], row["set"])] = row
    return lines


def goal_figure(row: dict, probabilities: torch.Tensor) -> float:
    """The set's goal figure for a model's probabilities, with the shipped sentiment adjustment
    (the classifier's verdicts, as crossval.py labels them)."""
    if row["task"] == "sentiment":
        probabilities = adjust_sentiment(probabilities, SENTIMENT_ADJUSTMENT)
    kinds = list(SENTIMENTS) if row["task"] == "sentiment" else list(COMPLAINT_LABELS)
    labels = predicted(row["task"], probabilities.tolist(), COMPLAINT_THRESHOLD)
    return 100 * getattr(metrics.report(row["truth"], labels, kinds), GOALS[row["set"]][1])


def blended(row: dict, tuned: torch.Tensor) -> torch.Tensor:
    """These tuned-model probabilities mixed with the run's untuned heads, as the classifier
    mixes them in two passes."""
    return blend(tuned, torch.tensor(row["untuned"]), row["blend_weight"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readings", type=Path, nargs="+", help="one crossval readings per seed")
    args = parser.parse_args()
    if len(args.readings) < 2:
        sys.exit("give at least two readings files, one per seed")
    runs = [read(path) for path in args.readings]
    common = sorted(set.intersection(*(set(run) for run in runs)))
    common = [key for key in common if key[1] in GOALS]
    if not common:
        sys.exit("the files share no fold of a goal set")
    for key in common:
        if any(run[key]["truth"] != runs[0][key]["truth"] for run in runs):
            sys.exit(f"fold {key[0]} of {key[1]} holds other rows in another file: not same folds")
    models = [path.stem for path in args.readings] + [f"average of {len(runs)}"]
    scores: dict[str, dict[str, list[float]]] = {model: {} for model in models}
    folds = sorted({fold for fold, _ in common})
    names = [name for name, _ in GOALS.values()]
    print(f"{'fold':4} {'model':28} " + " ".join(f"{n:>12}" for n in names))
    for fold in folds:
        for model_index, model in enumerate(models):
            row_figures = []
            for name_set, (name, _) in GOALS.items():
                if (fold, name_set) not in common:
                    row_figures.append(float("nan"))
                    continue
                rows = [run[(fold, name_set)] for run in runs]
                if model_index < len(runs):
                    tuned = torch.tensor(rows[model_index]["tuned"])
                else:
                    tuned = torch.stack([torch.tensor(row["tuned"]) for row in rows]).mean(0)
                value = goal_figure(rows[0], blended(rows[0], tuned))
                scores[model].setdefault(name, []).append(value)
                row_figures.append(value)
            print(f"{fold:<4} {model:28} " + " ".join(f"{v:12.2f}" for v in row_figures))
    print(f"mean over folds {', '.join(map(str, folds))}:")
    for model in models:
        means = [
            statistics.fmean(scores[model][n]) if scores[model].get(n) else float("nan")
            for n in names
        ]
        print(f"{'':4} {model:28} " + " ".join(f"{v:12.2f}" for v in means))


if __name__ == "__main__":
    main()
