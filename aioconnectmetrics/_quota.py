"""The share of the quota that is really left: a pure model, time passed in.

The service keeps one token bucket per account, region and operation (rate ``R``, burst
``B``) and answers 429 when it is empty. Other callers we cannot see (other services,
other replicas, people's scripts) draw from the same bucket. `QuotaModel` is our model of
that bucket, and it learns from what the service tells us:

* A grant is ours to send when the model holds a whole token; the model refills at the
  rate it believes is left for us.
* A 429 for a request granted at ``t`` says the service's bucket held less than one token
  at ``t``. Two throttles at ``t1 < t2``, with ``d`` of our requests admitted between
  them, pin the rate left: the bucket level is in ``[0, 1)`` at both, so
  ``a * (t2 - t1) - d`` is in ``(-1, 1)`` and ``a`` lies in
  ``((d - 1) / (t2 - t1), (d + 1) / (t2 - t1))``. The model takes the middle of that
  interval between the oldest throttle of a short window and the newest, so the estimate
  tightens as ``1 / span``. Throttles less than `MIN_SPAN` apart measure nothing yet
  (a burst of another caller's looks like no rate at all). This is a measurement, not a
  guess: no halving, no slow linear climb.
* The same throttle re-phases the model: the service held less than a token at ``t``
  (half of one, as a guess that costs least; none when the grant before was throttled
  too), so the level now is that, plus what refilled since ``t``, less what we sent since.
* Where the service's bucket starts: it refills from the moment our first request
  reaches it, which on a new connection is after the connection's set-up (TCP and TLS:
  a round trip or two, more than the grants' spacing). The model starts its own refill
  at its first grant plus a fixed `slack` (the time to build a burst's requests), and
  moves that start to the earliest departure it is told of (`departed`: a grant's time
  plus the seconds until its connection was ready), for as long as the start still
  decides the level: before the first throttle, and before the bucket is full again.
  A bucket full again, with no one else known to draw on it (the rate back at the
  quota's), starts anew: the service's is full too, and refills from when the next
  burst's first request reaches it, as at the very start. (Otherwise a burst after a
  pause, its first request slow to leave and the later ones quick, sends its tenth
  request early by that difference.)
* The absence of throttles is evidence too, but only up to the rate we sent at. So the
  learnt rate is held for `hold` seconds, then climbs back towards the quota with time
  constant `climb`: if the others have stopped we are back near the full quota within
  about ``hold + 2 * climb`` seconds; if not, the next 429 (a probe) measures them
  again. A probe that finds the rate where it was doubles the hold (up to `max_hold`),
  so steady sharing costs a 429 every few seconds, not every second; "where it was"
  needs an interval narrow enough to say so (`STEADY_WIDTH`), or a bursty caller,
  measured across its bursts and gaps, would keep a rate far below the one it leaves
  for the longest hold.

The model is plain data: the in-process bucket (`_limiter.TokenBucket`) and the Redis
bucket (a Lua port of the same arithmetic, `redis/_lua.py`) both drive it.
"""

from __future__ import annotations

import math

import attrs

#: Seconds of throttles the estimate looks back over.
DEFAULT_WINDOW = 4.0
#: Seconds a learnt rate is held before it climbs back towards the quota.
DEFAULT_HOLD = 1.0
#: The longest hold, after probes that keep finding the same rate.
DEFAULT_MAX_HOLD = 2.0
#: Time constant (seconds) of the climb back.
DEFAULT_CLIMB = 0.5
#: Seconds from a request's departure to the service counting it (the network's one way,
#: and the service's queueing when a burst lands at once), added to the earliest
#: departure told (`QuotaModel.departed`); before one is told, to the first grant, when
#: it also covers the event loop building the burst's requests.
DEFAULT_SLACK = 0.03
#: The learnt rate never goes below the quota's rate divided by this.
FLOOR_DIVISOR = 20.0
#: Throttles closer together than this (seconds) measure nothing yet: the uncertainty is
#: one token over the span, and a burst of another caller's looks like no rate at all.
MIN_SPAN = 0.5
#: The service's level when it throttled a lone request: somewhere in [0, 1), and the
#: middle costs least.
THROTTLED_LEVEL = 0.5
#: A token short by less than this is whole: refills sum floats, and a wait of 1e-16 s
#: would only spin.
EPSILON = 1e-9
#: A full bucket starts anew (`QuotaModel._anew`) once the rate it believes is left is
#: this close to the quota's: no one else is known to draw on the service's bucket.
ANEW_AT = 0.99
#: A probe found the rate "where it was" only if its interval is this narrow, relative to
#: the rate held: a wide interval (a bursty caller measured over a span holding two of its
#: bursts and one gap, say) cannot tell, and must not lengthen the hold.
STEADY_WIDTH = 0.5


