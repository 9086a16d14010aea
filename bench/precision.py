"""How far bf16 and int8 verdicts move from fp32 ones, on the shared labelled data.

    .venv/bin/python bench/precision.py [--config config/demo.toml] [--rows N]
        [--precisions bf16,int8] [--data-dir ../shared/data] [--heads DIR] [--passes 2,1]

For each precision (and with --passes, each number of encoder passes): the share of verdicts
(sentiment, complaint, topic) that differ from the first (fp32, first --passes), and the figures
the issue sets goals on, so a faster setting can be checked against the "at most one point lost"
rule. Topics use the config's topics (the demo's are airline ones) and are scored
on negative airline tweets against their labelled reason. The bundled model was trained on these
files: absolute figures are optimistic, differences between precisions are what to read. For
honest figures, train a model on part of the data (`mentiondesk train --data PART --output DIR`)
and pass the rest as --data-dir, the model as --heads.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from config.settings import load_config
from listener.classifying import metrics
from listener.classifying.datasets import COMPLAINT_LABELS, read_labelled
from listener.classifying.labels import SENTIMENTS
from listener.classifying.settings import ClassifierConfig, build_classifier

# Labelled negative reasons in the airline file that the demo topics stand for.
TOPIC_REASONS = {
    "lost_luggage": {"Lost Luggage", "Damaged Luggage"},
    "delay": {"Late Flight", "Cancelled Flight"},
}


def load(data_dir: Path, rows: int) -> dict[str, tuple[list[str], list[str]]]:
    files = {
        "airline sentiment": ("airline-sentiment-train.csv", "sentiment", "sentiment"),
        "general-topic sentiment": ("tweeteval-sentiment-val.csv", "sentiment", "sentiment"),
        "complaint": ("complaints-train.csv", "complaint", "complaint"),
    }
    sets = {}
    for name, (file, task, column) in files.items():
        texts, labels = read_labelled(data_dir / file, task=task, label_column=column)
        sets[name] = (texts[:rows] if rows else texts, labels[:rows] if rows else labels)
    return sets


def negative_reasons(data_dir: Path, rows: int) -> list[str | None]:
    """The labelled reason of each airline row, None for tweets that are not negative."""
    with (data_dir / "airline-sentiment-train.csv").open(encoding="utf-8", newline="") as handle:
        reasons = [
            row["negative_reason"] if row["sentiment"] == "negative" else None
            for row in csv.DictReader(handle)
        ]
    return reasons[:rows] if rows else reasons


def topic_f1(topics: list[str | None], reasons: list[str | None], topic: str) -> float:
    pairs = [(t, r) for t, r in zip(topics, reasons, strict=True) if r is not None]
    truth = [topic if r in TOPIC_REASONS[topic] else "other" for _, r in pairs]
    predicted = [topic if t == topic else "other" for t, _ in pairs]
    return metrics.report(truth, predicted, [topic, "other"]).per_class[0].f1 * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config/demo.toml"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rows", type=int, default=0, help="first N rows of each file; 0: all")
    parser.add_argument("--precisions", default="bf16,int8")
    parser.add_argument("--heads", type=Path, default=None, help="another heads folder")
    parser.add_argument(
        "--passes",
        default="1",
        help="encoder passes per verdict (`one_pass`): 1, 2, or 2,1 to set one against two",
    )
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        sys.exit(f"no labelled data in {args.data_dir} (see ../shared/data/README.md)")
    settings: ClassifierConfig = load_config(args.config).classifier
    if args.heads:
        settings = settings.model_copy(update={"heads": args.heads})
    sets = load(args.data_dir, args.rows)
    reasons = negative_reasons(args.data_dir, args.rows)
    passes = [int(n) for n in args.passes.split(",")]
    # The first is the reference the others are set against: fp32, in the first --passes.
    variants = {
        f"{precision} {n}-pass": {"precision": precision, "one_pass": n == 1}
        for precision in ["fp32", *args.precisions.split(",")]
        for n in passes
    }
    verdicts: dict[str, dict[str, list]] = {}
    for variant, update in variants.items():
        classifier = build_classifier(settings.model_copy(update=update))
        verdicts[variant] = {}
        for name, (texts, _) in sets.items():
            start = time.perf_counter()
            verdicts[variant][name] = classifier.classify(texts)
            seconds = time.perf_counter() - start
            print(
                f"{classifier.version}: {name}, {len(texts)} rows in {seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    header = (
        f"{'variant':12} {'airline F1':>10} {'general R':>9} {'complaint F1':>12} "
        + " ".join(f"{'F1 ' + t:>16}" for t in TOPIC_REASONS)
        + f" {'sentiment moved':>15} {'complaint moved':>15} {'topic moved':>11}"
    )
    print(header)
    reference = next(iter(verdicts.values()))
    for variant, mine in verdicts.items():
        airline = [v.sentiment for v in mine["airline sentiment"]]
        general = [v.sentiment for v in mine["general-topic sentiment"]]
        complaint = [COMPLAINT_LABELS[int(v.complaint)] for v in mine["complaint"]]
        labels = list(SENTIMENTS)
        figures = [
            metrics.report(sets["airline sentiment"][1], airline, labels).macro_f1,
            metrics.report(sets["general-topic sentiment"][1], general, labels).macro_recall,
            metrics.report(sets["complaint"][1], complaint, list(COMPLAINT_LABELS)).macro_f1,
        ]
        topics = [v.topic for v in mine["airline sentiment"]]
        moved = {
            field: 100 * _share_moved(reference, mine, field)
            for field in ("sentiment", "complaint", "topic")
        }
        print(
            f"{variant:12} {figures[0] * 100:10.2f} {figures[1] * 100:9.2f} "
            f"{figures[2] * 100:12.2f} "
            + " ".join(f"{topic_f1(topics, reasons, t):16.2f}" for t in TOPIC_REASONS)
            + f" {moved['sentiment']:14.2f}% {moved['complaint']:14.2f}% {moved['topic']:10.2f}%",
            flush=True,
        )


def _share_moved(reference: dict[str, list], other: dict[str, list], field: str) -> float:
    pairs = [
        (getattr(a, field), getattr(b, field))
        for name in reference
        for a, b in zip(reference[name], other[name], strict=True)
    ]
    return sum(a != b for a, b in pairs) / len(pairs)


if __name__ == "__main__":
    main()
