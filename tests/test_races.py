"""The race suite: every interleaving of join, cancel, finish and fail that matters.

Single-flight: a first caller's fetch reaches the service and is held there; a second
caller joins it (in the same client; or in another client over a shared backend, in
memory or in Redis, where joining means waiting on the first one's lease); then the
scenario's events happen in order, and each caller's outcome is checked, along with what
is left behind: no task, and no lease (a third client fetches at once).

Limiters: a caller at the head of the line is cancelled while it sleeps for a token, or
while its take is on its way to Redis and back (the token taken, the reply not yet read);
the capacity stays: the next caller waits as long as it would have at an idle bucket.
(Callers cancelled while queued behind the head: tests/test_limiter.py.)
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

import anyio
import pytest
import redis.asyncio as aioredis

from aioconnectmetrics import (
    Adaptation,
    Bucket,
    CacheBackend,
    ConnectMetricsError,
    MemoryBackend,
    RetryPolicy,
    TokenBucket,
)
from aioconnectmetrics.redis import RedisBackend
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .virtual_time import VirtualTime, redis_bucket

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
METRICS = ["CONTACTS_IN_QUEUE"]

# -- single-flight -----------------------------------------------------------------------
#: Where the second caller is: beside the first, or in another client over a backend.
WHERE = ["same client", "other client, memory", "other client, redis"]

#: Scenario: events after A's fetch is held at the service and B has joined it, and the
#: outcomes: for callers A and B, then C (a newcomer of A's client after the events).
#: Outcomes differ by where B is only where a failure is concerned: a failure reaches
#: every waiter of the fetch in its own client, while a waiter in another client sees the
#: lease go free and fetches for itself.
SCENARIOS: dict[str, tuple[list[str], dict[str, str], dict[str, str]]] = {
    "join, finish": (["finish"], {"A": "answer", "B": "answer"}, {}),
    "join, fail": (["fail"], {"A": "error", "B": "error"}, {"B": "answer"}),
    "join, A leaves, finish": (["cancel A", "finish"], {"A": "cancelled", "B": "answer"}, {}),
    "join, B leaves, finish": (["cancel B", "finish"], {"A": "answer", "B": "cancelled"}, {}),
    "join, A leaves, fail": (
        ["cancel A", "fail"],
        {"A": "cancelled", "B": "error"},
        {"B": "answer"},
    ),
    "join, B leaves, fail": (["cancel B", "fail"], {"A": "error", "B": "cancelled"}, {}),
    "join, both leave, newcomer": (
        ["cancel A", "cancel B", "finish", "ask C"],
        {"A": "cancelled", "B": "cancelled", "C": "answer"},
        {},
    ),
    "join, B leaves, A leaves, newcomer": (
        ["cancel B", "cancel A", "finish", "ask C"],
        {"A": "cancelled", "B": "cancelled", "C": "answer"},
        {},
    ),
    "join, finish, newcomer": (
        ["finish", "ask C"],
        {"A": "answer", "B": "answer", "C": "answer"},
        {},
    ),
    "join, fail, newcomer": (
        ["fail", "ask C"],
        {"A": "error", "B": "error", "C": "answer"},
        {"B": "answer"},
    ),
}


class Gate:
    """Holds every metrics request at the service until opened; counts arrivals."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.arrivals = 0
        self._arrived = threading.Condition()

    def __call__(self, operation: str, params: Mapping[str, Any]) -> None:
        """The fake's hook: note the arrival, then wait for the gate (server thread)."""
        if operation != "GetCurrentMetricData":
            return
        with self._arrived:
            self.arrivals += 1
            self._arrived.notify_all()
        self.open.wait(10)

    async def wait_for(self, arrivals: int) -> None:
        """Wait until `arrivals` requests have reached the gate."""

        def wait() -> None:
            with self._arrived:
                assert self._arrived.wait_for(lambda: self.arrivals >= arrivals, 10)

        await anyio.to_thread.run_sync(wait)


