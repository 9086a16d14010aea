"""Clock-aligned fixed windows: how the sandbox counts requests for its rate limits.

Every network's API counts the same way and differs only in its headers, which each renders
from these counts. `configure` is what their POST /<network>/_sandbox/rate_limit does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class FixedWindows:
    requests_per_window: int
    window_seconds: int
    used: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (window no, used)
    lock: threading.Lock = field(default_factory=threading.Lock)

    SETTINGS: ClassVar[tuple[str, ...]] = ("requests_per_window", "window_seconds")

    def add(self, key: str) -> tuple[int, float]:
        """Count one request for `key`: (requests in this window, this one included; the
        window's end in epoch seconds)."""
        with self.lock:
            return self._used(key, add=1)

    def peek(self, key: str) -> tuple[int, float]:
        """As `add`, without counting a request."""
        with self.lock:
            return self._used(key, add=0)

    def _used(self, key: str, *, add: int) -> tuple[int, float]:
        window = int(time.time() // self.window_seconds)
        seen, used = self.used.get(key, (window, 0))
        used = (used if seen == window else 0) + add
        if add:
            self.used[key] = (window, used)
        return used, (window + 1) * self.window_seconds

    def configure(self, policy: Mapping[str, Any]) -> dict[str, int]:
        """New limits for the settings named in `policy`; counting starts afresh. Returns all."""
        with self.lock:
            for name in self.SETTINGS:
                if name in policy:
                    setattr(self, name, int(policy[name]))
            self.used.clear()
            return {name: getattr(self, name) for name in self.SETTINGS}
