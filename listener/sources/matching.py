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

    def addressed(self, text: str, *, term: str, owner: str | None = None) -> BrandMatch:
        """A post addressed to a brand's own account (a mention, a reply to it): kept whatever
        it says. It is `owner`'s when that names a brand, else the brand the text names, else the
        first brand that is not a competitor; `term` is recorded as what matched."""
        brands = [brand for brand, _, _ in self._brands]
        found = next((b for b in brands if b.name == owner), None)
        if found is None:
            named = self.match(text)
            found = next((b for b in brands if named and b.name == named.brand), None)
        found = found or next((b for b in brands if not b.competitor), brands[0])
        return BrandMatch(found.name, term, found.competitor)
