"""The cache front: single-flight in front of a cache backend, in the spirit of async-lru.

It knows nothing of what it calls: a key and a `fetch` coroutine function come in, an
`Answer` goes out. What it does with them:

* a fresh entry is served; one asked for past its refresh point starts its refresh in
  the background (`refresh_point`, `SnapshotCadence`); a stale one within the grace is
  served while one refresh runs;
* otherwise callers of one key share one fetch (a flight). The fetch runs in the task
  group the owner gives (`open`), not in a caller's task: a caller that leaves
  (cancelled) leaves the others unharmed, and the last one to leave cancels the fetch,
  takes it off the board at once (a newcomer starts its own rather than join a dying
  one), and returns only when it has wound down;
* across processes sharing a backend, a lease says who fetches a key; the others poll
  for its answer, and take over if its lease runs out;
* an answer is stored unless it is partial, or older than the stored one.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
import attrs

from . import _telemetry as telemetry
from ._backend import CacheBackend, MemoryBackend
from ._cache import (
    Answer,
    CacheEntry,
    CachePolicy,
    CacheStats,
    SnapshotCadence,
    newer_or_same,
    refresh_point,
)
from ._errors import ClientClosedError, ConnectMetricsError

logger = logging.getLogger("aioconnectmetrics.cache")  # by concern: docs/observability.md

Fetch = Callable[[], Awaitable[Answer]]
#: When an answer fetched at a time (epoch seconds) stops being fresh.
Freshness = Callable[[Answer, float], float]


@attrs.define(eq=False)
class _Flight:
    """One shared fetch and the callers waiting for it."""

    background: bool = False
    ahead: float | None = None  # a refresh ahead: the snapshot of the entry it replaces
    probe: bool = False  # a refresh ahead that probes whether the service has newer
    done: anyio.Event = attrs.field(factory=anyio.Event)
    answer: Answer | None = None
    error: BaseException | None = None
    waiters: int = 0
    scope: anyio.CancelScope | None = None


class CacheFront:
    """Single-flight, freshness and leases in front of `backend`.

    Args:
        backend: where entries live (in memory, or shared between processes).
        policy: freshness and size; the front serves and stores nothing without one.
        clock: seconds since the epoch.
        lease_ttl: how long a process's right to fetch a key lasts unless renewed.
    """

    def __init__(
        self,
        backend: CacheBackend,
        policy: CachePolicy | None,
        *,
        clock: Callable[[], float],
        lease_ttl: float,
    ) -> None:
        self.backend = backend
        self.policy = policy
        self.counts: Counter[str] = Counter()
        # What fetches showed of when the service has a newer snapshot (refresh ahead).
        self.cadence = SnapshotCadence()
        self._clock = clock
        self._lease_ttl = lease_ttl
        self._lease_poll = min(0.05, lease_ttl / 10)
        self._flights: dict[str, _Flight] = {}
        self._tasks: anyio.abc.TaskGroup | None = None

    def open(self, tasks: anyio.abc.TaskGroup | None) -> None:
        """Run flights in `tasks` from now on (None: closed)."""
        self._tasks = tasks

    # -- serving -------------------------------------------------------------------------
    def hit(self, key: str, fetch: Fetch, *, fresh_until: Freshness, ahead: bool) -> Answer | None:
        """A fresh answer from an in-memory backend at once, with no await; else None.

        The fast path of a hit: nothing can wait, so no deadline needs to be armed.
        Anything else (a miss, a stale entry, a backend that does I/O) is `get`'s.
        """
        if not isinstance(self.backend, MemoryBackend):
            return None
        entry = self.backend.get_nowait(key)
        if entry is None:
            return None
        now = self._clock()
        if now >= entry.fresh_until:
            return None
        self.counts["hits"] += 1
        telemetry.cache_looked_up("hit", for_caller="hit")
        if ahead:
            self._maybe_refresh_ahead(key, fetch, fresh_until, entry, now)
        return entry.answer

    async def fetch(self, fetch: Fetch, *, replacing: float | None = None) -> Answer:
        """Fetch, with nothing read or stored; what the answer shows is learnt."""
        self.counts["fetches"] += 1
        telemetry.cache_outcome.set("bypass")
        return await self._observed(fetch, replacing)

    async def get(
        self, key: str, fetch: Fetch, *, fresh_until: Freshness, refresh: bool, ahead: bool
    ) -> Answer:
        """The answer for `key`: cached, or fetched once for every caller asking now.

        `refresh`: fetch anew (and store) even if a fresh entry is there. `ahead`: the
        entry may be refreshed ahead of its expiry (real-time answers).
        """
        if not refresh:
            entry = await self.backend.get(key)
            if entry is not None:
                now = self._clock()
                if now < entry.fresh_until:
                    self.counts["hits"] += 1
                    telemetry.cache_looked_up("hit", for_caller="hit")
                    if ahead:
                        self._maybe_refresh_ahead(key, fetch, fresh_until, entry, now)
                    return entry.answer
                grace = self.policy.stale_grace if self.policy is not None else None
                if grace is not None and now < entry.fresh_until + grace:
                    self.counts["stale_served"] += 1
                    telemetry.cache_looked_up("stale", for_caller="stale")
                    if key not in self._flights:
                        self._start(key, fetch, fresh_until, background=True)
                    return entry.answer
        self.counts["misses"] += 1
        return await self._join(key, fetch, fresh_until)

    def _maybe_refresh_ahead(
        self, key: str, fetch: Fetch, fresh_until: Freshness, entry: CacheEntry, now: float
    ) -> None:
        fraction = self.policy.refresh_ahead if self.policy is not None else None
        if not fraction or now < entry.fresh_until - fraction * (
            entry.fresh_until - entry.fetched_at
        ):
            return  # (the cheap test first: most hits are early in an entry's life)
        snapshot = entry.answer.snapshot_time
        if snapshot is None or key in self._flights or now < refresh_point(key, entry, fraction):
            return
        verdict = self.cadence.verdict(snapshot.timestamp(), now)
        if verdict is None:
            return
        probe = verdict == "probe"
        self.cadence.probing |= probe
        self.counts["refreshed_ahead"] += 1
        self._start(
            key, fetch, fresh_until, background=True, ahead=snapshot.timestamp(), probe=probe
        )

    # -- flights -------------------------------------------------------------------------
    def _start(
        self,
        key: str,
        fetch: Fetch,
        fresh_until: Freshness,
        *,
        background: bool = False,
        ahead: float | None = None,
        probe: bool = False,
    ) -> _Flight:
        if self._tasks is None:
            raise ClientClosedError()
        flight = _Flight(background=background, ahead=ahead, probe=probe)
        self._flights[key] = flight
        self.counts["fetches"] += 1
        self._tasks.start_soon(self._fly, key, flight, fetch, fresh_until)
        return flight

    async def _join(self, key: str, fetch: Fetch, fresh_until: Freshness) -> Answer:
        flight = self._flights.get(key)
        if flight is None:
            flight = self._start(key, fetch, fresh_until)
            telemetry.cache_looked_up("miss", for_caller="fetched")
        else:
            self.counts["coalesced"] += 1
            telemetry.cache_looked_up("joined", for_caller="joined")
        flight.waiters += 1
        try:
            await flight.done.wait()
        except BaseException:
            # This caller leaves (cancelled): the others keep the fetch; the last one
            # to leave cancels it, and takes it off the board at once, so that a caller
            # arriving while it winds down starts a fetch of its own instead of joining
            # one that can only fail.
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.background and flight.scope is not None:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.scope.cancel()
                # Wait for it to wind down, so that when this caller's cancellation
                # returns, no task, connection or token of its fetch is left.
                with anyio.CancelScope(shield=True):
                    await flight.done.wait()
            raise
        flight.waiters -= 1
        if flight.error is not None:
            raise flight.error
        assert flight.answer is not None
        return flight.answer

    async def _fly(self, key: str, flight: _Flight, fetch: Fetch, fresh_until: Freshness) -> None:
        try:
            with anyio.CancelScope() as flight.scope:
                try:
                    flight.answer = await self._under_lease(key, fetch, fresh_until, flight.ahead)
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    flight.error = exc
        finally:
            if flight.probe:
                self.cadence.probing = False
            if flight.answer is None and flight.error is None:
                flight.error = ConnectMetricsError("the fetch was cancelled (client closing)")
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()

    async def wait_for_refreshes(self) -> None:
        """Wait until every flight running now (background refreshes included) is done."""
        while self._flights:
            await next(iter(self._flights.values())).done.wait()

    # -- fetching, across processes ---------------------------------------------------
    async def _observed(self, fetch: Fetch, replacing: float | None) -> Answer:
        asked_at = self._clock()
        answer = await fetch()
        got = answer.snapshot_time
        if got is not None:
            self.cadence.observe(asked_at, self._clock(), got.timestamp(), replacing)
        return answer

    async def _under_lease(
        self, key: str, fetch: Fetch, fresh_until: Freshness, replacing: float | None
    ) -> Answer:
        """Fetch, unless another process already does: then wait for its answer.

        The lease (shorter than any cache lifetime, renewed while the fetch runs) says who
        fetches a key. A process that does not get it polls the backend for the answer;
        if the holder dies, its lease runs out and another process takes over.
        """
        while True:
            token = await self.backend.acquire_lease(key, self._lease_ttl)
            if token is not None:
                stored: Answer | None = None
                error: Exception | None = None
                try:
                    async with anyio.create_task_group() as renewals:
                        renewals.start_soon(self._renew_lease, key, token)
                        # Caught here and raised below, so that callers see the error
                        # itself, not a task group's ExceptionGroup around it.
                        try:
                            answer = await self._observed(fetch, replacing)
                            stored = await self._store(key, answer, fresh_until)
                        except Exception as exc:  # noqa: BLE001 - re-raised below
                            error = exc
                        finally:
                            renewals.cancel_scope.cancel()
                finally:
                    with anyio.CancelScope(shield=True):
                        await self.backend.release_lease(key, token)
                if error is not None:
                    raise error
                assert stored is not None
                return stored
            entry = await self._await_other_process(key)
            if entry is not None:
                return entry.answer

    async def _renew_lease(self, key: str, token: str) -> None:
        while True:
            await anyio.sleep(self._lease_ttl / 3)
            if not await self.backend.renew_lease(key, token, self._lease_ttl):
                logger.info(
                    "lost the fetch lease of a cache key; another process may fetch it too"
                )
                return

    async def _await_other_process(self, key: str) -> CacheEntry | None:
        """Poll until the holder's answer appears, or the lease is free again (None).

        Its answer is the entry stored after the wait began (or any fresh one), fresh or
        not by the time this process, slowed down, reads it: as a caller joining a
        flight in process gets that flight's answer.
        """
        before = await self.backend.get(key)
        seen = before.fetched_at if before is not None else -math.inf
        while True:
            await anyio.sleep(self._lease_poll)
            entry = await self.backend.get(key)
            if entry is not None and (
                self._clock() < entry.fresh_until or entry.fetched_at > seen
            ):
                self.counts["coalesced"] += 1
                return entry
            probe = await self.backend.acquire_lease(key, self._lease_ttl)
            if probe is not None:
                await self.backend.release_lease(key, probe)
                return None

    async def _store(self, key: str, answer: Answer, fresh_until: Freshness) -> Answer:
        """Store a complete answer, unless the backend already holds a newer snapshot."""
        policy = self.policy
        if policy is None or answer.failures:
            return answer  # partial answers are never cached
        stored = await self.backend.get(key)
        if stored is not None and not newer_or_same(answer, stored.answer):
            logger.debug("kept the cached answer: the new fetch's snapshot is older")
            return stored.answer
        now = self._clock()
        entry = CacheEntry(answer, now, fresh_until(answer, now))
        # Kept while fresh (a final V2 answer outlives `max_lifetime`), then the grace.
        life = max(policy.max_lifetime, entry.fresh_until - now)
        await self.backend.set(key, entry, life + (policy.stale_grace or 0.0))
        return answer

    def stats(self, entries: int) -> CacheStats:
        """The counters, with the backend's entry count."""
        counts = self.counts
        return CacheStats(
            hits=counts["hits"],
            misses=counts["misses"],
            coalesced=counts["coalesced"],
            stale_served=counts["stale_served"],
            refreshed_ahead=counts["refreshed_ahead"],
            fetches=counts["fetches"],
            entries=entries,
        )
