"""Our own error tree for sources. SDK exceptions never leave listener/sources/<network>.py."""

from __future__ import annotations

from datetime import datetime


class SourceError(Exception):
    """Base for everything a source can raise."""


class RateLimited(SourceError):
    """The network asked us to wait. The poller pauses this source until `retry_at`."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AuthFailed(SourceError):
    """Credentials were refused. Retrying will not help until someone fixes them."""


class SourceUnavailable(SourceError):
    """Server errors, timeouts, connection failures: worth retrying with backoff."""


class BadPayload(SourceError):
    """The network answered with something we cannot understand (a whole response, not one item)."""


class ReplyTargetGone(SourceError):
    """The post to reply to was deleted or is no longer visible. Retrying will not help."""


class ReplyNotAllowed(SourceError):
    """The network's rules forbid this reply (e.g. X's reply rule, a locked or archived thread)."""
