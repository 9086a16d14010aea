"""The shipped recipe paired with a second, slower model: always, or only where it is unsure.

    .venv/bin/python bench/pairing.py FIRST.jsonl SECOND.jsonl [--below 0.6,0.7,0.8,0.9]

FIRST.jsonl is written by `bench/crossval.py --readings FILE` (a fine-tuned, bridged model:
judged as it judges by default, its tuned model blended with the bridged heads in one pass);
SECOND.jsonl by `bench/crossval.py --readings FILE` with another encoder in the config (e.g.
all-mpnet-base-v2), on the same folds: heads-only (`--method heads`: its heads' readings) or
fine-tuned (its blend, as it judges by default). For every fold both hold, prints the goal
figures of the first model alone, of the two models' probabilities averaged on every post, and of
two cascades: where the first model's top probability is under each --below threshold, the
average or the second model's verdict alone (the first alone elsewhere), with the share of posts
that needed the second model: a verdict then costs one pass of the first plus that share of the
second's. The shipped sentiment adjustment is applied to every mix.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from seeds import GOALS, goal_figure  # bench/ is on the path: a sibling

from listener.classifying.heads import blend
from listener.classifying.second_opinion import confidence


def read(path: Path, needs: tuple[str, ...]) -> dict[tuple[int, str], dict]:
    """(fold, set) -> the readings line, for the goal sets; each line must hold one of `needs`."""
    lines = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(text)
        if not any(name in row for name in needs):
            wanted = " or ".join(map(repr, needs))
            sys.exit(f"{path}:{number}: no {wanted} readings (see this script's usage)")
        if row["set"] in GOALS:
            lines[(row["fold"], row["set"])] = row
    return lines


def verdict(row: dict) -> torch.Tensor:
    """A model's probabilities as it judges by default, before the sentiment adjustment."""
    if "heads" in row:
        return torch.tensor(row["heads"])
    bridged = row["bridged"] if "bridged" in row else row["untuned"]
    return blend(torch.tensor(row["tuned"]), torch.tensor(bridged), row["blend_weight"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="readings of a fine-tuned, bridged model")
    parser.add_argument("second", type=Path, help="readings of another model")
    parser.add_argument(
        "--below",
        type=lambda text: [float(t) for t in text.split(",")],
        default=[0.6, 0.7, 0.8, 0.9],
        help="ask the second model where the first's top probability is under these",
    )
    args = parser.parse_args()
    first, second = read(args.first, ("bridged",)), read(args.second, ("heads", "tuned"))
    keys = sorted(set(first) & set(second))
    if not keys:
        sys.exit("the two files share no fold of a goal set: run them on the same folds")
    # mix name -> set -> [figure per fold], and the share of posts the second model judged.
    figures: dict[str, dict[str, list[float]]] = {}
    shares: dict[str, dict[str, list[float]]] = {}
    for key in keys:
        row = first[key]
        if second[key]["truth"] != row["truth"]:
            sys.exit(f"fold {key[0]} of {key[1]} holds other rows in the two files")
        alone = verdict(row)
        second_alone = verdict(second[key])
        both = (alone + second_alone) / 2
        mixes = {
            "first alone": (alone, 0.0),
            "second alone": (second_alone, 1.0),
            "averaged on every post": (both, 1.0),
        }
        for threshold in args.below:
            unsure = confidence(alone) < threshold
            where = unsure.unsqueeze(1) if alone.dim() == 2 else unsure
            share = unsure.float().mean().item()
            mixes[f"averaged where top < {threshold}"] = (torch.where(where, both, alone), share)
            mixes[f"second where top < {threshold}"] = (
                torch.where(where, second_alone, alone),
                share,
            )
        for name, (probabilities, share) in mixes.items():
            figures.setdefault(name, {}).setdefault(key[1], []).append(
                goal_figure(row, probabilities)
            )
            shares.setdefault(name, {}).setdefault(key[1], []).append(100 * share)
    folds = sorted({fold for fold, _ in keys})
    print(f"mean over folds {', '.join(map(str, folds))} (share of posts the second model judged)")
    print(f"{'':28} " + " ".join(f"{name:>20}" for name, _ in GOALS.values()))
    for name, by_set in figures.items():
        cells = []
        for set_name in GOALS:
            if set_name not in by_set:
                cells.append(f"{'-':>20}")
                continue
            value = statistics.fmean(by_set[set_name])
            share = statistics.fmean(shares[name][set_name])
            cells.append(f"{value:10.2f} ({share:5.1f} %)")
        print(f"{name:28} " + " ".join(cells))


if __name__ == "__main__":
    main()
