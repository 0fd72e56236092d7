"""Staying under the quota: token buckets per (credential identity, region, operation).

Each bucket grants a caller, at arrival, the moment its token will be there: at once
while tokens are left, else when the refill pays for it, and never sooner than one
interval after the previous grant. So callers are served first come, first served, and
grants stay spaced at the rate in force when they were made, even as the rate changes
(without that guard, waits computed under a low rate and later ones under a recovered
rate would bunch together, and the service would throttle the bunch). A caller
cancelled while it waits hands its token back.

Adaptive: a ``ThrottlingException`` halves the bucket's rate (not below a floor) and
empties it; the rate then climbs back linearly to the configured rate. It is never
above it.

Time comes from `clock` and waiting from `sleep` (anyio's by default), so tests can run
the limiter on virtual time.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Protocol

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
    """One token bucket: `rate` tokens per second, at most `burst` at once.

    Args:
        rate: tokens per second.
        burst: the most requests granted at once after a quiet spell.
        clock: seconds, monotonic.
        sleep: waits a number of seconds.
        floor: the lowest rate the adaptive drop may reach (default: rate / 8).
        recovery: seconds to climb from the floor back to `rate` after a throttle.
        startup_slack: seconds by which the first refill starts late (see `RateLimiter`).
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
        startup_slack: float = 0.0,
    ) -> None:
        check_positive("rate", rate)
        check_count("burst", burst, minimum=1)
        self.max_rate = float(rate)
        self.burst = burst
        self.floor = floor if floor is not None else self.max_rate / 8
        self.recovery = recovery
        self.startup_slack = startup_slack
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated: float | None = None
        self._last_grant = -math.inf
        # The rate right after the last throttle, and when that was.
        self._throttled_rate = self.max_rate
        self._throttled_at = -math.inf
        self._acquired = 0
        self._waited = 0.0
        self._throttles = 0

    def _rate_at(self, now: float) -> float:
        if self._throttled_rate >= self.max_rate or self.recovery <= 0:
            return self.max_rate
        climb = (self.max_rate - self.floor) / self.recovery
        return min(self.max_rate, self._throttled_rate + climb * (now - self._throttled_at))

    @property
    def rate(self) -> float:
        """The current rate (below the configured one after a throttle, until it recovers)."""
        return self._rate_at(self._clock())

    def _refill(self) -> float:
        now = self._clock()
        if self._updated is None:
            self._updated = now + self.startup_slack
        if now > self._updated:
            # At the rate of the span's start: during a recovery that is the lower one.
            gained = (now - self._updated) * self._rate_at(self._updated)
            self._tokens = min(float(self.burst), self._tokens + gained)
            self._updated = now
        return now

    async def acquire(self) -> float:
        """Take one token, waiting in FIFO order if none is left; returns seconds waited."""
        now = self._refill()
        rate = self._rate_at(now)
        self._tokens -= 1.0
        grant = now
        if self._tokens < 0:
            # The debt is paid from when the refill runs (after a new bucket's slack).
            refill_from = max(now, self._updated or now)
            grant = max(refill_from - self._tokens / rate, self._last_grant + 1.0 / rate)
        previous_grant, self._last_grant = self._last_grant, grant
        wait = grant - now
        try:
            if wait > 0:
                await self._sleep(wait)
            else:
                # Even with a token at hand, let other tasks run (and see cancellation).
                await anyio.lowlevel.checkpoint()
        except BaseException:
            # Cancelled (or failed) before its turn: the token was never used.
            self._tokens += 1.0
            if self._last_grant == grant:
                self._last_grant = previous_grant
            raise
        self._acquired += 1
        self._waited += wait
        return wait

    async def report_throttle(self) -> None:
        """The service throttled a request (the async form every bucket has)."""
        self.throttled()

    def throttled(self) -> None:
        """The service throttled a request: halve the rate and empty the bucket."""
        now = self._refill()
        self._throttles += 1
        self._throttled_rate = max(self.floor, self._rate_at(now) / 2)
        self._throttled_at = now
        self._tokens = min(self._tokens, 0.0)

    @property
    def stats(self) -> BucketStats:
        """Counters so far."""
        return BucketStats(self._acquired, self._waited, self._throttles, self.rate)


class Bucket(Protocol):
    """What the retry layer needs of a bucket: in-process or shared (Redis)."""

    async def acquire(self) -> float:
        """Take one token, waiting if needed; return the seconds waited."""

    async def report_throttle(self) -> None:
        """The service throttled a request: slow down."""


class Limiter(Protocol):
    """What a client needs of a limiter: a bucket per (identity, region, operation)."""

    def bucket(self, identity: str, region: str, operation: str) -> Bucket | None:
        """The bucket for these, or None for an operation with no quota."""

    def stats(self) -> Mapping[tuple[str, str, str], BucketStats]:
        """Counters per (identity, region, operation) of the buckets this process used."""


class RateLimiter:
    """Token buckets per (credential identity, region, operation), shareable by clients.

    Give one `RateLimiter` to every `ConnectMetrics` in a process that uses the same AWS
    account, so that together they stay under its quota.

    Args:
        quotas: operation -> (requests per second, burst); defaults to the service's.
        headroom: the fraction of the quota's rate to use (default 0.95): requests reach
            the service with jitter, so aiming exactly at the quota would draw 429s.
        burst_headroom: burst tokens kept in reserve (default 0).
        startup_slack: seconds by which a new bucket's first refill starts late (default
            0.05): the first requests of a burst reach the service later than ours (they
            open connections) while later ones reuse warm connections, so the service's
            bucket starts a little after ours. After that, `headroom` keeps the margin.
        clock, sleep, recovery: as for `TokenBucket`.
    """

    def __init__(
        self,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        headroom: float = 0.95,
        burst_headroom: int = 0,
        startup_slack: float = 0.05,
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
        if startup_slack < 0:
            raise InvalidRequestError("startup_slack", startup_slack, "seconds >= 0")
        self.startup_slack = startup_slack
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
                startup_slack=self.startup_slack,
            )
        return bucket

    def stats(self) -> dict[tuple[str, str, str], BucketStats]:
        """Counters per (identity, region, operation)."""
        return {key: bucket.stats for key, bucket in self._buckets.items()}
