"""Amplify end to end on the sandbox: the demo event is created, its traffic published, the real
tweepy/praw sources listen for its hashtag and link, the real classifier and routing run, and the
report says what the sandbox published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import AppConfig, parse_config
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.polling import poll_once
from listener.store.models import Mention
from listener.tracking import (
    TrackedTerm,
    active_tracked_brands,
    build_tracking_sources,
    tracked_brands_provider,
)
from responders.amplification.crediting import record_event_posts
from responders.amplification.jobs import credit_job, event_posts_job
from responders.amplification.models import (
    KIND_EARNED,
    KIND_EMPLOYEE,
    KIND_SPEAKER,
    STATUS_CREDITED,
    EventPost,
)
from responders.amplification.report import event_report
from responders.amplification.service import create_event, get_event, update_event
from responders.cli.common import DEMO_CONFIG, demo_credentials
from responders.cli.events_demo import demo_event_spec
from responders.pipeline import classify_job, route_job, sync_people
from responders.routing.models import MentionRoute
from sandbox import event_traffic
from sandbox.app import available_networks
from sandbox.event_traffic import EventTraffic, expected_figures
from sandbox.seeder import Seeder

ROLE_KIND = {"employee": KIND_EMPLOYEE, "speaker": KIND_SPEAKER, "outsider": KIND_EARNED}


@pytest.fixture
def config(sandbox, tmp_path: Path, monkeypatch) -> AppConfig:
    """The demo's configuration (people, routing, sources) pointed at this test's sandbox."""
    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    text = DEMO_CONFIG.read_text().replace("http://127.0.0.1:8401", sandbox.url)
    return parse_config(text, origin="demo.toml")


@pytest.fixture
def desk(sandbox, config, session_factory):
    """The brand's accounts on the sandbox, the people in the database, the demo event."""
    Seeder(sandbox.state, networks=available_networks()).setup()
    sync_people(session_factory, config)
    with session_factory() as session:
        create_event(session, spec=demo_event_spec())
        session.commit()
    return config


def _poll(config: AppConfig, session_factory) -> None:
    sources = build_tracking_sources(
        config.sources, config.brands, tracked_brands_provider(session_factory)
    )
    for source in sources:
        outcome = poll_once(session_factory, source)
        assert outcome.error is None, outcome.error


def _posts_by_external_id(session) -> dict[str, tuple[EventPost, Mention]]:
    rows = session.execute(select(EventPost, Mention).join(Mention)).all()
    return {mention.external_id: (post, mention) for post, mention in rows}


def _external_id(record: dict) -> str:
    # Reddit fullnames: t3_ for submissions, t1_ for comments.
    if record["network"] == "reddit":
        return ("t1_" if record["in_reply_to_id"] else "t3_") + record["id"]
    return record["id"]


def test_event_posts_are_credited_earned_flagged_and_kept_out_of_the_inbox(
    sandbox, desk, session_factory
) -> None:
    records = EventTraffic(sandbox.state).publish_script()
    _poll(desk, session_factory)
    # The real pipeline order: classify, then the route job (which credits first).
    assert classify_job(session_factory, build_classifier(ClassifierConfig())) > 0
    route_job(session_factory, desk)

    with session_factory() as session:
        posts = _posts_by_external_id(session)
        about = [r for r in records if r["about_event"]]
        assert {_external_id(r) for r in about} == set(posts)
        for record in about:
            post, mention = posts[_external_id(record)]
            assert post.kind == ROLE_KIND[record["role"]], record["text"]
            assert post.scripted == (record["copied"] is not None), (record["text"], post)
            routed = session.get(MentionRoute, mention.id)
            if post.kind == KIND_EARNED:
                assert post.similarity is None and routed is not None  # the desk still sees it
            else:
                assert mention.status == STATUS_CREDITED and routed is None
        # An employee's post that is not about the event is the desk's like any other.
        ordinary = next(r for r in records if r["person"] == "jonas" and not r["about_event"])
        mention = session.scalars(
            select(Mention).where(Mention.external_id == ordinary["id"])
        ).one()
        assert session.get(MentionRoute, mention.id) is not None

        report = event_report(session, event=get_event(session, name=event_traffic.EVENT_NAME))
    expected = expected_figures(records)
    for key, value in expected.items():
        assert report[key] == value, key
    assert report["originality"] == pytest.approx(
        1 - expected["scripted"] / (expected["employee_posts"] + expected["speaker_posts"]), 0.01
    )
    # The copy of a colleague's post points at the original; the pasted point at the point.
    by_id = {p["mention_id"]: p for p in report["scripted_posts"]}
    assert any(p["like_talking_point"] == 1 for p in by_id.values())
    assert any(p["like_mention_id"] is not None for p in by_id.values())
    leaders = report["leaderboard"]
    assert leaders[0]["own_words"] >= leaders[-1]["own_words"]
    assert {e["name"] for e in leaders} == {
        "Sam Okafor",
        "Priya Shah",
        "Jonas Weber",
        "Maria Lopez",
        "Dr. Ada Lin",
    }
    assert (
        sum(point["employee"] + point["speaker"] + point["earned"] for point in report["timeline"])
        == report["posts"]
    )


