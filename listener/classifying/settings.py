"""The one function that builds a classifier from its configuration (config/classifier.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from config.classifier import ClassifierConfig
from listener.classifying.locations import (
    BUNDLED_HEADS_DIR,
    METADATA_FILE,
    TRAINED_HEADS_SUBDIR,
)
from listener.classifying.screening import ScreeningRules
from listener.classifying.topics import TopicMatcher

if TYPE_CHECKING:
    from listener.classifying.classifier import Classifier

__all__ = ["ClassifierConfig", "build_classifier", "resolve_heads_dir"]

logger = logging.getLogger(__name__)


def resolve_heads_dir(config: ClassifierConfig, data_dir: Path | None) -> Path:
    if config.heads is not None:
        return config.heads
    if data_dir is not None and (data_dir / TRAINED_HEADS_SUBDIR / METADATA_FILE).is_file():
        return data_dir / TRAINED_HEADS_SUBDIR
    return BUNDLED_HEADS_DIR


def build_classifier(config: ClassifierConfig, *, data_dir: Path | None = None) -> Classifier:
    """Cheap: heavy weights load on the first `classify` call; torch is imported here."""
    from listener.classifying.precision import resolve_precision

    rules = ScreeningRules(
        max_chars=config.max_chars, supported_languages=tuple(config.supported_languages)
    )
    topics = TopicMatcher(config.topics, config.topic_threshold)
    precision = resolve_precision(config.precision)
    first = _build_model(config, data_dir, precision=precision, rules=rules, topics=topics)
    opinion = config.second_opinion
    if opinion is None:
        return first
    from listener.classifying.second_opinion import SecondOpinionClassifier

    # Screening, topics and the data folder's trained heads are the first model's alone.
    second_config = config.model_copy(
        update={
            "encoder": opinion.encoder,
            "heads": opinion.heads,
            "sequence_classification_model": opinion.sequence_classification_model,
            "label_map": opinion.label_map,
            "second_opinion": None,
        }
    )
    second = _build_model(
        second_config, None, precision=precision, rules=rules, topics=TopicMatcher([])
    )
    logger.info("classifier: second opinion where the first is under %g", opinion.below)
    return SecondOpinionClassifier(first, second, opinion.below)


def _build_model(
    config: ClassifierConfig,
    data_dir: Path | None,
    *,
    precision: str,
    rules: ScreeningRules,
    topics: TopicMatcher,
) -> Classifier:
    from listener.classifying.classifier import HeadsClassifier, SequenceClassifier
    from listener.classifying.encoder import Encoder

    if config.sequence_classification_model:
        return SequenceClassifier(
            config.sequence_classification_model,
            label_map=config.label_map,
            allow_download=config.allow_download,
            precision=precision,
            rules=rules,
            topics=topics,
            batch_size=config.batch_size,
        )
    encoder = Encoder(config.encoder, allow_download=config.allow_download, precision=precision)
    heads_dir = resolve_heads_dir(config, data_dir)
    logger.info("classifier: encoder %s, heads %s", config.encoder, heads_dir)
    return HeadsClassifier(
        encoder,
        heads_dir,
        rules=rules,
        topics=topics,
        batch_size=config.batch_size,
        one_pass=config.one_pass,
    )
