"""Queueing replies (limits, validation) and the `reply` / `outbox` commands end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from typer.testing import CliRunner

from listener.store.models import Author, Mention
from responders.cli import app
from responders.employees.models import Employee
from responders.replies.limits import LIMITS, ReplyTooLong, check_length
from responders.replies.models import STATUS_QUEUED, OutboxReply
from responders.replies.service import ReplyInvalid, queue_reply


@pytest.mark.parametrize(
    ("network", "fits", "too_long"),
    [
        ("x", "a" * 280, "a" * 281),
        ("x", "日" * 140, "日" * 141),  # CJK weighs 2 on X
        ("x", "see https://example.com/" + "p" * 300, "a" * 258 + " https://e.com"),
        ("reddit", "a" * 10_000, "a" * 10_001),
        ("mastodon", "a" * 500, "a" * 501),
        ("bluesky", "👍🏽" * 300, "👍🏽" * 301),  # graphemes, not code points
    ],
)
def test_limits_per_network(network, fits, too_long):
    assert check_length(network, fits) <= LIMITS[network].maximum
    with pytest.raises(ReplyTooLong, match=f"{network} allows {LIMITS[network].maximum}"):
        check_length(network, too_long)


def make_mention(session, network: str = "x", external_id: str = "1860000000000001000") -> Mention:
    mention = Mention(
        network=network,
        external_id=external_id,
        source_name="x",
        url=f"https://x.com/alice/status/{external_id}",
        author=Author(network=network, external_id="9000001", handle="alice"),
        text="@northwindair hello",
        posted_at=datetime.now(UTC),
        brand="Northwind Air",
        matched_query="@northwindair",
        raw={},
    )
    employee = Employee(name="Ann", email="ann@example.com")
    session.add_all([mention, employee])
    session.flush()
    return mention


def test_queue_reply_validates_and_inserts_a_queued_row(session):
    mention = make_mention(session)
    ann = session.query(Employee).one()

    reply = queue_reply(session, mention_id=mention.id, employee_id=ann.id, text="  Hi Alice  ")

    assert (reply.status, reply.text, reply.in_reply_to_id) == (
        STATUS_QUEUED,
        "Hi Alice",
        "1860000000000001000",
    )
    assert reply.id is not None and reply.network == "x"
    with pytest.raises(ReplyInvalid, match="281 characters long; x allows 280"):
        queue_reply(session, mention_id=mention.id, employee_id=ann.id, text="a" * 281)
    with pytest.raises(ReplyInvalid, match="empty"):
        queue_reply(session, mention_id=mention.id, employee_id=ann.id, text="   ")
    with pytest.raises(ReplyInvalid, match="no mention"):
        queue_reply(session, mention_id=999, employee_id=ann.id, text="hi")
    with pytest.raises(ReplyInvalid, match="no employee"):
        queue_reply(session, mention_id=mention.id, employee_id=999, text="hi")
    assert session.query(OutboxReply).count() == 1


def test_reply_command_posts_and_outbox_lists_it(
    session, sandbox, database_url, tmp_path, monkeypatch
):
    sandbox.state.add_account("x", "northwindair", is_brand=True)
    post = sandbox.state.publish("x", "alice", "@northwindair where is my bag?")
    mention = make_mention(session, external_id=post.id)
    session.commit()
    config = tmp_path / "md.toml"
    config.write_text(
        f"""
[[brands]]
name = "Northwind Air"
handles = ["@northwindair"]

[[sources]]
name = "x"
network = "x"
api_base_url = "{sandbox.url}/x"
account_handle = "northwindair"
[sources.credentials]
bearer_token = "T_CLI_BEARER"
"""
    )
    monkeypatch.setenv("T_CLI_BEARER", "sandbox-token")
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    result = runner.invoke(
        app,
        ["reply", str(mention.id), "--text", "Found it!", "--employee", "ann@example.com",
         "--config", str(config)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [posted] = requests.get(f"{sandbox.url}/_sandbox/state", timeout=10).json()["replies"]["x"]
    assert posted["in_reply_to_id"] == post.id and posted["text"] == "Found it!"
    assert f"posted: https://x.com/i/web/status/{posted['id']}" in result.output

    listed = runner.invoke(app, ["outbox", "--json", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["status"], row["external_id"]) == ("posted", posted["id"])

    too_long = runner.invoke(
        app, ["reply", str(mention.id), "--text", "a" * 281, "--employee", "ann@example.com",
              "--config", str(config)],
    )  # fmt: skip
    assert too_long.exit_code == 1 and "x allows 280" in too_long.output
