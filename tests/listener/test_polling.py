"""poll_once end to end: the real XSource (tweepy) and RedditSource (praw) against the sandbox over
HTTP, into the real test database, with faults injected on the sandbox's side."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from config.settings import SourceConfig, load_config
from listener import health
from listener.polling import poll_once
from listener.sources.matching import BrandMatcher
from listener.sources.registry import build_source
from listener.store.ingest import load_cursors
from listener.store.models import Mention, RejectedPayload, SourceHealth
from sandbox.seeder import Seeder

BRANDS = load_config(Path(__file__).resolve().parents[2] / "config" / "demo.toml").brands
CREDENTIALS = {
    "x": {"bearer_token": "MD_TEST_X_BEARER"},
    "reddit": {
        "client_id": "MD_TEST_REDDIT_ID",
        "client_secret": "MD_TEST_REDDIT_SECRET",
        "username": "MD_TEST_REDDIT_USER",
        "password": "MD_TEST_REDDIT_PASSWORD",
    },
}
# A u/ mention as Reddit's inbox counts it (the seeder's rule).
REDDIT_MENTION = re.compile(r"(?<![\w@/])u/northwindair(?!\w)(?!\.\w)", re.IGNORECASE)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for creds in CREDENTIALS.values():
        for env_name in creds.values():
            monkeypatch.setenv(env_name, f"sandbox-{env_name.lower()}")
    # Reddit's inbox is the logged-in user's: log in as the brand account.
    monkeypatch.setenv("MD_TEST_REDDIT_USER", "northwindair")


@pytest.fixture
def seeder(sandbox) -> Seeder:
    seeder = Seeder(sandbox.state, seed=11)
    seeder.setup()
    # Reddit's real pacing (1000 requests / 10 min) would make prawcore sleep between requests,
    # and after a 429 it sleeps until the window's reset: keep windows short and generous.
    requests.post(
        f"{sandbox.url}/reddit/_sandbox/rate_limit",
        json={"requests_per_window": 1_000_000, "window_seconds": 2},
        timeout=5,
    ).raise_for_status()
    return seeder


def make_source(sandbox, network: str, **overrides):
    config = SourceConfig(
        name=network,
        network=network,
        api_base_url=f"{sandbox.url}/{network}",
        account_handle="northwindair",
        credentials=CREDENTIALS[network],
        **overrides,
    )
    return build_source(config, BRANDS)


def expected_ids(sandbox, network: str) -> set[str]:
    """What the listener must store, by the sandbox's own record of what was published."""
    matcher = BrandMatcher(BRANDS)
    snapshot = requests.get(f"{sandbox.url}/_sandbox/state", timeout=10).json()
    ids = set()
    for post in snapshot["posts"][network]:
        if network == "x":
            if matcher.match(post["text"]):
                ids.add(post["id"])
        elif post["in_reply_to_id"] is None:  # a submission: brand search sees title + body
            title = post["extra"].get("title")
            if matcher.match(f"{title}\n\n{post['text']}" if title else post["text"]):
                ids.add(f"t3_{post['id']}")
        elif REDDIT_MENTION.search(post["text"]):  # a comment: only inbox mentions reach us
            ids.add(f"t1_{post['id']}")
    return ids


def stored_ids(session, network: str) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Mention.external_id).where(Mention.network == network)))


def health_of(session, name: str) -> SourceHealth:
    session.expire_all()
    return session.get(SourceHealth, name)


@pytest.fixture
def x_source(sandbox, seeder, credentials):
    return make_source(sandbox, "x", max_pages=3, request_timeout_seconds=1.0)


@pytest.fixture
def reddit_source(sandbox, seeder, credentials):
    return make_source(sandbox, "reddit", subreddits=["all"], max_pages=3)


def test_polls_both_networks_and_stores_each_mention_once(
    sandbox, seeder, x_source, reddit_source, session_factory, session
):
    seeder.backlog(40)

    for source in (x_source, reddit_source):
        outcome = poll_once(session_factory, source)
        assert outcome.error is None
        assert outcome.stored == len(expected_ids(sandbox, source.network)) > 0
        assert sorted(stored_ids(session, source.network)) == sorted(
            expected_ids(sandbox, source.network)
        )
        assert load_cursors(session, source.name)  # every stream's position saved
        state = health_of(session, source.name)
        assert state.last_success_at is not None
        assert state.consecutive_failures == 0
        assert state.mentions_stored == outcome.stored

    seeder.backlog(10)
    for source in (x_source, reddit_source):
        again = poll_once(session_factory, source)
        assert again.error is None
        assert sorted(stored_ids(session, source.network)) == sorted(
            expected_ids(sandbox, source.network)
        )
    assert poll_once(session_factory, x_source).stored == 0


