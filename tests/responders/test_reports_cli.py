"""`mentiondesk report`: the service's figures as JSON or as a table; bad dates refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from listener.store.db import session_scope
from responders.cli import app
from tests.responders.report_story import BUSINESS_HOURS, WALL_CLOCK, build_story, figures


@pytest.fixture
def run(database_url: str, session_factory):
    with session_scope(session_factory) as session:
        build_story(session)
    env = {"DATABASE_URL": database_url, "MENTIONDESK_CONFIG": None}

    def invoke(*args: str):
        return CliRunner().invoke(app, ["report", *args], env=env)

    return invoke


def test_json_has_the_hand_worked_figures(run) -> None:
    result = run("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {key: report[key] for key in WALL_CLOCK} == WALL_CLOCK
    assert [r["employee"] for r in report["by_employee"]] == ["Ann", "Bob", "Cat"]
    assert [r["network"] for r in report["by_network"]] == ["reddit", "x"]
    assert [r["team"] for r in report["by_team"]] == ["care", "community"]
    assert [r["topic"] for r in report["by_topic"]] == ["(no topic)", "delays", "lost_luggage"]
    assert [r["day"] for r in report["by_day"]] == ["2026-06-01", "2026-06-02"]
    assert report["volume"]["complaints"] == 6
    # The backlog is taken now (long after the story): both still wait, both overdue.
    assert report["backlog"]["count"] == 2 and report["backlog"]["overdue"] == 2
    assert report["period"] == {
        "since": None,
        "until": None,
        "business_hours": False,
        "generated_at": report["period"]["generated_at"],
    }


def test_business_hours_and_a_range(run) -> None:
    report = json.loads(run("--json", "--business-hours").stdout)
    assert {key: report[key] for key in BUSINESS_HOURS} == BUSINESS_HOURS
    tuesday = json.loads(run("--json", "--since", "2026-06-02", "--until", "2026-06-02").stdout)
    assert tuesday["period"]["since"] == "2026-06-02T00:00:00+00:00"
    assert tuesday["period"]["until"] == "2026-06-03T00:00:00+00:00"
    assert tuesday["first_response_seconds"] == figures(30000.0, 53520.0, 30000.0, 2)
    monday = json.loads(run("--json", "--until", "2026-06-01").stdout)
    assert monday["first_response_seconds"] == figures(1800.0, 3240.0, 2200.0, 3)


def test_readable_table(run) -> None:
    result = run("--since", "2026-06-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Responses given 2026-06-01 00:00 to … UTC (end excluded), in wall clock"
    first = next(line for line in lines if line.startswith("First response "))
    # median 30 min, p90 10 h 18 min, mean 3 h 42 min, 5 responses.
    assert first.split()[2:] == ["30m", "00s", "10h", "18m", "3h", "42m", "5"]
    assert "SLA met (first response in time): 60.0% (3 of 5)" in lines
    ann = next(line for line in lines if line.startswith("Ann "))
    assert ann.split() == ["Ann", "8h", "25m", "14h", "53m", "2", "15m", "00s", "1d", "3h", "50.0%"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-02-30"], "since: '2026-02-30' is not a date (expected YYYY-MM-DD)"),
        (["--until", "june"], "until: 'june' is not a date"),
        (["--since", "2026-06-02", "--until", "2026-06-01"], "until (2026-06-01) is before since"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(run, args, message) -> None:
    result = run(*args, "--json")
    assert result.exit_code == 2
    assert message in result.output
    assert result.stdout == ""
