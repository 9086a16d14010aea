"""When a rate-limited source may try again, and the requests a poll leaves for replies."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from listener.sources.errors import RateLimited

MIN_WAIT = timedelta(seconds=1)  # a reset already past (clock skew) still pauses a moment


def retry_at(reset_epoch: float | None, *, default_wait: timedelta) -> datetime:
    """The window's reset (epoch seconds) as a time, never in the past; `default_wait` from now
    when the network did not say (no header, or 0)."""
    now = datetime.now(UTC)
    if not reset_epoch:
        return now + default_wait
    return max(datetime.fromtimestamp(reset_epoch, UTC), now + MIN_WAIT)


def keep_reserve(
    network: str,
    *,
    remaining: int | None,
    reset_epoch: float | None,
    reserved: int,
    default_wait: timedelta,
) -> None:
    """RateLimited while `reserved` or fewer requests are left in a window that has not reset:
    polling stops there, so replies still have requests to post with."""
    if (
        remaining is not None
        and remaining <= reserved
        and reset_epoch
        and reset_epoch > time.time()
    ):
        raise RateLimited(
            f"{network}: {remaining} requests left in this window, kept for replies",
            retry_at=retry_at(reset_epoch, default_wait=default_wait),
        )
