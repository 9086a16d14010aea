"""kill -9 a polling process mid-poll, again and again; nothing is lost and nothing is doubled.

The child is the real command, `python -m responders.cli poll --once`, reaching the sandbox (run
in this process) over HTTP and writing to the test database (DATABASE_URL). Every request is
slowed down a little so that the polls last long enough to be killed in the middle. Run for X and
Reddit together, and for Mastodon and for Bluesky on their own.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from config.settings import load_config
from listener.sources import bluesky, mastodon
from listener.sources.matching import BrandMatcher
from listener.store.models import Mention
from sandbox import bluesky_api, mastodon_api
from sandbox.seeder import Seeder

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.toml"
BRANDS = load_config(DEMO_CONFIG).brands
REDDIT_MENTION = re.compile(r"(?<![\w@/])u/northwindair(?!\w)(?!\.\w)", re.IGNORECASE)
MASTODON_MENTION = re.compile(r"(?<![\w@/])@northwindair(?!\w)", re.IGNORECASE)
BLUESKY_HANDLE = "northwindair.bsky.social"
BLUESKY_MENTION = re.compile(r"(?<![\w@/])@northwindair\.bsky\.social(?![\w-])", re.IGNORECASE)
TRIALS = 6
CREDENTIAL_NAMES = {
    "x": {"bearer_token": "MENTIONDESK_DEMO_X_BEARER_TOKEN"},
    "reddit": {
        "client_id": "MENTIONDESK_DEMO_REDDIT_CLIENT_ID",
        "client_secret": "MENTIONDESK_DEMO_REDDIT_CLIENT_SECRET",
        "username": "MENTIONDESK_DEMO_REDDIT_USERNAME",
        "password": "MENTIONDESK_DEMO_REDDIT_PASSWORD",
    },
    "mastodon": {"access_token": "MENTIONDESK_DEMO_MASTODON_ACCESS_TOKEN"},
    "bluesky": {
        "handle": "MENTIONDESK_DEMO_BLUESKY_HANDLE",
        "app_password": "MENTIONDESK_DEMO_BLUESKY_APP_PASSWORD",
    },
}
ACCOUNT_HANDLES = {"bluesky": BLUESKY_HANDLE}
# Pages each first poll may read back: the first backlog must fit (see the test).
MAX_PAGES = {"mastodon": 4}
CHILD_ENV = {
    "MENTIONDESK_DEMO_X_BEARER_TOKEN": "crash-test-bearer",
    "MENTIONDESK_DEMO_REDDIT_CLIENT_ID": "crash-test-id",
    "MENTIONDESK_DEMO_REDDIT_CLIENT_SECRET": "crash-test-secret",
    "MENTIONDESK_DEMO_REDDIT_USERNAME": "northwindair",  # the inbox is the brand account's
    "MENTIONDESK_DEMO_REDDIT_PASSWORD": "crash-test-password",
    "MENTIONDESK_DEMO_MASTODON_ACCESS_TOKEN": "crash-test-token",
    "MENTIONDESK_DEMO_BLUESKY_HANDLE": BLUESKY_HANDLE,
    "MENTIONDESK_DEMO_BLUESKY_APP_PASSWORD": "crash-test-app-password",
}
NETWORK_GROUPS = [("x", "reddit"), ("mastodon",), ("bluesky",)]
# Requests in one poll here: X and Reddit 7; Mastodon 9 to 12 (the instance, mentions,
# 3 hashtags, 4 searches, more pages as traffic grows); Bluesky 15 to 17 (login and profile,
# notifications, 7 searches, the authors' profiles). Each poll is killed during a random one of
# them or just after the last (while it stores), whatever the speed of the machine.
REQUESTS_PER_POLL = {("x", "reddit"): 7, ("mastodon",): 10, ("bluesky",): 17}


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_config(tmp_path: Path, sandbox_url: str, networks: tuple[str, ...]) -> Path:
    """The demo's brands, with `networks` (Reddit searching everywhere) on this sandbox, reading
    few pages per poll so that polls take several requests."""
    lines = []
    for brand in BRANDS:
        lines += ["[[brands]]", f"name = {json.dumps(brand.name)}"]
        for field in ("names", "handles", "hashtags", "keywords", "exclude"):
            lines.append(f"{field} = {_toml_list(getattr(brand, field))}")
        lines += [f"competitor = {str(brand.competitor).lower()}", ""]
    for network in networks:
        creds = CREDENTIAL_NAMES[network]
        lines += [
            "[[sources]]",
            f'name = "{network}"',
            f'network = "{network}"',
            f'api_base_url = "{sandbox_url}/{network}"',
            f'account_handle = "{ACCOUNT_HANDLES.get(network, "northwindair")}"',
            f"max_pages = {MAX_PAGES.get(network, 2)}",
            *(['subreddits = ["all"]'] if network == "reddit" else []),
            "[sources.credentials]",
            *(f'{key} = "{env_name}"' for key, env_name in creds.items()),
            "",
        ]
    path = tmp_path / "crash.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert load_config(path).brands == BRANDS
    return path


def expected_ids(sandbox_url: str, networks: tuple[str, ...]) -> set[tuple[str, str]]:
    """Every published post the listener must store, from the sandbox's own state: what a stream
    of each source finds (by the sandbox's own rules) and the brand matcher keeps."""
    matcher = BrandMatcher(BRANDS)
    snapshot = requests.get(f"{sandbox_url}/_sandbox/state", timeout=10).json()
    posts = snapshot["posts"]
    ids: set[tuple[str, str]] = set()
    if "x" in networks:
        ids |= {("x", p["id"]) for p in posts["x"] if matcher.match(p["text"])}
    for post in posts["reddit"] if "reddit" in networks else []:
        if post["in_reply_to_id"] is None:
            title = post["extra"].get("title")
            if matcher.match(f"{title}\n\n{post['text']}" if title else post["text"]):
                ids.add(("reddit", f"t3_{post['id']}"))
        elif REDDIT_MENTION.search(post["text"]):
            ids.add(("reddit", f"t1_{post['id']}"))
    if "mastodon" in networks:
        instance = sandbox_url.removeprefix("http://") + "/mastodon"
        searches = [
            mastodon_api.search_terms(mastodon.search_query(term))
            for brand in BRANDS
            for term in mastodon.search_terms(brand)
        ]
        tags = {t.lstrip("#").lower() for brand in BRANDS for t in brand.hashtags}
        for post in posts["mastodon"]:
            text = post["text"]
            tagged = {m.lower() for m in mastodon_api.HASHTAG.findall(text)} & tags
            found = tagged or any(mastodon_api.matches_search(terms, text) for terms in searches)
            if MASTODON_MENTION.search(text) or (found and matcher.match(text)):
                ids.add(("mastodon", f"{instance}/{post['id']}"))
    if "bluesky" in networks:
        searches = [
            bluesky_api.search_terms(bluesky.search_query(term))
            for brand in BRANDS
            for term in bluesky.search_terms(brand)
        ]
        for post in posts["bluesky"]:
            text = post["text"]
            found = any(bluesky_api.matches_search(terms, text) for terms in searches)
            if BLUESKY_MENTION.search(text) or (found and matcher.match(text)):
                did = next(
                    a["id"]
                    for a in snapshot["accounts"]["bluesky"]
                    if a["handle"] == post["author_handle"]
                )
                ids.add(("bluesky", f"at://{did}/app.bsky.feed.post/{post['id']}"))
    return ids


def start_poll(config: Path, database_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, **CHILD_ENV, "DATABASE_URL": database_url}
    env.pop("MENTIONDESK_CONFIG", None)
    cmd = [sys.executable, "-m", "responders.cli", "poll", "--once", "--config", str(config)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def generous_rate_limits(sandbox_url: str) -> None:
    """Dozens of processes poll in a minute: no pacing sleeps, no windows spent."""
    policies = {
        "reddit": {"requests_per_window": 1_000_000, "window_seconds": 2},
        "mastodon": {"requests_per_window": 1_000_000},
        # Every process logs in once: more than Bluesky's 30 logins per 5 minutes.
        "bluesky": {"requests_per_window": 1_000_000, "logins_per_window": 1_000},
    }
    for network, policy in policies.items():
        url = f"{sandbox_url}/{network}/_sandbox/rate_limit"
        requests.post(url, json=policy, timeout=5).raise_for_status()


@pytest.mark.parametrize("networks", NETWORK_GROUPS, ids="+".join)
def test_kill_9_mid_poll_loses_nothing_and_doubles_nothing(
    sandbox, engine, session_factory, database_url, tmp_path, networks
):
    generous_rate_limits(sandbox.url)
    seeder = Seeder(sandbox.state, networks=networks, seed=3)
    seeder.setup()
    # A first poll reads at most max_pages pages back: keep the first backlog under that.
    seeder.backlog(90)
    sandbox.state.add_fault(network="*", kind="slow", count=-1, delay_seconds=0.2)
    config = write_config(tmp_path, sandbox.url, networks)
    rng = random.Random(20261123)

    killed_mid_poll = 0
    notes = []
    for trial in range(TRIALS):
        seeder.publish_batch(15)  # new traffic keeps arriving between crashes
        requests_before = len(sandbox.state.fault_hits)
        child = start_poll(config, database_url, tmp_path / f"trial{trial}.log")
        target = rng.randint(1, REQUESTS_PER_POLL[networks])
        deadline = time.monotonic() + 60
        while len(sandbox.state.fault_hits) - requests_before < target and child.poll() is None:
            assert time.monotonic() < deadline, "the polling process never got that far"
            time.sleep(0.01)
        delay = rng.uniform(0.0, 0.4)  # inside that request, or just after its answer
        time.sleep(delay)
        if child.poll() is None:
            child.kill()  # SIGKILL: no cleanup, no rollback by us
            killed_mid_poll += 1
        child.wait(timeout=30)
        with session_factory() as session:
            stored = session.scalar(select(func.count()).select_from(Mention))
        notes.append(
            f"trial {trial}: kill {delay:.2f}s into request {target} rc={child.returncode} "
            f"requests={len(sandbox.state.fault_hits) - requests_before} stored={stored}"
        )

    sandbox.state.clear_faults()
    quiet_runs = 0
    for run in range(20):  # restart and let it finish: until two polls in a row find nothing
        log = tmp_path / f"final{run}.log"
        child = start_poll(config, database_url, log)
        assert child.wait(timeout=120) == 0, log.read_text()
        output = log.read_text()
        new = [int(n) for n in re.findall(r"^[\w.-]+: (\d+) new mention", output, re.MULTILINE)]
        assert len(new) == len(networks), output
        quiet_runs = quiet_runs + 1 if sum(new) == 0 else 0
        if quiet_runs == 2:
            break
    assert quiet_runs == 2, "polling never caught up"

    summary = f"{killed_mid_poll}/{TRIALS} killed mid-poll; " + "; ".join(notes)
    print(summary)
    assert killed_mid_poll >= TRIALS // 2, summary
    with session_factory() as session:
        doubled = session.execute(
            select(Mention.network, Mention.external_id, func.count())
            .group_by(Mention.network, Mention.external_id)
            .having(func.count() > 1)
        ).all()
        stored = {
            tuple(row) for row in session.execute(select(Mention.network, Mention.external_id))
        }
    assert doubled == []
    expected = expected_ids(sandbox.url, networks)
    assert len(expected) > 60 * len(networks)
    assert stored == expected, (
        f"missing {sorted(expected - stored)[:10]}, unexpected {sorted(stored - expected)[:10]}"
    )
