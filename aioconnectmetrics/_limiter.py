"""Staying under the quota: token buckets per (account, region, operation).

A bucket hands out grants in arrival order (first come, first served): the caller at the
head of the line asks the quota model (`_quota.QuotaModel`) for a token, and sleeps until
the model says one will be there. Tokens are taken only at the head of the line, so a
caller cancelled while it waits has taken nothing and the capacity it would have used
stays in the bucket; and a change of rate (a throttle, a recovery) applies at once to
everyone still waiting, not only to those who arrive after it.

Adaptive: a ``ThrottlingException`` is a measurement of the rate that other callers of
the same account leave us (see `_quota.py`); the bucket settles on it and climbs back to
the quota when the others stop.

Time comes from `clock` and waiting from `sleep` (anyio's by default), so tests can run
the limiter on virtual time.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Protocol

import anyio
import anyio.lowlevel
import attrs

from ._checks import check_count, check_non_negative, check_positive, settings_checked
from ._errors import InvalidSettingError
from ._quota import (
    DEFAULT_CLIMB,
    DEFAULT_HOLD,
    DEFAULT_MAX_HOLD,
    DEFAULT_SLACK,
    DEFAULT_WINDOW,
    Grant,
    QuotaModel,
)

#: Service quotas: operation -> (requests per second, burst), per account and region.
#: Sources (Service Quotas codes, and the API reference's default burst of 5 for every
#: operation but the two metrics ones) are listed in docs/metrics.md#api-quotas.
SERVICE_QUOTAS: Mapping[str, tuple[float, int]] = MappingProxyType(
    {
        "GetCurrentMetricData": (5.0, 8),
        "GetMetricData": (5.0, 8),
        "GetMetricDataV2": (10.0, 10),
        "GetCurrentUserData": (2.0, 5),
        "ListQueues": (2.0, 5),
        "ListRoutingProfiles": (2.0, 5),
        "ListUsers": (2.0, 5),
        "SearchRoutingProfiles": (2.0, 5),
    }
)
#: The longest a waiting caller sleeps before it asks again: while the rate climbs back,
#: a wait computed at the present rate is longer than needed.
MAX_NAP = 0.25


@attrs.frozen
class BucketStats:
    """Counters of one bucket."""

    acquired: int
    waited_seconds: float
    throttles: int
    rate: float


@attrs.frozen
class Adaptation:
    """How a bucket learns the rate that is left: see `_quota.py`.

    Attributes:
        hold: seconds a learnt rate is held before it climbs back towards the quota.
        max_hold: the longest hold, reached after probes that found the rate unchanged.
        climb: time constant (seconds) of that climb.
        window: seconds of throttles the estimate looks back over.
        slack: seconds from a request's departure to the service counting it, added to
            the earliest departure (where the service's refill starts); before any
            departure is known, to the first grant.
    """

    hold: float = attrs.field(default=DEFAULT_HOLD)
    climb: float = attrs.field(default=DEFAULT_CLIMB)
    window: float = attrs.field(default=DEFAULT_WINDOW)
    slack: float = attrs.field(default=DEFAULT_SLACK)
    max_hold: float = attrs.field(default=DEFAULT_MAX_HOLD)

    def __attrs_post_init__(self) -> None:
        with settings_checked():
            for name in ("climb", "window"):
                check_positive(name, getattr(self, name))
            for name in ("hold", "slack", "max_hold"):
                check_non_negative(name, getattr(self, name))

    def model(self, rate: float, burst: int) -> QuotaModel:
        """A fresh quota model with these settings."""
        return QuotaModel(
            rate,
            burst,
            hold=self.hold,
            climb=self.climb,
            window=self.window,
            slack=self.slack,
            max_hold=self.max_hold,
        )


class FifoTurns:
    """Callers take turns at the head of a line; only the head asks for a token.

    `take` is asked at the head until it grants; between asks the head sleeps what it
    says (at most `MAX_NAP`). anyio's `Lock` is fair, and a cancelled waiter leaves the
    line without having taken anything. A take is never cut short: cancelled while it
    runs (a round trip to Redis, say), the head reads its answer first, and hands a
    token it was granted back with `give_back`. So no cancellation, at any point, takes
    capacity with it.
    """

    def __init__(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        self._line = anyio.Lock()
        self._sleep = sleep

    async def wait_for(
        self,
        take: Callable[[], Awaitable[Grant | float]],
        give_back: Callable[[Grant], Awaitable[None]],
        clock: Callable[[], float],
    ) -> Grant:
        """Queue, then ask `take` at the head until it grants; the grant, with its wait."""
        arrived = clock()
        async with self._line:
            while True:
                with anyio.CancelScope(shield=True):
                    answer = await take()
                if isinstance(answer, Grant):
                    break
                await self._sleep(min(answer, MAX_NAP))
            try:
                # A cancellation that came while the take ran: no request goes out.
                await anyio.lowlevel.checkpoint_if_cancelled()
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await give_back(answer)
                raise
        return attrs.evolve(answer, waited=max(0.0, clock() - arrived))


class TokenBucket:
    """One token bucket, in process: `rate` tokens per second, at most `burst` at once.

    Args:
        rate: tokens per second (the quota's rate).
        burst: the most requests granted at once after a quiet spell.
        clock: seconds, monotonic.
        sleep: waits a number of seconds.
        adaptation: how the bucket learns the rate others leave (see `Adaptation`).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        adaptation: Adaptation | None = None,
    ) -> None:
        with settings_checked():
            check_positive("rate", rate)
            check_count("burst", burst, minimum=1)
        self.max_rate = float(rate)
        self.burst = burst
        self.adaptation = adaptation if adaptation is not None else Adaptation()
        self.model = self.adaptation.model(self.max_rate, burst)
        self._clock = clock
        self._turns = FifoTurns(sleep)
        self._acquired = 0
        self._waited = 0.0

    @property
    def rate(self) -> float:
        """The rate in force now (below the quota's while others use part of it)."""
        return self.model.rate_at(self._clock())

    async def _take(self) -> Grant | float:
        return self.model.take(self._clock())

    async def _give_back(self, grant: Grant) -> None:
        self.model.give_back(self._clock())

    async def acquire(self) -> Grant:
        """Take one token, waiting in FIFO order if none is left."""
        grant = await self._turns.wait_for(self._take, self._give_back, self._clock)
        self._acquired += 1
        self._waited += grant.waited
        return grant

    async def report_throttle(self, grant: Grant) -> None:
        """The request sent under `grant` was throttled (the async form every bucket has)."""
        self.throttled(grant)

    def departed(self, grant: Grant, delay: float) -> None:
        """The request sent under `grant` left `delay` seconds after it was granted."""
        self.model.departed(grant.at, delay, self._clock())

    def throttled(self, grant: Grant) -> None:
        """The request sent under `grant` was throttled: learn the rate that is left."""
        self.model.throttled(grant.at, grant.seq, self._clock())

    @property
    def stats(self) -> BucketStats:
        """Counters so far."""
        return BucketStats(self._acquired, self._waited, self.model.throttles, self.rate)


class Bucket(Protocol):
    """What the retry layer needs of a bucket: in-process or shared (Redis)."""

    async def acquire(self) -> Grant:
        """Take one token, waiting if needed; the grant says when, and how long it waited."""

    async def report_throttle(self, grant: Grant) -> None:
        """The service throttled the request sent under `grant`: learn from it."""

    def departed(self, grant: Grant, delay: float) -> None:
        """The request sent under `grant` left `delay` seconds after it was granted.

        Left: its connection, set-up included, was ready. The earliest departure is
        where the service's refill started.
        """

    @property
    def stats(self) -> BucketStats:
        """This process's counters of the bucket, and the rate in force."""


BucketKey = tuple[str, str, str]


class LimiterStats(dict[BucketKey, BucketStats]):
    """Counters per (identity, region, operation): ``limiter.stats``, a property.

    Counters are read as properties everywhere (``cm.stats``, ``cm.cache_stats``,
    ``bucket.stats``); calling it, as before 0.2, still works and warns.
    """

    def __call__(self) -> LimiterStats:
        """Deprecated: read ``limiter.stats`` without calling it."""
        warnings.warn(
            "limiter.stats() is deprecated: read limiter.stats (a property, as cm.stats is); "
            "calling it goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return self


class Limiter(Protocol):
    """What a client needs of a limiter: a bucket per (identity, region, operation)."""

    def bucket(self, identity: str, region: str, operation: str) -> Bucket | None:
        """The bucket for these, or None for an operation with no quota."""

    @property
    def stats(self) -> LimiterStats:
        """Counters per (identity, region, operation) of the buckets this process used."""


def check_quotas(quotas: Mapping[str, tuple[float, int]] | None) -> dict[str, tuple[float, int]]:
    """The quotas to use: the service's, with the operations `quotas` names overridden.

    An operation left out keeps the service's quota: tuning one operation must not let
    the others run unthrottled into 429s. Each entry is checked, naming what is wrong.
    """
    if quotas is not None and not isinstance(quotas, Mapping):
        raise InvalidSettingError("quotas", quotas, "a mapping of operation -> (rate, burst)")
    checked = dict(SERVICE_QUOTAS)
    for operation, quota in (quotas or {}).items():
        field = f"quotas[{operation!r}]"
        if operation not in SERVICE_QUOTAS:
            allowed = f"operations: {', '.join(SERVICE_QUOTAS)}"
            raise InvalidSettingError("quotas", operation, allowed)
        entry: object = quota  # checked as given: a caller's mapping may hold anything
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise InvalidSettingError(field, quota, "a pair (requests per second, burst)")
        rate, burst = entry
        with settings_checked():
            checked[operation] = (
                check_positive(f"{field}.rate", rate),
                check_count(f"{field}.burst", burst, minimum=1),
            )
    return checked


def check_headroom(headroom: object) -> float:
    """A fraction in (0, 1], or `InvalidSettingError`."""
    if not isinstance(headroom, (int, float)) or not 0 < headroom <= 1:
        raise InvalidSettingError("headroom", headroom, "a fraction in (0, 1]")
    return float(headroom)


class RateLimiter:
    """Token buckets per (account, region, operation), shareable by clients.

    Give one `RateLimiter` to every `ConnectMetrics` in a process that uses the same AWS
    account, so that together they stay under its quota.

    Args:
        quotas: operation -> (requests per second, burst); defaults to the service's.
        headroom: the fraction of the quota's rate to aim at (default 1.0: the adaptive
            bucket finds the edge itself; lower it to leave room for callers you know of).
        burst_headroom: burst tokens kept in reserve (default 0).
        adaptation: how buckets learn the rate that is left (see `Adaptation`).
        clock, sleep: as for `TokenBucket`.
    """

    def __init__(
        self,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        headroom: float = 1.0,
        burst_headroom: int = 0,
        adaptation: Adaptation | None = None,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.quotas = MappingProxyType(check_quotas(quotas))
        self.headroom = check_headroom(headroom)
        with settings_checked():
            self.burst_headroom = check_count("burst_headroom", burst_headroom, minimum=0)
        self.adaptation = adaptation if adaptation is not None else Adaptation()
        self._clock = clock
        self._sleep = sleep
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
                adaptation=self.adaptation,
            )
        return bucket

    @property
    def stats(self) -> LimiterStats:
        """Counters per (identity, region, operation)."""
        return LimiterStats((key, bucket.stats) for key, bucket in self._buckets.items())
