"""Training the heads: encode every labelled text once, measure on held-out splits, then fit on all.

Every CSV in the data folder with columns (text, sentiment) feeds the sentiment head and every
CSV with (text, complaint) the complaint head; staff corrections join them when asked. Smaller
sets are weighted up (at most SET_WEIGHT_CAP times) so the biggest domain does not drown the others.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from listener.classifying import lexicon, metrics
from listener.classifying.datasets import (
    COMPLAINT_LABELS,
    normalise_complaint_label,
    normalise_sentiment_label,
)
from listener.classifying.encoder import Encoder
from listener.classifying.fitting import FitOptions, fit_head, predict_probabilities
from listener.classifying.heads import FeatureSpec, Heads, HeadsMetadata, adjust_sentiment
from listener.classifying.labels import SENTIMENTS

logger = logging.getLogger(__name__)

SET_WEIGHT_CAP = 3.0
CACHE_ENCODER_KEY = "encoder"  # the embedding cache's metadata: which encoder made its states
Say = Callable[[str], None]


@dataclass
class LabelledSet:
    name: str
    task: str  # "sentiment" | "complaint"
    texts: list[str]
    labels: list[str]  # SENTIMENTS, or COMPLAINT_LABELS


@dataclass
class TrainOptions:
    # Mean-pooled layers the heads read (0 is the embeddings); None: `spread_layers` of the
    # encoder's depth, all six of MiniLM-L6.
    layers: list[int] | None = None
    lexicon: bool = True
    head_hidden: int = 128
    dropout: float = 0.2
    dev_fraction: float = 0.15  # 0: no held-out figures, fit once on everything
    sentiment_fit: FitOptions = field(default_factory=lambda: FitOptions(epochs=20))
    complaint_fit: FitOptions = field(default_factory=lambda: FitOptions(epochs=40))
    seed: int = 7
    # Stored with the heads and applied to their sentiment (heads.adjust_sentiment), held-out
    # figures included. Empty for the untuned heads of a blend: the blend is adjusted as a whole.
    sentiment_adjustment: dict[str, float] = field(default_factory=dict)


# A heads-only model's sentiment adjustment (`mentiondesk train --method heads`), picked in nested
# cross-validation like the blend's (bench/adjustment.py, figures in heads/MODEL_CARD.md).
HEADS_ONLY_SENTIMENT_ADJUSTMENT = {"negative": 1.0}


@dataclass
class HeldOut:
    """One labelled set's held-out rows and a model's probabilities for them."""

    task: str
    name: str
    texts: list[str]
    truth: list[str]
    probabilities: torch.Tensor  # [n, 3] in SENTIMENTS order, or [n] P(complaint)

    @property
    def key(self) -> str:
        return f"{self.task}/{self.name}"


@dataclass
class TrainingResult:
    heads: Heads
    figures: dict[str, float]  # "<task>/<set>/<metric>" on the held-out split
    reports: dict[str, metrics.Report]  # same keys without the metric, ours and "vader:" ones
    held_out: list[HeldOut] = field(default_factory=list)


def read_data_folder(folder: Path) -> list[LabelledSet]:
    sets = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "text" not in rows[0]:
            continue
        for task, normalise in (
            ("sentiment", normalise_sentiment_label),
            ("complaint", normalise_complaint_label),
        ):
            if task in rows[0]:
                sets.append(
                    LabelledSet(
                        path.stem,
                        task,
                        [r["text"] for r in rows],
                        [normalise(r[task]) for r in rows],
                    )
                )
    return sets


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def encode_all(
    encoder: Encoder, texts: list[str], *, cache: Path | None, say: Say
) -> dict[str, torch.Tensor]:
    """Pooled states per text key; a cache file makes retraining with corrections quick."""
    store = _read_cache(cache, encoder.name, say) if cache is not None and cache.is_file() else {}
    missing = list(dict.fromkeys(t for t in texts if _text_key(t) not in store))
    if missing:
        step = max(1, len(missing) // 20)
        say(f"encoding {len(missing)} texts with {encoder.name}")

        def progress(done: int) -> None:
            if done % step < encoder_batch or done == len(missing):
                say(f"  encoded {done}/{len(missing)}")

        encoder_batch = 64
        pooled = encoder.encode(missing, batch_size=encoder_batch, progress=progress)
        for text, row in zip(missing, pooled, strict=True):
            store[_text_key(text)] = row.to(torch.float16)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            save_file(store, str(cache), metadata={CACHE_ENCODER_KEY: encoder.name})
    return store


def encoded_states(
    encoder: Encoder, texts: list[str], *, cache: Path | None, say: Say
) -> torch.Tensor:
    """[n, layers + 1, hidden] pooled states of the texts, in order, through `encode_all`."""
    store = encode_all(encoder, texts, cache=cache, say=say)
    return torch.stack([store[_text_key(t)] for t in texts]).to(torch.float32)


def _read_cache(cache: Path, encoder_name: str, say: Say) -> dict[str, torch.Tensor]:
    """The cached pooled states. A cache that cannot be read (damaged, or another format) or that
    another encoder made only costs time: it is rebuilt rather than stopping or spoiling the
    training (its keys are texts, so another encoder's states would be taken for this one's)."""
    try:
        with safe_open(str(cache), framework="pt") as handle:
            made_with = (handle.metadata() or {}).get(CACHE_ENCODER_KEY)
            if made_with != encoder_name:
                say(
                    f"embedding cache {cache} was made with encoder {made_with or '(not recorded)'}"
                    f", not {encoder_name}: encoding again and rewriting it"
                )
                return {}
            return {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (OSError, SafetensorError) as exc:
        say(f"embedding cache {cache} is unreadable ({exc}): encoding again and rewriting it")
        return {}


def split_indices(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    cut = int(n * fraction)
    return order[cut:], order[:cut]


def set_weights(sets: list[LabelledSet]) -> list[float]:
    largest = max(len(s.texts) for s in sets)
    return [min(SET_WEIGHT_CAP, largest / len(s.texts)) for s in sets]


def _fit(task, sets, parts, features_of, heads_meta, options, say) -> torch.nn.Module:
    labels = task_labels(task)
    xs, ys, ws = [], [], []
    for labelled, weight, indices in zip(sets, set_weights(sets), parts, strict=True):
        xs.append(features_of([labelled.texts[i] for i in indices]))
        ys.extend(labels.index(labelled.labels[i]) for i in indices)
        ws.extend([weight] * len(indices))
    fit = options.sentiment_fit if task == "sentiment" else options.complaint_fit
    # A new head's weights come from torch's global generator: seeded here, they do not depend
    # on what ran before in the process (earlier folds, other tests), so a retrain repeats.
    torch.manual_seed(fit.seed)
    heads = Heads.new(heads_meta, dropout=options.dropout)
    head = heads.sentiment if task == "sentiment" else heads.complaint

    def progress(epoch: int, loss: float) -> None:
        if epoch % 5 == 0 or epoch == fit.epochs:
            say(f"  {task} head: epoch {epoch}/{fit.epochs}, loss {loss:.3f}")

    return fit_head(
        head,
        torch.cat(xs),
        torch.tensor(ys),
        classes=len(labels),
        options=fit,
        sample_weights=torch.tensor(ws),
        progress=progress,
    )


def labels_from(task: str, probabilities: torch.Tensor, threshold: float = 0.5) -> list[str]:
    if task == "sentiment":
        return [SENTIMENTS[int(i)] for i in probabilities.argmax(dim=1)]
    return [COMPLAINT_LABELS[int(p >= threshold)] for p in probabilities]


def task_labels(task: str) -> list[str]:
    return list(SENTIMENTS) if task == "sentiment" else list(COMPLAINT_LABELS)


def measure(
    held_out: list[HeldOut], say: Say
) -> tuple[dict[str, float], dict[str, metrics.Report]]:
    """Macro figures on each held-out set, beside VADER's on the same rows; says each."""
    figures: dict[str, float] = {}
    reports: dict[str, metrics.Report] = {}
    for part in held_out:
        labels = task_labels(part.task)
        ours = metrics.report(part.truth, labels_from(part.task, part.probabilities), labels)
        vader = metrics.report(part.truth, vader_labels(part.task, part.texts), labels)
        reports[part.key], reports[f"vader:{part.key}"] = ours, vader
        for name, report in ((part.key, ours), (f"vader:{part.key}", vader)):
            figures[f"{name}/macro_f1"] = round(report.macro_f1 * 100, 2)
            figures[f"{name}/macro_recall"] = round(report.macro_recall * 100, 2)
        say(
            f"  held out {part.name}: macro-F1 {ours.macro_f1 * 100:.1f} "
            f"(VADER {vader.macro_f1 * 100:.1f}), macro-recall "
            f"{ours.macro_recall * 100:.1f} (VADER {vader.macro_recall * 100:.1f})"
        )
    return figures, reports


