"""Small classification heads over pooled encoder states, saved as one safetensors file plus JSON.

A head standardises its input with the training set's mean and spread, then applies a linear
layer or a one-hidden-layer MLP. Which encoder layers feed it, and whether VADER's lexicon
scores join them, is
recorded in the metadata, so a saved head always sees the features it was trained on.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from listener.classifying.errors import HeadsUnavailable
from listener.classifying.labels import SENTIMENTS
from listener.classifying.locations import (
    METADATA_FILE,
    MODEL_SUBDIRS,
    TOPIC_BRIDGE_FILE,
    WEIGHTS_FILE,
    digest_files,
)


@dataclass
class FeatureSpec:
    """Which features a head reads: pooled encoder layers (0 = embeddings) and VADER's scores."""

    layers: list[int] = field(default_factory=lambda: [-1])
    lexicon: bool = False


@dataclass
class HeadsMetadata:
    encoder: str
    hidden_size: int
    features: FeatureSpec
    sentiment_labels: list[str] = field(default_factory=lambda: list(SENTIMENTS))
    head_hidden: int = 0
    # Subfolder holding a LoRA adapter that the encoder must load with these heads ("" for none).
    encoder_adapter: str = ""
    # Or a subfolder holding the weights of a fully tuned encoder's layers ("" for none).
    encoder_weights: str = ""
    # Subfolder of heads over the untuned encoder, and their share of the blended probabilities.
    blend_heads: str = ""
    blend_weight: float = 0.0
    # The blend heads as they read the tuned pass, and the topics' map from it ("" for none):
    # then a verdict needs no untuned pass (bridging.py).
    bridged_heads: str = ""
    topic_bridge: str = ""
    complaint_threshold: float = 0.5
    # Added to each sentiment's log-probability before the verdict (a prior shift, see
    # `adjust_sentiment`); labels left out get 0. Chosen in cross-validation (bench/adjustment.py).
    sentiment_adjustment: dict[str, float] = field(default_factory=dict)
    # Posts staff filed under a topic (`mentiondesk train --include-corrections`), matched as
    # more examples of that configured topic.
    topic_examples: dict[str, list[str]] = field(default_factory=dict)
    trained_at: str = ""
    figures: dict[str, float] = field(default_factory=dict)
    training_data: list[str] = field(default_factory=list)

    @property
    def input_size(self) -> int:
        return self.hidden_size * len(self.features.layers) + (
            LEXICON_FEATURES if self.features.lexicon else 0
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> HeadsMetadata:
        raw = json.loads(text)
        raw["features"] = FeatureSpec(**raw["features"])
        metadata = cls(**raw)
        metadata.check_adjustment()
        return metadata

    def check_adjustment(self) -> None:
        for label, value in self.sentiment_adjustment.items():
            if label not in self.sentiment_labels:
                raise ValueError(
                    f"sentiment_adjustment names {label!r}, which is not one of the heads' "
                    f"sentiments ({', '.join(self.sentiment_labels)})"
                )
            # bool is an int to Python, but `true` in heads.json is a mistake, not a shift of 1.
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ValueError(
                    f"sentiment_adjustment for {label!r} must be a finite number, not {value!r}"
                )


LEXICON_FEATURES = 4  # VADER: negative, neutral, positive, compound


class Head(nn.Module):
    def __init__(self, input_size: int, outputs: int, hidden: int = 0, dropout: float = 0.1):
        super().__init__()
        self.register_buffer("mean", torch.zeros(input_size))
        self.register_buffer("scale", torch.ones(input_size))
        if hidden:
            self.net: nn.Module = nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(input_size, hidden),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, outputs),
            )
        else:
            self.net = nn.Sequential(nn.Dropout(dropout), nn.Linear(input_size, outputs))

    def set_standardisation(self, features: torch.Tensor) -> None:
        self.mean.copy_(features.mean(dim=0))
        self.scale.copy_(features.std(dim=0).clamp(min=1e-6))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net((features - self.mean) / self.scale)


