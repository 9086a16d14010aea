"""Several fine-tuning seeds' models averaged weight by weight (a "model soup"), judged per fold.

    .venv/bin/python bench/soup.py MODELS-SEED7 MODELS-SEED8 [...] [--folds 5]
        [--config config/demo.toml] [--data-dir ../shared/data] [--rows N] [--readings FILE.jsonl]

Each MODELS folder is what `bench/crossval.py --keep-models DIR --seed N` kept: one fold-N model
per fold, all from the same folds. For every fold they share, the tuned encoder layers and the
linear heads are averaged (each seed's layers as saved: the shipped encoder plus its rank-32
change), the untuned heads taken from the first (they do not depend on the fine-tuning seed), and
the soup is judged on the fold's held-out rows as crossval.py judges a model. Unlike averaging
the seeds' probabilities (bench/seeds.py), a soup costs one encoder pass per verdict, as one
model does. The soup has no bridge (it was fitted to one seed's tuned pass), so it is judged in
two passes: compare it with the seeds' two-pass blends (bench/seeds.py on their readings).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from crossval import (  # bench/ is on the path: a sibling
    judge,
    make_folds,
    read_sets,
    write_readings,
)
from safetensors.torch import load_file, save_file

from config.settings import load_config
from listener.classifying import lowrank
from listener.classifying.encoder import Encoder
from listener.classifying.locations import TUNED_ENCODER_FILE, TUNED_ENCODER_SUBDIR

HEADS_FILE, METADATA_FILE = "heads.safetensors", "heads.json"


def average(tensors: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    names = set(tensors[0])
    for other in tensors[1:]:
        if set(other) != names:
            sys.exit(f"the models hold different weights: {sorted(names ^ set(other))[:3]}")
    return {
        name: torch.stack([t[name].float() for t in tensors]).mean(0).contiguous()
        for name in sorted(names)
    }


def cook(folders: list[Path], base: dict[str, torch.Tensor], soup: Path) -> None:
    """Writes the average of `folders` (one fold's model per seed) to `soup`."""
    shutil.copytree(folders[0], soup)
    metadata = json.loads((soup / METADATA_FILE).read_text(encoding="utf-8"))
    if not metadata.get("encoder_weights"):
        sys.exit(f"{folders[0]} has no tuned layers (a LoRA or heads-only model?)")
    tuned = average(
        [
            lowrank.expand(load_file(str(f / TUNED_ENCODER_SUBDIR / TUNED_ENCODER_FILE)), base)
            for f in folders
        ]
    )
    save_file(tuned, str(soup / TUNED_ENCODER_SUBDIR / TUNED_ENCODER_FILE))
    save_file(average([load_file(str(f / HEADS_FILE)) for f in folders]), str(soup / HEADS_FILE))
    for part in (metadata.get("bridged_heads"), metadata.get("topic_bridge")):
        if part:
            path = soup / part
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    metadata.update(bridged_heads="", topic_bridge="")
    (soup / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="crossval --keep-models folders")
    parser.add_argument("--folds", type=int, default=5, help="as crossval.py was run")
    parser.add_argument("--config", type=Path, default=Path("config/demo.toml"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rows", type=int, default=0, help="as crossval.py was run")
    parser.add_argument("--readings", type=Path, default=None, help="as crossval.py writes them")
    args = parser.parse_args()
    if len(args.models) < 2:
        sys.exit("give at least two models folders, one per seed")
    settings = load_config(args.config).classifier
    numbers = sorted(
        set.intersection(
            *(
                {int(p.name.removeprefix("fold-")) for p in folder.glob("fold-*")}
                for folder in args.models
            )
        )
    )
    if not numbers:
        sys.exit("the folders share no fold-N model")
    _, model = Encoder(settings.encoder, allow_download=settings.allow_download).fresh_model()
    base = model.state_dict()
    sets = read_sets(args.data_dir, args.rows)
    folds = make_folds(sets, args.folds)
    judged = argparse.Namespace(method="fine-tune", weights=[])
    print(f"soup of {len(args.models)} seeds, judged in two passes")
    for number in numbers:
        with tempfile.TemporaryDirectory() as scratch:
            soup = Path(scratch) / "soup"
            cook([folder / f"fold-{number}" for folder in args.models], base, soup)
            figures, readings = judge(judged, settings, soup, folds[number - 1].test)
        if args.readings:
            write_readings(args.readings, number, folds[number - 1].test, readings)
        for name, row in figures.items():
            print(f"{number:<4} {name:22} " + " ".join(f"{k} {v:6.2f}" for k, v in row.items()))


if __name__ == "__main__":
    main()