def vader_labels(task: str, texts: list[str]) -> list[str]:
    if task == "sentiment":
        return [lexicon.sentiment(t) for t in texts]
    return [COMPLAINT_LABELS[int(lexicon.complaint(t))] for t in texts]


def spread_layers(depth: int, count: int = 6) -> list[int]:
    """`count` layers spread evenly over an encoder `depth` layers deep, ending at the last: all
    six of MiniLM-L6, every second one of a 12-layer encoder, every layer of a shallower one (a
    deeper encoder's first six would leave out its upper half)."""
    if depth <= count:
        return list(range(1, depth + 1))
    return [round(depth * (i + 1) / count) for i in range(count)]


def heads_layers(options: TrainOptions, depth: int, encoder_name: str) -> list[int]:
    """The layers the heads read: the chosen ones, checked against the encoder, or spread."""
    if not options.layers:
        return spread_layers(depth)
    outside = [layer for layer in options.layers if not 0 <= layer <= depth]
    if outside:
        raise ValueError(
            f"layers {outside} are not in {encoder_name}: it has layers 1 to {depth} "
            "(0 is its embeddings)"
        )
    return list(options.layers)


def train_heads(
    encoder: Encoder,
    sets: list[LabelledSet],
    *,
    options: TrainOptions | None = None,
    cache: Path | None = None,
    say: Say = logger.info,
) -> TrainingResult:
    options = options or TrainOptions()
    for task in ("sentiment", "complaint"):
        if not any(s.task == task for s in sets):
            raise ValueError(f"no labelled data for {task}: need a CSV with columns text,{task}")
    store = encode_all(encoder, [t for s in sets for t in s.texts], cache=cache, say=say)
    sample = next(iter(store.values()))
    meta = HeadsMetadata(
        encoder=encoder.name,
        hidden_size=int(sample.shape[-1]),
        features=FeatureSpec(
            layers=heads_layers(options, sample.shape[0] - 1, encoder.name),
            lexicon=options.lexicon,
        ),
        head_hidden=options.head_hidden,
        sentiment_adjustment=dict(options.sentiment_adjustment),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        training_data=sorted(f"{s.task}:{s.name} ({len(s.texts)} rows)" for s in sets),
    )
    probe = Heads.new(meta)

    def features_of(texts: list[str]) -> torch.Tensor:
        if not texts:
            return torch.zeros(0, meta.input_size)
        pooled = torch.stack([store[_text_key(t)] for t in texts]).to(torch.float32)
        scores = lexicon.features(texts) if options.lexicon else None
        return probe.select_features(pooled, scores)

    held_out: list[HeldOut] = []
    final_heads = Heads.new(meta, dropout=options.dropout)
    for task in ("sentiment", "complaint"):
        task_sets = [s for s in sets if s.task == task]
        if options.dev_fraction > 0:
            splits = [
                split_indices(len(s.texts), options.dev_fraction, options.seed) for s in task_sets
            ]
            say(f"{task}: fitting on {100 - options.dev_fraction * 100:.0f}%, measuring the rest")
            head = _fit(task, task_sets, [tr for tr, _ in splits], features_of, meta, options, say)
            for labelled, (_, dev) in zip(task_sets, splits, strict=True):
                if not dev:  # too small to hold any out
                    continue
                texts = [labelled.texts[i] for i in dev]
                probabilities = predict_probabilities(head, features_of(texts))
                if task == "sentiment":
                    probabilities = adjust_sentiment(probabilities, options.sentiment_adjustment)
                truth = [labelled.labels[i] for i in dev]
                held_out.append(HeldOut(task, labelled.name, texts, truth, probabilities))
        say(f"{task}: fitting the final head on all {sum(len(s.texts) for s in task_sets)} rows")
        everything = [list(range(len(s.texts))) for s in task_sets]
        head = _fit(task, task_sets, everything, features_of, meta, options, say)
        setattr(final_heads, task, head)
    figures, reports = measure(held_out, say)
    meta.figures = figures
    return TrainingResult(final_heads, figures, reports, held_out)


def train_heads_only(
    encoder: Encoder,
    sets: list[LabelledSet],
    *,
    options: TrainOptions | None = None,
    cache: Path | None = None,
    say: Say = logger.info,
) -> Heads:
    """A heads-only model (`mentiondesk train --method heads`): the heads over the untuned
    encoder, with the sentiment adjustment cross-validated for them."""
    options = replace(
        options or TrainOptions(), sentiment_adjustment=HEADS_ONLY_SENTIMENT_ADJUSTMENT
    )
    return train_heads(encoder, sets, options=options, cache=cache, say=say).heads
