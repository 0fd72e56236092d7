"""What the fake records and hands back: its manual clock, its request log, a centre."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import anyio
import attrs


class ManualClock:
    """A clock that moves only when told: inject it to drive token expiry and snapshots."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has been moved `seconds` on: the `sleep` to inject with it.

        It watches the clock (every millisecond of real time), so that a test moves
        time with `advance` and whatever sleeps on this clock wakes.
        """
        until = self() + seconds
        while self() < until:  # noqa: ASYNC110 - advance() may come from any thread
            await anyio.sleep(0.001)


@attrs.frozen
class RecordedRequest:
    """One request the fake received, for assertions."""

    operation: str
    instance_id: str
    params: Mapping[str, Any]
    status: int
    error_code: str | None
    time: float
    access_key: str
    region: str


@attrs.frozen
class PopulatedCentre:
    """What `FakeConnect.populate` built."""

    instance_id: str
    queue_ids: tuple[str, ...]
    routing_profile_ids: tuple[str, ...]
    agent_ids: tuple[str, ...]
