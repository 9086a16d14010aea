"""A teacher's probabilities on each cross-validation fold's training texts, for distillation.

    .venv/bin/python bench/teacher.py --config <a config naming a bigger encoder> --output FILE
        [--folds 5] [--only-folds 1] [--data-dir ../shared/data] [--rows N] [--keep-models DIR]

For each fold (the folds of bench/crossval.py), a teacher is fine-tuned on the fold's training rows
the way the recipe tunes its model (every layer, 3 epochs; the tuned model alone: no untuned heads,
no bridge), loaded by the product's classifier (the config's precision, no sentiment adjustment)
and read on every distinct training text of the fold, for both tasks: a complaint text gets the
teacher's sentiment too, an airline tweet its complaint score. Appends one JSON line per text:
{"fold", "text", "sentiment": [negative, neutral, positive], "complaint"}. Texts the classifier
does not judge (empty, no letters) are left out. `bench/crossval.py --teacher FILE` then trains
students on these as soft labels; the teacher never sees the fold it is measured on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from crossval import chosen_folds, read_sets, wanted_folds

from config.settings import load_config
from listener.classifying.distillation import read_with, teacher_classifier
from listener.classifying.encoder import Encoder
from listener.classifying.finetuning import FineTuneOptions, fine_tune
from listener.classifying.precision import training_precision
from listener.classifying.settings import ClassifierConfig


def say(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True, help="JSON lines, appended")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-folds", type=lambda t: [int(n) for n in t.split(",")])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rows", type=int, default=0, help="first N rows of each file; 0: all")
    parser.add_argument("--epochs", type=int, default=FineTuneOptions().epochs)
    parser.add_argument("--keep-models", type=Path, help="keep each fold's teacher as fold-N")
    args = parser.parse_args()
    if not args.data_dir.is_dir():
        sys.exit(f"no labelled data in {args.data_dir} (see ../shared/data/README.md)")
    settings: ClassifierConfig = load_config(args.config).classifier
    sets = read_sets(args.data_dir, args.rows)
    wanted = wanted_folds(args.folds, args.only_folds)
    encoder = Encoder(settings.encoder, allow_download=settings.allow_download)
    for number, fold in chosen_folds(sets, args.folds, wanted):
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "teacher"
            if args.keep_models:
                folder = args.keep_models / f"fold-{number}"
            options = FineTuneOptions(
                epochs=args.epochs,
                dev_fraction=0,
                precision=training_precision(settings.precision),
            )
            tuned, _ = fine_tune(encoder, fold.train, options=options, say=say)
            tuned.save(folder)
            texts = list(dict.fromkeys(t for s in fold.train for t in s.texts))
            readings = read_with(teacher_classifier(settings, folder), texts, say)
        with args.output.open("a", encoding="utf-8") as handle:
            for text, reading in readings.items():
                row = {"fold": number, "text": text, **asdict(reading)}
                handle.write(json.dumps(row) + "\n")
        minutes = (time.perf_counter() - start) / 60
        print(f"fold {number}: {len(readings)} texts read by the teacher, {minutes:.1f} minutes")


if __name__ == "__main__":
    main()
