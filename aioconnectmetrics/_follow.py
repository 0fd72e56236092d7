"""Live answers: one loop per question, any number of followers (`ConnectMetrics.follow`).

A follower (`Follower`) asks for updates; the followers of one question in one client
share one loop (`_Loop`), which polls when something newer can exist and publishes each
newer answer. The loop keeps only the newest: a follower that asks late gets it at once,
with the number of updates it missed, and never a backlog. The loop runs in the client's
task group, starts with the first follower's first ask, and is cancelled when its last
follower leaves (closed, cancelled, or dropped: a follower left behind by ``break`` is
released when it is collected).

When to poll (`CurrentSchedule`, `HistoricalSchedule`) is pure arithmetic over what the
answers and the cache say:

* real time: a snapshot S is followed by one no sooner than ``S + max(max_age, floor)``
  (`CachePolicy.max_age`, and the cache's learnt `SnapshotCadence.floor`: the greatest
  age at which a fetch still got S); a poll that finds nothing newer asks again
  `STEP` seconds later, and the cadence it teaches moves the next wait on;
* historical: the window of the last `last` seconds ends at the last 5-minute boundary
  whose interval is published (``boundary + publish_lag`` has passed): the next answer
  exists when the next interval is published.

Polls go through the cache (``cache="use"``): followers in several processes sharing a
backend (Redis) share each snapshot's fan-out through its lease, as any callers do.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.abc
import attrs

from ._alerts import Alert, AlertEvent, Firing, crossings, firing, parse_alerts
from ._catalog import INTERVAL_SECONDS
from ._errors import ClientClosedError, InvalidRequestError
from ._result import MetricsResult

#: Seconds between polls while a newer real-time snapshot is late.
STEP = 1.0
#: The longest wait between polls after failures (they back off 1, 2, 4, ... seconds).
MAX_BACKOFF = 30.0
#: The service keeps historical intervals this long.
RETENTION = 24 * 3600
#: GetMetricDataV2 keeps three months; a followed window stays this far inside them.
V2_RETENTION = 89 * 86_400
#: GetMetricDataV2 takes a DAY, WEEK or TOTAL range shorter than this.
V2_LONG_RANGE = 35 * 86_400

#: What a question's answers are: `MetricsResult` (real time, historical) or `V2Result`.
R = TypeVar("R")
_R_contra = TypeVar("_R_contra", contravariant=True)


@attrs.frozen
class Update(Generic[R]):
    """One answer of a followed question, as one follower receives it.

    Attributes:
        result: the newest answer (after a failed poll: the last one, now stale).
        number: the loop's update number, from 1: increases with every update (the id
            of a server-sent event).
        missed: updates of the loop this follower did not receive (it asked late):
            it gets only the newest.
        error: None, or why the last poll failed; `result` is then the last answer,
            kept, and the loop goes on polling (backing off, under the limiter).
        failed_at: when that poll failed (UTC), or None.
        events: threshold crossings since the last update this follower received
            (`AlertEvent`, with the follower's `alerts`); none on a failed poll.
    """

    result: R
    number: int
    missed: int = 0
    error: Exception | None = None
    failed_at: datetime | None = None
    events: tuple[AlertEvent, ...] = ()

    @property
    def stale(self) -> bool:
        """Whether the last poll failed (`result` is the last answer, kept)."""
        return self.error is not None

    def age(self, now: datetime | None = None) -> timedelta | None:
        """How old the answer's snapshot is at `now` (default: the system's time).

        Real time only (None for historical answers: see ``result.end_time``).
        """
        snapshot: datetime | None = getattr(self.result, "snapshot_time", None)
        if snapshot is None:
            return None
        return (now or datetime.now(timezone.utc)) - snapshot


# -- when to poll: pure ---------------------------------------------------------------
class Schedule(Protocol[_R_contra]):
    """A question's cadence: what marks a newer answer, and when to ask next."""

    def marker(self, result: _R_contra) -> float:
        """A number that grows with the answer's moment (newer answers: larger)."""
        ...

    def next_poll(self, result: _R_contra, new: bool, now: float) -> float:
        """When to poll after `result` (`new`: it was newer than the one before)."""
        ...


