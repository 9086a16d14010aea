"""Cross-validated figures of the shipped recipe, beside VADER's, on the shared labelled data.

    .venv/bin/python bench/crossval.py [--folds 5] [--method fine-tune|heads]
        [--tune lora|all] [--weights 0.2,0.4,0.5] [--data-dir ../shared/data] [--rows N]
        [--epochs 3] [--encoder-learning-rate 5e-5]
        [--config config/demo.toml] [--cache FILE] [--json FILE] [--only-folds 4,5]
        [--readings FILE.jsonl] [--seed 7] [--keep-models DIR]
        [--teacher FILE.jsonl [--teacher-weight 0.5] [--transfer sentiment,complaint]]

Every labelled file is shuffled (seed 7) and cut into K folds. For each fold, a model is trained
on the other folds of every file the way `mentiondesk train --dev-fraction 0` trains one, saved,
loaded by the classifier the product uses (with the config's precision) and judged on the fold it
did not see; VADER is judged on the same rows. A fine-tuned model is judged as shipped, then
mixed at its blend weight and the other --weights (with the model's sentiment adjustment), without
the adjustment, and as its two parts alone (tuned model; untuned heads), so the blend weight can be
chosen on rows no model was trained on; --readings keeps the parts' probabilities for
bench/adjustment.py. --teacher distils: each fold's model also learns a bigger model's readings of
its training texts (bench/teacher.py writes them, the teacher tuned on the same fold). Prints a line
per fold and model, then mean ± standard deviation over the folds: airline sentiment macro-F1,
general-topic (TweetEval) macro-recall and complaint macro-F1, the figures issue 3 sets goals on.
One fine-tuning fold takes 20-40 minutes on 2 CPU cores: `--rows 40 --epochs 1` checks the script
in a minute, and `--only-folds` finishes a run that was stopped early (the folds are the same).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from config.settings import load_config
from listener.classifying import metrics
from listener.classifying.blending import train_blended
from listener.classifying.datasets import COMPLAINT_LABELS
from listener.classifying.distillation import Teacher, load_teacher
from listener.classifying.encoder import Encoder
from listener.classifying.finetuning import TUNE_CHOICES, FineTuneOptions
from listener.classifying.fitting import FitOptions
from listener.classifying.heads import adjust_sentiment, blend
from listener.classifying.labels import SENTIMENTS
from listener.classifying.precision import training_precision
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.training import (
    LabelledSet,
    TrainOptions,
    read_data_folder,
    train_heads_only,
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


def read_sets(data_dir: Path, rows: int = 0) -> list[LabelledSet]:
    """The shared labelled sets; with rows, the first rows of each (to check a script quickly)."""
    sets = read_data_folder(data_dir)
    if rows:
        sets = [LabelledSet(s.name, s.task, s.texts[:rows], s.labels[:rows]) for s in sets]
    return sets


def wanted_folds(folds: int, only: list[int] | None) -> list[int]:
    """The fold numbers to run (from 1): --only-folds, or all; exits on numbers out of range."""
    if folds < 2:
        sys.exit(f"--folds must be at least 2, not {folds}")
    wanted = only or list(range(1, folds + 1))
    if not set(wanted) <= set(range(1, folds + 1)):
        sys.exit(f"--only-folds {wanted} must lie between 1 and --folds ({folds})")
    return wanted


def chosen_folds(sets: list[LabelledSet], k: int, wanted: list[int]) -> Iterator[tuple[int, Fold]]:
    """The folds numbered in wanted (from 1), with their numbers."""
    for number, fold in enumerate(make_folds(sets, k), start=1):
        if number in wanted:
            yield number, fold


def predicted(task: str, probabilities: list, complaint_threshold: float) -> list[str]:
    if task == "sentiment":
        return [SENTIMENTS[max(range(len(row)), key=row.__getitem__)] for row in probabilities]
    return [COMPLAINT_LABELS[int(p >= complaint_threshold)] for p in probabilities]


def read_probabilities(classifier, test: list[LabelledSet]) -> dict[str, list]:
    """Per set: each held-out row's sentiment probabilities (SENTIMENTS order) or P(complaint)."""
    readings = {}
    for labelled in test:
        verdicts = classifier.classify(labelled.texts)
        readings[labelled.name] = [
            [v.sentiment_scores[s] for s in SENTIMENTS]
            if labelled.task == "sentiment"
            else v.complaint_score
            for v in verdicts
        ]
    return readings


def goal_figures(test: list[LabelledSet], labels_of) -> dict[str, float]:
    """The goal figures of one model on one fold; labels_of(set) gives its predicted labels."""
    figures = {}
    for labelled in test:
        goal = GOALS.get((labelled.name, labelled.task))
        if goal is None:
            continue
        name, metric = goal
        kinds = list(SENTIMENTS) if labelled.task == "sentiment" else list(COMPLAINT_LABELS)
        report = metrics.report(labelled.labels, labels_of(labelled), kinds)
        figures[name] = getattr(report, metric) * 100
    return figures


