"""Event traffic on the sandbox network: the demo event, as employees, speakers and outsiders
talk about it. Some write in their own words, some paste a talking point, one copies a colleague.

    traffic = EventTraffic(state)
    traffic.setup()                # employee, speaker and fan accounts (idempotent)
    records = traffic.publish_script()  # the fixed story below, dated over the past hour
    traffic.start(posts_per_minute=1)   # then a trickle of fresh posts (the demo)

The sandbox may not import config/ or responders/, so the event and the people are written down
here; the demo creates the event from these constants, and tests check the employees' handles
agree with config/demo.toml. Every publishing method returns one record per post saying what the
desk should conclude (whose post, copied or not, the followers and engagement the API shows).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.pacing import Pacer
from sandbox.state import Post, SandboxState

# --- the event (the demo creates it from these) ------------------------------------------------

EVENT_NAME = "Northwind Summit 2026"
EVENT_HASHTAG = "#NWSummit26"
EVENT_LINK = "https://northwind.example/summit"
EVENT_DESCRIPTION = "Our yearly summit on cleaner, calmer flying: talks, workshops, cockpit tours."
TALKING_POINTS = (
    "Northwind Summit 2026 runs over two days in Rotterdam, with 40 sessions on cleaner flying.",
    "Our new A321neo fleet burns 20% less fuel per seat than the aircraft it replaces.",
    "Every summit session is streamed free, and recordings stay online for a year.",
)
EVENT_STARTS_IN = timedelta(hours=20)  # the demo's event starts tomorrow: invitations, reminders
EVENT_LASTS = timedelta(days=2)


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    role: str  # "employee" | "speaker" | "outsider"
    handles: dict[str, str]  # network -> handle
    followers: int
    email: str | None = None  # employees: as in config/demo.toml
    internal: bool = False  # a speaker who is also an employee


EMPLOYEES = (
    Person(
        "sam",
        "Sam Okafor",
        "employee",
        {"x": "sam_at_northwind"},
        640,
        email="sam@northwind.example",
    ),
    Person(
        "priya",
        "Priya Shah",
        "employee",
        {"x": "priya_flies_nw", "reddit": "priya_nw_ops"},
        2_310,
        email="priya@northwind.example",
    ),
    Person(
        "jonas",
        "Jonas Weber",
        "employee",
        {"x": "jonas_weber_nw"},
        180,
        email="jonas@northwind.example",
    ),
)
SPEAKERS = (
    # An employee who is also a speaker: her posts count as a speaker's.
    Person(
        "maria",
        "Maria Lopez",
        "speaker",
        {"x": "maria_lopez_nw"},
        5_400,
        email="maria@northwind.example",
        internal=True,
    ),
    Person(
        "ada",
        "Dr. Ada Lin",
        "speaker",
        {"x": "ada_lin_aero", "reddit": "ada_lin_aero"},
        18_900,
        email="ada.lin@aero-research.example",
    ),
)
OUTSIDERS = (
    Person("tom", "AvGeek Tom", "outsider", {"x": "avgeek_tom", "reddit": "avgeek_tom"}, 9_750),
    Person("rita", "Runway Rita", "outsider", {"x": "runway_rita", "reddit": "runwayrita"}, 1_204),
    Person("kai", "Kai Jensen", "outsider", {"x": "kai_jensen", "reddit": "kaijensen"}, 77),
)
PEOPLE = {p.key: p for p in (*EMPLOYEES, *SPEAKERS, *OUTSIDERS)}


# --- the script ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scripted:
    person: str
    network: str
    text: str
    title: str | None = None  # Reddit submissions
    subreddit: str | None = None
    link_post: bool = False  # Reddit: a link post (url only, as the share link makes it)
    reply_to: int | None = None  # index of an earlier scripted post (a Reddit comment)
    copied: str | None = None  # "talking_point" | "post": what the desk should flag as scripted
    likes: int = 0  # X likes / Reddit score the API reports
    about_event: bool = True


_L = EVENT_LINK
_H = EVENT_HASHTAG
SCRIPT = (
    # 0: an employee, own words
    Scripted(
        "sam",
        "x",
        f"Two days of hallway chats in Rotterdam soon - I'll be at the booth talking about how "
        f"our crews plan fuel. Come say hi! {_H}",
        likes=12,
    ),
    # 1: an employee, own words
    Scripted(
        "priya",
        "x",
        f"Honestly the thing I'm most excited about at {_H} is finally meeting the folks who "
        f"build our scheduling tools. {_L}",
        likes=31,
    ),
    # 2: the same employee on Reddit: a link post, the title in her words
    Scripted(
        "priya",
        "reddit",
        "",
        title="Ops person here: our summit streams every session this year, AMA about the neo",
        subreddit="aviation",
        link_post=True,
        likes=45,
    ),
    # 3: an employee pasting a talking point
    Scripted(
        "jonas",
        "x",
        f"{TALKING_POINTS[1]} {_H} {_L}",
        copied="talking_point",
        likes=3,
    ),
    # 4: an internal speaker, own words
    Scripted(
        "maria",
        "x",
        f"Speaking at {_H} about what less fuel per seat actually means for a dispatcher's "
        f"night shift. Slides are done, nerves are not.",
        likes=88,
    ),
    # 5: an outside speaker, own words
    Scripted(
        "ada",
        "x",
        f"Looking forward to the SAF panel at {_H} - I'll bring the lifecycle numbers nobody "
        f"likes to put on a slide. {_L}",
        likes=240,
    ),
    # 6: the outside speaker on Reddit, own words with the link
    Scripted(
        "ada",
        "reddit",
        f"I'm on a panel at the Northwind summit next week and happy to answer questions on "
        f"sustainable fuel here first. Programme: {_L}",
        title="Researcher on sustainable aviation fuel, speaking at a summit next week",
        subreddit="aviation",
        likes=120,
    ),
    # 7: an employee copying a colleague's post (1) near-verbatim
    Scripted(
        "sam",
        "x",
        f"Honestly the thing I'm most excited about at {_H} is meeting the folks who build "
        f"our scheduling tools!",
        copied="post",
        likes=2,
    ),
    # 8-11: outsiders (earned reach)
    Scripted(
        "tom",
        "x",
        f"Anyone else going to {_H}? The cockpit tour alone is worth the train ride.",
        likes=57,
    ),
    Scripted(
        "rita",
        "x",
        f"Streaming the Northwind summit tomorrow from my couch: {_L}?ref=newsletter",
        likes=9,
    ),
    Scripted(
        "kai",
        "reddit",
        f"Following this - will the {_H} recordings have subtitles?",
        reply_to=6,
        likes=4,
    ),
    Scripted(
        "tom",
        "reddit",
        f"Summit in Rotterdam with a free stream: {_L}",
        title="Free livestream of an aviation sustainability summit",
        subreddit="travel",
        likes=33,
    ),
    # 12: last year's hashtag and an employee's ordinary post: not about this event
    Scripted(
        "rita",
        "x",
        "Still think #NWSummit25 had the best coffee of any conference.",
        about_event=False,
    ),
    Scripted(
        "jonas",
        "x",
        "Long day of rosters at Northwind Air. Off to the gym, then pizza.",
        about_event=False,
    ),
)

# A trickle for the live demo: people keep talking while it runs.
_TRICKLE = (
    ("tom", f"Day plan for {_H}: SAF panel, cockpit tour, then every coffee stand."),
    ("rita", f"The {_H} stream quality is great so far. {_L}"),
    ("kai", f"First time watching {_H}. Didn't expect a dispatcher talk to be this funny."),
    ("priya", f"Hallway track at {_H} is the best track. Three people asked about our rosters!"),
    ("sam", f"Booth update from {_H}: we ran out of the little plane pins in an hour."),
    ("jonas", f"{TALKING_POINTS[2]} {_H}"),  # another pasted talking point
)


def visible_followers(network: str, person: Person) -> int | None:
    """The follower count the sandbox's API shows for an author (Reddit's listings show none)."""
    return person.followers if network == "x" else None


class EventTraffic:
    """Publishes the demo event's traffic into a SandboxState."""

    def __init__(
        self,
        state: SandboxState,
        *,
        networks: tuple[str, ...] = ("x", "reddit"),
        seed: int | None = None,
    ) -> None:
        self.state = state
        self.networks = networks
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._pacer = Pacer(
            self.publish_trickle, name="sandbox-event-traffic", rng=self._rng, jitter=(0.5, 1.5)
        )

    def setup(self) -> None:
        """Accounts for every person on the networks they use (safe to call again)."""
        with self._lock:
            for person in PEOPLE.values():
                for network, handle in person.handles.items():
                    if network in self.networks:
                        self.state.add_account(
                            network,
                            handle,
                            person.name,
                            followers=person.followers,
                            kind=person.role,
                        )

    def publish_script(
        self, *, now: datetime | None = None, span: timedelta = timedelta(hours=1)
    ) -> list[dict[str, Any]]:
        """Publish SCRIPT's posts for these networks, dated evenly over `span` up to `now`."""
        now = now or datetime.now(UTC)
        self.setup()
        chosen = [(i, s) for i, s in enumerate(SCRIPT) if s.network in self.networks]
        published: dict[int, Post] = {}
        records = []
        with self._lock:
            for n, (index, scripted) in enumerate(chosen):
                at = now - span + span * (n + 1) / len(chosen)
                post = self._publish(scripted, at, published)
                published[index] = post
                records.append(self._record(post, scripted))
        return records

    def publish_trickle(self, *, now: datetime | None = None) -> dict[str, Any]:
        """One more post from the trickle (X), for the live demo."""
        key, text = self._rng.choice(_TRICKLE)
        copied = "talking_point" if any(p in text for p in TALKING_POINTS) else None
        scripted = Scripted(key, "x", text, copied=copied, likes=self._rng.randint(0, 40))
        with self._lock:
            self.setup()
            post = self._publish(scripted, now or datetime.now(UTC), {})
        return self._record(post, scripted)

    def start(self, posts_per_minute: float) -> None:
        self._pacer.start(posts_per_minute)

    def stop(self) -> None:
        self._pacer.stop()

    # ---------------------------------------------------------------------------------------
    def _publish(self, scripted: Scripted, at: datetime, earlier: dict[int, Post]) -> Post:
        person = PEOPLE[scripted.person]
        handle = person.handles[scripted.network]
        extra: dict[str, Any] = {"likes": scripted.likes}
        in_reply_to = None
        if scripted.network == "reddit":
            extra["score"] = max(scripted.likes, 1)
            if scripted.reply_to is not None:
                in_reply_to = earlier[scripted.reply_to].id
            else:
                extra["subreddit"] = scripted.subreddit or "aviation"
                extra["title"] = scripted.title or ""
            if scripted.link_post:
                extra["url"] = f"{EVENT_LINK}?ref=share-{handle}"
        return self.state.publish(
            scripted.network,
            handle,
            scripted.text,
            in_reply_to_id=in_reply_to,
            created_at=at,
            **extra,
        )

    @staticmethod
    def _record(post: Post, scripted: Scripted) -> dict[str, Any]:
        person = PEOPLE[scripted.person]
        # Engagement as the API reports it: X likes (no retweets or replies here); Reddit score.
        engagement = scripted.likes if post.network == "x" else max(scripted.likes, 1)
        return {
            "network": post.network,
            "id": post.id,
            "author": person.handles[post.network],
            "person": person.key,
            "role": person.role,
            "about_event": scripted.about_event,
            "copied": scripted.copied,
            "followers": visible_followers(post.network, person),
            "engagement": engagement,
            "text": post.text,
            "title": post.extra.get("title"),
            "url": post.extra.get("url"),
            "in_reply_to_id": post.in_reply_to_id,
            "created_at": post.created_at.isoformat(),
        }


def expected_figures(records: list[dict[str, Any]]) -> dict[str, int]:
    """What an event report over these records should say (posts about the event only)."""
    about = [r for r in records if r["about_event"]]
    voices = {(r["network"], r["author"]): r["followers"] or 0 for r in about}
    # A Reddit submission's engagement includes its comments (num_comments).
    comments = [(r["network"], r["in_reply_to_id"]) for r in records if r["in_reply_to_id"]]
    return {
        "employee_posts": sum(r["role"] == "employee" for r in about),
        "speaker_posts": sum(r["role"] == "speaker" for r in about),
        "earned_posts": sum(r["role"] == "outsider" for r in about),
        "unique_voices": len(voices),
        "reach": sum(voices.values()),
        "scripted": sum(r["copied"] is not None for r in about),
        "engagement": sum(
            r["engagement"]
            + (comments.count((r["network"], r["id"])) if r["network"] == "reddit" else 0)
            for r in about
        ),
    }
