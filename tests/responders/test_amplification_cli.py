"""`mentiondesk events ...` as a person runs it: a real process on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import parse_config
from listener.polling import poll_once
from listener.tracking import build_tracking_sources, tracked_brands_provider
from responders.amplification.jobs import credit_job
from responders.cli.common import DEMO_CONFIG, demo_credentials
from responders.pipeline import sync_people
from sandbox import event_traffic
from sandbox.app import available_networks
from sandbox.event_traffic import EventTraffic, expected_figures
from sandbox.seeder import Seeder

REPO = Path(__file__).resolve().parents[2]
NAME = event_traffic.EVENT_NAME


@pytest.fixture
def desk(sandbox, tmp_path: Path, monkeypatch, session_factory, database_url):
    """The demo configuration pointed at this sandbox, its people in the database; returns a
    function running `mentiondesk ARGS...` against both."""
    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "desk.toml"
    path.write_text(DEMO_CONFIG.read_text().replace("http://127.0.0.1:8401", sandbox.url))
    config = parse_config(path.read_text(), origin=str(path))
    sync_people(session_factory, config)
    env = {**os.environ, "DATABASE_URL": database_url, "MENTIONDESK_CONFIG": str(path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "responders.cli", "events", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=120,
        )

    run.config = config  # type: ignore[attr-defined]
    return run


def _create(desk) -> subprocess.CompletedProcess[str]:
    # Tomorrow and the day after: the sandbox's posts of the past hour are within its tracking.
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    starts, ends = f"{tomorrow}T09:00Z", str(tomorrow + timedelta(days=1))
    args = ["create", NAME, "--starts", starts, "--ends", ends]
    args += ["--hashtag", event_traffic.EVENT_HASHTAG, "--link", event_traffic.EVENT_LINK]
    for point in event_traffic.TALKING_POINTS:
        args += ["--point", point]
    args += ["--speaker", "employee=maria@northwind.example"]
    args += ["--speaker", "name=Dr. Ada Lin,x=ada_lin_aero,reddit=ada_lin_aero"]
    args += ["--team", "social", "--employee", "sam@northwind.example", "--json"]
    return desk(*args)


def test_create_list_show_and_invite(desk) -> None:
    created = _create(desk)
    assert created.returncode == 0, created.stderr
    event = json.loads(created.stdout)
    assert event["hashtags"] == ["#NWSummit26"]
    assert event["audience"] == {"teams": ["social"], "employees": ["sam@northwind.example"]}
    assert [s["internal"] for s in event["speakers"]] == [True, False]
    # Maria's X handle comes with her: she is an employee.
    assert event["speakers"][0]["handles"] == {"x": "maria_lopez_nw"}

    listed = json.loads(desk("list", "--json").stdout)
    assert [e["name"] for e in listed] == [NAME]

    invited = desk("invite", NAME, "--json")
    assert invited.returncode == 0, invited.stderr
    result = json.loads(invited.stdout)
    # Maria (speaker and social team), Priya (social), Sam; Ada has no email: not written to.
    assert sorted(i["name"] for i in result["invited"]) == [
        "Dr. Ada Lin",
        "Maria Lopez",
        "Priya Shah",
        "Sam Okafor",
    ]
    assert result["delivered"] == 0  # the demo config sends nowhere: skipped, not failed
    for invitee in result["invited"]:
        assert set(invitee["share_links"]) == {"x", "reddit", "mastodon", "bluesky"}
        assert "text=" not in invitee["share_links"]["x"]
    assert json.loads(desk("invite", NAME, "--json").stdout)["invited"] == []

    shown = json.loads(desk("show", NAME, "--json").stdout)
    assert len(shown["invitations"]) == 4
    assert shown["talking_points"] == list(event_traffic.TALKING_POINTS)


def test_report_json_matches_what_the_sandbox_published(
    sandbox, desk, session_factory, tmp_path: Path
) -> None:
    Seeder(sandbox.state, networks=available_networks()).setup()
    assert _create(desk).returncode == 0
    records = EventTraffic(sandbox.state).publish_script()
    config = desk.config
    for source in build_tracking_sources(
        config.sources, config.brands, tracked_brands_provider(session_factory)
    ):
        assert poll_once(session_factory, source).error is None
    credit_job(session_factory)

    chart = tmp_path / "timeline.svg"
    result = desk("report", NAME, "--json", "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = expected_figures(records)
    for key in ("employee_posts", "speaker_posts", "unique_voices", "earned_posts", "reach"):
        assert report[key] == expected[key], key
    assert report["scripted"] == expected["scripted"] == 2
    assert chart.read_text().startswith("<?xml") and "<svg" in chart.read_text()

    text = desk("report", NAME)
    assert "originality: 75% in their own words (2 scripted)" in text.stdout


def test_bad_input_says_what_and_where_and_changes_nothing(desk) -> None:
    bad = desk("create", "X", "--starts", "2026-12-03", "--ends", "2026-12-04", "--point", "hi")
    assert bad.returncode == 2
    assert "at least one hashtag or link" in bad.stderr
    bad = desk(
        "create",
        "X",
        "--starts",
        "2026-12-03",
        "--ends",
        "2026-12-04",
        "--hashtag",
        "a",
        "--point",
        "Come to #a it is great",
    )
    assert bad.returncode == 2 and "ready-made post" in bad.stderr
    unknown_team = desk(
        "create",
        "X",
        "--starts",
        "2026-12-03",
        "--ends",
        "2026-12-04",
        "--hashtag",
        "a",
        "--team",
        "marketing",
    )
    assert unknown_team.returncode == 1 and "unknown team(s) ['marketing']" in unknown_team.stderr
    missing = desk("report", "Nope", "--json")
    assert missing.returncode == 1 and "no event named 'Nope'" in missing.stderr
    assert json.loads(desk("list", "--json").stdout) == []