@dataclass
class Heads:
    metadata: HeadsMetadata
    sentiment: Head
    complaint: Head  # one logit: complaint vs not

    @classmethod
    def new(cls, metadata: HeadsMetadata, *, dropout: float = 0.1) -> Heads:
        size = metadata.input_size
        return cls(
            metadata=metadata,
            sentiment=Head(size, len(metadata.sentiment_labels), metadata.head_hidden, dropout),
            complaint=Head(size, 1, metadata.head_hidden, dropout),
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        tensors = {f"sentiment.{k}": v for k, v in self.sentiment.state_dict().items()}
        tensors.update({f"complaint.{k}": v for k, v in self.complaint.state_dict().items()})
        # fp16 halves the files; the heads lose nothing measurable at this precision.
        return {k: v.detach().to(torch.float16).contiguous() for k, v in tensors.items()}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.state_dict(), str(folder / WEIGHTS_FILE))
        (folder / METADATA_FILE).write_text(self.metadata.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Heads:
        weights, meta = folder / WEIGHTS_FILE, folder / METADATA_FILE
        if not weights.is_file() or not meta.is_file():
            raise HeadsUnavailable(f"no trained heads in {folder} (expected {WEIGHTS_FILE})")
        try:
            metadata = HeadsMetadata.from_json(meta.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise HeadsUnavailable(f"{meta}: {exc}") from None
        heads = cls.new(metadata)
        tensors = {k: v.to(torch.float32) for k, v in load_file(str(weights)).items()}
        for prefix, head in (("sentiment.", heads.sentiment), ("complaint.", heads.complaint)):
            head.load_state_dict(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
            head.eval()
        return heads

    @staticmethod
    def fingerprint(folder: Path) -> str:
        files = [("", folder / WEIGHTS_FILE), ("", folder / METADATA_FILE)]
        # A tuned encoder or blended heads change verdicts too, so they are part of the version.
        for subdir in MODEL_SUBDIRS:
            if (folder / subdir).is_dir():
                files += [(f"{subdir}/{p.name}", p) for p in sorted((folder / subdir).iterdir())]
        if (folder / TOPIC_BRIDGE_FILE).is_file():
            files.append((TOPIC_BRIDGE_FILE, folder / TOPIC_BRIDGE_FILE))
        digest = hashlib.sha256()
        digest_files(digest, files)
        return digest.hexdigest()[:10]

    def select_features(self, pooled: torch.Tensor, lexicon: torch.Tensor | None) -> torch.Tensor:
        """The head's input from [n, layers+1, hidden] pooled states (and [n, 4] VADER scores)."""
        parts = [pooled[:, layer, :] for layer in self.metadata.features.layers]
        if self.metadata.features.lexicon:
            if lexicon is None:
                raise ValueError("these heads need lexicon scores")
            parts.append(lexicon)
        return torch.cat(parts, dim=1).to(torch.float32)


def store_topic_examples(folder: Path, examples: dict[str, list[str]]) -> None:
    """Keep posts staff filed under topics with the model in `folder` (in its heads.json, so
    they are part of its version)."""
    path = folder / METADATA_FILE
    metadata = HeadsMetadata.from_json(path.read_text(encoding="utf-8"))
    metadata.topic_examples = examples
    path.write_text(metadata.to_json(), encoding="utf-8")


def blend(tuned: torch.Tensor, untuned: torch.Tensor, weight: float) -> torch.Tensor:
    """A fine-tuned model's probabilities mixed with the untuned heads' (`weight`: their share)."""
    return (1 - weight) * tuned + weight * untuned


def adjust_sentiment(probabilities: torch.Tensor, adjustment: dict[str, float]) -> torch.Tensor:
    """[n, 3] sentiment probabilities (SENTIMENTS order) times exp(adjustment), normalised again.

    A prior shift: the heads learn how common each sentiment is from the training mix, where
    negative airline tweets abound and mildly negative posts on other subjects are rare, so they
    call too few of those negative. Scores stay probabilities and the verdict is their largest.
    """
    if not adjustment:
        return probabilities
    shift = torch.tensor([adjustment.get(label, 0.0) for label in SENTIMENTS])
    shifted = probabilities * torch.exp(shift).to(probabilities.dtype)
    return shifted / shifted.sum(dim=1, keepdim=True).clamp(min=1e-12)
