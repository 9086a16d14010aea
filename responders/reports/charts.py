"""The report's charts, drawn on the server as SVG text.

Figures are made with matplotlib's object API (Figure, never pyplot): no GUI backend is ever
loaded, no global figure state is shared between requests. Text is written as paths
(svg.fonttype = "path"), so a label can never become markup in the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import matplotlib
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from listener.classifying.labels import SENTIMENTS

WIDTH, HEIGHT = 7.5, 3.2  # inches, at 100 dpi in the page
COLOURS = {
    "median": "#2f6db5",
    "p90": "#d9822b",
    "negative": "#c0392b",
    "neutral": "#95a5a6",
    "positive": "#27ae60",
    "unclassified": "#d5d8dc",
    "complaints": "#34495e",
    "bar": "#2f6db5",
}
_RC = {"svg.fonttype": "path", "svg.hashsalt": "mentiondesk", "font.size": 9}


def _hours(seconds: float | None) -> float:
    return float("nan") if seconds is None else seconds / 3600.0


def _render(title: str, draw: Callable[[Axes], bool]) -> str:
    """A titled figure; `draw` returns False when there was nothing to draw."""
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
        axes = figure.add_subplot()
        axes.set_title(title, loc="left", fontsize=10, pad=22)
        if not draw(axes):
            axes.set_axis_off()
            axes.text(0.5, 0.5, "No data for this period", ha="center", va="center")
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _days(rows: list[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(row["day"]) for row in rows]


def _day_axis(axes: Axes, days: list[date]) -> None:
    """Whole days on the x axis (never hours), at most ~12 labels, half a day of margin."""
    span = (max(days) - min(days)).days + 1
    axes.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, span // 12 + (span % 12 > 0))))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    axes.set_xlim(mdates.date2num(min(days)) - 0.6, mdates.date2num(max(days)) + 0.6)
    for label in axes.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def _name_bars(bars: Any, series: str) -> None:
    """ids in the SVG ("median-0", "median-1"...): which shape is which, for tests and tools."""
    for i, bar in enumerate(bars):
        bar.set_gid(f"{series}-{i}")


def _legend_above(axes: Axes, columns: int) -> None:
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=columns, frameon=False)


def first_response_by_day(report: dict[str, Any]) -> str:
    """Median and p90 first response per day, in hours."""
    rows = [r for r in report["by_day"] if r["first_response_seconds"]["count"]]

    def draw(axes: Axes) -> bool:
        if not rows:
            return False
        days = _days(rows)
        for stat in ("median", "p90"):
            values = [_hours(r["first_response_seconds"][stat]) for r in rows]
            axes.plot(days, values, marker="o", label=stat, color=COLOURS[stat], gid=stat)
        axes.set_ylabel("hours")
        axes.set_ylim(bottom=0)
        _day_axis(axes, days)
        _legend_above(axes, 2)
        axes.grid(axis="y", alpha=0.3)
        return True

    return _render("First response time by day", draw)


def volume_by_day(report: dict[str, Any]) -> str:
    """Mentions per day stacked by sentiment, complaints drawn over them."""
    rows = report["volume_by_day"]

    def draw(axes: Axes) -> bool:
        if not rows:
            return False
        days = _days(rows)
        bottom = [0] * len(rows)
        for key in (*SENTIMENTS, "unclassified"):
            counts = [r[key] for r in rows]
            bars = axes.bar(days, counts, bottom=bottom, label=key, color=COLOURS[key], width=0.8)
            _name_bars(bars, key)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        complaints = [r["complaints"] for r in rows]
        axes.plot(
            days, complaints, marker="o", color=COLOURS["complaints"], label="complaints",
            gid="complaints",
        )  # fmt: skip
        axes.set_ylabel("mentions")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        _day_axis(axes, days)
        _legend_above(axes, 5)
        axes.grid(axis="y", alpha=0.3)
        return True

    return _render("Mentions and complaints by day, by sentiment", draw)


def first_response_by_employee(report: dict[str, Any]) -> str:
    """Median first response per employee (bars) with their p90 (marks), in hours."""
    rows = [r for r in report["by_employee"] if r["first_response_seconds"]["count"]]

    def draw(axes: Axes) -> bool:
        if not rows:
            return False
        names = [r["employee"] for r in rows]
        positions = range(len(rows))
        medians = [_hours(r["first_response_seconds"]["median"]) for r in rows]
        p90s = [_hours(r["first_response_seconds"]["p90"]) for r in rows]
        _name_bars(axes.barh(positions, medians, color=COLOURS["median"], label="median"), "median")
        axes.plot(p90s, positions, "D", markersize=6, color=COLOURS["p90"], label="p90", gid="p90")
        axes.set_yticks(list(positions), labels=names)
        axes.invert_yaxis()
        axes.set_xlabel("hours")
        _legend_above(axes, 2)
        axes.grid(axis="x", alpha=0.3)
        return True

    return _render("First response time by employee", draw)


def backlog_by_age(report: dict[str, Any]) -> str:
    """How long the waiting mentions have waited."""
    buckets = report["backlog"]["by_age"]

    def draw(axes: Axes) -> bool:
        if not report["backlog"]["count"]:
            return False
        labels = [b["age"] for b in buckets]
        _name_bars(axes.bar(labels, [b["count"] for b in buckets], color=COLOURS["bar"]), "age")
        axes.set_ylabel("mentions waiting")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", alpha=0.3)
        return True

    return _render("Backlog by age", draw)


CHARTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "first_response_by_day": first_response_by_day,
    "volume_by_day": volume_by_day,
    "first_response_by_employee": first_response_by_employee,
    "backlog_by_age": backlog_by_age,
}
