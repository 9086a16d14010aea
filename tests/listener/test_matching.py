"""BrandMatcher: what every source uses to tell which brand a post is about."""

from __future__ import annotations

from config.settings import Brand
from listener.sources.matching import BrandMatch, BrandMatcher

SKYLINE = Brand(name="Skyline", names=["Skyline Airways"], competitor=True)
NORTHWIND = Brand(name="Northwind", names=["Northwind Air"], exclude=["northwind traders"])
MATCHER = BrandMatcher([SKYLINE, NORTHWIND])


def test_match_is_whole_word_and_honours_exclusions() -> None:
    assert MATCHER.match("flew Northwind Air today") == BrandMatch(
        "Northwind", "Northwind Air", False
    )
    assert MATCHER.match("NorthwindAirlines") is None
    assert MATCHER.match("Northwind Air, not Northwind Traders") is None


def test_addressed_post_belongs_to_the_named_owner_whatever_it_says() -> None:
    assert MATCHER.addressed("hello", term="@desk", owner="Skyline") == BrandMatch(
        "Skyline", "@desk", True
    )


def test_addressed_post_without_owner_goes_to_the_brand_it_names() -> None:
    found = MATCHER.addressed("Skyline Airways lost my bag", term="@desk")
    assert found == BrandMatch("Skyline", "@desk", True)


def test_addressed_post_naming_no_brand_goes_to_the_first_own_brand() -> None:
    assert MATCHER.addressed("hi there", term="u/desk", owner="Unknown") == BrandMatch(
        "Northwind", "u/desk", False
    )
