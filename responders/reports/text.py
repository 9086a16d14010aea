"""The report as readable text for a terminal: durations like "1h 05m", aligned columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from responders.reports.response_times import METRICS

METRIC_TITLES: dict[str, str] = {
    "first_response_seconds": "First response",
    "first_response_since_assignment_seconds": "First response since assignment",
    "next_response_seconds": "Next response",
    "resolution_seconds": "Resolution",
}
GROUP_TITLES: dict[str, tuple[str, str]] = {
    "by_employee": ("By employee", "employee"),
    "by_team": ("By team", "team"),
    "by_network": ("By network", "network"),
    "by_topic": ("By topic", "topic"),
    "by_day": ("By day (UTC, when the response was given)", "day"),
}
assert set(METRIC_TITLES) == set(METRICS.values())


def format_duration(seconds: float | None) -> str:
    """3725 -> "1h 02m"; 45.2 -> "45s"; 200000 -> "2d 7h"; None -> "-"."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        ).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _when(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else "…"


def _overall(report: dict[str, Any]) -> list[str]:
    rows = [
        [
            title,
            format_duration(report[name]["median"]),
            format_duration(report[name]["p90"]),
            format_duration(report[name]["mean"]),
            str(report[name]["count"]),
        ]
        for name, title in METRIC_TITLES.items()
    ]
    sla = (
        f"SLA met (first response in time): {format_percent(report['sla_met_pct'])}"
        f" ({report['sla_met']} of {report['sla_total']})"
    )
    return [*_table(["", "median", "p90", "mean", "count"], rows), sla]


def _grouped(rows: list[dict[str, Any]], label: str) -> list[str]:
    header = [label, "first median", "first p90", "n", "next median", "resolution median", "SLA"]
    cells = [
        [
            str(row[label]),
            format_duration(row["first_response_seconds"]["median"]),
            format_duration(row["first_response_seconds"]["p90"]),
            str(row["first_response_seconds"]["count"]),
            format_duration(row["next_response_seconds"]["median"]),
            format_duration(row["resolution_seconds"]["median"]),
            format_percent(row["sla_met_pct"]),
        ]
        for row in rows
    ]
    return _table(header, cells) if cells else ["(none)"]


def _volume(report: dict[str, Any]) -> list[str]:
    rows = report["volume_by_day"]
    if not rows:
        return ["(no mentions)"]
    keys = ["mentions", "complaints", "negative", "neutral", "positive", "unclassified"]
    return _table(["day", *keys], [[row["day"], *(str(row[k]) for k in keys)] for row in rows])


def _backlog(report: dict[str, Any]) -> list[str]:
    backlog = report["backlog"]
    oldest = format_duration(backlog["oldest_age_seconds"])
    median = format_duration(backlog["median_age_seconds"])
    lines = [
        f"{backlog['count']} waiting for a first reply ({backlog['overdue']} overdue,"
        f" {backlog['unassigned']} unassigned); oldest {oldest}, median age {median}",
    ]
    lines += [f"  {b['age']}: {b['count']}" for b in backlog["by_age"]]
    return lines


def render_text(report: dict[str, Any]) -> str:
    period = report["period"]
    clock = "business hours" if period["business_hours"] else "wall clock"
    lines = [
        f"Responses given {_when(period['since'])} to {_when(period['until'])} UTC"
        f" (end excluded), in {clock}",
        "",
        *_overall(report),
    ]
    for key, (title, label) in GROUP_TITLES.items():
        lines += ["", title, *_grouped(report[key], label)]
    lines += ["", "Mentions of our brands by day posted (UTC)", *_volume(report)]
    lines += ["", f"Backlog as of {_when(report['backlog']['as_of'])} UTC", *_backlog(report)]
    return "\n".join(lines)
