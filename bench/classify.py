"""Mentions classified per second on this machine's CPU: the default model given 1, 16 and 64
mentions at a time, in fp32, bf16 and int8 (dynamic, linear layers), and VADER beside it.

    .venv/bin/python bench/classify.py [--texts 512] [--threads N] [--data FILE.csv]
        [--config mentiondesk.toml] [--heads DIR] [--precisions fp32,bf16,int8]
        [--encoder-batches 16] [--rounds 3] [--passes 1,2]

--config takes its [classifier] table (its topics cost a second, untuned pass when the heads
carry a tuned encoder but no bridge); --heads measures another heads folder, e.g. before/after a
retrain;
--encoder-batches lists texts per forward pass to compare (`batch_size`; default: the config's);
--passes 1,2 compares a bridged model in one encoder pass (`one_pass`, the default) with two.
With a [classifier.second_opinion] in the config, prints the share of texts its model read too.
bf16 is slower than fp32 on CPUs without native bf16: the header says whether this one has it.

Prints the median of --rounds runs and their range: on shared cores, one run can be 30 % off.
Uses real tweets from the shared data when present (distinct texts, so no cache helps), else varied
synthetic posts. Figures depend on the machine and on what else runs on it: report them with both.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from config.settings import load_config
from listener.classifying import lexicon
from listener.classifying.precision import native_bf16
from listener.classifying.second_opinion import SecondOpinionClassifier
from listener.classifying.settings import ClassifierConfig, build_classifier

DEFAULT_DATA = Path("../shared/data/airline-sentiment-train.csv")


def load_texts(path: Path, count: int) -> list[str]:
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            texts = list(dict.fromkeys(row["text"] for row in csv.DictReader(handle)))
        return texts[:count]
    subjects = ["my bag", "the flight", "the crew", "my refund", "the app", "the lounge"]
    verdicts = ["was great", "is late again", "never arrived", "was rude", "works fine"]
    return [
        f"@northwindair {subjects[i % 6]} {verdicts[(i // 6) % 5]} (trip {i}) #travel"
        for i in range(count)
    ]


def rate(classify, texts: list[str], batch_size: int) -> float:
    classify(texts[: min(len(texts), 32)])  # warm-up: loading, first-call allocations
    start = time.perf_counter()
    for offset in range(0, len(texts), batch_size):
        classify(texts[offset : offset + batch_size])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--batch-sizes", default="1,16,64")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--config", type=Path, default=None, help="use its [classifier] table")
    parser.add_argument("--heads", type=Path, default=None, help="another heads folder")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument(
        "--encoder-batches", default=None, help="texts per forward pass, e.g. 64,16"
    )
    parser.add_argument("--rounds", type=int, default=3, help="median of this many runs")
    parser.add_argument(
        "--passes", default=None, help="encoder passes per verdict to compare: 1, 2 or 1,2"
    )
    args = parser.parse_args()
    settings = load_config(args.config).classifier if args.config else ClassifierConfig()
    if args.heads:
        settings = settings.model_copy(update={"heads": args.heads})
    if args.threads:
        torch.set_num_threads(args.threads)
    texts = load_texts(args.data, args.texts)
    print(
        f"{len(texts)} distinct texts, torch {torch.__version__}, {torch.get_num_threads()} "
        f"threads, {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    print(f"{len(settings.topics)} topic(s), native bf16: {native_bf16()}", file=sys.stderr)
    passes = args.encoder_batches or str(settings.batch_size)
    classifiers = []
    one_pass = [n.strip() == "1" for n in args.passes.split(",")] if args.passes else [None]
    for per_pass in (int(n) for n in passes.split(",")):
        for precision in args.precisions.split(","):
            for single in one_pass:
                update = {"precision": precision, "batch_size": per_pass}
                if single is not None:
                    update["one_pass"] = single
                classifier = build_classifier(settings.model_copy(update=update))
                classifiers.append((f"{classifier.version} /{per_pass}", classifier))
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    # Rounds interleave the settings, so that a slow spell on shared cores hits them all alike.
    rates: dict[tuple[str, int], list[float]] = {}
    for round_number in range(1, args.rounds + 1):
        for name, classifier in classifiers:
            for batch_size in batch_sizes:
                per_second = rate(classifier.classify, texts, batch_size)
                rates.setdefault((name, batch_size), []).append(per_second)
        print(f"round {round_number}/{args.rounds} done", file=sys.stderr, flush=True)
    # The model's version (+bf16/+int8 unless fp32), then /texts per forward pass.
    print(f"{'model':50} {'batch':>5} {'mentions/s':>11} {'range':>15}")
    for (name, batch_size), values in rates.items():
        span = f"{min(values):.1f}-{max(values):.1f}" if len(values) > 1 else ""
        print(f"{name:50} {batch_size:5d} {statistics.median(values):11.1f} {span:>15}")
    for name, classifier in classifiers:
        if isinstance(classifier, SecondOpinionClassifier):  # how often its model was asked
            share = classifier.texts_asked_again / max(classifier.texts_judged, 1)
            print(f"{name}: the second model read {100 * share:.1f} % of the texts")
    vader = rate(lambda chunk: [lexicon.sentiment(t) for t in chunk], texts, 64)
    print(f"{'VADER (lexicon)':50} {'-':>5} {vader:11.1f}")


if __name__ == "__main__":
    main()
