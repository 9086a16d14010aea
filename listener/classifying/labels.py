"""The label sets every classifier speaks, whatever model sits underneath."""

from __future__ import annotations

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
NEUTRAL = "neutral"

# Stored on the verdict: why it could not come from the model's normal path, or which model gave it.
FLAG_EMPTY = "empty"
FLAG_NON_TEXT = "non_text"
FLAG_TOO_LONG = "too_long"
FLAG_UNSUPPORTED_LANGUAGE = "unsupported_language"
# Verdicts with these were not judged by a model (their scores say nothing).
UNJUDGED_FLAGS: tuple[str, ...] = (FLAG_EMPTY, FLAG_NON_TEXT)
# The second opinion (second_opinion.py) gave this verdict's sentiment, or its complaint score.
FLAG_SECOND_OPINION_SENTIMENT = "second_opinion_sentiment"
FLAG_SECOND_OPINION_COMPLAINT = "second_opinion_complaint"

# What `evaluate` can measure.
TASKS: tuple[str, ...] = ("sentiment", "complaint")

# Fields a person may correct.
CORRECTABLE_FIELDS: tuple[str, ...] = ("sentiment", "complaint", "topic")
