"""The one Source protocol and the records every network is normalised to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RawAuthor:
    external_id: str
    handle: str
    display_name: str | None = None
    followers: int | None = None


@dataclass(frozen=True, slots=True)
class RawMention:
    """One post that matched a brand, as every network's source returns it."""

    network: str
    external_id: str
    url: str
    author: RawAuthor
    text: str
    created_at: datetime  # timezone-aware UTC
    brand: str
    matched_query: str
    is_competitor: bool
    raw: dict[str, Any]
    in_reply_to_id: str | None = None
    conversation_id: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """One item of a page that could not be normalised; the rest of the page is still used."""

    stream: str
    reason: str
    payload: str


@dataclass(slots=True)
class FetchResult:
    """What one poll of a source produced.

    `cursors` maps stream name to the new cursor value; only streams that advanced appear.
    The poller stores mentions, rejected items and cursors in one transaction.
    """

    mentions: list[RawMention] = field(default_factory=list)
    cursors: dict[str, str] = field(default_factory=dict)
    rejected: list[RejectedItem] = field(default_factory=list)


class Source(Protocol):
    name: str
    network: str

    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        """Fetch everything newer than `cursors` (stream name -> cursor value).

        Raises only listener.sources.errors.SourceError subclasses.
        """
        ...
