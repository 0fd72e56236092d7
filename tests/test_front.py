"""The cache front on its own: single-flight, cancellation and leases, with no server.

A plain ``async def`` stands for the fetch, in the manner of async-lru's
tests/test_cancel.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone

import anyio
import anyio.abc
import pytest

from aioconnectmetrics import Answer, CachePolicy, ConnectMetricsError, MemoryBackend
from aioconnectmetrics._front import CacheFront
from aioconnectmetrics.testing import ManualClock

from .conftest import NOW

POLICY = CachePolicy()


def answer_at(snapshot: float) -> Answer:
    return Answer((), (datetime.fromtimestamp(snapshot, timezone.utc),), 1, 1)


def fresh_for(seconds: float) -> Callable[[Answer, float], float]:
    return lambda answer, now: now + seconds


class Gated:
    """A fetch that waits for a gate: counts its starts, finishes and cancellations."""

    def __init__(self, answer: Answer | None = None, error: Exception | None = None) -> None:
        self.gate = anyio.Event()
        self.started = self.finished = self.cancelled = 0
        self.answer = answer or answer_at(NOW)
        self.error = error

    async def __call__(self) -> Answer:
        """Wait for the gate; then answer, or fail."""
        self.started += 1
        try:
            await self.gate.wait()
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        self.finished += 1
        if self.error is not None:
            raise self.error
        return self.answer


@contextlib.asynccontextmanager
async def opened(*fronts: CacheFront) -> AsyncIterator[None]:
    """The fronts, open on a task group of the test's own (closed, and cancelled, after)."""
    async with anyio.create_task_group() as tasks:
        for front in fronts:
            front.open(tasks)
        yield
        tasks.cancel_scope.cancel()


async def ask_for(front: CacheFront, fetch: Gated, *, refresh: bool = False) -> Answer:
    """Ask the front for key "k", fresh for 15 s once fetched."""
    return await front.get("k", fetch, fresh_until=fresh_for(15), refresh=refresh, ahead=False)


def front_of(clock: ManualClock, backend: MemoryBackend | None = None) -> CacheFront:
    return CacheFront(
        backend if backend is not None else MemoryBackend(clock=clock),
        POLICY,
        clock=clock,
        lease_ttl=1.0,
    )


@pytest.mark.parametrize("num_to_cancel", [0, 1, 2, 3])
async def test_cancel(num_to_cancel: int, clock: ManualClock) -> None:
    """Three callers share one fetch; the fetch finishes unless all three left."""
    front = front_of(clock)
    async with opened(front):
        fetch = Gated()
        scopes = [anyio.CancelScope() for _ in range(3)]
        got: list[Answer] = []

        async def ask(scope: anyio.CancelScope) -> None:
            with scope:
                got.append(await ask_for(front, fetch))

        async with anyio.create_task_group() as callers:
            for scope in scopes:
                callers.start_soon(ask, scope)
            await anyio.wait_all_tasks_blocked()
            for scope in scopes[:num_to_cancel]:
                scope.cancel()
            await anyio.wait_all_tasks_blocked()
            fetch.gate.set()
        assert fetch.started == 1
        assert fetch.finished == (1 if num_to_cancel < 3 else 0)
        assert fetch.cancelled == (1 if num_to_cancel == 3 else 0)
        assert got == [fetch.answer] * (3 - num_to_cancel)
        # The last one to leave takes the lease with it: the key can be fetched at once.
        assert await front.backend.acquire_lease("k", 1.0) is not None


async def test_a_failure_reaches_every_waiter_and_is_not_stored(clock: ManualClock) -> None:
    """Every caller of a failed fetch gets its error; the next ask fetches again."""
    front = front_of(clock)
    async with opened(front):
        fetch = Gated(error=ConnectMetricsError("boom"))
        errors: list[BaseException] = []

        async def ask() -> None:
            try:
                await ask_for(front, fetch)
            except ConnectMetricsError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as callers:
            for _ in range(3):
                callers.start_soon(ask)
            await anyio.wait_all_tasks_blocked()
            fetch.gate.set()
        assert [str(e) for e in errors] == ["boom"] * 3
        fetch.error = None
        assert await ask_for(front, fetch) == fetch.answer
        assert fetch.started == 2


async def test_fresh_then_stale_then_refetched(clock: ManualClock) -> None:
    """Served from the entry while fresh; fetched again once it is not."""
    front = front_of(clock)
    async with opened(front):
        fetch = Gated()
        fetch.gate.set()
        for _ in range(3):
            await ask_for(front, fetch)
        clock.advance(15)
        await ask_for(front, fetch)
        stats = front.stats(0)
        assert (fetch.started, stats.hits, stats.misses) == (2, 2, 2)


async def test_an_older_snapshot_never_replaces_a_newer_one(clock: ManualClock) -> None:
    """A refresh that comes back with an older snapshot leaves the stored answer."""
    front = front_of(clock)
    async with opened(front):
        newer, older = Gated(answer_at(NOW + 15)), Gated(answer_at(NOW))
        newer.gate.set()
        older.gate.set()
        assert await ask_for(front, newer) == newer.answer
        got = await ask_for(front, older, refresh=True)
        assert got == newer.answer


@pytest.mark.parametrize(
    "fresh_for_seconds",
    [
        15.0,
        # Stale as soon as stored (a loaded machine, a snapshot that turned mid-fetch):
        # the waiter still takes it, as a caller who joined a flight in process gets its
        # answer. Before, it fetched again (and here would wait on its gate for ever).
        0.0,
    ],
    ids=["fresh", "stale once read"],
)
async def test_another_process_waits_for_the_lease_holder(
    clock: ManualClock, fresh_for_seconds: float
) -> None:
    """Two fronts over one backend: the second waits for the first one's answer."""
    backend = MemoryBackend(clock=clock)
    first, second = front_of(clock, backend), front_of(clock, backend)
    async with opened(first, second):
        fetch_one, fetch_two = Gated(), Gated()
        got: list[Answer] = []

        async def ask(front: CacheFront, fetch: Gated) -> None:
            freshness = fresh_for(fresh_for_seconds)
            got.append(
                await front.get("k", fetch, fresh_until=freshness, refresh=False, ahead=False)
            )

        with anyio.fail_after(10):  # a second fetch would wait on its gate for ever
            async with anyio.create_task_group() as callers:
                callers.start_soon(ask, first, fetch_one)
                await anyio.wait_all_tasks_blocked()
                callers.start_soon(ask, second, fetch_two)
                await anyio.wait_all_tasks_blocked()  # it holds no lease: it polls
                fetch_one.gate.set()
        assert (fetch_one.started, fetch_two.started) == (1, 0)
        assert got == [fetch_one.answer] * 2


async def test_a_closed_front_refuses_to_start_a_fetch(clock: ManualClock) -> None:
    """No task group, no flight: the client is closed."""
    front = CacheFront(MemoryBackend(clock=clock), POLICY, clock=clock, lease_ttl=1.0)
    with pytest.raises(RuntimeError, match="not open"):
        await ask_for(front, Gated())