def judge(
    args, settings: ClassifierConfig, folder: Path, test: list[LabelledSet]
) -> tuple[dict, dict]:
    """Figures per model on the fold, and the probabilities they came from. A fine-tuned folder
    is read twice, as the tuned model alone (blend weight 0) and as its untuned heads alone (1);
    the blends at each --weights are mixed from those two readings, as the classifier mixes
    them."""
    classifier = build_classifier(settings.model_copy(update={"heads": folder}))
    threshold = classifier.complaint_threshold

    def labels(readings: dict[str, list]):
        return lambda s: predicted(s.task, readings[s.name], threshold)

    if args.method == "heads":
        # Read as they are, then adjusted here as the classifier adjusts them (from scores
        # rounded to 4 places: a near-tie may break the other way); the readings keep them
        # unadjusted, for bench/adjustment.py.
        adjustment, classifier.sentiment_adjustment = classifier.sentiment_adjustment, {}
        readings = read_probabilities(classifier, test)
        adjusted = {
            s.name: adjust_sentiment(torch.tensor(readings[s.name]), adjustment).tolist()
            if s.task == "sentiment"
            else readings[s.name]
            for s in test
        }
        models = {"heads": goal_figures(test, labels(adjusted))}
        if adjustment:
            models["heads, not adjusted"] = goal_figures(test, labels(readings))
        return models, {"heads": readings}
    # The shipped blend as the product runs it; the mixes below only approximate it, from
    # probabilities rounded to 4 places (a tie may break the other way).
    models = {"shipped": goal_figures(test, labels(read_probabilities(classifier, test)))}
    bridged = None
    if classifier.topic_bridge is not None:
        # The parts below are read in two passes, the recipe as trained; the one-pass bridged
        # heads alone beside them.
        classifier.blend_weight = 1.0
        classifier.sentiment_adjustment = {}
        bridged = read_probabilities(classifier, test)
        models["bridged heads"] = goal_figures(test, labels(bridged))
        classifier = build_classifier(
            settings.model_copy(update={"heads": folder, "one_pass": False})
        )
        models["two passes"] = goal_figures(test, labels(read_probabilities(classifier, test)))
    shipped, adjustment = classifier.blend_weight, classifier.sentiment_adjustment
    classifier.sentiment_adjustment = {}  # the parts are read as they are, adjusted when mixed
    classifier.blend_weight = 0.0
    tuned = read_probabilities(classifier, test)
    classifier.blend_weight = 1.0
    untuned = read_probabilities(classifier, test)
    models["tuned alone"] = goal_figures(test, labels(tuned))
    tasks = {labelled.name: labelled.task for labelled in test}

    def mix(weight: float, adjusted: dict[str, float]) -> dict[str, list]:
        mixed = {}
        for name in tuned:
            probabilities = blend(torch.tensor(tuned[name]), torch.tensor(untuned[name]), weight)
            if tasks[name] == "sentiment":
                probabilities = adjust_sentiment(probabilities, adjusted)
            mixed[name] = probabilities.tolist()
        return mixed

    for weight in sorted({shipped, *args.weights}):
        models[f"blend {weight:.2f}"] = goal_figures(test, labels(mix(weight, adjustment)))
    if adjustment:
        models["blend, not adjusted"] = goal_figures(test, labels(mix(shipped, {})))
    models["untuned heads"] = goal_figures(test, labels(untuned))
    readings = {"tuned": tuned, "untuned": untuned, "blend_weight": shipped}
    if bridged is not None:
        readings["bridged"] = bridged
    return models, readings


def write_readings(path: Path, fold: int, test: list[LabelledSet], readings: dict) -> None:
    """Appends one JSON line per held-out set of the fold: its true labels and each model's
    probabilities, so decision rules (e.g. bench/adjustment.py) can be chosen and checked on rows
    no model was trained on, without training again."""
    with path.open("a", encoding="utf-8") as handle:
        for labelled in test:
            line = {
                "fold": fold,
                "set": labelled.name,
                "task": labelled.task,
                "truth": labelled.labels,
                **{
                    model: rows[labelled.name] if isinstance(rows, dict) else rows
                    for model, rows in readings.items()
                },
            }
            handle.write(json.dumps(line) + "\n")


def judge_vader(test: list[LabelledSet]) -> dict[str, float]:
    return goal_figures(test, lambda s: vader_labels(s.task, s.texts))