class Leases(CacheBackend):
    """A backend as it is, with the lease refusals counted (to see a caller waiting)."""

    def __init__(self, inner: CacheBackend) -> None:
        self.inner = inner
        self.refused = anyio.Event()

    async def get(self, key: str) -> Any:
        """As the inner backend."""
        return await self.inner.get(key)

    async def set(self, key: str, entry: Any, ttl: float) -> None:
        """As the inner backend."""
        await self.inner.set(key, entry, ttl)

    async def acquire_lease(self, key: str, ttl: float) -> str | None:
        """As the inner backend; a refusal is counted."""
        token = await self.inner.acquire_lease(key, ttl)
        if token is None:
            self.refused.set()
        return token

    async def release_lease(self, key: str, token: str) -> None:
        """As the inner backend."""
        await self.inner.release_lease(key, token)

    async def renew_lease(self, key: str, token: str, ttl: float) -> bool:
        """As the inner backend."""
        return await self.inner.renew_lease(key, token, ttl)


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_single_flight_interleavings(
    scenario: str, where: str, clock: ManualClock, request: pytest.FixtureRequest
) -> None:
    """Each caller gets the outcome the scenario says; nothing is left behind."""
    events, expected, across = SCENARIOS[scenario]
    if where != "same client":
        expected = {**expected, **across}
    inner: CacheBackend
    if where == "other client, redis":
        url = request.getfixturevalue("redis_url")
        inner = RedisBackend.from_url(url, namespace=f"race-{uuid.uuid4().hex}")
    else:
        inner = MemoryBackend(clock=clock)
    backend = Leases(inner)
    gate = Gate()
    outcomes: dict[str, str] = {}
    with FakeConnect(clock=clock, quotas=None, seed=7) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        fake.add_hook(gate)
        fault = None
        try:
            first = fake.metrics_client(instance_id, cache_backend=backend, retry=FAST)
            other = fake.metrics_client(instance_id, cache_backend=backend, retry=FAST)
            async with first, other:
                clients = {"A": first, "B": first if where == "same client" else other}
                clients["C"] = first
                scopes = {name: anyio.CancelScope() for name in "ABC"}
                done = {name: anyio.Event() for name in "ABC"}

                async def ask(name: str) -> None:
                    try:
                        with scopes[name]:
                            try:
                                await clients[name].get_current_metrics(METRICS, queues=queues)
                                outcomes[name] = "answer"
                            except ConnectMetricsError:
                                outcomes[name] = "error"
                        outcomes.setdefault(name, "cancelled")
                    finally:
                        done[name].set()

                tasks_before = len(asyncio.all_tasks())
                async with anyio.create_task_group() as group:
                    group.start_soon(ask, "A")
                    await gate.wait_for(1)  # A's fetch is at the service
                    group.start_soon(ask, "B")
                    with anyio.fail_after(5):
                        if where == "same client":
                            await anyio.wait_all_tasks_blocked()
                            assert first.cache_stats.coalesced == 1  # B joined A's fetch
                        else:
                            await backend.refused.wait()  # B waits on A's lease
                    for event in events:
                        if event.startswith("cancel"):
                            name = event[-1]
                            scopes[name].cancel()
                            await done[name].wait()
                        elif event == "fail":
                            # A's attempts fail; a fetch after them succeeds.
                            fault = fake.inject_fault("error", at=[1, 2])
                            gate.open.set()
                            await done["A"].wait()
                        elif event == "finish":
                            gate.open.set()
                        elif event == "ask C":
                            await done["A"].wait()
                            await done["B"].wait()
                            group.start_soon(ask, "C")
                    gate.open.set()
                await first.wait_for_refreshes()
                await other.wait_for_refreshes()
                assert len(asyncio.all_tasks()) == tasks_before  # nothing left running
                # No lease is left: another client's fetch goes ahead at once.
                with anyio.fail_after(2):
                    await other.get_current_metrics(METRICS, queues=queues, cache="refresh")
        finally:
            gate.open.set()
            if fault is not None:
                fake.remove_fault(fault)
            if isinstance(inner, RedisBackend):
                await inner.aclose()
    assert outcomes == expected


# -- limiters ----------------------------------------------------------------------------
EXACT = Adaptation(slack=0.0)


