"""The seeder's traffic: every kind, within each network's limits, repeatable, threads that hold
together, and labels (matches_brand...) that agree with the listener's real matcher."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import load_config
from listener.sources.matching import BrandMatcher
from sandbox import story
from sandbox.seeder import KINDS, Seeder
from sandbox.state import NETWORKS, SandboxState

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


@pytest.fixture(scope="module")
def demo_brands():
    return load_config(DEMO_CONFIG).brands


@pytest.fixture(scope="module")
def traffic() -> tuple[SandboxState, list[dict]]:
    state = SandboxState()
    records = Seeder(state, networks=NETWORKS, seed=11).publish_batch(600)
    return state, records


def _x_length(text: str) -> int:
    # Independent of the seeder's count: anything outside Latin-ish ranges counts double on X.
    return sum(1 if ord(c) <= 0x10FF else 2 for c in text)


def test_every_kind_is_published_on_every_network(traffic):
    _, records = traffic
    assert {r["kind"] for r in records} == set(KINDS)
    assert {r["network"] for r in records} == set(NETWORKS)


def test_cast_accounts_exist_once_with_a_brand_account_per_network():
    state = SandboxState()
    seeder = Seeder(state, networks=NETWORKS, seed=1)
    seeder.setup()
    seeder.setup()  # idempotent
    for network in NETWORKS:
        accounts = list(state.accounts[network].values())
        assert len(accounts) == len(story.CAST)
        assert state.brand_account(network).handle == story.brand_handle(network)
        kinds = {a.kind for a in accounts}
        assert {"customer", "influencer", "spammer"} <= kinds
        assert sum(a.followers >= 100_000 for a in accounts if not a.is_brand) >= 3
    assert len(story.CUSTOMERS) >= 30


def test_posts_respect_each_networks_limits(traffic):
    state, records = traffic
    for r in records:
        limit = story.TEXT_LIMITS[r["network"]]
        length = _x_length(r["text"]) if r["network"] == "x" else len(r["text"])
        assert length <= limit, r
        assert r["text"].strip(), r


def test_the_near_limit_case_comes_close_to_the_limit_without_passing_it():
    for network in NETWORKS:
        seeder = Seeder(SandboxState(), networks=[network], seed=5)
        lengths = [len(seeder.publish_one(network, "hostile")["text"]) for _ in range(80)]
        limit = story.TEXT_LIMITS[network]
        assert max(lengths) <= limit
        assert max(lengths) >= limit - 60, (network, max(lengths))


def test_reddit_submissions_have_a_title_and_comments_answer_submissions(traffic):
    state, records = traffic
    reddit = [r for r in records if r["network"] == "reddit"]
    submissions = [r for r in reddit if r["in_reply_to_id"] is None]
    comments = [r for r in reddit if r["in_reply_to_id"] is not None]
    assert submissions and comments
    for r in submissions:
        assert r["title"] and len(r["title"]) <= story.REDDIT_TITLE_LIMIT
        assert r["subreddit"]
    for r in comments:
        parent = state.post("reddit", r["in_reply_to_id"])
        assert r["title"] is None
        assert r["subreddit"] == parent.extra["subreddit"]
        if r["kind"] != "followup":  # follow-ups answer the author's own post, maybe a comment
            assert parent.in_reply_to_id is None  # a submission
    assert {"travel", "flights", "personalfinance"} <= {r["subreddit"] for r in submissions}


def test_a_share_of_complaints_mention_the_brand_account(traffic):
    _, records = traffic
    for network in ("x", "reddit"):
        complaints = [r for r in records if r["network"] == network and r["kind"] == "complaint"]
        mentioning = [r for r in complaints if r["mentions_brand_account"]]
        assert 0.2 <= len(mentioning) / len(complaints) <= 0.8
        assert all(story.brand_mention(network) in r["text"] for r in mentioning)


def test_same_seed_same_traffic_other_seed_other_traffic():
    def run(seed: int) -> list[tuple]:
        records = Seeder(SandboxState(), networks=NETWORKS, seed=seed).publish_batch(120)
        return [
            (r["network"], r["id"], r["kind"], r["author"], r["text"], r["title"]) for r in records
        ]

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_followups_reply_in_the_authors_own_thread(traffic):
    state, records = traffic
    by_id = {(r["network"], r["id"]): r for r in records}
    followups = [r for r in records if r["kind"] == "followup"]
    assert len(followups) >= 10
    for r in followups:
        starter = by_id[(r["network"], r["in_reply_to_id"])]
        assert starter["kind"] == "complaint"
        assert starter["author"] == r["author"]
        assert r["conversation_id"] == starter["conversation_id"]
        assert r["topic"] == starter["topic"]
        post = state.post(r["network"], r["id"])
        assert state.accounts[r["network"]][post.author_id].handle == r["author"]
    # Each starter gets at most one follow-up, published after it.
    starters = [(r["network"], r["in_reply_to_id"]) for r in followups]
    assert len(starters) == len(set(starters))


def test_story_terms_are_a_faithful_copy_of_the_demo_config(demo_brands):
    northwind, skyline = demo_brands
    assert set(story.BRAND_TERMS) == set(northwind.terms)
    assert set(story.BRAND_EXCLUDE) == set(northwind.exclude)
    assert set(story.COMPETITOR_TERMS) == set(skyline.terms)


def test_labels_agree_with_the_listeners_matcher(traffic, demo_brands):
    _, records = traffic
    matcher = BrandMatcher(demo_brands)
    for r in records:
        text = f"{r['title']}\n{r['text']}" if r["title"] else r["text"]
        ours = matcher.match(text, prefer="Northwind Air")
        theirs = matcher.match(text, prefer="Skyline Airways")
        assert r["matches_brand"] == (ours is not None and ours.brand == "Northwind Air"), r
        assert r["matches_competitor"] == (
            theirs is not None and theirs.brand == "Skyline Airways"
        ), r


def test_noise_matches_no_brand_but_brand_kinds_do(traffic, demo_brands):
    _, records = traffic
    matcher = BrandMatcher(demo_brands)
    noise = [r for r in records if r["kind"] == "noise"]
    assert any("Northwind Traders" in r["text"] for r in noise)
    for r in noise:
        assert matcher.match(f"{r['title'] or ''}\n{r['text']}") is None, r
        assert not r["matches_brand"] and not r["matches_competitor"]
    for kind in ("complaint", "praise", "question", "chatter", "spam", "foreign"):
        # A bare "u/northwindair" finds no brand term, but lands in the account's inbox.
        posts = [r for r in records if r["kind"] == kind and r["in_reply_to_id"] is None]
        assert all(r["matches_brand"] or r["mentions_brand_account"] for r in posts), kind
        assert sum(r["matches_brand"] for r in posts) > len(posts) / 2, kind
    assert all(r["matches_competitor"] for r in records if r["kind"] == "competitor")


def test_foreign_and_hostile_posts_carry_their_language(traffic):
    _, records = traffic
    assert {"es", "fr", "de", "pt"} <= {r["lang"] for r in records if r["kind"] == "foreign"}
    hostile = " ".join(r["text"] for r in records if r["kind"] == "hostile")
    assert "<script>" in hostile and "\u200b" in hostile


def test_backlog_is_chronological_and_spread_over_the_past_hours():
    state = SandboxState()
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    records = Seeder(state, networks=("x", "reddit"), seed=3).backlog(40, hours=6, now=now)
    assert len(records) == 80
    for network in ("x", "reddit"):
        posts = state.list_posts(network)
        assert len(posts) == 40
        times = [p.created_at for p in posts]  # in id order
        assert times == sorted(times)
        assert now - timedelta(hours=6) <= times[0] and times[-1] <= now
        assert times[-1] - times[0] > timedelta(hours=3)
    # A second backlog lands after the first, so ids keep growing with time.
    more = Seeder(state, networks=("x",), seed=4).backlog(5, hours=6, now=now)
    assert min(r["created_at"] for r in more) > max(r["created_at"] for r in records[:80])


def test_live_thread_publishes_until_stopped():
    state = SandboxState()
    seeder = Seeder(state, networks=("x",), seed=9)
    seeder.start(posts_per_minute=1200)  # one every ~50 ms
    try:
        deadline = time.monotonic() + 10
        while len(state.list_posts("x")) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        seeder.stop()
    assert not seeder.running
    published = len(state.list_posts("x"))
    assert published >= 3
    time.sleep(0.2)
    assert len(state.list_posts("x")) == published


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        Seeder(SandboxState(), networks=("myspace",))
    seeder = Seeder(SandboxState(), networks=("x",), seed=1)
    with pytest.raises(ValueError):
        seeder.publish_one("x", "followup")  # no thread is open yet
    with pytest.raises(ValueError):
        seeder.publish_one("x", "poetry")
    with pytest.raises(ValueError):
        seeder.start(posts_per_minute=0)
