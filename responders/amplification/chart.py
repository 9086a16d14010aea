"""The event's timeline as an SVG (matplotlib, Agg backend): posts per period, by kind, stacked.

Built on a bare Figure rather than pyplot: no global figure state, so web requests drawing at
the same time cannot touch each other's charts, and nothing needs closing.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

_COLOURS = {"employee": "#2f6db5", "speaker": "#e0912f", "earned": "#7aa95c"}
_LABELS = {"employee": "employees", "speaker": "speakers", "earned": "earned"}


def timeline_svg(report: dict[str, Any]) -> str:
    """An SVG document for report["timeline"]; a short note when there are no posts yet."""
    # Imported here: matplotlib takes a while to load, and only reports need it.
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    series = report["timeline"]
    fig = Figure(figsize=(8, 3), dpi=100)
    ax = fig.add_subplot()
    if not series:
        ax.text(0.5, 0.5, "no posts yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        moments = [datetime.fromisoformat(point["at"]) for point in series]
        hourly = len(moments) < 2 or (moments[1] - moments[0]).total_seconds() <= 3600
        width = (1 / 24 if hourly else 1) * 0.9  # in days, matplotlib's date unit
        bottom = [0] * len(series)
        for kind in ("employee", "speaker", "earned"):
            values = [point[kind] for point in series]
            ax.bar(
                moments,
                values,
                width=width,
                bottom=bottom,
                color=_COLOURS[kind],
                label=_LABELS[kind],
                align="edge",
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylabel("posts per hour" if hourly else "posts per day")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M" if hourly else "%d %b"))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", frameon=False, ncols=3)
        fig.autofmt_xdate()
    ax.set_title(str(report["event"]), loc="left")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()