class SteppingRedis(aioredis.Redis):
    """A Redis client that tells the virtual clock while a command is in flight.

    Armed with a cancel scope, it cancels it once the command has run in Redis, before
    the reply is back: the caller is cancelled with the command's effect in place.
    """

    vt: VirtualTime
    armed: anyio.CancelScope | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run the command, counted as I/O in flight."""
        self.vt.io += 1
        try:
            reply = await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
            scope, self.armed = self.armed, None
            if scope is not None:
                scope.cancel()  # the command ran in Redis; the reply is still on its way
                await anyio.lowlevel.checkpoint()
            return reply
        finally:
            self.vt.io -= 1


MakeBucket = Callable[[VirtualTime], tuple[Bucket, "SteppingRedis | None"]]


@pytest.fixture(name="make_bucket", params=["memory", "redis"])
async def _make_bucket(request: pytest.FixtureRequest) -> AsyncIterator[MakeBucket]:
    """Makes a 5/s, burst 8 bucket of the kind under test, and its Redis client if any."""
    clients: list[SteppingRedis] = []
    namespace = f"race-{uuid.uuid4().hex}"

    def make(vt: VirtualTime) -> tuple[Bucket, SteppingRedis | None]:
        if request.param == "memory":
            bucket = TokenBucket(5.0, 8, clock=vt.clock, sleep=vt.sleep, adaptation=EXACT)
            return bucket, None
        client = cast(SteppingRedis, SteppingRedis.from_url(request.getfixturevalue("redis_url")))
        client.vt = vt
        clients.append(client)
        return redis_bucket(client, vt, namespace=namespace, adaptation=EXACT), client

    yield make
    for client in clients:
        await client.aclose()


async def _cancel_the_head(
    make_bucket: MakeBucket, cancel_at: Callable[[VirtualTime, anyio.CancelScope, Any], Any]
) -> list[tuple[str, float]]:
    """Who gets a token when, with the head of the line cancelled by `cancel_at`.

    The burst is spent at t = 0; then a head queues, and from t = 0.1 a second caller.
    """
    vt = VirtualTime()
    bucket, client = make_bucket(vt)
    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(bucket.acquire)
        await vt.drive()
    doomed = anyio.CancelScope()
    granted: list[tuple[str, float]] = []

    async def head() -> None:
        with doomed:
            await bucket.acquire()
            await anyio.lowlevel.checkpoint()  # its request would go out here
            granted.append(("head", vt.now))

    async def second() -> None:
        await vt.sleep(0.1)
        await bucket.acquire()
        granted.append(("second", vt.now))

    async with anyio.create_task_group() as group:
        group.start_soon(cancel_at, vt, doomed, client)
        group.start_soon(head)
        group.start_soon(second)
        await vt.drive()
    assert doomed.cancelled_caught
    return granted


async def test_a_head_cancelled_asleep_leaves_the_capacity(make_bucket: MakeBucket) -> None:
    """The head, cancelled asleep, leaves its token: the next caller's comes at 0.2 s."""

    async def cancel_at(vt: VirtualTime, head: anyio.CancelScope, client: Any) -> None:
        await vt.sleep(0.1)
        head.cancel()

    granted = await _cancel_the_head(make_bucket, cancel_at)
    assert [name for name, _ in granted] == ["second"]
    assert granted[0][1] == pytest.approx(0.2)


@pytest.mark.parametrize("make_bucket", ["redis"], indirect=True)
async def test_a_head_cancelled_with_its_take_in_flight_gives_the_token_back(
    make_bucket: MakeBucket,
) -> None:
    """The head, cancelled with its take in flight, gives the token back.

    Redis granted the take, the reply was not read yet: the next caller gets the token
    at 0.2 s, not 0.4 s. (An in-process take has no await to be cancelled in.)
    """

    async def cancel_at(vt: VirtualTime, head: anyio.CancelScope, client: Any) -> None:
        await vt.sleep(0.2 - 1e-6)  # just before the head's take that is granted
        client.armed = head

    granted = await _cancel_the_head(make_bucket, cancel_at)
    assert [name for name, _ in granted] == ["second"]
    assert granted[0][1] == pytest.approx(0.2)
