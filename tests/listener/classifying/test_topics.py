"""Topic matching on hand-made embeddings: the best topic if it clears its threshold, else none."""

from __future__ import annotations

import pytest
import torch

from config.classifier import ClassifierConfig
from listener.classifying.topics import TopicMatcher, parse_topics

# Each topic's description and examples embed to one axis, so centroids are the unit axes.
AXES = {"bags": [1.0, 0.0, 0.0], "delays": [0.0, 1.0, 0.0]}


def embed(texts: list[str]) -> torch.Tensor:
    return torch.tensor([AXES[text.split()[0]] for text in texts])


def topics(delay_threshold: float | None = None):
    delays = {"name": "delay", "description": "delays of flights", "examples": ["delays again"]}
    if delay_threshold is not None:
        delays["threshold"] = delay_threshold
    return parse_topics(
        [{"name": "lost_luggage", "description": "bags lost", "examples": ["bags gone"]}, delays]
    )


def mentions(*rows: list[float]) -> torch.Tensor:
    return torch.tensor(rows)


def test_best_topic_above_the_shared_threshold() -> None:
    matcher = TopicMatcher(topics(), threshold=0.35)
    # Rows are unit length, so each coordinate is the cosine with that axis's topic.
    found = matcher.match(mentions([0.8, 0.6, 0.0], [0.38, 0.925, 0.0], [0.3, 0.3, 0.905]), embed)
    assert found == ["lost_luggage", "delay", None]


def test_a_topic_with_its_own_threshold_is_held_to_it() -> None:
    everyday_post = [0.0, 0.38, 0.925]  # cosine 0.38 with delays: passes 0.35, not 0.40
    clear_delay = [0.0, 0.9, 0.436]
    weak_bag = [0.36, 0.0, 0.933]  # the shared threshold still applies to other topics
    shared = TopicMatcher(topics(), threshold=0.35)
    strict = TopicMatcher(topics(delay_threshold=0.40), threshold=0.35)
    rows = mentions(everyday_post, clear_delay, weak_bag)
    assert shared.match(rows, embed) == ["delay", "delay", "lost_luggage"]
    assert strict.match(rows, embed) == [None, "delay", "lost_luggage"]


def test_topic_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="threshold"):
        ClassifierConfig(topics=[{"name": "delay", "description": "d", "threshold": 2}])
