"""Web fixtures: the app on the test database, a logged-in client per role, a live server and a
real Chromium (Debian's /usr/bin/chromium through Playwright) with screenshots on failure.

Other test modules (reports, events) use these as they are:
    def test_x(client_for):           client_for("manager").get("/reports")
    def test_y(live_server, login):   page = login("agent"); page.goto(live_server.url + "/desk")
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from config.people import EmployeeConfig
from listener.store.db import session_scope
from responders.employees.service import upsert_employee
from responders.users import service as users
from responders.web.app import create_app

CHROMIUM = os.environ.get("MENTIONDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"  # test users only; the demo and real users get random ones


@dataclass(frozen=True)
class WebUser:
    role: str
    email: str
    password: str
    user_id: int
    employee_id: int | None


def _employee(session: Session, name: str, email: str, role: str, teams: list[str]) -> int:
    spec = EmployeeConfig(name=name, email=email, role=role, teams=teams, capacity=10)
    return upsert_employee(session, spec=spec).id


@pytest.fixture
def web_users(session_factory: sessionmaker[Session]) -> dict[str, WebUser]:
    """One login per role: an agent and a manager who are employees (team support), an admin
    who is not. Also a second agent (`agent2`) in the same team, to transfer to."""
    now = datetime.now(UTC)
    out: dict[str, WebUser] = {}
    with session_scope(session_factory) as session:
        people = {
            "agent": ("Sam Okafor", "sam@northwind.example", "agent", ["support"]),
            "agent2": ("Jonas Weber", "jonas@northwind.example", "agent", ["support"]),
            "manager": ("Maria Lopez", "maria@northwind.example", "manager", ["support", "social"]),
        }
        for key, (name, email, role, teams) in people.items():
            employee_id = _employee(session, name, email, role, teams)
            user = users.create_user(session, email=email, password=PASSWORD, now=now)
            out[key] = WebUser(role, email, PASSWORD, user.id, employee_id)
        admin = users.create_user(
            session, email="admin@northwind.example", password=PASSWORD, role="admin", now=now
        )
        out["admin"] = WebUser("admin", admin.email, PASSWORD, admin.id, None)
    return out


@pytest.fixture
def web_app(session_factory: sessionmaker[Session]) -> FastAPI:
    # Polls fast, so tests see refreshed fragments quickly.
    return create_app(session_factory=session_factory, poll_seconds=1.0)


def login_client(client: TestClient, email: str, password: str) -> TestClient:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/desk"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str = "/desk") -> str:
    """The session's CSRF token, as a page carries it."""
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def client_for(
    web_app: FastAPI, web_users: dict[str, WebUser]
) -> Iterator[Callable[[str | None], TestClient]]:
    """client_for("agent"|"agent2"|"manager"|"admin") -> a TestClient logged in with that role;
    client_for(None) -> an anonymous one."""
    clients: list[TestClient] = []

    def make(role: str | None) -> TestClient:
        client = TestClient(web_app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        if role is not None:
            login_client(client, web_users[role].email, web_users[role].password)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# --- a live server and a real browser ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture
def live_server(web_app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on 127.0.0.1 in a thread, for the browser."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web app did not start within 15 s")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", web_app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; a screenshot is saved if the test fails."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def login(page, live_server: LiveServer, web_users: dict[str, WebUser]) -> Callable[[str], object]:
    """login("agent") -> the page, logged in through the real login form, on the desk."""

    def do(role: str):
        user = web_users[role]
        page.goto(live_server.url + "/login")
        page.fill("#email", user.email)
        page.fill("#password", user.password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/desk$"))
        return page

    return do


# --- a desk with real traffic: sandbox -> listener -> real classifier -> routing ---------------


@pytest.fixture(scope="session")
def classifier():
    """The real default classifier, loaded once for the whole run (it takes seconds)."""
    from listener.classifying.settings import ClassifierConfig, build_classifier

    return build_classifier(ClassifierConfig())


@dataclass
class Desk:
    sandbox: object
    config: object
    session_factory: sessionmaker[Session]
    classifier: object
    sources: list

    def post(
        self,
        handle: str,
        text: str,
        *,
        display_name: str | None = None,
        followers: int = 10,
        **kwargs,
    ):
        """A customer posts on the sandbox's X."""
        self.sandbox.state.add_account("x", handle, display_name or handle, followers=followers)
        return self.sandbox.state.publish("x", handle, text, **kwargs)

    def listen(self) -> int:
        """Poll, classify and route everything new, as `mentiondesk run` would; returns how many
        mentions were assigned to someone."""
        from listener.polling import poll_once
        from responders.pipeline import classify_job, route_job

        for source in self.sources:
            outcome = poll_once(self.session_factory, source)
            assert outcome.error is None, outcome.error
        classify_job(self.session_factory, self.classifier)
        return route_job(self.session_factory, self.config)

    def mention_id(self, post) -> int:
        from sqlalchemy import select

        from listener.store.models import Mention

        with self.session_factory() as session:
            return session.scalars(
                select(Mention.id).where(Mention.network == "x", Mention.external_id == post.id)
            ).one()

    def send(self) -> int:
        """One pass of the real sender over the outbox."""
        from responders.replies import sender

        return sender.send_pending(self.session_factory, {s.name: s for s in self.sources})


@pytest.fixture
def desk(sandbox, session_factory, web_users, classifier, web_app, monkeypatch) -> Desk:
    """The demo's configuration (teams, people, routing rules, topics) pointed at this test's
    sandbox, listening on X, and served by the web app as `mentiondesk run` serves it. The
    web_users' employees are the demo's people."""
    from config.settings import parse_config
    from listener.sources.registry import build_enabled_sources
    from responders.cli.common import DEMO_CONFIG, demo_credentials
    from responders.pipeline import sync_people

    for name, value in demo_credentials().items():
        monkeypatch.setenv(name, value)
    text = DEMO_CONFIG.read_text().replace("http://127.0.0.1:8401", sandbox.url)
    config = parse_config(text, origin="demo.toml (test sandbox)")
    sandbox.state.add_account("x", "northwindair", "Northwind Air", is_brand=True)
    sync_people(session_factory, config)
    web_app.state.web.config = config
    sources = [s for s in build_enabled_sources(config.sources, config.brands) if s.name == "x"]
    return Desk(sandbox, config, session_factory, classifier, sources)
