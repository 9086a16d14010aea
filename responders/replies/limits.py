"""How long a reply may be on each network, measured the way that network measures it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import regex

_URL = re.compile(r"https?://\S+")
X_LINK_WEIGHT = 23  # X and Mastodon count every link as 23 characters, whatever its length
# twitter-text v3: these code point ranges weigh 1, everything else (CJK, emoji...) weighs 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def _x_length(text: str) -> int:
    links = _URL.findall(text)
    rest = _URL.sub("", text)
    weight = sum(
        1 if any(low <= ord(g[0]) <= high for low, high in _X_LIGHT_RANGES) else 2
        for g in _graphemes(rest)
    )
    return weight + X_LINK_WEIGHT * len(links)


def _mastodon_length(text: str) -> int:
    links = _URL.findall(text)
    return len(_URL.sub("", text)) + X_LINK_WEIGHT * len(links)


def _bluesky_length(text: str) -> int:
    return len(_graphemes(text))


@dataclass(frozen=True, slots=True)
class ReplyLimit:
    network: str
    maximum: int
    unit: str  # how the network counts, for the error message
    measure: Callable[[str], int]


LIMITS: dict[str, ReplyLimit] = {
    "x": ReplyLimit("x", 280, "characters (links count 23, CJK and emoji 2)", _x_length),
    "reddit": ReplyLimit("reddit", 10_000, "characters", len),
    "mastodon": ReplyLimit("mastodon", 500, "characters (links count 23)", _mastodon_length),
    "bluesky": ReplyLimit("bluesky", 300, "graphemes", _bluesky_length),
}


class ReplyTooLong(ValueError):
    def __init__(self, limit: ReplyLimit, length: int) -> None:
        super().__init__(
            f"the reply is {length} {limit.unit.split(' (')[0]} long; {limit.network} allows "
            f"{limit.maximum} {limit.unit}. Shorten it by {length - limit.maximum}."
        )
        self.limit = limit
        self.length = length


def limit_for(network: str) -> ReplyLimit:
    try:
        return LIMITS[network]
    except KeyError:
        raise ValueError(f"replies to {network!r} are not supported") from None


def check_length(network: str, text: str) -> int:
    """The reply's length as `network` counts it; ReplyTooLong if over the limit."""
    limit = limit_for(network)
    length = limit.measure(text)
    if length > limit.maximum:
        raise ReplyTooLong(limit, length)
    return length
