"""Originality: the threshold measured on examples, event terms, and what an event spec accepts."""

from __future__ import annotations

import pytest

from responders.amplification.originality import SCRIPTED_AT, resemblance
from responders.amplification.spec import EventSpecError, build_spec, parse_speaker
from responders.amplification.terms import EventTerms, bare_link

POINTS = [
    "Northwind Summit 2026 runs 3-4 December in Rotterdam, with 40 sessions on cleaner flying.",
    "Our new A321neo fleet burns 20% less fuel per seat than the aircraft it replaces.",
    "Every summit session is streamed free, and recordings stay online for a year.",
]

# People's own words, some reusing a fact, a number or the event's name.
OWN_WORDS = [
    "Two days of hallway chats in Rotterdam next week - I'll be at the booth talking about how "
    "our crew plans fuel. Come say hi! #NWSummit26",
    "Honestly the thing I'm most excited about at #NWSummit26 is meeting the folks who build our "
    "scheduling tools.",
    "Spent years on the ramp before moving to ops. The neo's fuel numbers still surprise me every "
    "month. #NWSummit26",
    "If you can't make it to Rotterdam, the sessions are streamed - I'll be watching the SAF panel "
    "from home with coffee.",
    "Speaking at #NWSummit26 about what 20% less fuel per seat actually means for a pilot's day. "
    "Slides are ready!",
    "Can't wait for Northwind Summit in Rotterdam. Forty sessions, and I plan to see at least half "
    "of them.",
    "Recordings online for a year means I can finally skip the 8am slot without guilt",
]

# Talking points pasted: verbatim, with a word or two changed, two glued together.
COPIES = [
    f"{POINTS[0]} #NWSummit26 https://northwind.example/summit",
    f"{POINTS[1][:-1]}! So proud #NWSummit26",
    "Northwind Summit 2026 runs 3-4 December in Rotterdam with 40 talks on cleaner flying. "
    "Every session is streamed free and recordings stay online for a year.",
    "Our new A321neo fleet uses 20% less fuel per seat than the planes it replaces. #NWSummit26",
    "Every summit session is streamed for free, and recordings stay online for a year!! #NWS26",
]


@pytest.mark.parametrize("text", OWN_WORDS)
def test_own_words_are_not_scripted(text: str) -> None:
    found = resemblance(text, talking_points=POINTS)
    assert found.similarity < SCRIPTED_AT - 0.15, found  # well clear of the threshold
    assert not found.scripted


@pytest.mark.parametrize("text", COPIES)
def test_pasted_talking_points_are_scripted(text: str) -> None:
    found = resemblance(text, talking_points=POINTS)
    assert found.similarity >= SCRIPTED_AT + 0.1, found
    assert found.scripted and found.point is not None


def test_a_colleague_s_post_copied_is_scripted_and_points_at_it() -> None:
    original = (
        "Had the best morning at the summit: the SAF panel was packed and the neo cockpit tour "
        "had a queue round the hall."
    )
    lightly_edited = (
        "Best morning at the summit - SAF panel packed, and the neo cockpit tour queue went round "
        "the hall! #NWSummit26"
    )
    found = resemblance(lightly_edited, talking_points=POINTS, earlier_posts=[(41, original)])
    assert found.scripted and found.mention_id == 41
    inspired = "The cockpit tour queue was the longest I've seen at any conference, worth it though"
    assert not resemblance(inspired, talking_points=POINTS, earlier_posts=[(41, original)]).scripted


def test_short_posts_are_too_short_to_judge() -> None:
    assert not resemblance("Streamed free! #NWSummit26", talking_points=POINTS).scripted


def test_event_terms_match_hashtags_and_links_as_people_write_them() -> None:
    terms = EventTerms.of(["#NWSummit26"], ["https://www.northwind.example/summit/"])
    assert bare_link("https://www.Northwind.example/summit/") == "northwind.example/summit"
    assert terms.matches("see you at #nwsummit26!")
    assert terms.matches("http://northwind.example/summit?ref=abc")
    assert terms.matches("agenda: https://northwind.example/summit/agenda")
    assert not terms.matches("#NWSummit25 was better")
    assert not terms.matches("#NWSummit266")
    assert not terms.matches("https://northwind.example/summitry")
    assert not terms.matches("https://evilnorthwind.example/summit")


def _fields(**changes):
    fields = {
        "name": "Summit",
        "starts_at": "2026-12-03",
        "ends_at": "2026-12-04",
        "hashtags": ["NWSummit26"],
        "links": ["https://northwind.example/summit"],
        "talking_points": ["Forty sessions on cleaner flying."],
    }
    fields.update(changes)
    return fields


def test_an_event_spec_takes_dates_hashtags_links_and_points() -> None:
    spec = build_spec(_fields())
    assert spec.hashtags == ["#NWSummit26"]
    assert spec.starts_at.isoformat() == "2026-12-03T00:00:00+00:00"
    assert spec.ends_at.isoformat() == "2026-12-04T23:59:59+00:00"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"talking_points": ["Join us! #NWSummit26"]}, "talking_points: talking point 1"),
        ({"talking_points": ["See https://x.example"]}, "ready-made post"),
        ({"ends_at": "2026-12-01"}, "ends before it starts"),
        ({"hashtags": ["two words"]}, "is not a hashtag"),
        ({"links": ["northwind.example"]}, "links: 'northwind.example' is not an http(s) link"),
        ({"hashtags": [], "links": []}, "at least one hashtag or link"),
        ({"starts_at": "next tuesday"}, "starts_at"),
        ({"name": "Summit\nBcc: all@northwind.example"}, "name: must be one line"),
    ],
)
def test_a_bad_event_spec_says_what_and_where(changes, message) -> None:
    with pytest.raises(EventSpecError) as caught:
        build_spec(_fields(**changes))
    assert str(caught.value).startswith("event: ")
    assert message in str(caught.value)


def test_speakers_are_written_as_key_value_pairs() -> None:
    ada = parse_speaker("name=Ada Lin, x=@ada_lin, bluesky=ada.bsky.social, email=Ada@Lab.org")
    assert ada.handles == {"x": "ada_lin", "bluesky": "ada.bsky.social"}
    assert ada.email == "ada@lab.org"
    assert parse_speaker("employee=sam@northwind.example").employee == "sam@northwind.example"
    for bad, why in [
        ("name=Ada, tiktok=ada", "unknown key 'tiktok'"),
        ("name=Ada", "needs handles"),
        ("Ada Lin", "should be key=value"),
    ]:
        with pytest.raises(EventSpecError, match=why):
            parse_speaker(bad)
