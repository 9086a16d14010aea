"""Topics for routing: the best-matching configured topic above a similarity threshold, else none.

Each topic's centroid is the normalised mean of the sentence embeddings of its description and
examples; a mention's topic is the centroid with the highest cosine similarity, if that
similarity reaches the topic's own threshold, or else the shared one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from config.classifier import DEFAULT_TOPIC_THRESHOLD, Topic, check_unique_topics

if TYPE_CHECKING:
    import torch


def parse_topics(raw: Sequence[dict]) -> list[Topic]:
    topics = [Topic.model_validate(item) for item in raw]
    check_unique_topics(topics)
    return topics


def learned_examples(
    filed: Sequence[tuple[str, str]], configured: Sequence[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Posts staff filed under topics, as (text, topic name) pairs, grouped by topic: each text
    once. Returns them and the names that are not configured topics (left out)."""
    examples: dict[str, dict[str, None]] = {}  # dicts: each text once, in order
    unknown: dict[str, None] = {}
    for text, name in filed:
        if name in configured:
            examples.setdefault(name, {})[text] = None
        else:
            unknown[name] = None
    return {name: list(texts) for name, texts in examples.items()}, list(unknown)


Embedder = Callable[[list[str]], "torch.Tensor"]  # texts -> [n, d] sentence embeddings


def _normalise(vectors: torch.Tensor) -> torch.Tensor:
    import torch  # here, not at the top: config validation must not load torch

    return torch.nn.functional.normalize(vectors.to(torch.float32), dim=-1)


class TopicMatcher:
    def __init__(self, topics: Sequence[Topic], threshold: float = DEFAULT_TOPIC_THRESHOLD) -> None:
        self.topics = list(topics)
        self.threshold = threshold
        self._centroids: torch.Tensor | None = None

    def _centroids_with(self, embed: Embedder) -> torch.Tensor:
        if self._centroids is None:
            import torch

            rows = []
            for topic in self.topics:
                vectors = _normalise(embed([topic.description, *topic.examples]))
                rows.append(vectors.mean(dim=0))
            self._centroids = _normalise(torch.stack(rows))
        return self._centroids

    def with_examples(self, learned: Mapping[str, Sequence[str]]) -> TopicMatcher:
        """The same topics with more examples each (posts staff filed under them, which
        `mentiondesk train --include-corrections` keeps with the model). Names not configured
        any more are left out: the config decides what the topics are."""
        topics = [
            topic.model_copy(update={"examples": [*topic.examples, *learned[topic.name]]})
            if learned.get(topic.name)
            else topic
            for topic in self.topics
        ]
        return TopicMatcher(topics, self.threshold)

    def match(self, embeddings: torch.Tensor, embed: Embedder) -> list[str | None]:
        """The topic name (or None) for each sentence embedding in [n, d]."""
        if not self.topics or len(embeddings) == 0:
            return [None] * len(embeddings)
        similarity = _normalise(embeddings) @ self._centroids_with(embed).T
        best, index = similarity.max(dim=1)
        thresholds = [self.threshold if t.threshold is None else t.threshold for t in self.topics]
        return [
            self.topics[int(i)].name if float(score) >= thresholds[int(i)] else None
            for score, i in zip(best, index, strict=True)
        ]
