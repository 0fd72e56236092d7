"""Staying under the quota: token buckets per (credential identity, region, operation).

Each bucket schedules callers first come, first served: an arrival takes the next token,
which may not exist yet (the count goes below zero), and sleeps until the refill would
have made it. So waits are fixed at arrival and order is FIFO by construction. A caller
cancelled while it waits gives its token back: no token leaks.

Adaptive: a ``ThrottlingException`` halves the bucket's rate (not below a floor) and
empties it; the rate then climbs back linearly to the configured quota. It is never
above the quota.

Time comes from `clock` and waiting from `sleep` (anyio's by default), so tests can run
the limiter on virtual time.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

import anyio
import attrs

from ._errors import InvalidRequestError
from ._request import check_count, check_positive

#: Service quotas: operation -> (requests per second, burst), per account and region.
SERVICE_QUOTAS: Mapping[str, tuple[float, int]] = MappingProxyType(
    {
        "GetCurrentMetricData": (5.0, 8),
        "GetMetricData": (5.0, 8),
        "ListQueues": (2.0, 5),
    }
)


@attrs.frozen
class BucketStats:
    """Counters of one bucket."""

    acquired: int
    waited_seconds: float
    throttles: int
    rate: float


class TokenBucket:
    """One token bucket: `rate` tokens per second, at most `burst` stored.

    Args:
        rate: tokens per second (the quota times a safety `headroom`).
        burst: the most tokens stored.
        clock: seconds, monotonic.
        sleep: waits a number of seconds.
        floor: the lowest rate the adaptive drop may reach.
        recovery: seconds to climb from the floor back to `rate` after a throttle.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        floor: float | None = None,
        recovery: float = 10.0,
    ) -> None:
        check_positive("rate", rate)
        check_count("burst", burst, minimum=1)
        self.max_rate = float(rate)
        self.burst = burst
        self.floor = floor if floor is not None else self.max_rate / 8
        self.recovery = recovery
        self._clock = clock
        self._sleep = sleep
        self._rate = self.max_rate
        self._tokens = float(burst)
        self._updated: float | None = None
        self._acquired = 0
        self._waited = 0.0
        self._throttles = 0

    @property
    def rate(self) -> float:
        """The current rate (below the quota after a throttle, until it recovers)."""
        return self._rate

    def _refill(self) -> float:
        now = self._clock()
        if self._updated is None:
            self._updated = now
        elapsed = max(0.0, now - self._updated)
        if elapsed:
            if self._rate < self.max_rate:
                climb = (
                    (self.max_rate - self.floor) / self.recovery if self.recovery > 0 else math.inf
                )
                # Tokens accrue at the old rate for this interval, then the rate climbs.
                self._tokens = min(float(self.burst), self._tokens + elapsed * self._rate)
                self._rate = min(self.max_rate, self._rate + climb * elapsed)
            else:
                self._tokens = min(float(self.burst), self._tokens + elapsed * self._rate)
            self._updated = now
        return now

    async def acquire(self) -> float:
        """Take one token, waiting in FIFO order if none is left; returns seconds waited."""
        self._refill()
        self._tokens -= 1.0
        wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            try:
                await self._sleep(wait)
            except BaseException:
                # Cancelled (or failed) while waiting: the token was never used.
                self._tokens += 1.0
                raise
        else:
            # Even with a token at hand, let other tasks run (and see cancellation).
            await anyio.lowlevel.checkpoint()
        self._acquired += 1
        self._waited += wait
        return wait

    def throttled(self) -> None:
        """The service throttled a request: halve the rate and stop bursting."""
        self._refill()
        self._throttles += 1
        self._rate = max(self.floor, self._rate / 2)
        self._tokens = min(self._tokens, 0.0)

    @property
    def stats(self) -> BucketStats:
        """Counters so far."""
        return BucketStats(self._acquired, self._waited, self._throttles, self._rate)


class RateLimiter:
    """Token buckets per (credential identity, region, operation), shareable by clients.

    Give one `RateLimiter` to every `ConnectMetrics` in a process that uses the same AWS
    account, so that together they stay under its quota.

    Args:
        quotas: operation -> (requests per second, burst); defaults to the service's.
        headroom: the fraction of the quota's rate to use (default 0.95): requests reach
            the service with jitter, so aiming exactly at the quota would draw 429s.
        burst_headroom: burst tokens kept in reserve (default 1): the first requests of a
            burst reach the service later than ours (they open connections) while later
            ones reuse warm connections, so the service's bucket starts after ours.
        clock, sleep, recovery: as for `TokenBucket`.
    """

    def __init__(
        self,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        headroom: float = 0.95,
        burst_headroom: int = 1,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        recovery: float = 10.0,
    ) -> None:
        if not 0 < headroom <= 1:
            raise InvalidRequestError("headroom", headroom, "a fraction in (0, 1]")
        self.quotas = MappingProxyType(dict(SERVICE_QUOTAS if quotas is None else quotas))
        for operation, (rate, burst) in self.quotas.items():
            TokenBucket(rate, burst)  # validates, naming the bad value
            if operation not in SERVICE_QUOTAS:
                raise InvalidRequestError(
                    "quotas", operation, f"operations: {', '.join(SERVICE_QUOTAS)}"
                )
        self.headroom = headroom
        self.burst_headroom = check_count("burst_headroom", burst_headroom, minimum=0)
        self._clock = clock
        self._sleep = sleep
        self._recovery = recovery
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}

    def bucket(self, identity: str, region: str, operation: str) -> TokenBucket | None:
        """The bucket for these, made on first use; None for an operation with no quota."""
        key = (identity, region, operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            if operation not in self.quotas:
                return None
            rate, burst = self.quotas[operation]
            bucket = self._buckets[key] = TokenBucket(
                rate * self.headroom,
                max(1, burst - self.burst_headroom),
                clock=self._clock,
                sleep=self._sleep,
                recovery=self._recovery,
            )
        return bucket

    def stats(self) -> dict[tuple[str, str, str], BucketStats]:
        """Counters per (identity, region, operation)."""
        return {key: bucket.stats for key, bucket in self._buckets.items()}
