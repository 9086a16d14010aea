"""What the app's routes share, built once by create_app and kept on `app.state.web`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from config.settings import AppConfig


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebState:
    session_factory: sessionmaker[Session]
    config: AppConfig | None = None
    # Cookies get `Secure` when the request came over https; this forces it (behind a proxy
    # that terminates TLS without forwarding the scheme).
    secure_cookies: bool = False
    clock: Callable[[], datetime] = field(default=_utcnow)
    # How often pages ask for new work, in seconds.
    poll_seconds: float = 10.0

    def now(self) -> datetime:
        return self.clock()

    def topic_names(self) -> list[str] | None:
        """The configured topics, which a topic correction must name; None without a config."""
        return None if self.config is None else self.config.classifier.topic_names


def web_state(request: Request) -> WebState:
    return request.app.state.web
