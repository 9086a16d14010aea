"""Extra terms to listen for for a while (an event's hashtags and links), on top of the brands.

Who wants a term tracked is not the listener's business: another stage (responders/amplification)
writes rows into `tracked_terms` with an owner, a label and an active period; the listener reads
the active ones and listens for them like a brand. So imports keep flowing config <- listener <-
responders, and a new network's source gets tracking for free: it only ever sees brands.

A tracked group becomes one extra `Brand` named after its label, so every source searches for it
the way it searches for brands (X: one more query; Reddit: one more search per subreddit). The
mentions it finds carry that label as their brand.

`TrackingSource` wraps one configured source: before each fetch it asks a provider for the active
groups and, when they changed, rebuilds the real source with the brands plus those groups. The
rebuild is rare (an event starts or ends) and cheap (a client object); cursors live in the
database, so a rebuilt source continues where the old one stopped, and a new group's streams
start with a first poll of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import Index, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from config.settings import Brand, SourceConfig
from listener.sources.base import FetchResult, Source
from listener.sources.registry import build_source
from listener.store.db import Base
from listener.store.types import UTCDateTime, utcnow

log = logging.getLogger(__name__)

KIND_HASHTAG = "hashtag"
KIND_KEYWORD = "keyword"  # a phrase or a link written without its scheme


class TrackedTerm(Base):
    """One term listened for while `active_from <= now < active_until`."""

    __tablename__ = "tracked_terms"
    __table_args__ = (
        UniqueConstraint("owner", "kind", "term"),
        Index("ix_tracked_terms_active_until", "active_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))  # e.g. "amplification:event:7"
    label: Mapped[str] = mapped_column(String(200))  # the brand name its mentions carry
    kind: Mapped[str] = mapped_column(String(20))
    term: Mapped[str] = mapped_column(String(300))
    active_from: Mapped[datetime] = mapped_column(UTCDateTime)
    active_until: Mapped[datetime] = mapped_column(UTCDateTime)


def replace_tracked_terms(
    session: Session,
    *,
    owner: str,
    label: str,
    hashtags: list[str],
    keywords: list[str],
    active_from: datetime,
    active_until: datetime,
) -> None:
    """Make `owner`'s tracked terms exactly these (none: stop tracking). Flushes."""
    for row in session.scalars(select(TrackedTerm).where(TrackedTerm.owner == owner)):
        session.delete(row)
    session.flush()
    terms = [(KIND_HASHTAG, t) for t in dict.fromkeys(hashtags)]
    terms += [(KIND_KEYWORD, t) for t in dict.fromkeys(keywords)]
    for kind, term in terms:
        session.add(
            TrackedTerm(
                owner=owner,
                label=label,
                kind=kind,
                term=term,
                active_from=active_from,
                active_until=active_until,
            )
        )
    session.flush()


def active_tracked_brands(session: Session, *, now: datetime | None = None) -> list[Brand]:
    """The groups active at `now`, one Brand per owner, in a stable order."""
    now = now or utcnow()
    rows = session.scalars(
        select(TrackedTerm)
        .where(TrackedTerm.active_from <= now, TrackedTerm.active_until > now)
        .order_by(TrackedTerm.owner, TrackedTerm.kind, TrackedTerm.term)
    )
    groups: dict[str, tuple[str, list[str], list[str]]] = {}
    for row in rows:
        label, hashtags, keywords = groups.setdefault(row.owner, (row.label, [], []))
        (hashtags if row.kind == KIND_HASHTAG else keywords).append(row.term)
    brands = []
    for owner, (label, hashtags, keywords) in groups.items():
        try:
            brands.append(Brand(name=label, hashtags=hashtags, keywords=keywords))
        except ValidationError as exc:  # written by another stage: skip it, keep listening
            log.warning("tracked terms of %s are unusable, skipped: %s", owner, exc)
    return brands


def tracked_brands_provider(
    session_factory: sessionmaker[Session],
) -> Callable[[], list[Brand]]:
    """A provider for TrackingSource that reads the active groups in a short session of its own."""

    def provide() -> list[Brand]:
        with session_factory() as session:
            return active_tracked_brands(session)

    return provide


class TrackingSource:
    """A configured source listening for its brands plus the currently tracked groups.

    Quacks like the source it wraps (fetch, and reply/find_reply for the sender).
    """

    def __init__(
        self,
        config: SourceConfig,
        brands: list[Brand],
        tracked: Callable[[], list[Brand]],
        *,
        build: Callable[[SourceConfig, list[Brand]], Source] = build_source,
    ) -> None:
        self.name = config.name
        self.network = config.network
        self._config = config
        self._brands = list(brands)
        self._taken = {b.name for b in brands}
        self._tracked = tracked
        self._build = build
        self._lock = threading.Lock()
        self._current: tuple[Brand, ...] = ()
        self._inner = build(config, self._brands)

    @property
    def tracked_brands(self) -> tuple[Brand, ...]:
        return self._current

    def fetch(self, cursors: Mapping[str, str]) -> FetchResult:
        self._refresh()
        return self._inner.fetch(cursors)

    def reply(self, in_reply_to_id: str, text: str) -> str:
        return self._inner.reply(in_reply_to_id, text)  # type: ignore[attr-defined]

    def find_reply(self, in_reply_to_id: str, text: str) -> str | None:
        return self._inner.find_reply(in_reply_to_id, text)  # type: ignore[attr-defined]

    def _refresh(self) -> None:
        try:
            wanted = tuple(b for b in self._tracked() if b.name not in self._taken)
        except Exception:
            # Tracking is an extra: a failure to read it must not stop listening to the brands.
            log.exception(
                "%s: could not read the tracked terms; listening to brands only", self.name
            )
            return
        with self._lock:
            if wanted == self._current:
                return
            try:
                self._inner = self._build(self._config, [*self._brands, *wanted])
            except Exception:
                # E.g. an X query grown too long: keep the working source, say why, once.
                log.exception("%s: cannot listen for %s", self.name, [b.name for b in wanted])
                self._current = wanted
                return
            self._current = wanted
        log.info(
            "%s: now also listening for %s",
            self.name,
            ", ".join(b.name for b in wanted) or "no tracked terms",
        )


def build_tracking_sources(
    configs: list[SourceConfig],
    brands: list[Brand],
    tracked: Callable[[], list[Brand]],
) -> list[TrackingSource]:
    """Every enabled source, each also listening for the tracked groups."""
    return [TrackingSource(c, brands, tracked) for c in configs if c.enabled]
