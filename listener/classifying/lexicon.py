"""VADER, the social-media sentiment lexicon: a baseline to beat, and four cheap extra features."""

from __future__ import annotations

from functools import lru_cache

import torch
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's own recommended cut-offs on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def scores(text: str) -> dict[str, float]:
    return _analyzer().polarity_scores(text)


def features(texts: list[str]) -> torch.Tensor:
    rows = [scores(t) for t in texts]
    return torch.tensor(
        [[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows], dtype=torch.float32
    ).reshape(len(texts), 4)


def sentiment(text: str) -> str:
    compound = scores(text)["compound"]
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def complaint(text: str) -> bool:
    """The lexicon's best guess at a complaint: clearly negative tone."""
    return scores(text)["compound"] <= NEGATIVE_AT
