"""Summary figures: percentiles as numpy and PostgreSQL's percentile_cont compute them."""

from __future__ import annotations

import random

import numpy as np
import pytest

from responders.reports.figures import percent, percentile, summarize
from responders.reports.text import format_duration


def test_percentile_matches_numpy_linear_interpolation() -> None:
    rng = random.Random(5)
    for size in (1, 2, 3, 10, 101):
        values = sorted(rng.uniform(0, 10_000) for _ in range(size))
        for fraction in (0.0, 0.5, 0.9, 1.0):
            assert percentile(values, fraction) == pytest.approx(
                np.percentile(values, fraction * 100)
            )


def test_summaries() -> None:
    assert summarize([]) == {"median": None, "p90": None, "mean": None, "count": 0}
    assert summarize([30.0, 10.0, 20.0, 40.0]) == {
        "median": 25.0,
        "p90": 37.0,
        "mean": 25.0,
        "count": 4,
    }
    assert percent(1, 3) == 33.3 and percent(0, 0) is None
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (0.4, "0s"), (45.2, "45s"), (61, "1m 01s"), (3725, "1h 02m"), (200000, "2d 7h")],
)
def test_durations_read_like_people_say_them(seconds, shown) -> None:
    assert format_duration(seconds) == shown
