"""A background thread that does one thing about N times a minute, with jitter: the seeder's and
the event traffic's live posting."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Pacer:
    def __init__(
        self,
        action: Callable[[], object],
        *,
        name: str,
        rng: random.Random,
        jitter: tuple[float, float],
    ) -> None:
        self._action = action
        self._name = name
        self._rng = rng
        self._jitter = jitter
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def start(self, per_minute: float) -> None:
        """Call the action about `per_minute` times a minute (each wait scaled by a random factor
        within `jitter`), until stop(); a running thread is stopped first."""
        if per_minute <= 0:
            raise ValueError("posts_per_minute must be positive")
        self.stop()
        self._stop = threading.Event()
        stop, interval = self._stop, 60.0 / per_minute

        def run() -> None:
            while not stop.wait(interval * self._rng.uniform(*self._jitter)):
                try:
                    self._action()
                except Exception:  # one bad post must not end the demo's traffic
                    logger.exception("%s failed", self._name)

        self._worker = threading.Thread(target=run, name=self._name, daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
            self._worker = None

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()
