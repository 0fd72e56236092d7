"""`RedisRateLimiter`: token buckets in Redis, one quota model shared by every process."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from .._errors import BackendUnavailableError
from .._limiter import (
    Adaptation,
    Bucket,
    BucketStats,
    FifoTurns,
    LimiterStats,
    TokenBucket,
    check_headroom,
    check_quotas,
)
from .._quota import FLOOR_DIVISOR, MIN_SPAN, STEADY_WIDTH, THROTTLED_LEVEL, Grant
from ._connect import AnyRedis, Ready, client_from_url
from ._guard import Fallback, Guard, check_fallback
from ._lua import GIVE_BACK, TAKE, THROTTLED


class RedisTokenBucket:
    """One token bucket kept in Redis; every process using the same key shares it.

    Each process keeps its own callers in FIFO order (`FifoTurns`); the head of each
    process's line asks the shared model for a token. So across processes grants go to
    whichever head asks first once a token is there, and what any process learns from a
    throttle (the rate that is left) every process uses at once.
    """

    def __init__(
        self,
        limiter: RedisRateLimiter,
        key: str,
        rate: float,
        burst: int,
        local: TokenBucket,
    ) -> None:
        self._limiter = limiter
        self.key = key
        self.max_rate = rate
        self.burst = burst
        self._local = local  # the fallback while Redis is unreachable
        adaptation = limiter.adaptation
        self._args = [
            repr(rate),
            str(burst),
            repr(adaptation.hold),
            repr(adaptation.climb),
            repr(adaptation.window),
            repr(adaptation.slack),
            repr(adaptation.max_hold),
        ]
        self._turns = FifoTurns(limiter.sleep)
        self._acquired = 0
        self._waited = 0.0
        self._throttles = 0
        self._rate = rate
        #: The earliest departure not yet given to the shared model: (arrival, the
        #: grant's time), in Redis time.
        self._departure: tuple[float, float] | None = None

    def _now(self) -> str:
        clock = self._limiter.clock
        return "" if clock is None else repr(clock())

    async def _take(self) -> Grant | float:
        # A departure seen since the last take goes with this one: it matters from the
        # next grant on, and costs no round trip of its own.
        departure, self._departure = self._departure, None
        told = ["", ""] if departure is None else [repr(departure[0]), repr(departure[1])]
        answer = await self._limiter.guard.call(
            lambda: self._limiter.take_script(
                keys=[self.key], args=[*self._args, self._now(), *told]
            )
        )
        granted, value, seq, rate = answer
        self._rate = float(rate)
        if granted in (b"1", "1"):
            return Grant(float(value), int(float(seq)), origin=self.key)
        return float(value)

    async def _give_back(self, grant: Grant) -> None:
        # Redis unreachable: the caller is cancelled either way; the token refills.
        with contextlib.suppress(BackendUnavailableError):
            await self._limiter.guard.call(
                lambda: self._limiter.give_back_script(
                    keys=[self.key], args=[*self._args, self._now()]
                )
            )

    async def acquire(self) -> Grant:
        """Take a token from the shared bucket, waiting in line for it."""
        guard = self._limiter.guard
        if guard.down and guard.fallback == "local":
            return await self._local.acquire()
        try:
            grant = await self._turns.wait_for(
                self._take, self._give_back, self._limiter.local_clock
            )
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise
            return await self._local.acquire()
        self._acquired += 1
        self._waited += grant.waited
        return grant

    def departed(self, grant: Grant, delay: float) -> None:
        """The request sent under `grant` left `delay` s later: told with the next take."""
        if grant.origin != self.key:
            self._local.departed(grant, delay)
            return
        arrival = grant.at + max(0.0, delay) + self._limiter.adaptation.slack
        if self._departure is None or arrival < self._departure[0]:
            self._departure = (arrival, grant.at)

    async def report_throttle(self, grant: Grant) -> None:
        """Teach the shared model: every process settles on the rate that is left."""
        self._throttles += 1
        if grant.origin != self.key:
            self._local.throttled(grant)  # granted by the fallback while Redis was away
            return
        guard = self._limiter.guard
        if guard.down:
            return  # the lesson is for the shared model, which cannot be reached now
        args = [
            *self._args,
            self._now(),
            repr(grant.at),
            str(grant.seq),
            repr(FLOOR_DIVISOR),
            repr(MIN_SPAN),
            repr(THROTTLED_LEVEL),
            repr(STEADY_WIDTH),
        ]
        try:
            rate_text = await guard.call(
                lambda: self._limiter.throttled_script(keys=[self.key], args=args)
            )
            self._rate = float(rate_text)
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise

    @property
    def stats(self) -> BucketStats:
        """This process's counters of the shared bucket."""
        return BucketStats(self._acquired, self._waited, self._throttles, self._rate)


