"""Whose voice a post is: Mastodon handles are compared with their instance, so a stranger who
registers an employee's username elsewhere is not credited (and kept out of the inbox)."""

from __future__ import annotations

import pytest

from responders.amplification.crediting import KIND_EMPLOYEE, Voice, handle_key, voice_of

PRIYA = Voice(KIND_EMPLOYEE, employee_id=1)
SAM = Voice(KIND_EMPLOYEE, employee_id=2)
VOICES = {
    handle_key("mastodon", "priya"): PRIYA,  # configured without an instance
    handle_key("mastodon", "@Sam@northwind.social"): SAM,
    handle_key("x", "sam_at_northwind"): SAM,
}


@pytest.mark.parametrize(
    ("network", "handle", "url", "expected"),
    [
        (
            "mastodon",
            "sam@northwind.social",
            "https://mastodon.example/@sam@northwind.social/1",
            SAM,
        ),
        ("mastodon", "sam", "https://northwind.social/@sam/1", SAM),  # local to its instance
        ("mastodon", "SAM", "https://northwind.social/@sam/1", SAM),
        ("mastodon", "sam@evil.example", "https://evil.example/@sam/1", None),
        ("mastodon", "sam", "https://evil.example/@sam/1", None),  # a local sam elsewhere
        ("mastodon", "priya", "https://any.example/@priya/1", PRIYA),
        ("mastodon", "priya@evil.example", "https://evil.example/@priya/1", None),
        ("x", "Sam_At_Northwind", "https://x.com/sam_at_northwind/status/1", SAM),
        ("x", "sam_at_northwind_", "https://x.com/sam_at_northwind_/status/1", None),
    ],
)
def test_voice_of(network, handle, url, expected) -> None:
    assert voice_of(VOICES, network, handle, url) == expected
