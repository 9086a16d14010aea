"""The desk over HTTP: queues in order, the mention page, claim/transfer/resolve/reopen, replies
through the outbox to the sandbox, corrections, away/back, the JSON API."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from listener.classifying.labels import FLAG_EMPTY, FLAG_SECOND_OPINION_SENTIMENT, FLAG_TOO_LONG
from listener.classifying.models import Correction, Verdict
from listener.store.models import Mention
from responders.employees.models import Employee
from responders.inbox.models import ConversationEvent
from responders.replies.models import OutboxReply
from responders.routing.models import MentionRoute
from tests.web.conftest import csrf_of

COMPLAINT = "@northwindair you lost my bag on NW212 and nobody answers the phone. Unacceptable."


def _route(session_factory, mention_id: int) -> MentionRoute:
    with session_factory() as session:
        return session.get(MentionRoute, mention_id)


def test_queues_are_ordered_by_priority_then_time_left(desk, client_for, session_factory):
    calm = desk.post("ana_travels", "@northwindair what a lovely crew on my flight to Lisbon today")
    angry = desk.post("dana_flies", COMPLAINT)
    angry_later = desk.post(
        "lee_waits", "@northwindair my flight was cancelled and no one told me. Awful."
    )
    famous = desk.post(
        "big_voice", "@northwindair flying with you to Berlin next week!", followers=250_000
    )
    desk.listen()
    posts = {"calm": calm, "angry": angry, "angry_later": angry_later, "famous": famous}
    ids = {name: desk.mention_id(p) for name, p in posts.items()}
    routes = {name: _route(session_factory, i) for name, i in ids.items()}
    assert [routes[n].priority for n in ("famous", "angry", "angry_later", "calm")] == [
        "urgent",
        "high",
        "high",
        "normal",
    ]
    assert routes["angry"].due_at <= routes["angry_later"].due_at

    # The admin (no employee) sees every team's queue in one list: priority, then SLA time left.
    client = client_for("admin")
    expected = [ids[n] for n in ("famous", "angry", "angry_later", "calm")]
    assert [i["mention_id"] for i in client.get("/api/queue").json()["team"]] == expected
    page = client.get("/desk").text
    assert [int(x) for x in re.findall(r'data-mention-id="(\d+)"', page)] == expected
    # Each row carries its due time for the countdown, and the server's first rendering of it.
    due = routes["angry"].due_at.isoformat()
    assert f'<time class="countdown" datetime="{due}">' in page
    assert re.search(r">(2\dm|30m) left</time>", page)  # a 30-minute SLA, just started


def test_agent_sees_own_and_team_queue(desk, client_for, web_users):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    sam = client_for("agent")
    sam.post(f"/mentions/{mention_id}/claim", data={"csrf_token": csrf_of(sam)})
    queues = sam.get("/api/queue").json()
    assert [i["mention_id"] for i in queues["mine"]] == [mention_id]
    assert mention_id not in [i["mention_id"] for i in queues["team"]]
    # Jonas, in the same team, sees it in the team queue with Sam as holder.
    jonas = client_for("agent2").get("/api/queue").json()
    held = [i for i in jonas["team"] if i["mention_id"] == mention_id]
    assert held and held[0]["assignee"] == "Sam Okafor"
    fragment = client_for("agent2").get("/desk/queues")
    assert fragment.status_code == 200 and "Sam Okafor" in fragment.text
    assert "<html" not in fragment.text  # a fragment, swapped into the page by app.js


def test_a_queue_row_warns_when_its_verdict_was_judged_poorly(desk, client_for):
    spanish = desk.post(
        "lucia_vuela", "@northwindair perdieron mi maleta y nadie contesta", lang="es"
    )
    english = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    client = client_for("admin")
    rows = {i["mention_id"]: i for i in client.get("/api/queue").json()["team"]}
    spanish_id, english_id = desk.mention_id(spanish), desk.mention_id(english)
    assert rows[spanish_id]["verdict_flags"] == ["unsupported_language"]
    assert rows[english_id]["verdict_flags"] == []
    page = client.get("/desk").text
    row_of = dict(re.findall(r'data-mention-id="(\d+)">(.*?)</tr>', page, flags=re.S))
    warning = (
        '<span class="tag tag-caution" title="language the model does not know: judged poorly">'
        "other language</span>"
    )
    assert warning in row_of[str(spanish_id)]
    assert "tag-caution" not in row_of[str(english_id)]
    # The admin page counts the verdicts judged poorly, in words.
    admin = html.unescape(client.get("/admin").text)
    assert "<dt>Flagged</dt><dd>language the model does not know: judged poorly: 1</dd>" in admin


def test_claim_transfer_resolve_reopen(desk, client_for, session_factory, web_users):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    sam = client_for("agent")
    token = csrf_of(sam)

    assert sam.post(f"/mentions/{mention_id}/claim", data={"csrf_token": token}).status_code == 303
    assert _route(session_factory, mention_id).assignee_id == web_users["agent"].employee_id

    jonas_id = web_users["agent2"].employee_id
    response = sam.post(
        f"/mentions/{mention_id}/transfer", data={"csrf_token": token, "to_employee_id": jonas_id}
    )
    assert response.status_code == 303 and response.headers["location"].endswith("done=transferred")
    assert _route(session_factory, mention_id).assignee_id == jonas_id

    assert (
        sam.post(f"/mentions/{mention_id}/resolve", data={"csrf_token": token}).status_code == 303
    )
    with session_factory() as session:
        assert session.get(Mention, mention_id).status == "resolved"
    assert mention_id not in [
        i["mention_id"] for i in client_for("agent2").get("/api/queue").json()["mine"]
    ]
    page = sam.get(f"/mentions/{mention_id}").text
    assert f'action="/mentions/{mention_id}/reopen"' in page

    assert sam.post(f"/mentions/{mention_id}/reopen", data={"csrf_token": token}).status_code == 303
    with session_factory() as session:
        assert session.get(Mention, mention_id).status == "assigned"
        kinds = session.scalars(select(ConversationEvent.kind).order_by(ConversationEvent.id)).all()
    assert kinds[-4:] == ["claim", "transfer", "resolve", "reopen"]
    assert mention_id in [
        i["mention_id"] for i in client_for("agent2").get("/api/queue").json()["mine"]
    ]
    # The history on the page names who did what.
    page = sam.get(f"/mentions/{mention_id}").text
    assert re.search(r"<strong>transfer</strong>\s*by Sam Okafor\s*→ Jonas Weber", page)

    # Reopening what is open is refused with a reason, not a crash.
    again = sam.post(f"/mentions/{mention_id}/reopen", data={"csrf_token": token})
    assert again.status_code == 409 and "is not resolved" in again.text


def test_reply_goes_through_the_outbox_to_the_sandbox(desk, client_for, session_factory, web_users):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    sam = client_for("agent")
    token = csrf_of(sam)
    page = sam.get(f"/mentions/{mention_id}").text
    assert 'data-network="x" data-limit="280"' in page

    too_long = "Sorry! " * 50
    response = sam.post(
        f"/mentions/{mention_id}/reply", data={"csrf_token": token, "text": too_long}
    )
    assert response.status_code == 422
    assert "x allows 280" in response.text
    assert too_long.strip() in response.text  # what was typed is still in the box
    with session_factory() as session:
        assert session.scalars(select(OutboxReply)).all() == []

    typed = "Dana, we're sorry. DM us your bag tag and we'll find it today."
    response = sam.post(f"/mentions/{mention_id}/reply", data={"csrf_token": token, "text": typed})
    assert response.status_code == 303
    assert 'data-status="queued"' in sam.get(f"/mentions/{mention_id}/outbox").text

    assert desk.send() == 1
    outbox = sam.get(f"/mentions/{mention_id}/outbox").text
    assert 'data-status="posted"' in outbox
    reply = desk.sandbox.state.snapshot()["replies"]["x"][0]
    assert (reply["in_reply_to_id"], reply["text"]) == (angry.id, typed)
    assert (
        f'href="https://x.com/i/web/status/{reply["id"]}" rel="noopener nofollow noreferrer"'
        in outbox
    )


def test_failed_reply_shows_its_reason(desk, client_for, session_factory):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    desk.sandbox.state.delete_post("x", angry.id)
    sam = client_for("agent")
    sam.post(
        f"/mentions/{mention_id}/reply",
        data={"csrf_token": csrf_of(sam), "text": "So sorry, Dana."},
    )
    desk.send()
    with session_factory() as session:
        row = session.scalars(select(OutboxReply)).one()
    assert row.status == "failed" and row.error
    outbox = sam.get(f"/mentions/{mention_id}/outbox").text
    assert 'data-status="failed"' in outbox
    shown = html.unescape(re.sub(r"<[^>]+>", "", outbox))
    assert " ".join(row.error.split()) in " ".join(shown.split())


def test_correcting_the_verdict_records_training_labels(desk, client_for, session_factory):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    sam = client_for("agent")
    with session_factory() as session:
        verdict = session.scalars(select(Verdict).where(Verdict.mention_id == mention_id)).one()
    # The topic is picked from the configured ones (the demo's), or none.
    page = sam.get(f"/mentions/{mention_id}").text
    topic_select = page[
        page.index('<select id="v-topic"') : page.index("</select>", page.index('id="v-topic"'))
    ]
    assert re.findall(r'<option value="([^"]*)"', topic_select) == [
        "",
        "lost_luggage",
        "delay",
        "refund",
        "wifi",
    ]

    def correct(topic: str):
        return sam.post(
            f"/mentions/{mention_id}/verdict",
            data={
                "csrf_token": csrf_of(sam),
                "complaint": "false",
                "sentiment": verdict.sentiment,
                "topic": topic,
            },
        )

    # A topic that is not configured (a hand-made form, an old tab) is refused, and nothing of
    # the form is kept: a typo would otherwise become a topic in reports and training.
    typo = correct("lost_lugage")
    assert typo.status_code == 422
    assert (
        "topic must be one of the configured topics (delay, lost_luggage, refund, wifi) or empty "
        "for none, not 'lost_lugage'"
    ) in html.unescape(typo.text)
    with session_factory() as session:
        assert session.scalars(select(Correction)).all() == []

    assert correct("lost_luggage").status_code == 303
    with session_factory() as session:
        corrections = session.scalars(select(Correction).order_by(Correction.id)).all()
        verdict = session.scalars(select(Verdict).where(Verdict.mention_id == mention_id)).one()
    # Only what changed: complaint and topic, not the unchanged sentiment.
    assert [(c.field, c.new, c.corrected_by) for c in corrections] == [
        ("complaint", "false", "sam@northwind.example"),
        ("topic", "lost_luggage", "sam@northwind.example"),
    ]
    assert verdict.complaint is False and verdict.corrected_at is not None
    admin = client_for("admin").get("/admin").text
    assert '<strong id="corrections-count">2</strong>' in admin
    # The model's row: one verdict, which a person corrected.
    versions = admin[admin.index('id="model-versions"') :]
    assert (
        f"<td><code>{verdict.model_version}</code></td><td>1</td><td>1 (100.0 %)</td>" in versions
    )

    bad = sam.post(
        f"/mentions/{mention_id}/verdict", data={"csrf_token": csrf_of(sam), "sentiment": "furious"}
    )
    assert bad.status_code == 422 and "sentiment must be one of" in bad.text


def test_away_and_back(client_for, session_factory, web_users):
    sam = client_for("agent")
    token = csrf_of(sam)
    sam.post("/desk/away", data={"csrf_token": token})
    with session_factory() as session:
        assert session.get(Employee, web_users["agent"].employee_id).away is True
    assert "I'm back" in sam.get("/desk").text
    sam.post("/desk/back", data={"csrf_token": token})
    with session_factory() as session:
        assert session.get(Employee, web_users["agent"].employee_id).away is False


def test_admin_without_employee_sees_all_teams_but_cannot_claim(desk, client_for):
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    admin = client_for("admin")
    assert "All teams" in admin.get("/desk").text
    assert mention_id in [i["mention_id"] for i in admin.get("/api/queue").json()["team"]]
    response = admin.post(f"/mentions/{mention_id}/claim", data={"csrf_token": csrf_of(admin)})
    assert response.status_code == 409 and "not linked to an employee" in response.text


def _judged_as(desk, session_factory, **verdict_fields) -> int:
    """A complaint listened to, its verdict then set to `verdict_fields`; its mention id."""
    angry = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    mention_id = desk.mention_id(angry)
    with session_factory() as session:
        verdict = session.scalars(select(Verdict).where(Verdict.mention_id == mention_id)).one()
        for name, value in verdict_fields.items():
            setattr(verdict, name, value)
        session.commit()
    return mention_id


def test_the_mention_page_says_in_words_what_the_verdict_flags_mean(
    desk, client_for, session_factory
):
    # As SecondOpinionClassifier stores a long post whose sentiment the second model gave.
    mention_id = _judged_as(
        desk,
        session_factory,
        flags=[FLAG_TOO_LONG, FLAG_SECOND_OPINION_SENTIMENT, "<b>new_flag</b>"],
        model_version="minilm-l6+second-opinion-mpnet+heads-0123456789-below-0.7",
    )
    page = client_for("agent").get(f"/mentions/{mention_id}").text
    assert (
        "model minilm-l6+second-opinion-mpnet+heads-0123456789-below-0.7 · too long: judged on "
        "its beginning, sentiment from the second opinion, <b>new_flag</b>"
    ) in html.unescape(page)
    assert "<b>new_flag</b>" not in page  # a flag the page has no words for is still escaped


def test_the_mention_page_says_how_sure_the_model_was_until_a_person_corrects_it(
    desk, client_for, session_factory
):
    mention_id = _judged_as(
        desk,
        session_factory,
        sentiment="negative",
        sentiment_scores={"negative": 0.912, "neutral": 0.05, "positive": 0.038},
        complaint=True,
        complaint_score=0.64,
    )
    sam = client_for("agent")

    def tags() -> str:
        page = sam.get(f"/mentions/{mention_id}").text
        return page[page.index('<p class="verdict">') : page.index("</p>", page.index('"verdict"'))]

    shown = tags()
    # Under 70 % (where the second opinion would be asked) the figure is marked as unsure.
    assert (
        'complaint · <span class="sure unsure" title="the model was unsure: read the post">64 %'
        in shown
    )
    assert 'negative · <span class="sure" title="how sure the model was">91 %' in shown

    # A corrected field is a person's word: no model figure beside it any more.
    sam.post(
        f"/mentions/{mention_id}/verdict",
        data={"csrf_token": csrf_of(sam), "sentiment": "neutral", "complaint": "true"},
    )
    shown = tags()
    assert ">neutral</span>" in shown and "64 %" in shown and "91 %" not in shown


def test_a_post_with_nothing_to_judge_shows_no_figures(desk, client_for, session_factory):
    # As the classifier stores an empty post: neutral by default, not judged.
    mention_id = _judged_as(
        desk,
        session_factory,
        flags=[FLAG_EMPTY],
        sentiment="neutral",
        sentiment_scores={"negative": 0.0, "neutral": 1.0, "positive": 0.0},
        complaint=False,
        complaint_score=0.0,
    )
    page = client_for("agent").get(f"/mentions/{mention_id}").text
    assert "not a complaint</span>" in page and 'class="sure' not in page


def test_the_history_of_a_thread_says_which_post_each_event_was_about(desk, client_for):
    first = desk.post("gate_lice_guy", "@northwindair cancelled at the gate. CANCELLED.")
    desk.listen()
    later = desk.post(
        "gate_lice_guy", "@northwindair still sitting here, 2h now", in_reply_to_id=first.id
    )
    desk.listen()
    first_id, later_id = desk.mention_id(first), desk.mention_id(later)
    page = client_for("agent").get(f"/mentions/{first_id}").text
    history = page[page.index('id="history-title"') :]
    # Two routes, two assignments: the later post's is marked as its own, linked.
    assert history.count("<strong>assign</strong>") == 2
    assert f'· <a href="/mentions/{later_id}">#{later_id}</a>' in history
    assert f'href="/mentions/{first_id}">#{first_id}<' not in history  # this page's own post


def test_a_queue_row_marks_a_complaint_the_model_was_unsure_of(desk, client_for, session_factory):
    unsure_id = _judged_as(desk, session_factory, complaint=True, complaint_score=0.64)
    sure = desk.post(
        "lee_waits", "@northwindair my flight was cancelled and no one told me. Awful."
    )
    desk.listen()
    sure_id = desk.mention_id(sure)
    with session_factory() as session:
        verdict = session.scalars(select(Verdict).where(Verdict.mention_id == sure_id)).one()
        assert verdict.complaint and verdict.complaint_score >= 0.7  # the model is sure of this one
    client = client_for("admin")
    rows = {i["mention_id"]: i for i in client.get("/api/queue").json()["team"]}
    assert rows[unsure_id]["complaint_score"] == 0.64
    page = client.get("/desk").text
    row_of = dict(re.findall(r'data-mention-id="(\d+)">(.*?)</tr>', page, flags=re.S))
    assert (
        '<span class="tag tag-complaint tag-unsure" title="the model was unsure (64 %): read the '
        'post">complaint?</span>'
    ) in row_of[str(unsure_id)]
    assert '<span class="tag tag-complaint">complaint</span>' in row_of[str(sure_id)]
