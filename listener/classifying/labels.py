"""The label sets every classifier speaks, whatever model sits underneath."""

from __future__ import annotations

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
NEUTRAL = "neutral"

# Why a verdict could not come from the model's normal path. Stored on the verdict.
FLAG_EMPTY = "empty"
FLAG_NON_TEXT = "non_text"
FLAG_TOO_LONG = "too_long"
FLAG_UNSUPPORTED_LANGUAGE = "unsupported_language"

# What `evaluate` can measure.
TASKS: tuple[str, ...] = ("sentiment", "complaint")

# Fields a person may correct.
CORRECTABLE_FIELDS: tuple[str, ...] = ("sentiment", "complaint", "topic")