@pytest.mark.parametrize("limited", ["x", "reddit"])
def test_rate_limit_pauses_only_that_source_until_its_reset(
    limited, sandbox, seeder, x_source, reddit_source, session_factory, session
):
    sources = {"x": x_source, "reddit": reddit_source}
    other = "reddit" if limited == "x" else "x"
    seeder.backlog(20)
    sandbox.state.add_fault(network=limited, kind="rate_limit", count=1)

    failed = poll_once(session_factory, sources[limited])
    assert failed.stored == 0
    assert "rate" in failed.error.lower()
    paused_until = health_of(session, limited).paused_until
    assert paused_until > datetime.now(UTC) - timedelta(seconds=1)
    assert stored_ids(session, limited) == []

    # Still inside the pause: skipped without asking the network; the other source goes on.
    skipped = poll_once(session_factory, sources[limited], now=paused_until - timedelta(seconds=1))
    assert skipped.skipped_until == paused_until
    assert poll_once(session_factory, sources[other]).stored == len(expected_ids(sandbox, other))

    resumed = poll_once(session_factory, sources[limited], now=paused_until + timedelta(seconds=1))
    assert resumed.error is None
    assert sorted(stored_ids(session, limited)) == sorted(expected_ids(sandbox, limited))
    assert health_of(session, limited).paused_until is None


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "server_error", "status": 503, "count": 2},
        {"kind": "timeout", "delay_seconds": 2.0, "count": 2},
    ],
    ids=["5xx", "timeout"],
)
def test_server_errors_and_timeouts_back_off_then_resume_losing_nothing(
    fault, sandbox, seeder, x_source, session_factory, session
):
    seeder.backlog(20)
    t0 = datetime.now(UTC)
    first = poll_once(session_factory, x_source)
    assert first.error is None
    seeder.backlog(20)  # published while the network is failing
    sandbox.state.add_fault(network="x", **fault)

    clock = t0
    for failures in (1, 2):
        clock += timedelta(hours=1)
        outcome = poll_once(session_factory, x_source, now=clock)
        assert outcome.error is not None
        state = health_of(session, "x")
        assert state.consecutive_failures == failures
        assert state.last_error_at == clock
        assert clock < state.paused_until <= clock + health.BACKOFF_CAP
        assert poll_once(session_factory, x_source, now=clock).skipped_until == state.paused_until

    clock += timedelta(hours=1)
    assert poll_once(session_factory, x_source, now=clock).error is None
    assert sorted(stored_ids(session, "x")) == sorted(expected_ids(sandbox, "x"))
    state = health_of(session, "x")
    assert state.consecutive_failures == 0
    assert state.last_error  # the last failure stays on record


@pytest.mark.parametrize("network", ["x", "reddit"])
def test_malformed_page_records_the_error_and_keeps_the_cursor(
    network, sandbox, seeder, x_source, reddit_source, session_factory, session
):
    source = {"x": x_source, "reddit": reddit_source}[network]
    seeder.backlog(20)
    assert poll_once(session_factory, source).error is None
    cursors_before = load_cursors(session, network)
    seeder.backlog(20)
    # The last stream read (the mentions) breaks, after the searches have advanced in memory.
    path = "/mentions" if network == "x" else "/message/mentions"
    sandbox.state.add_fault(network=network, kind="malformed", path_contains=path, count=1)

    failed = poll_once(session_factory, source)
    assert failed.error is not None
    assert health_of(session, network).last_error == failed.error
    assert load_cursors(session, network) == cursors_before
    assert len(stored_ids(session, network)) < len(expected_ids(sandbox, network))

    later = datetime.now(UTC) + health.BACKOFF_CAP + timedelta(seconds=1)
    assert poll_once(session_factory, source, now=later).error is None
    assert sorted(stored_ids(session, network)) == sorted(expected_ids(sandbox, network))


@pytest.mark.parametrize("network", ["x", "reddit"])
def test_malformed_item_is_kept_as_rejected_and_the_rest_stored(
    network, sandbox, seeder, x_source, reddit_source, session_factory, session
):
    source = {"x": x_source, "reddit": reddit_source}[network]
    seeder.backlog(30)
    sandbox.state.add_fault(
        network=network, kind="malformed_item", path_contains="/search", count=1
    )

    outcome = poll_once(session_factory, source)
    assert outcome.error is None
    assert outcome.rejected == 1
    rejected = session.scalars(select(RejectedPayload)).all()
    assert len(rejected) == 1
    assert rejected[0].source_name == network
    assert rejected[0].payload  # the raw item, for someone to look at
    expected = expected_ids(sandbox, network)
    stored = set(stored_ids(session, network))
    assert stored <= expected
    assert len(stored) == outcome.stored >= len(expected) - 1


def test_auth_failure_is_recorded_without_secrets(
    sandbox, seeder, session_factory, session, monkeypatch
):
    monkeypatch.setenv("MD_TEST_X_BEARER", "invalid")
    source = make_source(sandbox, "x")
    outcome = poll_once(session_factory, source)
    assert outcome.error is not None
    state = health_of(session, "x")
    assert state.consecutive_failures == 1
    assert state.paused_until >= state.last_error_at + health.AUTH_FAILED_PAUSE
    assert "invalid" not in state.last_error.replace("invalid_", "")


class ExplodingSource:
    """A Source whose fetch fails with a bug, not a SourceError (the real ones never do)."""

    name = "exploding"
    network = "x"

    def fetch(self, cursors):
        raise KeyError("no such field")


def test_unexpected_error_is_recorded_not_raised(session_factory, session, caplog):
    outcome = poll_once(session_factory, ExplodingSource())
    assert outcome.error == "KeyError: 'no such field'"
    assert health_of(session, "exploding").consecutive_failures == 1
    assert any(r.exc_info for r in caplog.records)  # a bug keeps its stack trace in the log
    assert session.scalar(select(func.count()).select_from(Mention)) == 0