@attrs.frozen
class CurrentSchedule:
    """Real time: a snapshot's successor after ``max(max_age, learnt floor)``.

    `floor` is read when asked (the cache learns it from every fetch).
    """

    max_age: float
    floor: Callable[[], float]

    def marker(self, result: MetricsResult) -> float:
        snapshot = result.snapshot_time
        return snapshot.timestamp() if snapshot is not None else -math.inf

    def next_poll(self, result: MetricsResult, new: bool, now: float) -> float:
        snapshot = result.snapshot_time
        if snapshot is None:
            return now + max(self.max_age, STEP)  # no batch, no snapshot: the cache's pace
        due = snapshot.timestamp() + max(self.max_age, self.floor())
        return max(due, now + (0.0 if new else STEP))


class _Ended(Protocol):
    """An answer over a range: historical or V2."""

    @property
    def end_time(self) -> datetime | None: ...


@attrs.frozen
class HistoricalSchedule:
    """Historical (and V2): a window of `last` seconds ending at the last published boundary.

    The same for GetMetricData and GetMetricDataV2: both publish each 5-minute interval
    `publish_lag` after it closes (`fresh_until`, `fresh_until_v2`).
    """

    last: float
    publish_lag: float

    def window(self, now: float) -> tuple[datetime, datetime]:
        """(start, end) of the window at `now`."""
        end = math.floor((now - self.publish_lag) / INTERVAL_SECONDS) * INTERVAL_SECONDS
        return _utc(end - self.last), _utc(end)

    def marker(self, result: _Ended) -> float:
        end = result.end_time
        return end.timestamp() if end is not None else -math.inf

    def next_poll(self, result: _Ended, new: bool, now: float) -> float:
        end = self.marker(result)
        return max(end + INTERVAL_SECONDS + self.publish_lag, now)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def longest_window(publish_lag: float) -> int:
    """The longest `last` (seconds, 5-minute steps) whose start stays within retention."""
    return int((RETENTION - INTERVAL_SECONDS - publish_lag) // INTERVAL_SECONDS) * INTERVAL_SECONDS


def check_last(value: object, publish_lag: float) -> float:
    """`last` of `follow_historical`: a timedelta of whole 5-minute intervals, or refused."""
    return _check_window(value, longest_window(publish_lag))


def check_last_v2(value: object, interval: str, publish_lag: float) -> float:
    """`last` of `follow_v2`: whole 5-minute steps, within the API's ranges, or refused."""
    if interval in ("DAY", "WEEK", "TOTAL"):
        longest = V2_LONG_RANGE - INTERVAL_SECONDS
    else:
        longest = V2_RETENTION - INTERVAL_SECONDS - int(publish_lag)
    longest -= longest % INTERVAL_SECONDS
    return _check_window(value, longest, f" (with interval {interval})")


def _check_window(value: object, longest: int, note: str = "") -> float:
    """`last` in seconds: a timedelta of whole 5-minute steps up to `longest`, or refused."""
    allowed = (
        "a timedelta of whole 5-minute intervals, "
        f"from 5 minutes to {timedelta(seconds=longest)}{note}"
    )
    if not isinstance(value, timedelta):
        raise InvalidRequestError("last", value, allowed)
    seconds = value.total_seconds()
    if seconds % INTERVAL_SECONDS or not INTERVAL_SECONDS <= seconds <= longest:
        raise InvalidRequestError("last", str(value), allowed)
    return seconds


def backoff(failures: int) -> float:
    """Seconds before the next poll after `failures` failed polls in a row."""
    return float(min(MAX_BACKOFF, 2.0 ** (failures - 1)))


# -- the loop ---------------------------------------------------------------------------
@attrs.define(eq=False)
class _Published(Generic[R]):
    """One update of a loop, shared by every follower that receives it."""

    number: int
    result: R
    error: Exception | None = None
    failed_at: datetime | None = None
    #: The firing set of each set of alerts asked (computed once, for all followers).
    firing: dict[tuple[Alert, ...], Firing] = attrs.field(factory=dict)

    def firing_of(self, alerts: tuple[Alert, ...]) -> Firing:
        """Which rows are over `alerts` (real-time and historical results only)."""
        if alerts not in self.firing:
            result: Any = self.result  # alerts come with MetricsResult questions only
            self.firing[alerts] = firing(result, alerts)
        return self.firing[alerts]


class _Loop(Generic[R]):
    """The loop of one question: polls, publishes newer answers, ends with its followers."""

    def __init__(
        self,
        key: Hashable,
        poll: Callable[[], Awaitable[R]],
        schedule: Schedule[R],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        on_end: Callable[[_Loop[R]], None],
    ) -> None:
        self.key = key
        self.followers = 0
        self.latest: _Published[R] | None = None
        #: The error that ended the loop before any answer (raised to its followers).
        self.failure: Exception | None = None
        self.changed = anyio.Event()
        self.ended = anyio.Event()
        self.stopping = False
        self._poll = poll
        self._schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._on_end = on_end
        self._started = False
        self._scope: anyio.CancelScope | None = None

    def start(self, tasks: anyio.abc.TaskGroup) -> None:
        """Start polling in `tasks`, once."""
        if not self._started and not self.stopping:
            self._started = True
            tasks.start_soon(self._run)

    def stop(self) -> None:
        """Stop polling (its last follower left); `ended` is set once it has wound down."""
        self.stopping = True
        if self._scope is not None:
            self._scope.cancel()
        elif not self._started:
            self._end()

    def _end(self) -> None:
        self.stopping = True
        self._on_end(self)
        self.ended.set()
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    def _publish(self, published: _Published[R]) -> None:
        self.latest = published
        self._wake()

    async def _run(self) -> None:
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self.stopping:
                    scope.cancel()
                await self._follow()
        finally:
            self._end()

    async def _sleep_until(self, moment: float) -> None:
        while (left := moment - self._clock()) > 0:
            await self._sleep(left)

    async def _follow(self) -> None:
        last: float | None = None
        failures = 0
        number = 0
        while True:
            try:
                result = await self._poll()
            except Exception as exc:  # noqa: BLE001 - told to the followers, not the group
                if self.latest is None:
                    self.failure = exc
                    return
                failures += 1
                if failures == 1:  # once per run of failures: the answer is stale now
                    number += 1
                    failed_at = _utc(self._clock())
                    self._publish(_Published(number, self.latest.result, exc, failed_at))
                await self._sleep_until(self._clock() + backoff(failures))
                continue
            failures = 0
            marker = self._schedule.marker(result)
            new = last is None or marker > last
            if new:
                last = marker
                number += 1
                self._publish(_Published(number, result))
            elif self.latest is not None and self.latest.error is not None:
                # Working again, with nothing newer yet: the kept answer is current.
                self.latest = _Published(self.latest.number, self.latest.result)
            await self._sleep_until(self._schedule.next_poll(result, new, self._clock()))


class Hub:
    """The loops of one client, by question; a new follower of a question joins its loop."""

    def __init__(
        self,
        tasks: Callable[[], anyio.abc.TaskGroup | None],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._tasks = tasks
        self._clock = clock
        self._sleep = sleep
        self._loops: dict[Hashable, _Loop[Any]] = {}

    @property
    def loops(self) -> int:
        """Loops running or about to (one per question followed)."""
        return len(self._loops)

    def follow(
        self,
        key: Hashable,
        poll: Callable[[], Awaitable[R]],
        schedule: Schedule[R],
        alerts: tuple[Alert, ...] = (),
    ) -> Follower[R]:
        """A new follower of the question `key` (its loop made if none runs)."""
        loop: _Loop[R] | None = self._loops.get(key)
        if loop is None or loop.stopping:
            loop = _Loop(
                key, poll, schedule, clock=self._clock, sleep=self._sleep, on_end=self._ended
            )
            self._loops[key] = loop
        return Follower(self, loop, alerts)

    def tasks(self) -> anyio.abc.TaskGroup:
        """Where loops run: the client's task group (ClientClosedError when closed)."""
        tasks = self._tasks()
        if tasks is None:
            raise ClientClosedError()
        return tasks

    def _ended(self, loop: _Loop[Any]) -> None:
        if self._loops.get(loop.key) is loop:
            del self._loops[loop.key]


def _leave(loop: _Loop[Any]) -> None:
    loop.followers -= 1
    if loop.followers == 0:
        loop.stop()


class Follower(Generic[R]):
    """Updates of one followed question: an async iterator and an async context manager.

    ``async for update in cm.follow(...)``, or ``async with cm.follow(...) as updates``.
    Each `Update` is newer than the one before; the first comes as soon as the first
    answer exists (at once when another follower of the question has it). Leaving
    (``aclose``, the ``async with`` block's end, a cancelled task, or the follower
    collected after ``break``) ends the question's loop if it was the last follower.
    """

    def __init__(self, hub: Hub, loop: _Loop[R], alerts: tuple[Alert, ...]) -> None:
        self._hub = hub
        self._loop = loop
        self._alerts = alerts
        self._seen = 0
        self._firing: Firing | None = None
        loop.followers += 1
        self._leave: weakref.finalize[[_Loop[Any]], Follower[R]]
        self._leave = weakref.finalize(self, _leave, loop)

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The thresholds this follower's updates report crossings of."""
        return self._alerts

    @property
    def closed(self) -> bool:
        """Whether this follower has left its question."""
        return not self._leave.alive

    def __aiter__(self) -> Follower[R]:
        return self

    async def __anext__(self) -> Update[R]:
        if self.closed:
            raise StopAsyncIteration
        loop = self._loop
        loop.start(self._hub.tasks())
        while True:
            published = loop.latest
            if published is not None and published.number > self._seen:
                return self._receive(published)
            if loop.failure is not None:
                failure = loop.failure
                await self.aclose()
                raise failure
            if loop.ended.is_set():
                await self.aclose()
                raise StopAsyncIteration
            await loop.changed.wait()

    def _receive(self, published: _Published[R]) -> Update[R]:
        missed = published.number - self._seen - 1 if self._seen else 0
        self._seen = published.number
        events: tuple[AlertEvent, ...] = ()
        if published.error is None and self._alerts:
            now = published.firing_of(self._alerts)
            result: Any = published.result  # alerts come with MetricsResult questions only
            events = crossings(self._firing or frozenset(), now, result)
            self._firing = now
        return Update(
            result=published.result,
            number=published.number,
            missed=missed,
            error=published.error,
            failed_at=published.failed_at,
            events=events,
        )

    async def aclose(self) -> None:
        """Leave the question; if this was its last follower, its loop ends first."""
        if not self._leave.alive:
            return
        self._leave()
        if self._loop.followers == 0:
            with anyio.CancelScope(shield=True):
                await self._loop.ended.wait()

    async def __aenter__(self) -> Follower[R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def question_key(kind: str, *parts: object) -> Hashable:
    """The key loops are shared by: what is asked, and how (`parts` are hashable)."""
    return (kind, *parts)


def alerts_checked(alerts: object, metrics: Sequence[str]) -> tuple[Alert, ...]:
    """`alerts` of `follow`: thresholds on the metrics asked (``["X>120"]``), or refused."""
    return parse_alerts(alerts, metrics, field="alerts")
