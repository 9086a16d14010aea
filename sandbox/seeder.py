"""Realistic traffic on the sandbox network: the demo's cast posting complaints, praise, spam...

    seeder = Seeder(state, networks=("x", "reddit"), seed=7)
    seeder.setup()                  # the cast's accounts (idempotent)
    seeder.backlog(50)              # 50 posts per network spread over the past hours
    seeder.start(posts_per_minute=4)  # then a few posts a minute, in a daemon thread
    seeder.publish_batch(10)        # "faster on demand" (POST /_sandbox/seed)

Every publishing method returns one dict per post saying what it is (kind, topic, whether the
listener should match it...), so tests and benchmarks know the expected answer.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox import story
from sandbox.pacing import Pacer
from sandbox.state import Post, SandboxState

KINDS = (
    "complaint",
    "praise",
    "question",
    "chatter",
    "competitor",
    "spam",
    "noise",
    "foreign",
    "hostile",
    "followup",
)

# Roughly what a brand's listening feed looks like: mostly complaints and chatter, a little spam.
KIND_WEIGHTS = {
    "complaint": 30,
    "praise": 10,
    "question": 11,
    "chatter": 12,
    "competitor": 8,
    "spam": 4,
    "noise": 13,
    "foreign": 8,
    "hostile": 4,
}
FOLLOWUP_SHARE = 0.15  # of posts, while some thread waits for its author to come back
MIN_THREAD_AGE = 3  # posts published between a thread's start and its follow-up
REDDIT_COMMENT_SHARE = 0.3  # of Reddit posts that answer an earlier submission
INFLUENCER_SHARE = 0.08
_RECENT = 50  # how many open threads / submissions to remember

# Posts from these kinds talk about airlines; comments only join submissions of the same family.
_AIRLINE_KINDS = {"complaint", "praise", "question", "chatter", "competitor", "foreign", "hostile"}

_URL = re.compile(r"(?:https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:ly|com|xyz|net|org|io)(?:/\S*)?)")


def _x_weight(char: str) -> int:
    # X counts most Latin/Cyrillic/punctuation as 1 and everything else (CJK, emoji...) as 2.
    cp = ord(char)
    if cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037:
        return 1
    return 2


def text_length(network: str, text: str) -> int:
    """The post's length as `network` counts it, rounded up where we only approximate."""
    if network == "x":
        length = sum(_x_weight(c) for c in text)
        for url in _URL.findall(text):  # every link costs 23, however short
            length += max(0, 23 - len(url))
        return length
    # Bluesky counts graphemes; code points are never fewer, so this errs on the safe side.
    return len(text)


def fits(network: str, text: str, title: str | None = None) -> bool:
    if text_length(network, text) > story.TEXT_LIMITS[network]:
        return False
    return title is None or len(title) <= story.REDDIT_TITLE_LIMIT


@dataclass
class _Thread:
    """A complaint whose author will come back to it."""

    network: str
    post_id: str
    author: str
    topic: str
    opened_at: int  # the seeder's post counter when it was published
    subreddit: str | None = None


@dataclass
class _Submission:
    post_id: str
    author: str
    kind: str
    subreddit: str


