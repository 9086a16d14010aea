"""Which brand a post is about: shared by every source, so all networks agree."""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.settings import Brand


@dataclass(frozen=True, slots=True)
class BrandMatch:
    brand: str
    term: str
    is_competitor: bool


def _term_pattern(term: str) -> re.Pattern[str]:
    # Whole-word, case-insensitive; handles and hashtags keep their sigil.
    return re.compile(rf"(?<![\w@#]){re.escape(term)}(?!\w)", re.IGNORECASE)


class BrandMatcher:
    """Finds the first brand (in config order) whose terms appear in a text, minus exclusions."""

    def __init__(self, brands: list[Brand]) -> None:
        self._brands = [
            (
                brand,
                [(term, _term_pattern(term)) for term in brand.terms],
                [_term_pattern(term) for term in brand.exclude],
            )
            for brand in brands
        ]

    def match(self, text: str, *, prefer: str | None = None) -> BrandMatch | None:
        """Match `text`; `prefer` names the brand whose query found it, tried first."""
        ordered = sorted(self._brands, key=lambda b: b[0].name != prefer)
        for brand, terms, excludes in ordered:
            if any(p.search(text) for p in excludes):
                continue
            for term, pattern in terms:
                if pattern.search(text):
                    return BrandMatch(brand.name, term, brand.competitor)
        return None
