"""What a routing rule can look at, as plain data (so rule matching is a pure function)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MentionFacts:
    network: str
    brand: str
    is_competitor: bool
    text: str
    language: str | None = None
    author_followers: int | None = None
    # From the classifier's verdict; None until it has spoken.
    complaint: bool | None = None
    sentiment: str | None = None
    topic: str | None = None
