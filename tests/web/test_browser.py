"""In a real Chromium: an agent answers a complaint end to end, new work appears without a
reload, the keyboard drives the desk, the reply counter counts like the network, and hostile
mentions neither run nor break the layout."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from listener.store.models import Mention
from responders.replies import limits
from tests.web.test_desk import COMPLAINT


@pytest.fixture
def sender_running(desk):
    """The real sender, passing over the outbox every half second, as `mentiondesk run` does."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.5):
            desk.send()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def test_agent_answers_a_complaint_end_to_end(desk, login, live_server, sender_running):
    complaint = desk.post("dana_flies", COMPLAINT, display_name="Dana Reyes", followers=320)
    desk.listen()
    mention_id = desk.mention_id(complaint)
    page = login("agent")

    # The complaint is in a queue of the agent's (theirs, or their team's).
    row = page.locator(f'tr[data-mention-id="{mention_id}"]')
    row.wait_for()
    assert "Dana Reyes" in row.inner_text()
    assert "complaint" in row.inner_text()
    assert re.search(r"\d+m left", row.locator("time.countdown").inner_text())

    row.locator("a.open").click()
    page.wait_for_url(f"**/mentions/{mention_id}")
    assert "lost my bag on NW212" in page.locator(".post.current").inner_text()
    assert "320 followers" in page.locator(".author-card").inner_text()
    if page.locator('form[action$="/claim"]').count():
        page.click('form[action$="/claim"] button')
        page.wait_for_url(re.compile(r".*done=claimed$"))

    typed = "Dana, we're sorry. DM us your bag tag and we'll find it today."
    page.fill("#reply-text", typed)
    assert page.locator("#reply-count").inner_text() == f"{len(typed)} / 280"
    page.click(".reply-form button[type=submit]")
    page.wait_for_url(re.compile(r".*done=queued"))
    # The outbox fragment refreshes by itself until the sender has posted the reply.
    posted = page.locator('#outbox li[data-status="posted"]')
    posted.wait_for(timeout=20_000)
    link = posted.locator("a")
    assert link.get_attribute("rel") == "noopener nofollow noreferrer"

    replies = desk.sandbox.state.snapshot()["replies"]["x"]
    assert [(r["in_reply_to_id"], r["text"]) for r in replies] == [(complaint.id, typed)]
    assert link.get_attribute("href").endswith(replies[0]["id"])
    assert page.js_errors == []


def test_new_work_appears_without_a_reload(desk, login):
    page = login("manager")  # in both teams: every routed mention shows on her desk
    page.evaluate("window.__sameDocument = true")
    first = desk.post("early_bird", COMPLAINT)
    desk.listen()
    page.locator(f'tr[data-mention-id="{desk.mention_id(first)}"]').wait_for(timeout=10_000)
    later = desk.post("late_owl", "@northwindair where is my refund? three weeks now. Terrible.")
    desk.listen()
    row = page.locator(f'tr[data-mention-id="{desk.mention_id(later)}"]')
    row.wait_for(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True  # no navigation happened
    assert page.js_errors == []


def test_the_desk_works_from_the_keyboard(desk, login):
    posts = [
        desk.post(f"flyer{i}", f"@northwindair flight NW{i} delayed again, terrible service")
        for i in range(3)
    ]
    desk.listen()
    page = login("manager")
    page.locator("tr[data-href]").first.wait_for()
    page.keyboard.press("j")
    page.keyboard.press("j")
    selected = page.locator("tr.selected")
    target = selected.get_attribute("data-href")
    assert selected.count() == 1 and target == page.locator("tr[data-href]").nth(1).get_attribute(
        "data-href"
    )
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{target}")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.keyboard.type("On it")
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#keys-help").is_visible()
    next_href = page.locator("#next-mention").get_attribute("href")
    assert next_href and next_href != target
    page.keyboard.press("n")
    page.wait_for_url(f"**{next_href}")
    page.keyboard.press("g")
    page.wait_for_url("**/desk")
    assert len(posts) == 3 and page.js_errors == []


SAMPLES = [
    "Thanks, Dana!",
    "Sorry 😞 — we'll fix it 👍🏽 today",
    "見てください、ありがとう",
    "Details: https://northwind.example/help/baggage?ref=abcdefghijklmnopqrstuvwxyz and more",
    "e\u0301te\u0301 naïve café 👩‍👩‍👧‍👦",
    "مرحبا بكم — שלום",
]


def test_reply_counter_counts_like_the_server(desk, login):
    post = desk.post("dana_flies", COMPLAINT)
    desk.listen()
    page = login("agent")
    page.goto(page.url.replace("/desk", f"/mentions/{desk.mention_id(post)}"))
    for network in limits.LIMITS:
        for text in SAMPLES:
            in_browser = page.evaluate(
                "([n, t]) => window.mentiondeskMeasure(n, t)", [network, text]
            )
            assert in_browser == limits.LIMITS[network].measure(text), (network, text)
    # Over the limit: the count turns red and Send is disabled.
    page.fill("#reply-text", "x" * 281)
    assert page.locator("#reply-count.over").inner_text() == "281 / 280"
    assert page.locator(".reply-form button[type=submit]").is_disabled()


HOSTILE = [
    (
        "evil_script",
        "<script>window.__pwned=1;alert(1)</script> @northwindair hello",
        "Mallory <script>window.__pwned=2</script>",
    ),
    (
        "evil_img",
        '@northwindair <img src=x onerror="window.__pwned=3"> lost my bag',
        '<img src=x onerror="window.__pwned=4">',
    ),
    (
        "evil_link",
        '@northwindair see javascript:window.__pwned=5 and https://example.com/x"onmouseover="window.__pwned=6',
        "javascript:alert(1)",
    ),
    ("evil_long", "@northwindair " + "A" * 3000, "B" * 400),
    (
        "evil_rtl",
        "@northwindair \u202egnirts desrever\u202c and zero\u200bwidth\u200b\u200bspaces"
        " \u2066isolate",
        "\u202eevil\u202c\u200b",
    ),
    (
        "evil_attr",
        '@northwindair " autofocus onfocus="window.__pwned=7" x="',
        "' onclick='window.__pwned=8",
    ),
]


def test_hostile_mentions_do_not_run_and_the_layout_holds(desk, login, session_factory):
    for handle, text, name in HOSTILE:
        desk.post(handle, text, display_name=name, followers=5)
    desk.listen()
    with session_factory() as session:
        ids = session.scalars(select(Mention.id).order_by(Mention.id)).all()
    assert len(ids) == len(HOSTILE)

    page = login("admin")  # sees every team's queue
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in ["/desk", *(f"/mentions/{i}" for i in ids)]:
        page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + url)
        page.wait_for_load_state("networkidle")
        page.mouse.move(400, 400)
        page.keyboard.press("Tab")
        assert page.evaluate("window.__pwned") is None, url
        # No element from the strangers' text made it into the DOM.
        assert (
            page.locator(
                "main script, main img, main [onerror], main [onmouseover], main [onfocus],"
                " main [onclick]"
            ).count()
            == 0
        ), url
        assert page.locator('a[href^="javascript:"]').count() == 0, url
        # The page does not scroll sideways: long unbroken text wraps.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
        for link in page.locator("main a[target=_blank]").all():
            assert link.get_attribute("rel") == "noopener nofollow noreferrer"
    assert dialogs == []
    assert page.js_errors == []
    # The text is shown, as text.
    page.goto(page.url.rsplit("/", 2)[0] + f"/mentions/{ids[0]}")
    assert (
        "<script>window.__pwned=1;alert(1)</script>"
        in page.locator(".post.current .post-text").inner_text()
    )
