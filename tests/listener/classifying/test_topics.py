"""Topic matching on hand-made embeddings: the best topic if it clears its threshold, else none."""

from __future__ import annotations

import pytest
import torch

from config.classifier import ClassifierConfig
from listener.classifying.topics import TopicMatcher, learned_examples, parse_topics

# Each topic's description and examples embed to one axis, so centroids are the unit axes.
AXES = {"bags": [1.0, 0.0, 0.0], "delays": [0.0, 1.0, 0.0], "carousel": [0.0, 0.0, 1.0]}


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


def test_posts_staff_filed_under_a_topic_pull_it_towards_them() -> None:
    matcher = TopicMatcher(topics(), threshold=0.35)
    carousel_post = mentions([0.0, 0.0, 1.0])
    assert matcher.match(carousel_post, embed) == [None]
    # Two filed posts beside the description and example: the centroid is (2, 0, 2) normalised,
    # so its cosine with the carousel post is 0.71. A topic no longer configured is ignored.
    learned = matcher.with_examples(
        {"lost_luggage": ["carousel empty", "carousel stopped"], "seats": ["carousel x"]}
    )
    assert learned.match(carousel_post, embed) == ["lost_luggage"]
    assert [t.name for t in learned.topics] == ["lost_luggage", "delay"]
    assert learned.topics[0].examples == ["bags gone", "carousel empty", "carousel stopped"]
    assert matcher.match(carousel_post, embed) == [None]  # the configured matcher is unchanged


def test_filed_posts_are_grouped_by_configured_topic_each_text_once() -> None:
    filed = [
        ("bag gone", "lost_luggage"),
        ("late again", "delay"),
        ("bag gone", "lost_luggage"),  # the same text filed twice (a retweet)
        ("seat broken", "seats"),
        ("bag gone", "delay"),
    ]
    examples, unknown = learned_examples(filed, ["lost_luggage", "delay"])
    assert examples == {"lost_luggage": ["bag gone"], "delay": ["late again", "bag gone"]}
    assert unknown == ["seats"]
