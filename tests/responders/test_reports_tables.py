"""The report's tables and CSV files, and its SVG charts, from the hand-worked story."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from config.people import EmployeeConfig
from responders.employees.service import upsert_employee
from responders.reports.charts import CHARTS
from responders.reports.service import build_report
from responders.reports.tables import TABLE_TITLES, report_tables, table_csv, to_csv
from tests.responders.report_story import NOW, TUESDAY, WALL_CLOCK, build_story

SVG = "{http://www.w3.org/2000/svg}svg"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, under test)


def ids(svg: str) -> set[str | None]:
    return {e.get("id") for e in parse(svg).iter()}


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def report(session):
    build_story(session)
    return build_report(session, since=None, until=None, now=NOW)


def test_every_table_has_a_csv_with_the_reports_numbers(report) -> None:
    tables = report_tables(report)
    assert list(tables) == list(TABLE_TITLES)
    [overall] = read_csv(table_csv(tables, "overall"))
    assert overall["first_response_median_seconds"] == "1800.0"
    assert overall["first_response_p90_seconds"] == "37080.0"
    assert overall["first_response_count"] == "5"
    assert overall["resolution_mean_seconds"] == "97200.0"
    assert overall["sla_met_pct"] == str(WALL_CLOCK["sla_met_pct"])
    ann, bob, cat = read_csv(table_csv(tables, "by_employee"))
    assert (ann["employee"], ann["email"]) == ("Ann", "ann@northwind.example")
    assert ann["first_response_median_seconds"] == "30300.0"
    assert ann["first_response_p90_seconds"] == "53580.0"
    # No next response for Bob: an empty cell, not "None".
    assert bob["next_response_median_seconds"] == "" and bob["next_response_count"] == "0"
    assert cat["sla_met_pct"] == "100.0"
    days = read_csv(table_csv(tables, "volume_by_day"))
    assert [(d["day"], d["mentions"], d["complaints"]) for d in days] == [
        ("2026-06-01", "4", "3"),
        ("2026-06-02", "4", "3"),
    ]
    [backlog] = read_csv(table_csv(tables, "backlog"))
    assert (backlog["count"], backlog["overdue"]) == ("2", "1")
    assert len(read_csv(table_csv(tables, "backlog_by_age"))) == 5
    with pytest.raises(KeyError, match="no table 'secrets'"):
        table_csv(tables, "secrets")


def test_an_empty_period_still_has_headers(session) -> None:
    tables = report_tables(build_report(session, since=TUESDAY, until=None, now=NOW))
    for name in TABLE_TITLES:
        header = table_csv(tables, name).splitlines()[0]
        assert header, name
    assert table_csv(tables, "by_employee").splitlines() == [
        table_csv(tables, "by_employee").splitlines()[0]
    ]
    assert table_csv(tables, "by_team").startswith("team_id,team,first_response_median_seconds,")


def test_cells_a_spreadsheet_would_run_are_defused() -> None:
    text = to_csv([{"name": '=HYPERLINK("http://evil")', "n": -3}], ["name", "n"])
    assert read_csv(text) == [{"name": '\'=HYPERLINK("http://evil")', "n": "-3"}]


def test_charts_are_svg_with_the_data_drawn(report) -> None:
    for name, chart in CHARTS.items():
        assert parse(chart(report)).tag == SVG, name
    # One bar per employee, one per day and sentiment, one per age bucket; the lines by name.
    drawn = ids(CHARTS["first_response_by_employee"](report))
    assert {"median-0", "median-1", "median-2", "p90"} <= drawn and "median-3" not in drawn
    assert {"median", "p90"} <= ids(CHARTS["first_response_by_day"](report))
    drawn = ids(CHARTS["volume_by_day"](report))
    assert {"negative-0", "negative-1", "unclassified-1", "complaints"} <= drawn
    assert {f"age-{i}" for i in range(5)} <= ids(CHARTS["backlog_by_age"](report))


def test_an_empty_chart_says_so_and_no_label_becomes_markup(session) -> None:
    empty = build_report(session, since=None, until=None, now=NOW)
    for chart in CHARTS.values():
        drawn = ids(chart(empty))
        assert not {"median-0", "median", "negative-0", "age-0"} & drawn
    build_story(session)
    upsert_employee(
        session,
        spec=EmployeeConfig(
            name='<script>alert(1)</script><img src=x onerror="alert(2)">',
            email="ann@northwind.example",
        ),
    )
    svg = CHARTS["first_response_by_employee"](build_report(session, since=None, until=None))
    # Text is drawn as glyph paths; matplotlib keeps the label only in an escaped comment.
    assert "<script>" not in svg and "<img" not in svg and "&lt;script&gt;alert(1)" in svg
    elements = list(parse(svg).iter())
    assert not [e for e in elements if e.tag.rsplit("}", 1)[-1] in ("script", "img")]
    assert not [a for e in elements for a in e.attrib if a.lower().startswith("on")]