def test_posts_recorded_while_new_are_credited_once_classified_and_never_routed(
    sandbox, desk, session_factory
) -> None:
    """Crediting never changes a "new" mention (the classifier may hold it and would write over
    the status); it records it, and credits it once it is classified, before routing looks."""
    EventTraffic(sandbox.state).publish_script()
    _poll(desk, session_factory)
    assert credit_job(session_factory) > 0
    with session_factory() as session:
        ours = select(EventPost.mention_id).where(EventPost.kind != KIND_EARNED)
        ids = list(session.scalars(ours))
        assert ids
        assert set(session.scalars(select(Mention.status).where(Mention.id.in_(ids)))) == {"new"}
    classify_job(session_factory, build_classifier(ClassifierConfig()))
    route_job(session_factory, desk)
    with session_factory() as session:
        statuses = session.scalars(select(Mention.status).where(Mention.id.in_(ids))).all()
        assert set(statuses) == {STATUS_CREDITED}
        assert not session.scalars(
            select(MentionRoute).where(MentionRoute.mention_id.in_(ids))
        ).all()


def test_the_listener_starts_tracking_an_event_created_while_it_runs(
    sandbox, config, session_factory
) -> None:
    Seeder(sandbox.state, networks=available_networks()).setup()
    sync_people(session_factory, config)
    EventTraffic(sandbox.state).publish_script()
    sources = build_tracking_sources(
        config.sources, config.brands, tracked_brands_provider(session_factory)
    )
    for source in sources:
        assert poll_once(session_factory, source).error is None
    with session_factory() as session:
        texts = session.scalars(select(Mention.text)).all()
        # Without an event only brand mentions are found (one script post names the brand).
        assert not any(event_traffic.EVENT_HASHTAG in t for t in texts)
        create_event(session, spec=demo_event_spec())
        session.commit()
    for source in sources:  # the same source objects, as in a running scheduler
        assert poll_once(session_factory, source).error is None
    assert {b.name for s in sources for b in s.tracked_brands} == {
        f"event: {event_traffic.EVENT_NAME}"
    }
    with session_factory() as session:
        found = session.scalars(select(Mention).where(Mention.text.contains("NWSummit26"))).all()
        assert found and {m.brand for m in found} == {f"event: {event_traffic.EVENT_NAME}"}


def test_tracking_follows_the_event_dates(config, session_factory) -> None:
    now = datetime.now(UTC)
    with session_factory() as session:
        sync_people(session_factory, config)
        event = create_event(session, spec=demo_event_spec(now))
        session.commit()
        assert [b.name for b in active_tracked_brands(session, now=now)] == [f"event: {event.name}"]
        (brand,) = active_tracked_brands(session, now=now)
        assert brand.hashtags == ["#NWSummit26"]
        assert brand.keywords == ["northwind.example/summit"]
        # Long after it ended the listener no longer looks for it.
        assert active_tracked_brands(session, now=event.track_until + timedelta(seconds=1)) == []
        # Moving the event moves the tracking; a new hashtag is tracked too.
        spec = demo_event_spec(now + timedelta(days=60)).model_copy(
            update={"hashtags": ["#NWSummit26", "#FlyCleaner"]}
        )
        update_event(session, event=event, spec=spec)
        session.commit()
        assert active_tracked_brands(session, now=now) == []
        later = active_tracked_brands(session, now=now + timedelta(days=59))
        assert later[0].hashtags == ["#FlyCleaner", "#NWSummit26"]
        assert session.scalars(select(TrackedTerm)).all()


