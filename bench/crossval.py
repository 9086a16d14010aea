"""Cross-validated figures of the shipped recipe, beside VADER's, on the shared labelled data.

    .venv/bin/python bench/crossval.py [--folds 5] [--method fine-tune|heads]
        [--data-dir ../shared/data] [--rows N] [--epochs 3] [--config config/demo.toml]
        [--cache FILE] [--json FILE]

Every labelled file is shuffled (seed 7) and cut into K folds. For each fold, a model is trained
on the other folds of every file the way `mentiondesk train --dev-fraction 0` trains one, saved,
loaded by the classifier the product uses (with the config's precision) and judged on the fold it
did not see; VADER is judged on the same rows. With `fine-tune`, the untuned heads inside the
blend are judged alone too. Prints a line per fold and model, then mean ± standard deviation over
the folds: airline sentiment macro-F1, general-topic (TweetEval) macro-recall and complaint
macro-F1, the figures issue 3 sets goals on. One fine-tuning fold takes about 20 minutes on 2 CPU
cores: `--rows 40 --epochs 1` checks the script in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from config.settings import load_config
from listener.classifying import metrics
from listener.classifying.blending import train_blended
from listener.classifying.datasets import COMPLAINT_LABELS
from listener.classifying.encoder import Encoder
from listener.classifying.finetuning import FineTuneOptions
from listener.classifying.labels import SENTIMENTS
from listener.classifying.locations import BLEND_SUBDIR
from listener.classifying.precision import training_precision
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import (
    LabelledSet,
    TrainOptions,
    read_data_folder,
    train_heads,
    vader_labels,
)

SEED = 7
# (set name, task) -> (figure name, metric): the goals of issue 3.
GOALS = {
    ("airline-sentiment-train", "sentiment"): ("airline F1", "macro_f1"),
    ("tweeteval-sentiment-val", "sentiment"): ("general R", "macro_recall"),
    ("complaints-train", "complaint"): ("complaint F1", "macro_f1"),
}


@dataclass
class Fold:
    train: list[LabelledSet]
    test: list[LabelledSet]


def make_folds(sets: list[LabelledSet], k: int) -> list[Fold]:
    """Row i of a shuffled set goes to fold i mod k, so every fold holds 1/k of every set."""
    folds = [Fold([], []) for _ in range(k)]
    for labelled in sets:
        order = list(range(len(labelled.texts)))
        random.Random(SEED).shuffle(order)
        for fold_number, fold in enumerate(folds):
            held = set(order[fold_number::k])
            train = [i for i in range(len(labelled.texts)) if i not in held]
            for part, rows in ((fold.train, train), (fold.test, sorted(held))):
                part.append(
                    LabelledSet(
                        labelled.name,
                        labelled.task,
                        [labelled.texts[i] for i in rows],
                        [labelled.labels[i] for i in rows],
                    )
                )
    return folds


def score(task: str, truth: list[str], predicted: list[str]) -> metrics.Report:
    labels = list(SENTIMENTS) if task == "sentiment" else list(COMPLAINT_LABELS)
    return metrics.report(truth, predicted, labels)


def judge(settings: ClassifierConfig, heads: Path, test: list[LabelledSet]) -> dict[str, float]:
    classifier = build_classifier(settings.model_copy(update={"heads": heads}))
    figures = {}
    for labelled in test:
        verdicts = classifier.classify(labelled.texts)
        predicted = [
            v.sentiment if labelled.task == "sentiment" else COMPLAINT_LABELS[int(v.complaint)]
            for v in verdicts
        ]
        figures.update(_goal_figures(labelled, predicted))
    return figures


def judge_vader(test: list[LabelledSet]) -> dict[str, float]:
    figures = {}
    for labelled in test:
        figures.update(_goal_figures(labelled, vader_labels(labelled.task, labelled.texts)))
    return figures


def _goal_figures(labelled: LabelledSet, predicted: list[str]) -> dict[str, float]:
    goal = GOALS.get((labelled.name, labelled.task))
    if goal is None:
        return {}
    name, metric = goal
    return {name: getattr(score(labelled.task, labelled.labels, predicted), metric) * 100}


def train_fold(args, settings: ClassifierConfig, fold: Fold, folder: Path) -> None:
    encoder = Encoder(settings.encoder, allow_download=settings.allow_download)

    def say(message: str) -> None:
        print(f"    {message}", file=sys.stderr, flush=True)

    heads_options = TrainOptions(dev_fraction=0)
    if args.method == "fine-tune":
        trained = train_blended(
            encoder,
            fold.train,
            fine_tune_options=FineTuneOptions(
                epochs=args.epochs,
                dev_fraction=0,
                precision=training_precision(settings.precision),
            ),
            heads_options=heads_options,
            cache=args.cache,
            say=say,
        )
    else:
        trained = train_heads(
            encoder, fold.train, options=heads_options, cache=args.cache, say=say
        ).heads
    trained.save(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--method", choices=("fine-tune", "heads"), default="fine-tune")
    parser.add_argument("--config", type=Path, default=Path("config/demo.toml"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rows", type=int, default=0, help="first N rows of each file; 0: all")
    parser.add_argument("--epochs", type=int, default=FineTuneOptions().epochs)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".mentiondesk/embedding-cache.safetensors"),
        help="untuned encoder's embedding cache, shared with `mentiondesk train`",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.folds < 2:
        sys.exit(f"--folds must be at least 2, not {args.folds}")
    if not args.data_dir.is_dir():
        sys.exit(f"no labelled data in {args.data_dir} (see ../shared/data/README.md)")
    settings: ClassifierConfig = load_config(args.config).classifier
    if settings.sequence_classification_model:
        sys.exit(f"{args.config} configures a complete model: there are no heads to train")
    sets = read_data_folder(args.data_dir)
    if args.rows:
        sets = [
            LabelledSet(s.name, s.task, s.texts[: args.rows], s.labels[: args.rows]) for s in sets
        ]
    tuned = args.method == "fine-tune"
    models = ["blend", "untuned heads", "VADER"] if tuned else ["heads", "VADER"]
    results: dict[str, list[dict[str, float]]] = {model: [] for model in models}
    names = [name for name, _ in GOALS.values()]
    print(f"{'fold':4} {'model':14} " + " ".join(f"{n:>12}" for n in names) + f" {'minutes':>8}")
    for number, fold in enumerate(make_folds(sets, args.folds), start=1):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "heads"
            train_fold(args, settings, fold, folder)
            fold_figures = {models[0]: judge(settings, folder, fold.test)}
            if tuned:
                fold_figures["untuned heads"] = judge(settings, folder / BLEND_SUBDIR, fold.test)
        fold_figures["VADER"] = judge_vader(fold.test)
        minutes = (time.perf_counter() - start) / 60
        for model, figures in fold_figures.items():
            results[model].append(figures)
            print(
                f"{number:<4} {model:14} "
                + " ".join(f"{figures.get(n, float('nan')):12.2f}" for n in names)
                + f" {minutes:8.1f}",
                flush=True,
            )
        if args.json:  # after every fold: a long run stopped early keeps what it measured
            args.json.write_text(json.dumps({"folds": results}, indent=2))
    print(f"mean ± standard deviation over {args.folds} folds:")
    summary = {}
    for model, per_fold in results.items():
        cells, summary[model] = [], {}
        for name in names:
            values = [f[name] for f in per_fold if name in f]
            mean, spread = statistics.mean(values), statistics.stdev(values)
            summary[model][name] = {"mean": round(mean, 2), "sd": round(spread, 2)}
            cells.append(f"{mean:6.2f} ± {spread:3.1f}")
        print(f"{'':4} {model:14} " + " ".join(f"{c:>12}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps({"folds": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
