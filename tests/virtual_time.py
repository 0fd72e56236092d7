"""Virtual time for limiter tests: sleeping advances a clock, nothing really waits."""

from __future__ import annotations

import heapq
import itertools

import anyio
import anyio.lowlevel


class VirtualTime:
    """A clock and a `sleep` that a driver task moves to the next wake-up.

    Run `drive` in the task group beside the tasks under test: whenever every task is
    blocked, it jumps the clock to the earliest sleeper and wakes it.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        """The virtual now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait until the driver moves the clock past now + seconds."""
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), event))
        await event.wait()

    async def drive(self) -> None:
        """Wake sleepers in time order until no task sleeps any more."""
        while True:
            await anyio.wait_all_tasks_blocked()
            if not self._sleepers:
                return
            wake, _, event = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            event.set()