class Seeder:
    """Publishes the demo's story into a SandboxState. Deterministic for a given `seed`."""

    def __init__(
        self,
        state: SandboxState,
        *,
        networks: Iterable[str] = ("x", "reddit"),
        seed: int | None = None,
    ) -> None:
        self.state = state
        self.networks = tuple(networks)
        unknown = [n for n in self.networks if n not in story.TEXT_LIMITS]
        if unknown or not self.networks:
            raise ValueError(f"unknown networks {unknown}; expected some of {story.TEXT_LIMITS}")
        self._rng = random.Random(seed)
        # Pacing has its own generator so the live thread's jitter doesn't change the content.
        self._pacing = random.Random(None if seed is None else seed + 1)
        self._lock = threading.RLock()
        self._count = 0
        self._threads: list[_Thread] = []
        self._submissions: list[_Submission] = []
        self._ready = False
        self._pacer = Pacer(
            self.publish_one, name="sandbox-seeder", rng=self._pacing, jitter=(0.4, 1.6)
        )

    # setup ------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the cast's accounts on every network (safe to call again)."""
        with self._lock:
            for network in self.networks:
                for member in story.CAST:
                    self.state.add_account(
                        network,
                        member.handle_on(network),
                        member.display_name,
                        followers=member.followers,
                        is_brand=member.is_brand,
                        kind=member.kind,
                    )
            self._ready = True

    # publishing -------------------------------------------------------------------------------
    def publish_batch(self, n: int) -> list[dict[str, Any]]:
        """Publish `n` posts now on randomly chosen networks."""
        with self._lock:
            return [self.publish_one() for _ in range(n)]

    def publish_one(
        self,
        network: str | None = None,
        kind: str | None = None,
        *,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Publish one post; `kind` forces its kind ("followup" needs an open thread)."""
        with self._lock:
            if not self._ready:
                self.setup()
            network = network or self._rng.choice(self.networks)
            if network not in self.networks:
                raise ValueError(f"this seeder does not post on {network!r}")
            kind = kind or self._choose_kind(network)
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
            if kind == "followup":
                record = self._publish_followup(network, created_at)
            else:
                record = self._publish_new(network, kind, created_at)
            self._count += 1
            return record

    def backlog(
        self, n_per_network: int, *, hours: float = 6.0, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Publish `n_per_network` posts per network dated over the past `hours`, oldest first.

        Ids grow with time, so the posts go out in chronological order, all after anything the
        network already holds.
        """
        now = now or datetime.now(UTC)
        with self._lock:
            moments: list[tuple[datetime, int, str]] = []
            for network in self.networks:
                start = now - timedelta(hours=hours)
                existing = self.state.list_posts(network)
                if existing:
                    start = max(start, max(p.created_at for p in existing))
                span = (now - start).total_seconds()
                for i in range(n_per_network):
                    offset = timedelta(seconds=self._rng.uniform(0, span))
                    moments.append((start + offset + timedelta(microseconds=1), i, network))
            moments.sort()
            return [self.publish_one(network, created_at=at) for at, _, network in moments]

    # the live thread --------------------------------------------------------------------------
    def start(self, posts_per_minute: float) -> None:
        """Publish about `posts_per_minute` posts a minute, with jitter, until stop()."""
        self._pacer.start(posts_per_minute)

    def stop(self) -> None:
        self._pacer.stop()

    @property
    def running(self) -> bool:
        return self._pacer.running

    # choosing ---------------------------------------------------------------------------------
    def _open_threads(self, network: str) -> list[_Thread]:
        return [
            t
            for t in self._threads
            if t.network == network and self._count - t.opened_at >= MIN_THREAD_AGE
        ]

    def _choose_kind(self, network: str) -> str:
        if self._open_threads(network) and self._rng.random() < FOLLOWUP_SHARE:
            return "followup"
        kinds = list(KIND_WEIGHTS)
        return self._rng.choices(kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]

    def _choose_author(self, kind: str, template: story.Template) -> story.CastMember:
        rng = self._rng
        if kind == "spam":
            return rng.choice(story.SPAMMERS)
        if template.lang != "en":
            speakers = [m for m in story.CUSTOMERS if template.lang in m.langs]
            if speakers:
                return rng.choice(speakers)
        if kind == "noise":
            return rng.choice([m for m in story.CUSTOMERS if m.handle in story.NOISE_AUTHORS])
        if rng.random() < INFLUENCER_SHARE:
            return rng.choice(story.INFLUENCERS)
        return rng.choice(story.CUSTOMERS)

    def _render(
        self, network: str, kind: str, *, with_title: bool
    ) -> tuple[story.Template, str, str | None]:
        """A template of `kind` rendered for `network`, within its limits."""
        limit = story.TEXT_LIMITS[network]
        candidates = [t for t in story.TEMPLATES[kind] if text_length(network, t.text) <= limit]
        for _ in range(50):
            template = self._rng.choice(candidates)
            if template.text == "{near_limit}":
                text = story.near_limit_text(network, self._rng, limit)
            else:
                text = story.render(template.text, network, self._rng)
            title = None
            if with_title:
                title_template = template.title or self._rng.choice(story.TITLES[kind])
                title = story.render(title_template, network, self._rng, mention_share=0)
            if fits(network, text, title):
                return template, text, title
        raise RuntimeError(f"no {kind} template fits {network}")  # a bug in story.py

    # publishing one ---------------------------------------------------------------------------
    def _publish_new(self, network: str, kind: str, created_at: datetime | None) -> dict[str, Any]:
        rng = self._rng
        parent: _Submission | None = None
        if network == "reddit" and rng.random() < REDDIT_COMMENT_SHARE:
            parent = self._pick_submission(kind)
        template, text, title = self._render(
            network, kind, with_title=(network == "reddit" and parent is None)
        )
        author = self._choose_author(kind, template).handle_on(network)
        if parent is not None and parent.author == author:
            parent = None  # people rarely comment on their own post out of the blue
            title = story.render(
                template.title or rng.choice(story.TITLES[kind]), network, rng, mention_share=0
            )
        extra: dict[str, Any] = {}
        if network == "reddit":
            if parent is not None:
                extra["subreddit"] = parent.subreddit
            else:
                extra["subreddit"] = rng.choice(template.subreddits or story.SUBREDDITS[kind])
                extra["title"] = title
        post = self.state.publish(
            network,
            author,
            text,
            in_reply_to_id=parent.post_id if parent else None,
            lang=template.lang,
            created_at=created_at,
            **extra,
        )
        if network == "reddit" and parent is None:
            self._remember(
                self._submissions, _Submission(post.id, author, kind, extra["subreddit"])
            )
        if template.opens_thread and template.topic in story.FOLLOWUPS:
            self._remember(
                self._threads,
                _Thread(
                    network, post.id, author, template.topic, self._count, extra.get("subreddit")
                ),
            )
        return self._record(post, kind, template.topic, author)

    def _publish_followup(self, network: str, created_at: datetime | None) -> dict[str, Any]:
        open_threads = self._open_threads(network)
        if not open_threads:
            raise ValueError(f"no thread on {network} is waiting for a follow-up")
        thread = self._rng.choice(open_threads)
        self._threads.remove(thread)
        text = story.render(self._rng.choice(story.FOLLOWUPS[thread.topic]), network, self._rng)
        extra = {"subreddit": thread.subreddit} if network == "reddit" else {}
        post = self.state.publish(
            network,
            thread.author,
            text,
            in_reply_to_id=thread.post_id,
            lang="en",
            created_at=created_at,
            **extra,
        )
        return self._record(post, "followup", thread.topic, thread.author)

    def _pick_submission(self, kind: str) -> _Submission | None:
        if kind == "spam":  # spammers comment anywhere
            pool = self._submissions
        else:
            family = kind in _AIRLINE_KINDS
            pool = [s for s in self._submissions if (s.kind in _AIRLINE_KINDS) == family]
        return self._rng.choice(pool) if pool else None

    @staticmethod
    def _remember(items: list[Any], item: Any) -> None:
        items.append(item)
        del items[:-_RECENT]

    def _record(self, post: Post, kind: str, topic: str | None, author: str) -> dict[str, Any]:
        title = post.extra.get("title")
        searchable = f"{title}\n{post.text}" if title else post.text
        mention = story.brand_mention(post.network)
        return {
            "network": post.network,
            "id": post.id,
            "kind": kind,
            "topic": topic,
            "author": author,
            "text": post.text,
            "title": title,
            "subreddit": post.extra.get("subreddit"),
            "lang": post.lang,
            "in_reply_to_id": post.in_reply_to_id,
            "conversation_id": post.conversation_id,
            "created_at": post.created_at.isoformat(),
            # What the listener should conclude (Reddit searches title and body together).
            "matches_brand": story.matches_brand(searchable),
            "matches_competitor": story.matches_competitor(searchable),
            "mentions_brand_account": re.search(
                rf"(?<![\w@/]){re.escape(mention)}(?!\w)(?!\.\w)", post.text, re.IGNORECASE
            )
            is not None,
        }
