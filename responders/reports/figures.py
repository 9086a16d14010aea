"""Summary figures over a list of durations: median, p90, mean, count. Pure functions.

Percentiles interpolate linearly between the two nearest ranks (numpy's default, and what
PostgreSQL's percentile_cont computes), so a figure means the same whichever database held it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Durations are printed to the hundredth of a second; percentages to a tenth.
SECONDS_DIGITS = 2
PERCENT_DIGITS = 1


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (0..1) of values already sorted ascending; at least one value."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"percentile fraction {fraction} is outside 0..1")
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Sequence[float]) -> dict[str, float | int | None]:
    """{"median", "p90", "mean", "count"}; the three figures are None when there are no values."""
    if not values:
        return {"median": None, "p90": None, "mean": None, "count": 0}
    ordered = sorted(values)
    return {
        "median": round(percentile(ordered, 0.5), SECONDS_DIGITS),
        "p90": round(percentile(ordered, 0.9), SECONDS_DIGITS),
        "mean": round(math.fsum(ordered) / len(ordered), SECONDS_DIGITS),
        "count": len(ordered),
    }


def percent(part: int, whole: int) -> float | None:
    """part / whole as a percentage; None when there is nothing to divide."""
    if whole == 0:
        return None
    return round(100.0 * part / whole, PERCENT_DIGITS)
