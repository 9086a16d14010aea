"""The manager's report page over the hand-worked story (tests/responders/report_story.py): the
figures, date range and clock switch, SVG charts, CSV downloads, the JSON API, who may see it."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from listener.store.db import session_scope
from responders.cli import app as cli
from responders.inbox.service import record_reply_posted
from responders.reports.tables import TABLE_TITLES
from tests.responders.report_story import (
    BUSINESS_HOURS,
    TUESDAY,
    WALL_CLOCK,
    add_mention,
    assignee,
    at,
    build_story,
    route_at,
)

STORY = {"since": "2026-06-01", "until": "2026-06-02"}
CHARTS = ("first_response_by_day", "volume_by_day", "first_response_by_employee", "backlog_by_age")


@pytest.fixture
def story(session_factory):
    with session_scope(session_factory) as session:
        return build_story(session)


def cli_report(database_url: str, *args: str) -> dict:
    result = CliRunner().invoke(
        cli,
        ["report", "--json", *args],
        env={"DATABASE_URL": database_url, "MENTIONDESK_CONFIG": None},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def json_value(row: dict, column: str):
    """A CSV column's value in the JSON report row: first_response_p90_seconds ->
    row["first_response_seconds"]["p90"]; first_response_count -> ...["count"]."""
    match = re.fullmatch(r"(.+)_(median|p90|mean)_seconds|(.+)_(count)", column)
    if match and not column.startswith("sla_"):
        base, stat = (match[1], match[2]) if match[1] else (match[3], match[4])
        return row[f"{base}_seconds"][stat]
    return row[column]


def assert_csv_matches(rows: list[dict[str, str]], json_rows: list[dict]) -> None:
    assert len(rows) == len(json_rows)
    for got, expected in zip(rows, json_rows, strict=True):
        for column, cell in got.items():
            value = json_value(expected, column)
            if value is None:
                assert cell == "", column
            elif isinstance(value, float):
                assert float(cell) == value, column
            else:
                assert cell == str(value), column


def cells(html: str, table: str) -> list[list[str]]:
    """The text of each body row's cells in the table with id `table-<name>`."""
    body = re.search(rf'id="table-{table}".*?<tbody>(.*?)</tbody>', html, re.S)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_manager_sees_the_figures(story, client_for) -> None:
    page = client_for("manager").get("/reports", params=STORY)
    assert page.status_code == 200, page.text
    html = page.text
    assert '<a href="/reports" aria-current="page">Reports</a>' in html
    first = re.search(r'id="figure-first_response_seconds".*?</div>', html, re.S)[0]
    assert 'data-seconds="1800.0">30m 00s<' in first  # median
    assert 'data-seconds="37080.0">10h 18m<' in first  # p90
    assert "5</span> responses" in first
    assert re.search(r'id="figure-sla".*?60\.0%.*?3 of 5', html, re.S)
    assert cells(html, "by_employee")[0] == [
        "Ann ann@northwind.example",
        "8h 25m",
        "14h 53m",
        "8h 25m",
        "2",
        "15m 00s",
        "1",
        "1d 3h",
        "1",
        "50.0% (1/2)",
    ]
    assert [row[0] for row in cells(html, "by_network")] == ["reddit", "x"]
    assert [row[0] for row in cells(html, "by_day")] == ["2026-06-01", "2026-06-02"]
    assert cells(html, "volume_by_day")[1] == ["2026-06-02", "4", "3", "3", "0", "0", "1"]
    for name in CHARTS:
        assert f'src="/reports/charts/{name}.svg?since=2026-06-01&amp;until=2026-06-02' in html
    for table in TABLE_TITLES:
        assert f'href="/reports/csv/{table}.csv?since=2026-06-01&amp;until=2026-06-02' in html


def test_business_hours_and_a_narrower_range(story, client_for) -> None:
    client = client_for("manager")
    html = client.get("/reports", params={**STORY, "clock": "business"}).text
    assert 'value="business" checked' in html
    assert re.search(r'id="figure-sla".*?80\.0%.*?4 of 5', html, re.S)
    tuesday = client.get("/reports", params={"since": "2026-06-02", "until": "2026-06-02"}).text
    assert [row[0] for row in cells(tuesday, "by_day")] == ["2026-06-02"]
    # Open ended: from a day on, with nothing after it.
    later = client.get("/reports", params={"since": "2026-06-03"}).text
    assert "No responses in this period." in later


def test_the_page_is_never_stale_and_its_csv_follows_it(story, client_for, session_factory) -> None:
    client = client_for("manager")
    assert "5</span> responses" in client.get("/reports", params=STORY).text
    with session_scope(session_factory) as session:
        late = add_mention(
            session, network="x", posted_at=at(TUESDAY, 15), verdict=(False, "neutral", None)
        )
        route_at(session, at(TUESDAY, 15))
        record_reply_posted(
            session,
            mention_id=late.id,
            employee_id=assignee(session, late),
            posted_at=at(TUESDAY, 15, 5),
        )
    assert "6</span> responses" in client.get("/reports", params=STORY).text
    [overall] = read_csv(client.get("/reports/csv/overall.csv", params=STORY).text)
    assert overall["first_response_count"] == "6"


def test_the_default_is_the_last_thirty_days(story, client_for) -> None:
    client = client_for("manager")
    before = datetime.now(UTC).date().isoformat()
    html = client.get("/reports").text
    after = datetime.now(UTC).date().isoformat()
    since = re.search(r'id="since" name="since" value="([\d-]+)"', html)[1]
    until = re.search(r'id="until" name="until" value="([\d-]+)"', html)[1]
    assert until in (before, after)  # today (UTC), even across midnight
    assert (date.fromisoformat(until) - date.fromisoformat(since)).days == 29


