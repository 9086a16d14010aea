"""A second, slower model asked only about the posts the first is unsure of (a cascade).

The first model judges every post. Where its top sentiment probability is under `below`, the
second model's sentiment replaces its own; where its complaint score is as unsure, the second's
complaint score does. Each post is passed to the second model once, whichever verdict it is asked
about. Topics stay the first model's: they come from its untuned layers (classifier.py). Verdicts
flag what the second model gave (`second_opinion_sentiment`, `second_opinion_complaint`).
"""

from __future__ import annotations

import logging

import torch

from listener.classifying.classifier import Predictions, Progress, ScreeningClassifier
from listener.classifying.heads import HeadsUnavailable
from listener.classifying.labels import (
    FLAG_SECOND_OPINION_COMPLAINT,
    FLAG_SECOND_OPINION_SENTIMENT,
)

logger = logging.getLogger(__name__)


def confidence(probabilities: torch.Tensor) -> torch.Tensor:
    """How sure each verdict is: a row's top sentiment probability ([n, 3]), or max(p, 1 - p) of
    a complaint score ([n]). bench/pairing.py simulates cascades with the same rule."""
    if probabilities.dim() == 2:
        return probabilities.max(dim=1).values
    return torch.maximum(probabilities, 1 - probabilities)


class SecondOpinionClassifier(ScreeningClassifier):
    def __init__(
        self, first: ScreeningClassifier, second: ScreeningClassifier, below: float
    ) -> None:
        super().__init__(first.rules, first.topics)
        if first.complaint_threshold != second.complaint_threshold:
            # A score taken from the second model is judged against the first's threshold.
            raise HeadsUnavailable(
                f"the second opinion flags complaints from a score of "
                f"{second.complaint_threshold}, the first model from "
                f"{first.complaint_threshold}: they must agree"
            )
        self.first = first
        self.second = second
        self.below = below
        self.complaint_threshold = first.complaint_threshold
        self.version = f"{first.version}+second-opinion-{second.version}-below-{below:g}"
        # For benchmarks and logs: texts judged, and how many of them the second model read.
        self.texts_judged = 0
        self.texts_asked_again = 0

    def _predict(self, texts: list[str], progress: Progress | None) -> Predictions:
        first = self.first._predict(texts, progress)
        sentiment_unsure = confidence(first.sentiment) < self.below
        complaint_unsure = confidence(first.complaint) < self.below
        rows = torch.nonzero(sentiment_unsure | complaint_unsure).flatten()
        self.texts_judged += len(texts)
        self.texts_asked_again += len(rows)
        if len(rows) == 0:
            return first
        logger.debug("second opinion on %d of %d text(s)", len(rows), len(texts))
        second = self.second._predict([texts[i] for i in rows.tolist()], None)
        sentiment, complaint = first.sentiment.clone(), first.complaint.clone()
        take_sentiment, take_complaint = sentiment_unsure[rows], complaint_unsure[rows]
        sentiment[rows[take_sentiment]] = second.sentiment[take_sentiment].to(sentiment.dtype)
        complaint[rows[take_complaint]] = second.complaint[take_complaint].to(complaint.dtype)
        # Staff see which verdicts came from the second model (the mention page lists flags).
        flags = [
            (FLAG_SECOND_OPINION_SENTIMENT,) * bool(s) + (FLAG_SECOND_OPINION_COMPLAINT,) * bool(c)
            for s, c in zip(sentiment_unsure.tolist(), complaint_unsure.tolist(), strict=True)
        ]
        return Predictions(sentiment, complaint, embeddings=first.embeddings, flags=flags)

    def _embed(self, texts: list[str]) -> torch.Tensor:
        return self.first._embed(texts)
