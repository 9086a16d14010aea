"""The classifier's configuration and the one function that builds a classifier from it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from listener.classifying.locations import (
    BUNDLED_HEADS_DIR,
    DEFAULT_ENCODER,
    METADATA_FILE,
    TRAINED_HEADS_SUBDIR,
)
from listener.classifying.screening import ScreeningRules
from listener.classifying.topics import DEFAULT_THRESHOLD, Topic, TopicMatcher

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier

logger = logging.getLogger(__name__)


class ClassifierConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Hugging Face id or local folder of the encoder our heads read; default: bundled MiniLM.
    encoder: str = DEFAULT_ENCODER
    # Folder with heads.safetensors + heads.json; default: the data folder's, else the bundled ones.
    heads: Path | None = None
    # A complete sequence-classification model (id or folder) used instead of encoder + heads.
    sequence_classification_model: str | None = None
    # Model label -> negative|neutral|positive|complaint|not_complaint, where names differ.
    label_map: dict[str, str] = Field(default_factory=dict)
    # Off by default: the classifier must work offline.
    allow_download: bool = False
    quantize: bool = False
    batch_size: int = Field(default=64, ge=1, le=1024)
    max_chars: int = Field(default=2000, ge=1)
    supported_languages: list[str] = Field(default_factory=lambda: ["en"])
    topics: list[Topic] = Field(default_factory=list)
    topic_threshold: float = Field(default=DEFAULT_THRESHOLD, ge=-1, le=1)


def resolve_heads_dir(config: ClassifierConfig, data_dir: Path | None) -> Path:
    if config.heads is not None:
        return config.heads
    if data_dir is not None and (data_dir / TRAINED_HEADS_SUBDIR / METADATA_FILE).is_file():
        return data_dir / TRAINED_HEADS_SUBDIR
    return BUNDLED_HEADS_DIR


def build_classifier(config: ClassifierConfig, *, data_dir: Path | None = None) -> Classifier:
    """Cheap: heavy weights load on the first `classify` call; torch is imported here."""
    from listener.classifying.classifier import HeadsClassifier, SequenceClassifier
    from listener.classifying.encoder import Encoder

    rules = ScreeningRules(
        max_chars=config.max_chars, supported_languages=tuple(config.supported_languages)
    )
    topics = TopicMatcher(config.topics, config.topic_threshold)
    if config.sequence_classification_model:
        return SequenceClassifier(
            config.sequence_classification_model,
            label_map=config.label_map,
            allow_download=config.allow_download,
            rules=rules,
            topics=topics,
            batch_size=config.batch_size,
        )
    encoder = Encoder(
        config.encoder, allow_download=config.allow_download, quantize=config.quantize
    )
    heads_dir = resolve_heads_dir(config, data_dir)
    logger.info("classifier: encoder %s, heads %s", config.encoder, heads_dir)
    return HeadsClassifier(
        encoder, heads_dir, rules=rules, topics=topics, batch_size=config.batch_size
    )
