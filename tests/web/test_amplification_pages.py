"""Event pages: a manager creates, edits and invites in a real Chromium; an agent sees their
invitation's talking points and share links (hashtag and link only); the event page shows the
figures the report computes from the sandbox's traffic; roles and bad input are refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from config.settings import parse_config
from listener.polling import poll_once
from listener.tracking import build_tracking_sources, tracked_brands_provider
from responders.amplification.jobs import credit_job
from responders.amplification.models import AmplificationEvent
from responders.amplification.report import event_report
from responders.amplification.service import create_event, get_event
from responders.cli.common import DEMO_CONFIG, demo_credentials
from responders.cli.events_demo import demo_event_spec
from responders.pipeline import sync_people
from sandbox import event_traffic
from sandbox.app import available_networks
from sandbox.event_traffic import EventTraffic, expected_figures
from sandbox.seeder import Seeder
from tests.web.conftest import csrf_of


def _form(**changes) -> dict:
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    fields = {
        "name": "Open Hangar Day",
        "description": "Tours of the maintenance hangar.",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "hashtags": "#OpenHangar, NWHangar",
        "links": "https://northwind.example/hangar",
        "talking_points": "Tours run every hour from 10:00.\nFamilies welcome; free entry.",
        "speakers": "employee=maria@northwind.example\nname=Ada Lin, x=ada_lin_aero",
        "teams": ["support"],
        "employees": [],
    }
    fields.update(changes)
    return fields


def test_a_manager_creates_an_event_and_an_agent_sees_the_invitation(client_for, session_factory):
    manager = client_for("manager")
    form = _form()
    created = manager.post("/events", data={**form, "csrf_token": csrf_of(manager, "/events")})
    assert created.status_code == 303, created.text
    event_url = created.headers["location"].split("?")[0]
    page = manager.get(event_url)
    assert page.status_code == 200
    assert "Tours run every hour from 10:00." in page.text
    assert "#OpenHangar #NWHangar" in page.text

    invited = manager.post(event_url + "/invite", data={"csrf_token": csrf_of(manager, event_url)})
    assert invited.status_code == 303 and invited.headers["location"].endswith("invited=4")
    assert "4 new invitation(s) queued" in manager.get(invited.headers["location"]).text

    agent = client_for("agent")  # Sam, team support
    mine = agent.get("/events")
    assert mine.status_code == 200
    assert "Open Hangar Day" in mine.text and "Families welcome; free entry." in mine.text
    shares = re.findall(r'href="(https://[^"]+)"', mine.text)
    hosts = {urlsplit(u.replace("&amp;", "&")).netloc for u in shares}
    assert {"twitter.com", "www.reddit.com", "mastodon.social", "bsky.app"} <= hosts
    x_link = next(u.replace("&amp;", "&") for u in shares if "twitter.com" in u)
    query = parse_qs(urlsplit(x_link).query)
    assert set(query) == {"hashtags", "url"} and query["hashtags"] == ["OpenHangar,NWHangar"]
    assert query["url"][0].startswith("https://northwind.example/hangar?ref=")
    # Agents see their invitations only: not the list of events, not the manager's pages.
    assert "All events" not in mine.text
    assert agent.get("/events/new").status_code == 403
    assert agent.get(event_url).status_code == 403
    assert agent.get(event_url + "/timeline.svg").status_code == 403

    with session_factory() as session:
        assert session.scalar(select(AmplificationEvent.name)) == "Open Hangar Day"


def test_bad_input_is_shown_with_the_form_kept_and_nothing_saved(client_for, session_factory):
    manager = client_for("manager")
    token = csrf_of(manager, "/events/new")
    bad = _form(talking_points="Come to the #OpenHangar day, it's great!")
    answer = manager.post("/events", data={**bad, "csrf_token": token})
    assert answer.status_code == 422
    assert "reads like a ready-made post" in answer.text
    assert "Come to the #OpenHangar day, it&#39;s great!" in answer.text  # kept, escaped
    unknown = manager.post(
        "/events", data={**_form(speakers="employee=nobody@x.example"), "csrf_token": token}
    )
    assert unknown.status_code == 422 and "unknown employee(s)" in unknown.text
    no_csrf = manager.post("/events", data=_form())
    assert no_csrf.status_code == 403
    with session_factory() as session:
        assert session.scalars(select(AmplificationEvent)).all() == []


def test_editing_an_event_keeps_its_invitations(client_for, session_factory):
    manager = client_for("manager")
    created = manager.post("/events", data={**_form(), "csrf_token": csrf_of(manager, "/events")})
    event_url = created.headers["location"].split("?")[0]
    manager.post(event_url + "/invite", data={"csrf_token": csrf_of(manager, event_url)})
    edit = manager.get(event_url + "/edit")
    assert "employee=maria@northwind.example" in edit.text
    changed = _form(name="Open Hangar Day 2", hashtags="#OpenHangar")
    saved = manager.post(event_url + "/edit", data={**changed, "csrf_token": csrf_of(manager)})
    assert saved.status_code == 303
    page = manager.get(event_url)
    assert "Open Hangar Day 2" in page.text and "Invited (4)" in page.text


def test_the_event_page_shows_what_the_sandbox_published(
    sandbox, client_for, session_factory, monkeypatch
):
    manager = client_for("manager")  # also creates the test logins (Sam, Jonas, Maria)
    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    config = parse_config(
        DEMO_CONFIG.read_text().replace("http://127.0.0.1:8401", sandbox.url), origin="demo"
    )
    sync_people(session_factory, config)  # the demo's people, with their handles
    Seeder(sandbox.state, networks=available_networks()).setup()
    with session_factory() as session:
        event = create_event(session, spec=demo_event_spec())
        session.commit()
        event_id = event.id
    records = EventTraffic(sandbox.state).publish_script()
    for source in build_tracking_sources(
        config.sources, config.brands, tracked_brands_provider(session_factory)
    ):
        assert poll_once(session_factory, source).error is None
    credit_job(session_factory)

    expected = expected_figures(records)
    page = manager.get(f"/events/{event_id}").text
    for key in ("employee_posts", "speaker_posts", "earned_posts", "unique_voices"):
        figure = re.search(rf'id="fig-{key}">.*?<p class="big">([^<]+)</p>', page, re.S)
        assert figure and figure.group(1) == str(expected[key]), key
    assert f"{expected['reach']:,}" in page
    assert "75%" in page and "2 scripted" in page
    chart = manager.get(f"/events/{event_id}/timeline.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml") and "<svg" in chart.text
    api = manager.get(f"/api/events/{event_id}/report").json()
    with session_factory() as session:
        assert api == event_report(session, event=get_event(session, name=event_traffic.EVENT_NAME))


@pytest.mark.usefixtures("web_users")
def test_in_chromium_a_manager_creates_and_invites_and_an_agent_shares(
    live_server, login, page, browser
):
    login("manager")
    page.click("nav >> text=Events")
    page.click("text=New event")
    form = _form(name='Hangar <script>alert("x")</script> Day')
    for field in ("name", "description", "starts_at", "ends_at", "hashtags", "links"):
        page.fill(f"#{field}", form[field])
    page.fill("#talking_points", form["talking_points"])
    page.fill("#speakers", form["speakers"])
    page.check('input[name="teams"][value="support"]')
    page.click("form.event-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/events/\d+\?done=created$"))
    assert page.locator("h1").inner_text() == 'Hangar <script>alert("x")</script> Day'
    page.click("#invite")
    page.wait_for_url(re.compile(r".*invited=4$"))
    assert page.locator("#invited tbody tr").count() == 4
    assert page.locator("#timeline").evaluate("img => img.naturalWidth") > 0
    assert page.js_errors == []

    agent = browser.new_context().new_page()
    agent.goto(live_server.url + "/login")
    agent.fill("#email", "sam@northwind.example")
    agent.fill("#password", "correct horse battery")
    agent.click("button[type=submit]")
    agent.wait_for_url(re.compile(r".*/desk$"))
    agent.click("nav >> text=Events")
    card = agent.locator("article.invitation")
    assert "Tours run every hour from 10:00." in card.inner_text()
    share = card.locator("a", has_text="Share on X").get_attribute("href")
    assert "text=" not in share and "hashtags=OpenHangar%2CNWHangar" in share
    agent.context.close()
