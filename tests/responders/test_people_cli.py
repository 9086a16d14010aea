"""The people and inbox commands, run through the real Typer app against the test database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from listener.classifying.models import Verdict
from responders.cli import app
from responders.employees.service import sync_people_from_config
from responders.routing.service import route_pending
from tests.responders.routing_data import MONDAY_10, author, config, mention


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "mentiondesk.toml"
    path.write_text('[[brands]]\nname = "Northwind Air"\nnames = ["Northwind Air"]\n')
    return path


@pytest.fixture
def run(database_url: str, config_file):
    env = {"DATABASE_URL": database_url, "MENTIONDESK_CONFIG": str(config_file)}

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


def test_employees_add_list_away_back(engine, run) -> None:
    added = run(
        "employees", "add", "Ann@Northwind.example", "--name", "Ann", "--team", "support",
        "--language", "en", "--language", "de", "--hours", "Mon-Fri 09:00-17:00",
        "--time-zone", "Europe/Berlin", "--capacity", "3",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert run("employees", "away", "ann@northwind.example").exit_code == 0
    [ann] = json.loads(run("employees", "list", "--json").stdout)
    assert ann["email"] == "ann@northwind.example" and ann["away"] is True
    assert ann["teams"] == ["support"] and ann["languages"] == ["en", "de"]
    assert run("employees", "back", "ann@northwind.example").exit_code == 0
    assert json.loads(run("employees", "list", "--json").stdout)[0]["away"] is False


def test_bad_input_exits_with_a_reason(engine, run) -> None:
    bad_zone = run("employees", "add", "x@y.z", "--name", "X", "--time-zone", "Mars/Base")
    assert bad_zone.exit_code == 2 and "unknown time zone" in bad_zone.output
    missing = run("employees", "away", "nobody@y.z")
    assert missing.exit_code == 1 and "no employee" in missing.output


def test_inbox_claim_transfer_resolve_and_stats(session, run) -> None:
    sync_people_from_config(
        session,
        config(
            '[[teams]]\nname = "support"\n'
            '[[employees]]\nname = "Ann"\nemail = "ann@n.example"\nteams = ["support"]\n'
            '[[employees]]\nname = "Bob"\nemail = "bob@n.example"\nteams = ["support"]\n'
        ),
    )
    waiting = mention(session, author(session, "customer"), text="Northwind Air, where is my bag?")
    route_pending(session, config('[[teams]]\nname = "support"\n'), now=MONDAY_10)
    session.commit()

    [item] = json.loads(run("inbox", "--json").stdout)
    assert (
        item["mention_id"] == waiting.id and item["assignee"] is None and item["team"] == "support"
    )

    assert run("claim", str(waiting.id), "--employee", "ann@n.example").exit_code == 0
    assert json.loads(run("inbox", "--employee", "ann@n.example", "--json").stdout)
    moved = run("transfer", str(waiting.id), "--to", "bob@n.example")
    assert moved.exit_code == 0, moved.output
    assert json.loads(run("inbox", "--employee", "ann@n.example", "--json").stdout) == []
    [bobs] = json.loads(run("inbox", "--employee", "bob@n.example", "--json").stdout)
    assert bobs["assignee"] == "bob@n.example"

    stats = json.loads(run("stats", "--json").stdout)
    assert (stats["routed"], stats["assigned_open"], stats["resolved"]) == (0, 1, 0)
    assert run("resolve", str(waiting.id)).exit_code == 0
    stats = json.loads(run("stats", "--json").stdout)
    assert (stats["assigned_open"], stats["replied"], stats["resolved"]) == (0, 0, 1)
    assert run("resolve", "999999").exit_code == 1


def test_stats_in_words_count_verdicts_their_flags_and_models_and_the_queues(session, run) -> None:
    sync_people_from_config(session, config('[[teams]]\nname = "support"\n'))
    customer = author(session, "customer")
    for number, (flags, model) in enumerate(
        [([], "minilm-a"), (["unsupported_language"], "minilm-a"), ([], "minilm-b")]
    ):
        post = mention(session, customer, text=f"Northwind Air, where is my bag? ({number})")
        session.add(
            Verdict(
                mention_id=post.id,
                sentiment="negative",
                sentiment_scores={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                complaint=number != 1,
                complaint_score=0.9 if number != 1 else 0.1,
                flags=flags,
                model_version=model,
            )
        )
    route_pending(session, config('[[teams]]\nname = "support"\n'), now=MONDAY_10)
    session.commit()

    out = run("stats")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert "classified: 3 (2 complaints; negative 3, neutral 0, positive 0)" in lines
    assert "  flagged unsupported_language: 1" in lines
    assert {"  model minilm-a: 2", "  model minilm-b: 1"} <= set(lines)
    assert "queues: 3 routed, 0 assigned and open, 0 replied, 0 resolved" in lines


def test_inbox_shows_the_verdict_and_escapes_what_strangers_wrote(session, run) -> None:
    sync_people_from_config(session, config('[[teams]]\nname = "support"\n'))
    # A screen clear, a window-title sequence, a line break and a right-to-left override.
    hostile = "Northwind Air \x1b[2J\x1b]0;pwned\x07 where is\nmy bag? \u202eregnad"
    post = mention(session, author(session, "evil\x1b[31mhandle"), text=hostile)
    calm = mention(session, author(session, "calm"), text="Northwind Air, nice lounge")
    session.add(
        Verdict(
            mention_id=post.id,
            sentiment="negative",
            sentiment_scores={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
            complaint=True,
            complaint_score=0.9,
            topic="lost_luggage",
            flags=["too_long"],
            model_version="minilm-a",
        )
    )
    session.flush()
    route_pending(session, config('[[teams]]\nname = "support"\n'), now=MONDAY_10)
    session.commit()

    out = run("inbox")
    assert out.exit_code == 0, out.output
    assert "\x1b" not in out.output and "\u202e" not in out.output and "\x07" not in out.output
    lines = out.output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(f"#{post.id} "))
    assert lines[first].endswith(
        "x @evil\\x1b[31mhandle → queue support  complaint, negative, lost_luggage "
        "(flagged: too_long)"
    )
    assert lines[first + 1] == (
        "    Northwind Air \\x1b[2J\\x1b]0;pwned\\x07 where is my bag? \\u202eregnad"
    )
    # Not judged yet: no verdict words.
    assert next(line for line in lines if line.startswith(f"#{calm.id} ")).endswith("support")

    items = {item["mention_id"]: item for item in json.loads(run("inbox", "--json").stdout)}
    assert items[post.id]["text"] == hostile  # JSON escapes it; the text itself is kept whole
    verdict = {k: items[post.id][k] for k in ("complaint", "sentiment", "topic", "verdict_flags")}
    assert verdict == {
        "complaint": True,
        "sentiment": "negative",
        "topic": "lost_luggage",
        "verdict_flags": ["too_long"],
    }
    assert items[calm.id]["sentiment"] is None and items[calm.id]["verdict_flags"] == []


def test_a_database_without_tables_or_out_of_reach_is_said_so_not_a_traceback(
    tmp_path, config_file
) -> None:
    def inbox(url: str):
        env = {"DATABASE_URL": url, "MENTIONDESK_CONFIG": str(config_file)}
        return CliRunner().invoke(app, ["inbox"], env=env)

    fresh = inbox(f"sqlite:///{tmp_path / 'new.db'}")
    assert fresh.exit_code == 2 and "Traceback" not in fresh.output
    assert (
        "error: the database has no mentiondesk tables yet (no such table: mentions): run "
        "`mentiondesk db upgrade` with the same configuration" in fresh.stderr
    )
    unreachable = inbox("postgresql://postgres@127.0.0.1:1/nothing")  # nothing listens on port 1
    assert unreachable.exit_code == 1
    assert "error: cannot use the database: connection failed:" in unreachable.stderr
