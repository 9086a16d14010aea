"""The report as flat tables (one dict per row, the same columns in every row) and as CSV text.

Every table the report page shows comes from here, and its CSV download is that table, so the
page, the files and `mentiondesk report --json` never disagree.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from listener.classifying.labels import SENTIMENTS
from responders.reports.backlog import BACKLOG_TEAM_COLUMNS
from responders.reports.response_times import METRICS

STATS = ("median", "p90", "mean")
GROUPS: dict[str, tuple[str, ...]] = {
    "by_employee": ("employee_id", "employee", "email"),
    "by_team": ("team_id", "team"),
    "by_network": ("network",),
    "by_topic": ("topic",),
    "by_day": ("day",),
}
TABLE_TITLES: dict[str, str] = {
    "overall": "All responses",
    "by_employee": "By employee",
    "by_team": "By team",
    "by_network": "By network",
    "by_topic": "By topic",
    "by_day": "By day the response was given (UTC)",
    "volume_by_day": "Mentions by day posted (UTC)",
    "backlog": "Backlog now",
    "backlog_by_age": "Backlog by age",
    "backlog_by_team": "Backlog by team",
}
# A cell starting with one of these would be run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def metric_columns(row: dict[str, Any]) -> dict[str, Any]:
    """{"first_response_seconds": {"median": ...}} -> {"first_response_median_seconds": ...}."""
    flat: dict[str, Any] = {}
    for name in METRICS.values():
        base = name.removesuffix("_seconds")
        figures = row[name]
        for stat in STATS:
            flat[f"{base}_{stat}_seconds"] = figures[stat]
        flat[f"{base}_count"] = figures["count"]
    flat["sla_met_pct"] = row["sla_met_pct"]
    flat["sla_met"] = row["sla_met"]
    flat["sla_total"] = row["sla_total"]
    return flat


def report_tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every table of the report, keyed as TABLE_TITLES, in that order."""
    tables: dict[str, list[dict[str, Any]]] = {"overall": [metric_columns(report)]}
    for group, keys in GROUPS.items():
        tables[group] = [
            {**{key: row[key] for key in keys}, **metric_columns(row)} for row in report[group]
        ]
    tables["volume_by_day"] = [dict(row) for row in report["volume_by_day"]]
    backlog = report["backlog"]
    tables["backlog"] = [
        {
            key: backlog[key]
            for key in (
                "as_of",
                "count",
                "overdue",
                "assigned",
                "unassigned",
                "oldest_age_seconds",
                "median_age_seconds",
            )
        }
    ]
    tables["backlog_by_age"] = [dict(row) for row in backlog["by_age"]]
    tables["backlog_by_team"] = [dict(row) for row in backlog["by_team"]]
    assert list(tables) == list(TABLE_TITLES)
    return tables


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """CSV with a header row; empty cells for None."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _empty_columns(name: str) -> list[str]:
    """The columns of a table with no rows, so that its CSV still has a header."""
    blank: dict[str, Any] = dict.fromkeys(METRICS.values(), dict.fromkeys((*STATS, "count")))
    blank.update(sla_met_pct=None, sla_met=None, sla_total=None)
    if name == "overall":
        return list(metric_columns(blank))
    if name in GROUPS:
        return [*GROUPS[name], *metric_columns(blank)]
    return {
        "volume_by_day": ["day", "mentions", "complaints", *SENTIMENTS, "unclassified"],
        "backlog_by_age": ["age", "count"],
        "backlog_by_team": list(BACKLOG_TEAM_COLUMNS),
    }[name]


def table_csv(tables: dict[str, list[dict[str, Any]]], name: str) -> str:
    """One of report_tables' tables as CSV. KeyError names the tables there are."""
    if name not in tables:
        raise KeyError(f"no table {name!r}; tables: {', '.join(tables)}")
    rows = tables[name]
    return to_csv(rows, list(rows[0]) if rows else _empty_columns(name))
