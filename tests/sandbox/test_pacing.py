"""The paced background thread behind the seeder's and the event traffic's live posting."""

from __future__ import annotations

import random
import threading
import time

import pytest

from sandbox.pacing import Pacer


def test_it_keeps_going_after_a_failure_and_stops_when_asked() -> None:
    calls: list[int] = []
    enough = threading.Event()

    def action() -> None:
        calls.append(1)
        if len(calls) >= 3:
            enough.set()
        if len(calls) == 1:
            raise RuntimeError("one bad post")

    pacer = Pacer(action, name="test-pacer", rng=random.Random(1), jitter=(0.5, 1.5))
    pacer.start(6000)  # about every 10 ms
    assert pacer.running
    assert enough.wait(10), "the action stopped being called after its first failure"
    pacer.stop()
    assert not pacer.running
    stopped_at = len(calls)
    time.sleep(0.1)  # ten periods: a thread still running would have called it again
    assert len(calls) == stopped_at


def test_a_rate_of_zero_is_refused() -> None:
    pacer = Pacer(lambda: None, name="test-pacer", rng=random.Random(1), jitter=(1, 1))
    with pytest.raises(ValueError, match="positive"):
        pacer.start(0)
    assert not pacer.running
