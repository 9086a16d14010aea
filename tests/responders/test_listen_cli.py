"""The listening commands as a user runs them: poll once, then stats and status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.seeder import Seeder

REPO = Path(__file__).resolve().parents[2]

CONFIG = """
[[brands]]
name = "Northwind Air"
names = ["Northwind Air", "Northwind Airlines"]
handles = ["@northwindair"]
hashtags = ["#northwindair", "#flynorthwind"]
keywords = ["northwind flight"]
exclude = ["Northwind Traders"]

[[brands]]
name = "Skyline Airways"
names = ["Skyline Airways"]
handles = ["@skylineair"]
hashtags = ["#skylineairways"]
competitor = true

[[sources]]
name = "x"
network = "x"
api_base_url = "{url}/x"
account_handle = "northwindair"
[sources.credentials]
bearer_token = "T_X_BEARER"

[[sources]]
name = "reddit"
network = "reddit"
api_base_url = "{url}/reddit"
account_handle = "northwindair"
subreddits = ["travel", "flights"]
[sources.credentials]
client_id = "T_R_ID"
client_secret = "T_R_SECRET"
username = "T_R_USER"
password = "T_R_PASSWORD"
"""


@pytest.fixture
def cli(sandbox, database_url, engine, tmp_path: Path):
    config = tmp_path / "mentiondesk.toml"
    config.write_text(CONFIG.format(url=sandbox.url))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MENTIONDESK_CONFIG": str(config),
        "T_X_BEARER": "secret-bearer-value",
        "T_R_ID": "id",
        "T_R_SECRET": "secret-reddit-value",
        "T_R_USER": "northwindair",
        "T_R_PASSWORD": "pw",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "responders.cli", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=120,
        )

    return run


def test_poll_once_then_stats_and_status(cli, sandbox) -> None:
    seeder = Seeder(sandbox.state, seed=7)
    seeder.setup()
    published = seeder.backlog(25)

    polled = cli("poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "x:" in polled.stdout and "reddit:" in polled.stdout
    # Secrets never reach the output or the logs.
    assert "secret-" not in polled.stdout + polled.stderr

    stats = cli("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["total"] == figures["mentions"]["x"] + figures["mentions"]["reddit"]
    assert figures["mentions"]["x"] > 0 and figures["mentions"]["reddit"] > 0
    # Competitor-only posts where we listen (a post naming our account is ours, not theirs).
    expected_competitor = [
        p
        for p in published
        if p["matches_competitor"]
        and not (p["matches_brand"] or p["mentions_brand_account"])
        and (p["network"] == "x" or p["subreddit"] in ("travel", "flights"))
    ]
    assert figures["competitor"] == len(expected_competitor) > 0
    # Polling only stores: nothing is judged or queued yet, and the figures say so.
    assert figures["classified"] == figures["complaints"] == figures["routed"] == 0
    assert figures["by_sentiment"] == {"negative": 0, "neutral": 0, "positive": 0}

    # A second poll finds nothing new: stored exactly once.
    again = cli("poll", "--once")
    assert again.returncode == 0
    assert json.loads(cli("stats", "--json").stdout)["total"] == figures["total"]

    status = cli("status", "--json")
    rows = {row["source"]: row for row in json.loads(status.stdout)}
    assert set(rows) == {"x", "reddit"}
    assert rows["x"]["last_success_at"] and rows["x"]["cursors"]
    assert rows["x"]["mentions"] + rows["reddit"]["mentions"] == figures["total"]


def test_failing_source_exits_1_and_status_shows_the_error(cli, sandbox) -> None:
    sandbox.state.add_fault(network="x", kind="server_error", status=503, count=-1)
    polled = cli("poll", "--once", "--source", "x")
    assert polled.returncode == 1
    assert "x: failed" in polled.stdout
    row = json.loads(cli("status", "--json").stdout)[0]
    assert row["consecutive_failures"] == 1 and row["paused_until"]
    assert "503" in row["last_error"] or "unavailable" in row["last_error"].lower()


def test_unknown_source_is_a_clear_error(cli) -> None:
    result = cli("poll", "--once", "--source", "nope")
    assert result.returncode == 2
    assert "no source named 'nope'" in result.stderr