def train_fold(
    args, settings: ClassifierConfig, fold: Fold, folder: Path, teacher: Teacher | None
) -> None:
    encoder = Encoder(settings.encoder, allow_download=settings.allow_download)

    def say(message: str) -> None:
        print(f"    {message}", file=sys.stderr, flush=True)

    heads_options = TrainOptions(dev_fraction=0)
    if args.method == "heads" and args.seed is not None:
        # A heads-only model's seed is its heads' fits' (initial weights, batch order).
        heads_options.sentiment_fit.seed = heads_options.complaint_fit.seed = args.seed
    if args.method == "fine-tune":
        trained = train_blended(
            encoder,
            fold.train,
            fine_tune_options=FineTuneOptions(
                epochs=args.epochs,
                tune=args.tune,
                encoder_learning_rate=args.encoder_learning_rate,
                seed=FineTuneOptions().seed if args.seed is None else args.seed,
                dev_fraction=0,
                precision=training_precision(settings.precision),
                teacher_weight=args.teacher_weight,
                transfer=tuple(args.transfer),
            ),
            heads_options=heads_options,
            cache=args.cache,
            teacher=teacher,
            say=say,
        )
    else:
        trained = train_heads_only(
            encoder, fold.train, options=heads_options, cache=args.cache, say=say
        )
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
        "--encoder-learning-rate",
        type=float,
        default=FineTuneOptions().encoder_learning_rate,
        help="peak learning rate of the tuned layers (--tune all)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=(
            "the training's seed; the folds stay the same. --method fine-tune: fine-tuning's "
            f"(initial heads, batch order, dropout; default {FineTuneOptions().seed}), the untuned "
            f"heads unchanged. --method heads: the heads' fits' (default {FitOptions().seed})"
        ),
    )
    parser.add_argument(
        "--keep-models",
        type=Path,
        default=None,
        help="keep each fold's model here, as fold-N, in a new folder (e.g. to average seeds')",
    )
    parser.add_argument(
        "--tune",
        choices=TUNE_CHOICES,
        default=FineTuneOptions().tune,
        help="what fine-tuning changes in the encoder: a LoRA adapter, or every layer",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".mentiondesk/embedding-cache.safetensors"),
        help="untuned encoder's embedding cache, shared with `mentiondesk train`",
    )
    parser.add_argument(
        "--weights",
        type=lambda text: [float(w) for w in text.split(",")],
        default=[0.2, 0.4, 0.5],
        help="the untuned heads' shares of the blend to score beside the shipped one",
    )
    parser.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="distil: each fold's teacher readings of its training texts (bench/teacher.py)",
    )
    parser.add_argument(
        "--teacher-weight",
        type=float,
        default=FineTuneOptions().teacher_weight,
        help="with --teacher: the share of a labelled row's loss that is the teacher's reading",
    )
    parser.add_argument(
        "--transfer",
        type=lambda text: [t for t in text.split(",") if t],
        default=list(FineTuneOptions().transfer),
        help="with --teacher: tasks whose heads also learn the other task's texts ('' for none)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--readings",
        type=Path,
        default=None,
        help="append each held-out row's true label and probabilities here (JSON lines)",
    )
    parser.add_argument(
        "--only-folds",
        type=lambda text: [int(n) for n in text.split(",")],
        default=None,
        help="run only these folds (1 to --folds), e.g. to finish a run stopped early",
    )
    args = parser.parse_args()
    wanted = wanted_folds(args.folds, args.only_folds)
    if not args.data_dir.is_dir():
        sys.exit(f"no labelled data in {args.data_dir} (see ../shared/data/README.md)")
    settings: ClassifierConfig = load_config(args.config).classifier
    if settings.sequence_classification_model:
        sys.exit(f"{args.config} configures a complete model: there are no heads to train")
    sets = read_sets(args.data_dir, args.rows)
    results: dict[str, list[dict[str, float]]] = {}
    names = [name for name, _ in GOALS.values()]
    print(f"{'fold':4} {'model':22} " + " ".join(f"{n:>12}" for n in names) + f" {'minutes':>8}")
    for number, fold in chosen_folds(sets, args.folds, wanted):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "heads"
            if args.keep_models:
                folder = args.keep_models / f"fold-{number}"
            teacher = load_teacher(args.teacher, number) if args.teacher else None
            if args.teacher and not teacher:
                sys.exit(f"{args.teacher} holds no readings for fold {number}")
            train_fold(args, settings, fold, folder, teacher)
            fold_figures, readings = judge(args, settings, folder, fold.test)
        if args.readings:
            write_readings(args.readings, number, fold.test, readings)
        fold_figures["VADER"] = judge_vader(fold.test)
        minutes = (time.perf_counter() - start) / 60
        for model, figures in fold_figures.items():
            results.setdefault(model, []).append(figures)
            print(
                f"{number:<4} {model:22} "
                + " ".join(f"{figures.get(n, float('nan')):12.2f}" for n in names)
                + f" {minutes:8.1f}",
                flush=True,
            )
        if args.json:  # after every fold: a long run stopped early keeps what it measured
            args.json.write_text(json.dumps({"folds": results}, indent=2))
    print(f"mean ± standard deviation over folds {', '.join(map(str, wanted))}:")
    summary = {}
    for model, per_fold in results.items():
        cells, summary[model] = [], {}
        for name in names:
            values = [f[name] for f in per_fold if name in f]
            mean = statistics.mean(values)
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            summary[model][name] = {"mean": round(mean, 2), "sd": round(spread, 2)}
            cells.append(f"{mean:6.2f} ± {spread:3.1f}")
        print(f"{'':4} {model:22} " + " ".join(f"{c:>12}" for c in cells))
    if args.json:
        args.json.write_text(json.dumps({"folds": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
