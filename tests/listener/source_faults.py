"""Shared by the sources' fault tests."""

from __future__ import annotations

from typing import Any


def request_timeout_for(fault: dict[str, Any]) -> float:
    """Only the slow case needs a short timeout; elsewhere a loaded machine must not turn the
    fault under test into a timeout (Bluesky's login is one more request)."""
    return 0.3 if fault["kind"] == "slow" else 10