@attrs.frozen
class Grant:
    """A token handed out: when (on the bucket's clock), and its place in the sequence.

    Attributes:
        at: the grant's time, in the bucket's clock (for Redis buckets, Redis time).
        seq: how many grants the bucket had made, this one included.
        waited: seconds the caller waited for it.
        origin: which model granted it ("local", or the key of a shared bucket): a
            throttle is reported to the model whose clock and sequence it is on.
    """

    at: float
    seq: int
    waited: float = 0.0
    origin: str = "local"


@attrs.define
class QuotaModel:
    """Our model of the service's bucket, and of the rate others leave us.

    Args:
        rate: the quota's rate (requests per second).
        burst: the quota's burst.
        hold, max_hold, climb, window: see the module docstring.
        slack: seconds from a request's departure to the service counting it: the
            first refill starts at the earliest departure plus this (before one is
            told, at the first grant plus this).
    """

    rate: float
    burst: int
    hold: float = DEFAULT_HOLD
    climb: float = DEFAULT_CLIMB
    window: float = DEFAULT_WINDOW
    slack: float = 0.0
    max_hold: float = DEFAULT_MAX_HOLD
    tokens: float = attrs.field(default=attrs.Factory(lambda self: float(self.burst), True))
    updated: float | None = None
    granted: int = 0
    throttles: int = 0
    learnt: float = attrs.field(default=attrs.Factory(lambda self: self.rate, True))
    learnt_at: float = -math.inf
    #: Probes in a row that found the rate where it was: each doubles the hold.
    streak: int = 0
    #: (grant time, grant seq) of recent throttled grants, oldest first.
    points: list[tuple[float, int]] = attrs.Factory(list)
    #: Grants whose caller sent nothing (`give_back`).
    returned: int = 0
    #: The earliest departure told (`departed`): where the service's refill started.
    reached: float | None = None
    #: Whether the bucket has been full since the first grant: its start no longer counts.
    capped: bool = False
    #: Where the model started refilling: its first take plus `slack` (or the first take
    #: after it was full again: a new start).
    started: float | None = None
    #: When the present start began (the model full again, `_anew`), and the grants,
    #: returns and throttles before it: what `departed` and `_from_start` count from.
    since: float = -math.inf
    base_granted: int = 0
    base_returned: int = 0
    base_throttles: int = 0

    @property
    def held(self) -> float:
        """Seconds the learnt rate is held now: `hold`, doubled per probe that found it."""
        return min(self.max_hold, self.hold * 2.0**self.streak)

    @property
    def floor(self) -> float:
        """The lowest rate the model will settle on."""
        return self.rate / FLOOR_DIVISOR

    def rate_at(self, now: float) -> float:
        """The rate the model believes is left for us at `now`."""
        if self.learnt >= self.rate:
            return self.rate
        since = now - self.learnt_at - self.held
        if since <= 0:
            return self.learnt
        return self.rate - (self.rate - self.learnt) * math.exp(-since / self.climb)

    def _refilled(self, start: float, end: float) -> float:
        """Tokens the model refills over [start, end]: the integral of `rate_at`."""
        if end <= start:
            return 0.0
        if self.learnt >= self.rate:
            return self.rate * (end - start)
        climb_from = self.learnt_at + self.held
        total = 0.0
        if start < climb_from:
            flat_end = min(end, climb_from)
            total += self.learnt * (flat_end - start)
            start = flat_end
        if end > start:
            gap = self.rate - self.learnt
            total += self.rate * (end - start) - gap * self.climb * (
                math.exp(-(start - climb_from) / self.climb)
                - math.exp(-(end - climb_from) / self.climb)
            )
        return total

    def _refill(self, now: float) -> None:
        if self.updated is None:
            self.updated = self.started = now + self.slack
        if now > self.updated:
            level = self.tokens + self._refilled(self.updated, now)
            self.tokens = min(float(self.burst), level)
            self.updated = now
            if level >= self.burst and self.granted:
                if self.rate_at(now) >= self.rate * ANEW_AT:
                    self._anew(now)
                else:
                    self.capped = True

    def _anew(self, now: float) -> None:
        """Full again, no one else known: the next burst starts the service's refill."""
        self.reached = None
        self.capped = False
        self.since = now
        self.updated = self.started = now + self.slack
        self.base_granted, self.base_returned = self.granted, self.returned
        self.base_throttles = self.throttles

    def take(self, now: float) -> Grant | float:
        """A grant if a whole token is there at `now`; else the seconds until one is."""
        self._refill(now)
        if self.tokens >= 1.0 - EPSILON:
            self.tokens -= 1.0
            self.granted += 1
            return Grant(now, self.granted)
        start = max(now, self.updated or now)
        return (start - now) + self._time_to_refill(start, 1.0 - self.tokens)

    def give_back(self, now: float) -> None:
        """Return the token of a grant that sent nothing (its caller was cancelled).

        The grant keeps its sequence number: numbers only say which grants came after
        which, and one unused changes a measured rate by less than its ±1 margin.
        """
        self._refill(now)
        self.returned += 1
        self.tokens = min(float(self.burst), self.tokens + 1.0)

    def departed(self, at: float, delay: float, now: float) -> None:
        """The request granted at `at` left `delay` seconds later (its connection ready).

        The earliest departure is where the service's bucket started to refill (our
        first request reaching it emptied it below full): the model's level is
        recomputed from there, as long as nothing since has made the start irrelevant
        (a throttle re-phases the model; a full bucket forgets where it started).
        """
        arrival = at + max(0.0, delay) + self.slack
        self._refill(now)  # first: a bucket full again by now has forgotten its start
        if (
            self.capped
            or at < self.since  # a grant of a start before the present one
            or self.throttles > self.base_throttles
            or (self.reached is not None and arrival >= self.reached)
        ):
            return
        self.reached = arrival
        sent = (self.granted - self.base_granted) - (self.returned - self.base_returned)
        # No throttle yet, so the rate in force is the quota's, and the bucket has not
        # been full since: its level is the burst, less what we sent, plus the refill.
        if arrival >= now:
            self.tokens, self.updated = float(self.burst - sent), arrival
        else:
            self.tokens = min(float(self.burst), self.burst - sent + self.rate * (now - arrival))
            self.updated = now

    def _time_to_refill(self, start: float, tokens: float) -> float:
        """Seconds from `start` until `tokens` have refilled (the rate never falls)."""
        low, high = tokens / self.rate, tokens / self.rate_at(start)
        while high - low > 1e-6:
            middle = (low + high) / 2
            if self._refilled(start, start + middle) >= tokens:
                high = middle
            else:
                low = middle
        return high

    def throttled(self, at: float, seq: int, now: float) -> float:
        """The grant (`at`, `seq`) was throttled: learn from it; returns the new rate."""
        self._refill(now)
        self.throttles += 1
        # The window reaches back past the hold too: a probe then always has a partner.
        horizon = at - self.window - self.held
        points = [p for p in self.points if p[0] >= horizon and p != (at, seq)]
        points.append((at, seq))
        points.sort()
        self.points = points
        interval = self._estimate()
        if interval is None and self.throttles - self.base_throttles == 1 and at >= self.since:
            interval = self._from_start(at, seq)
        if interval is not None:
            low, high = interval
            # A throttle during the climb is a probe; if it found the rate where it was
            # (within what it can tell, and it can tell: a narrow interval), probe less
            # often: the others are steady. Else start afresh. One during the hold only
            # corrects the estimate.
            if self.learnt < self.rate and now > self.learnt_at + self.held:
                steady = low <= self.learnt <= high and high - low <= STEADY_WIDTH * self.learnt
                self.streak = self.streak + 1 if steady else 0
            self.learnt = (low + high) / 2
            self.learnt_at = now
        if (at, seq) == self.points[-1]:
            # The newest throttle says where the service's bucket is: less than a token at
            # `at`, since when it refilled at the rate left and we sent every later grant.
            # (Some of those may be throttled too; their own reports, newer, correct this.)
            level = self._throttled_level() + self._refilled(at, now) - (self.granted - seq)
            self.tokens = min(float(self.burst), level)
        return self.rate_at(now)

    def _throttled_level(self) -> float:
        """What the service held when it throttled the newest point: in [0, 1).

        Half a token for a lone throttle (the middle costs least); none when our previous
        grant was throttled too, as while another caller's burst drains the bucket (the
        middle would then only double the 429s).
        """
        if len(self.points) >= 2 and self.points[-1][1] - self.points[-2][1] == 1:
            return 0.0
        return THROTTLED_LEVEL

    def _from_start(self, at: float, seq: int) -> tuple[float, float] | None:
        """What a first throttle says, measured from where the bucket started full.

        The service's bucket held the burst when our first request reached it (the
        earliest departure, or the model's guess) and less than a token at `at`, with
        the grants before this one admitted in between: the rate left is at least
        ``(admitted - burst) / span``. Only at least: had someone else been drawing on
        it before we started, it held less. So the model takes that lower end (the
        climb back finds any rate above it). Nothing once the bucket has been full
        since (the start no longer counts), or over a span too short to measure.
        """
        origin = self.reached if self.reached is not None else self.started
        if origin is None or self.capped or at - origin < MIN_SPAN:
            return None
        admitted = (seq - 1 - self.base_granted) - (self.returned - self.base_returned)
        low = max(self.floor, (admitted - self.burst) / (at - origin))
        return (low, low) if low < self.rate else None

    def _estimate(self) -> tuple[float, float] | None:
        """The interval the rate left lies in, or None while the throttles are too close.

        Between the oldest throttle in the window and the newest: ``(admitted -/+ 1) / span``.
        """
        if len(self.points) < 2:
            return None
        (first_at, first_seq), (last_at, last_seq) = self.points[0], self.points[-1]
        span = last_at - first_at
        if span < MIN_SPAN:
            return None
        admitted = last_seq - first_seq - (len(self.points) - 1)
        low = max(self.floor, (admitted - 1) / span)
        high = min(self.rate, (admitted + 1) / span)
        return low, max(low, high)
