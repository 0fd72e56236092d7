"""The fake service's quotas: token buckets, and the other callers of an account's quota."""

from __future__ import annotations

import math

import attrs

#: A token short by less than this is whole (float sums would otherwise spin).
_EPSILON = 1e-9


@attrs.define(eq=False)
class OtherConsumer:
    """Another caller of the same account's quota, which the client under test cannot see.

    It asks for `rate` requests per second on average, `burst` at a time (``burst=1``: a
    steady stream; more: that many at once every ``burst / rate`` seconds), the first one
    period after `start`, until `stop`. A request of its own that finds the bucket empty
    is throttled and tried again the moment a token is there, so it spends its whole rate
    whenever it can: the rate it leaves is ``quota - rate``. Counters: `admitted` and
    `throttled`.
    """

    rate: float
    burst: int = 1
    start: float = math.nan
    stop: float = math.inf
    #: Seconds after `begin` that it starts asking, and how long it goes on (with `begin`).
    delay: float = 0.0
    duration: float = math.inf
    admitted: int = 0
    throttled: int = 0
    next_try: float = math.inf

    def begin(self, start: float) -> None:
        """Start asking `delay` after `start` (the first request one period later)."""
        self.start = start + self.delay
        self.stop = min(self.stop, self.start + self.duration)
        self.next_try = self.due(0)

    def __attrs_post_init__(self) -> None:
        if not (0 < self.rate < math.inf):
            raise ValueError(f"rate must be a positive number of requests/s, got {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be a whole number >= 1, got {self.burst!r}")

    def due(self, number: int) -> float:
        """When its request `number` (0-based) is scheduled."""
        return self.start + (number // self.burst + 1) * self.burst / self.rate


@attrs.define
class TokenBucket:
    """A plain token bucket on the fake's clock: take one token or be throttled.

    Other consumers (`OtherConsumer`) are served lazily, in time order, each time the
    bucket is looked at, so their share is exact on any clock.
    """

    rate: float
    burst: int
    tokens: float
    updated: float
    others: list[OtherConsumer] = attrs.Factory(list)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def _serve_others(self, now: float) -> None:
        while True:
            waiting = [o for o in self.others if o.next_try <= now and o.next_try < o.stop]
            if not waiting:
                return
            other = min(waiting, key=lambda o: o.next_try)
            at = other.next_try
            self._refill(at)
            if self.tokens >= 1.0 - _EPSILON:
                self.tokens -= 1.0
                other.admitted += 1
                other.next_try = max(at, other.due(other.admitted))
            else:
                # It asks again the moment a token is whole (by the same tolerance as
                # `take`), so it is always first to a token: it leaves exactly the rest.
                other.throttled += 1
                # (At least a microsecond on: on an epoch clock a smaller step is lost.)
                shortfall = 1.0 - _EPSILON / 2 - self.tokens
                other.next_try = max(at, self.updated) + max(shortfall / self.rate, 1e-6)

    def take(self, now: float) -> bool:
        """Take a token if one is there; refill (and serve the other consumers) first."""
        self._serve_others(now)
        self._refill(now)
        if self.tokens >= 1.0 - _EPSILON:
            self.tokens -= 1.0
            return True
        return False
