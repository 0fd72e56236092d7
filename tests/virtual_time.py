"""Virtual time for limiter tests: sleeping advances a clock, nothing really waits."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import anyio
import anyio.lowlevel
import redis.asyncio as aioredis

from aioconnectmetrics import Adaptation, Bucket
from aioconnectmetrics.redis import RedisRateLimiter


class VirtualTime:
    """A clock and a `sleep` that a driver task moves to the next wake-up.

    Run `drive` in the task group beside the tasks under test: whenever every task is
    blocked, it jumps the clock to the earliest sleeper and wakes it. Real I/O (a Redis
    call) is not "blocked": code under test that does I/O counts it in `io`, and the
    clock waits until it has landed.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.io = 0
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

    @staticmethod
    async def _settle() -> None:
        """Return once every other task waits on something.

        As `anyio.wait_all_tasks_blocked`, without its 0.1 s nap whenever a task can run
        (which made every virtual step cost real time).
        """
        this = asyncio.current_task()
        while True:
            await anyio.lowlevel.checkpoint()
            waiting = (
                task is this or (task._fut_waiter is not None and not task._fut_waiter.done())  # type: ignore[attr-defined]
                for task in asyncio.all_tasks()
            )
            if all(waiting):
                return

    async def drive(self) -> None:
        """Wake sleepers in time order until no task sleeps any more."""
        while True:
            await self._settle()
            if self.io:
                await anyio.sleep(0.0005)  # real time: the I/O in flight lands
                continue
            if not self._sleepers:
                return
            wake, _, event = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            event.set()


def redis_bucket(
    client: aioredis.Redis,
    vt: VirtualTime,
    *,
    namespace: str,
    rate: float = 5.0,
    burst: int = 8,
    adaptation: Adaptation,
) -> Bucket:
    """A `RedisRateLimiter` bucket on `vt`'s clock, failing (not falling back) on outages."""
    limiter = RedisRateLimiter(
        client,
        {"GetCurrentMetricData": (rate, burst)},
        namespace=namespace,
        adaptation=adaptation,
        clock=vt.clock,
        sleep=vt.sleep,
        fallback="error",
    )
    bucket = limiter.bucket("identity", "us-east-1", "GetCurrentMetricData")
    assert bucket is not None
    return bucket
