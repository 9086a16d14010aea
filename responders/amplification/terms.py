"""Which posts are about an event: its hashtags and links, matched the way people write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


def bare_link(url: str) -> str:
    """A link as it is searched for: no scheme, no "www.", no trailing slash.

    "https://www.northwind.example/summit/" -> "northwind.example/summit", which is found in
    http and https posts alike, with or without a query string (a personal share link).
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}"


def _hashtag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w#]){re.escape(tag)}(?!\w)", re.IGNORECASE)


def _link_pattern(link: str) -> re.Pattern[str]:
    # After the host: a path below the event's link, a query string or the end all count.
    return re.compile(rf"(?<![\w.-]){re.escape(link)}(?![\w.-])", re.IGNORECASE)


@dataclass(frozen=True)
class EventTerms:
    hashtags: tuple[str, ...]  # "#NWSummit26"
    links: tuple[str, ...]  # bare links, see bare_link

    @classmethod
    def of(cls, hashtags: list[str], links: list[str]) -> EventTerms:
        return cls(tuple(hashtags), tuple(bare_link(u) for u in links if bare_link(u)))

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.hashtags, *self.links)

    def matches(self, text: str) -> bool:
        return any(p.search(text) for p in self._patterns())

    def _patterns(self) -> list[re.Pattern[str]]:
        return [_hashtag_pattern(t) for t in self.hashtags] + [_link_pattern(u) for u in self.links]