def test_a_copy_recorded_before_its_original_is_flagged_once_the_original_arrives(
    sandbox, desk, session_factory
) -> None:
    """Networks are polled separately: the copy may be stored first. The later post is the copy."""
    state = sandbox.state
    EventTraffic(state).setup()
    hours_ago = datetime.now(UTC) - timedelta(hours=2)
    original = (
        "Our dispatch team has been rehearsing the summit's cockpit tour for weeks and it shows "
        "#NWSummit26"
    )
    state.publish(
        "reddit",
        "priya_nw_ops",
        original,
        created_at=hours_ago,
        subreddit="aviation",
        title="Cockpit tour rehearsals",
    )
    copy = state.publish("x", "jonas_weber_nw", original, created_at=hours_ago + timedelta(hours=1))
    sources = {
        s.network: s
        for s in build_tracking_sources(
            desk.sources, desk.brands, tracked_brands_provider(session_factory)
        )
    }
    assert poll_once(session_factory, sources["x"]).error is None
    credit_job(session_factory)
    with session_factory() as session:
        (post,) = session.scalars(select(EventPost)).all()
        assert not post.scripted  # nothing to compare with yet
    assert poll_once(session_factory, sources["reddit"]).error is None
    credit_job(session_factory)
    with session_factory() as session:
        posts = _posts_by_external_id(session)
        assert posts[copy.id][0].scripted
        assert not next(p for k, (p, _m) in posts.items() if k != copy.id).scripted


def test_crediting_twice_records_nothing_twice(sandbox, desk, session_factory) -> None:
    EventTraffic(sandbox.state).publish_script()
    _poll(desk, session_factory)
    with session_factory() as session:
        first = record_event_posts(session)
        session.commit()
        assert first > 0
        assert record_event_posts(session) == 0
        # Even a full rescan (as after an edit of the event's terms) finds nothing new.
        get_event(session, name=event_traffic.EVENT_NAME).scanned_through = None
        assert record_event_posts(session) == 0


def test_posts_routed_before_the_event_existed_are_still_counted(
    sandbox, config, session_factory
) -> None:
    Seeder(sandbox.state, networks=available_networks()).setup()
    sync_people(session_factory, config)
    EventTraffic(sandbox.state).setup()
    fan = sandbox.state.publish("x", "avgeek_tom", "Northwind Air's #NWSummit26 stream is up!")
    sam = sandbox.state.publish("x", "sam_at_northwind", "Northwind Air booth at #NWSummit26")
    _poll(config, session_factory)  # found as brand mentions: no event yet
    classify_job(session_factory, build_classifier(ClassifierConfig()))
    route_job(session_factory, config)
    with session_factory() as session:
        create_event(session, spec=demo_event_spec())
        session.commit()
    assert credit_job(session_factory) == 0  # routed already: not the gate's business
    assert event_posts_job(session_factory) == 2
    with session_factory() as session:
        posts = _posts_by_external_id(session)
        assert posts[fan.id][0].kind == KIND_EARNED
        post, mention = posts[sam.id]
        assert post.kind == KIND_EMPLOYEE and mention.status != STATUS_CREDITED


class _CreditingMeanwhile:
    """The real classifier; while it works on a batch, the crediting job runs and commits, as the
    scheduler's other thread may."""

    def __init__(self, inner, session_factory) -> None:
        self.inner, self.session_factory = inner, session_factory
        self.version = inner.version

    def classify(self, texts, *, languages=None):
        credit_job(self.session_factory)
        return self.inner.classify(texts, languages=languages)


def test_crediting_while_the_classifier_works_loses_nothing(sandbox, desk, session_factory):
    EventTraffic(sandbox.state).publish_script()
    _poll(desk, session_factory)
    classifier = _CreditingMeanwhile(build_classifier(ClassifierConfig()), session_factory)
    classify_job(session_factory, classifier)
    route_job(session_factory, desk)
    with session_factory() as session:
        ours = list(
            session.scalars(select(EventPost.mention_id).where(EventPost.kind != KIND_EARNED))
        )
        assert len(ours) == 8
        statuses = session.scalars(select(Mention.status).where(Mention.id.in_(ours))).all()
        assert set(statuses) == {STATUS_CREDITED}
        routed = select(MentionRoute).where(MentionRoute.mention_id.in_(ours))
        assert not session.scalars(routed).all()


def test_an_event_x_cannot_search_for_never_stops_the_brand_listening(
    sandbox, config, session_factory, caplog
) -> None:
    """X allows 512 characters a query: an event with too many links cannot be tracked there,
    but the brands still are (and the other networks track the event)."""
    Seeder(sandbox.state, networks=available_networks()).setup()
    sync_people(session_factory, config)
    links = [f"https://northwind.example/summit/session-{n:03d}-{'x' * 30}" for n in range(12)]
    with session_factory() as session:
        create_event(session, spec=demo_event_spec().model_copy(update={"links": links}))
        session.commit()
    complaint = sandbox.state.publish("x", "jenna_flies", "Northwind Air lost my bag again")
    x_source = next(
        s
        for s in build_tracking_sources(
            config.sources, config.brands, tracked_brands_provider(session_factory)
        )
        if s.network == "x"
    )
    assert poll_once(session_factory, x_source).error is None
    assert "cannot listen for" in caplog.text
    with session_factory() as session:
        assert session.scalars(select(Mention.external_id)).all() == [complaint.id]
