"""How much of a post is someone else's words: character shingles, measured as containment.

Texts are normalised (lower case; links, hashtags, @handles and punctuation dropped; whitespace
collapsed), cut into overlapping 5-character shingles, and a post's similarity to a source is the
share of the post's shingles that also occur in the source. Containment rather than Jaccard,
because a copy-paste that adds the hashtag, "so proud!" or a second talking point is still a
copy, and a short original post is not excused for copying a long text. Measured on the examples
in tests/responders/test_amplification_originality.py: own-words posts that reuse a fact or a
name stay below 0.45, copies with a word or two changed score 0.7 and more; 0.6 separates them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SHINGLE = 5
SCRIPTED_AT = 0.6  # similarity from which a post counts as scripted
MIN_CHARS = 30  # shorter (normalised) posts are too short to judge: never scripted

_LINK = re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
_TAG_OR_HANDLE = re.compile(r"[#@]\w+(?:@[\w.-]+)?")
_NOT_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    text = _LINK.sub(" ", text)
    text = _TAG_OR_HANDLE.sub(" ", text)
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def shingles(text: str) -> frozenset[str]:
    norm = normalise(text)
    if len(norm) < SHINGLE:
        return frozenset([norm]) if norm else frozenset()
    return frozenset(norm[i : i + SHINGLE] for i in range(len(norm) - SHINGLE + 1))


def containment(post: frozenset[str], source: frozenset[str]) -> float:
    """The share of `post`'s shingles found in `source` (0..1)."""
    if not post:
        return 0.0
    return len(post & source) / len(post)


@dataclass(frozen=True)
class Resemblance:
    similarity: float
    point: int | None = None  # index of the talking point it resembles most
    mention_id: int | None = None  # or the earlier post it resembles most

    @property
    def scripted(self) -> bool:
        return self.similarity >= SCRIPTED_AT


def judgeable(text: str) -> bool:
    return len(normalise(text)) >= MIN_CHARS


def resemblance(
    text: str,
    *,
    talking_points: list[str],
    earlier_posts: Iterable[tuple[int, str]] = (),
) -> Resemblance:
    """The closest source of `text`: a talking point, all of them together, or an earlier post
    (mention id, text) by someone else."""
    if not judgeable(text):
        return Resemblance(0.0)
    mine = shingles(text)
    best = Resemblance(0.0)
    for index, point in enumerate(talking_points):
        score = containment(mine, shingles(point))
        if score > best.similarity:
            best = Resemblance(score, point=index)
    if len(talking_points) > 1:
        # Two points pasted one after the other match neither alone as well as both together.
        together = containment(mine, shingles("\n".join(talking_points)))
        if together > best.similarity + 0.05:
            closest = best.point if best.point is not None else 0
            best = Resemblance(together, point=closest)
    for mention_id, other in earlier_posts:
        score = containment(mine, shingles(other))
        if score > best.similarity:
            best = Resemblance(score, mention_id=mention_id)
    return Resemblance(round(best.similarity, 4), best.point, best.mention_id)
