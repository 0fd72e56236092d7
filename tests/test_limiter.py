"""The token bucket and the rate limiter, on virtual time."""

from __future__ import annotations

import itertools

import anyio
import pytest

from aioconnectmetrics import InvalidRequestError, RateLimiter, TokenBucket

from .virtual_time import VirtualTime


def bucket(vt: VirtualTime, rate: float = 5.0, burst: int = 8, **kwargs: float) -> TokenBucket:
    return TokenBucket(rate, burst, clock=vt.clock, sleep=vt.sleep, **kwargs)


async def _acquire_all(vt: VirtualTime, tb: TokenBucket, n: int) -> list[tuple[int, float]]:
    """Start n acquirers in order; return (index, virtual time) in completion order."""
    done: list[tuple[int, float]] = []

    async def one(index: int) -> None:
        await tb.acquire()
        done.append((index, vt.now))

    async with anyio.create_task_group() as group:
        for index in range(n):
            group.start_soon(one, index)
            await anyio.lowlevel.checkpoint()  # arrive in order
        await vt.drive()
    return done


async def test_burst_then_steady_rate() -> None:
    """8 tokens at once, then one every 1/rate seconds."""
    vt = VirtualTime()
    done = await _acquire_all(vt, bucket(vt), 18)
    times = [t for _, t in done]
    assert times[:8] == [0.0] * 8
    assert times[8:] == pytest.approx([0.2 * k for k in range(1, 11)])


async def test_fifo_order() -> None:
    """Waiters are served in the order they arrived."""
    vt = VirtualTime()
    done = await _acquire_all(vt, bucket(vt, burst=1), 12)
    assert [i for i, _ in done] == list(range(12))


async def test_refills_while_idle_up_to_burst() -> None:
    """An idle bucket refills, but never beyond its burst."""
    vt = VirtualTime()
    tb = bucket(vt, rate=2.0, burst=3)
    for _ in range(3):
        assert await tb.acquire() == 0.0
    vt.now += 100.0
    waits = [await _one(vt, tb) for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, pytest.approx(0.5)]


async def _one(vt: VirtualTime, tb: TokenBucket) -> float:
    result: list[float] = []

    async def run() -> None:
        result.append(await tb.acquire())

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        await vt.drive()
    return result[0]


async def test_throttle_halves_rate_and_recovers_linearly() -> None:
    """A throttle halves the rate and empties the bucket; the rate climbs back to the quota."""
    vt = VirtualTime()
    tb = bucket(vt, rate=4.0, burst=8, recovery=10.0)
    tb.throttled()
    assert tb.rate == 2.0
    assert await _one(vt, tb) == pytest.approx(0.5)  # no burst left: at the halved rate
    for _ in range(5):
        tb.throttled()
    assert tb.rate == 0.5  # the floor: an eighth of the quota
    vt.now += 5.0
    await _one(vt, tb)
    assert tb.rate == pytest.approx(0.5 + 3.5 * 0.5)  # half way up after half the recovery
    vt.now += 60.0
    await _one(vt, tb)
    assert tb.rate == 4.0  # never above the quota
    assert tb.stats.throttles == 6


async def test_cancelled_waiter_returns_its_token() -> None:
    """A waiter cancelled before its turn gives its token back."""
    vt = VirtualTime()
    tb = bucket(vt, burst=1)
    await _one(vt, tb)  # the burst is gone
    waits: list[float] = []
    doomed = anyio.CancelScope()

    async def cancelled_waiter() -> None:
        with doomed:
            await tb.acquire()

    async def acquire() -> None:
        waits.append(await tb.acquire())

    async with anyio.create_task_group() as group:
        group.start_soon(cancelled_waiter)
        await anyio.wait_all_tasks_blocked()  # it waits for its token now
        doomed.cancel()
        await anyio.wait_all_tasks_blocked()
        group.start_soon(acquire)
        await vt.drive()
    assert doomed.cancelled_caught
    assert waits == [pytest.approx(0.2)]  # not 0.4: the cancelled token came back


def test_limiter_keys_buckets_by_identity_region_operation() -> None:
    """Each (identity, region, operation) has its own bucket, with that operation's quota."""
    limiter = RateLimiter(headroom=1.0, burst_headroom=0)
    a = limiter.bucket("alice", "us-east-1", "GetCurrentMetricData")
    assert a is limiter.bucket("alice", "us-east-1", "GetCurrentMetricData")
    assert a is not limiter.bucket("bob", "us-east-1", "GetCurrentMetricData")
    assert a is not limiter.bucket("alice", "eu-west-2", "GetCurrentMetricData")
    listing = limiter.bucket("alice", "us-east-1", "ListQueues")
    assert listing is not None
    assert a is not None
    assert (listing.max_rate, listing.burst) == (2.0, 5)
    assert (a.max_rate, a.burst) == (5.0, 8)
    assert limiter.bucket("alice", "us-east-1", "DescribeInstance") is None
    default = RateLimiter().bucket("x", "y", "GetMetricData")
    assert default is not None
    assert default.max_rate == pytest.approx(4.75)  # below the quota
    assert (default.burst, default.startup_slack) == (8, 0.05)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"headroom": 0}, "headroom"),
        ({"quotas": {"GetMetricData": (0, 8)}}, "rate"),
        ({"quotas": {"GetMetricData": (5, 0)}}, "burst"),
        ({"quotas": {"PutSomething": (5, 8)}}, "quotas"),
    ],
)
def test_limiter_configuration_is_checked(kwargs: dict[str, object], field: str) -> None:
    """Bad quotas are refused, naming the field."""
    with pytest.raises(InvalidRequestError) as info:
        RateLimiter(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


async def test_grants_never_bunch_while_the_rate_recovers() -> None:
    """Callers arriving during a recovery are granted at least 1/quota apart."""
    vt = VirtualTime()
    tb = bucket(vt, rate=4.0, burst=1, recovery=4.0)
    tb.throttled()
    granted: list[float] = []

    async def arrive(delay: float) -> None:
        await vt.sleep(delay)
        await tb.acquire()
        granted.append(vt.now)

    async with anyio.create_task_group() as group:
        for index in range(30):
            group.start_soon(arrive, 0.05 * index)
        await vt.drive()
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert len(granted) == 30
    assert min(gaps) >= 0.25 - 1e-9
    assert tb.rate == 4.0


async def test_startup_slack_delays_the_first_refill() -> None:
    """A new bucket's burst is there at once; the first refill comes `startup_slack` late."""
    vt = VirtualTime()
    done = await _acquire_all(vt, bucket(vt, burst=2, startup_slack=0.1), 4)
    assert [t for _, t in done] == [0.0, 0.0, pytest.approx(0.3), pytest.approx(0.5)]
