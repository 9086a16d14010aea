"""The rate-limit arithmetic every source shares."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from listener.sources.errors import RateLimited
from listener.sources.ratelimit import MIN_WAIT, keep_reserve, retry_at

WAIT = timedelta(minutes=5)


def test_retry_at_is_the_reset_when_it_is_ahead() -> None:
    reset = time.time() + 120
    assert retry_at(reset, default_wait=WAIT) == datetime.fromtimestamp(reset, UTC)


@pytest.mark.parametrize("reset", [None, 0])
def test_retry_at_without_a_reset_waits_the_default(reset: float | None) -> None:
    before = datetime.now(UTC)
    assert before + WAIT <= retry_at(reset, default_wait=WAIT) <= datetime.now(UTC) + WAIT


def test_retry_at_never_in_the_past() -> None:
    before = datetime.now(UTC)
    assert retry_at(time.time() - 3600, default_wait=WAIT) >= before + MIN_WAIT


def test_keep_reserve_stops_at_the_reserve_until_the_window_resets() -> None:
    reset = time.time() + 60
    with pytest.raises(RateLimited, match="Mastodon: 10 requests left") as caught:
        keep_reserve("Mastodon", remaining=10, reset_epoch=reset, reserved=10, default_wait=WAIT)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    # Above the reserve, with no headers yet, or with the window already reset: go on.
    keep_reserve("Mastodon", remaining=11, reset_epoch=reset, reserved=10, default_wait=WAIT)
    keep_reserve("Mastodon", remaining=None, reset_epoch=None, reserved=10, default_wait=WAIT)
    keep_reserve(
        "Mastodon", remaining=0, reset_epoch=time.time() - 1, reserved=10, default_wait=WAIT
    )