def test_bad_dates_say_what_is_wrong(story, client_for) -> None:
    client = client_for("manager")
    page = client.get("/reports", params={"since": "2026-02-30"})
    assert page.status_code == 400
    assert "since: &#39;2026-02-30&#39; is not a date (expected YYYY-MM-DD)" in page.text
    backwards = client.get(
        "/reports/csv/overall.csv", params={"since": "2026-06-02", "until": "2026-06-01"}
    )
    assert backwards.status_code == 400 and "before since" in backwards.text
    assert client.get("/reports", params={"clock": "sundial"}).status_code == 422
    assert client.get("/reports/charts/pie.svg").status_code == 404
    assert client.get("/reports/csv/passwords.csv").status_code == 404
    api = client.get("/api/reports", params={"until": "yesterday"})
    assert api.status_code == 400 and "until: 'yesterday' is not a date" in api.json()["detail"]


def test_a_csv_file_name_uses_the_dates_as_read_not_as_typed(story, client_for) -> None:
    """Spaces and a line break around a date are forgiven, and must not reach the header (a
    server refuses a header with a line break: the download would fail)."""
    client = client_for("manager")
    response = client.get(
        "/reports/csv/by_day.csv", params={"since": " 2026-06-01\r\n", "until": "20260602"}
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        'attachment; filename="mentiondesk-by_day-2026-06-01-2026-06-02.csv"'
    )
    page = client.get("/reports", params={"since": "2026-06-01 ", "until": "2026-06-02"}).text
    assert 'name="since" value="2026-06-01"' in page


def test_charts_are_svg_images(story, client_for) -> None:
    client = client_for("manager")
    for name in CHARTS:
        response = client.get(f"/reports/charts/{name}.svg", params=STORY)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        root = ET.fromstring(response.text)  # noqa: S314 (our own output, under test)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    by_employee = client.get("/reports/charts/first_response_by_employee.svg", params=STORY).text
    assert 'id="median-2"' in by_employee and 'id="median-3"' not in by_employee


def test_every_csv_matches_the_cli_json(story, client_for, database_url) -> None:
    client = client_for("manager")
    expected = cli_report(database_url, "--since", STORY["since"], "--until", STORY["until"])
    assert {key: expected[key] for key in WALL_CLOCK} == WALL_CLOCK
    for table in ("by_employee", "by_team", "by_network", "by_topic", "by_day", "volume_by_day"):
        response = client.get(f"/reports/csv/{table}.csv", params=STORY)
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="mentiondesk-{table}-2026-06-01-2026-06-02.csv"'
        )
        assert_csv_matches(read_csv(response.text), expected[table])
    [overall] = read_csv(client.get("/reports/csv/overall.csv", params=STORY).text)
    assert_csv_matches([overall], [expected])
    business = cli_report(database_url, "--business-hours", "--since", "2026-06-01")
    assert {key: business[key] for key in BUSINESS_HOURS} == BUSINESS_HOURS
    [overall] = read_csv(
        client.get(
            "/reports/csv/overall.csv", params={"since": "2026-06-01", "clock": "business"}
        ).text
    )
    assert_csv_matches([overall], [business])


def test_the_json_api_is_the_cli_report(story, client_for, database_url) -> None:
    api = client_for("manager").get("/api/reports", params=STORY)
    assert api.status_code == 200
    cli_json = cli_report(database_url, "--since", STORY["since"], "--until", STORY["until"])
    got = api.json()
    for key in ("period", "backlog"):  # taken at different moments
        got.pop(key), cli_json.pop(key)
    assert got == cli_json


@pytest.mark.parametrize(
    "path",
    [
        "/reports",
        "/reports/charts/volume_by_day.svg",
        "/reports/csv/by_employee.csv",
        "/api/reports",
    ],
)
def test_agents_may_not_see_reports(story, client_for, path) -> None:
    assert client_for("agent").get(path).status_code == 403
    assert client_for("admin").get(path).status_code == 200
    anonymous = client_for(None).get(path)
    assert anonymous.status_code in (303, 401)


def test_agents_get_no_reports_link(client_for) -> None:
    assert 'href="/reports"' not in client_for("agent").get("/desk").text
    assert 'href="/reports"' in client_for("manager").get("/desk").text


def test_a_manager_in_the_browser(story, login, live_server, database_url) -> None:
    """Log in, open Reports from the nav, pick the days, see the figures and the charts, download
    a CSV and find the numbers `mentiondesk report --json` prints."""
    page = login("manager")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(re.compile(r".*/reports$"))
    page.fill("#since", STORY["since"])
    page.fill("#until", STORY["until"])
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*/reports\?since=2026-06-01&until=2026-06-02&clock=wall$"))
    assert page.inner_text("#figure-sla .big") == "60.0%"
    assert page.inner_text("#figure-first_response_seconds .big") == "30m 00s"

    for name in CHARTS:
        page.wait_for_function(
            "id => { const img = document.getElementById(id);"
            " return img.complete && img.naturalWidth > 0; }",
            arg=f"chart-{name}",
        )
        box = page.locator(f"#chart-{name}").bounding_box()
        assert box["width"] > 300 and box["height"] > 100

    expected = cli_report(database_url, "--since", STORY["since"], "--until", STORY["until"])
    for table in ("by_employee", "by_day"):
        with page.expect_download() as download:
            page.click(f"#csv-{table}")
        assert download.value.suggested_filename == (
            f"mentiondesk-{table}-2026-06-01-2026-06-02.csv"
        )
        with open(download.value.path(), encoding="utf-8") as file:
            assert_csv_matches(read_csv(file.read()), expected[table])

    page.get_by_label("Business hours").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*clock=business$"))
    assert page.inner_text("#figure-sla .big") == "80.0%"
    assert page.js_errors == []