class RedisRateLimiter:
    """Token buckets per (credential identity, region, operation), kept in Redis.

    Give it to every `ConnectMetrics` of every process that uses the same AWS account:
    together they stay under its quota, and they share what their buckets learn about
    the rate that other callers leave. Arguments as for `RateLimiter`, plus:

    Args:
        client: a ``redis.asyncio.Redis`` or ``RedisCluster``; see `from_url`.
        namespace: the prefix of every key.
        fallback: ``"local"`` (default): while Redis is unreachable, each process keeps
            an in-process bucket (so together they may exceed the quota), with a
            warning; ``"error"`` raises `BackendUnavailableError` instead.
        timeout: seconds any one Redis call may take.
        clock: None (default) for Redis's own clock (``TIME``); tests give a virtual
            clock (seconds), with `sleep` to match.
    """

    def __init__(
        self,
        client: AnyRedis,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        namespace: str = "aioconnectmetrics",
        headroom: float = 1.0,
        adaptation: Adaptation | None = None,
        fallback: Fallback = "local",
        timeout: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.client = client
        self.quotas = check_quotas(quotas)
        self.headroom = check_headroom(headroom)
        self.adaptation = adaptation if adaptation is not None else Adaptation()
        self.namespace = namespace
        self.guard = Guard(
            "limiter", timeout, check_fallback(fallback), retry_after=5.0, prepare=Ready(client)
        )
        self.clock = clock
        self.local_clock: Callable[[], float] = clock or anyio.current_time
        self.sleep = sleep
        self.take_script = client.register_script(TAKE)
        self.throttled_script = client.register_script(THROTTLED)
        self.give_back_script = client.register_script(GIVE_BACK)
        self._buckets: dict[tuple[str, str, str], RedisTokenBucket] = {}

    @classmethod
    def from_url(cls, url: str, *, ca_file: str | None = None, **kwargs: Any) -> RedisRateLimiter:
        """A limiter on a new client for `url` (the forms of `RedisBackend.from_url`)."""
        timeout = kwargs.get("timeout", 1.0)
        return cls(client_from_url(url, ca_file=ca_file, timeout=timeout), **kwargs)

    async def aclose(self) -> None:
        """Close the Redis client."""
        await self.client.aclose()

    def bucket(self, identity: str, region: str, operation: str) -> Bucket | None:
        """The shared bucket for these, or None for an operation with no quota."""
        key = (identity, region, operation)
        found = self._buckets.get(key)
        if found is None:
            if operation not in self.quotas:
                return None
            rate, burst = self.quotas[operation]
            rate *= self.headroom
            redis_key = f"{self.namespace}:{{bucket:{identity}:{region}:{operation}}}"
            local = TokenBucket(
                rate, burst, clock=self.local_clock, sleep=self.sleep, adaptation=self.adaptation
            )
            found = self._buckets[key] = RedisTokenBucket(self, redis_key, rate, burst, local)
        return found

    @property
    def stats(self) -> LimiterStats:
        """This process's counters per (identity, region, operation)."""
        return LimiterStats((key, bucket.stats) for key, bucket in self._buckets.items())
