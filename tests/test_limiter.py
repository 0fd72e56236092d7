"""The token buckets, in process and in Redis (Lua), on virtual time: one behaviour suite."""

from __future__ import annotations

import itertools
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import anyio
import attrs
import pytest
import redis.asyncio as aioredis

from aioconnectmetrics import (
    Adaptation,
    Bucket,
    Grant,
    InvalidSettingError,
    RateLimiter,
    TokenBucket,
)
from aioconnectmetrics.redis import RedisRateLimiter
from aioconnectmetrics.testing import FakeConnect, OtherConsumer
from aioconnectmetrics.testing._quota import TokenBucket as ServiceBucket

from .virtual_time import VirtualTime, redis_bucket

#: No start-up slack, so that grant times are round numbers.
EXACT = Adaptation(slack=0.0)
OPERATION = "GetCurrentMetricData"

MakeBucket = Callable[..., Bucket]


class CountingRedis(aioredis.Redis):
    """A Redis client that tells the virtual clock while a command is in flight."""

    vt: VirtualTime

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run the command, counted as I/O in flight."""
        self.vt.io += 1
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        finally:
            self.vt.io -= 1


@pytest.fixture(name="kind", params=["memory", "redis"])
def _kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(name="make_bucket")
async def _make_bucket(kind: str, request: pytest.FixtureRequest) -> AsyncIterator[MakeBucket]:
    """Makes a bucket of the kind under test: ``make_bucket(vt, rate=, burst=, ...)``."""
    if kind == "memory":

        def in_process(
            vt: VirtualTime, rate: float = 5.0, burst: int = 8, adaptation: Adaptation = EXACT
        ) -> Bucket:
            return TokenBucket(rate, burst, clock=vt.clock, sleep=vt.sleep, adaptation=adaptation)

        yield in_process
        return
    redis_url = request.getfixturevalue("redis_url")
    clients: list[CountingRedis] = []
    namespace = f"test-{uuid.uuid4().hex}"

    def in_redis(
        vt: VirtualTime, rate: float = 5.0, burst: int = 8, adaptation: Adaptation = EXACT
    ) -> Bucket:
        client = cast(CountingRedis, CountingRedis.from_url(redis_url))
        client.vt = vt
        clients.append(client)
        return redis_bucket(
            client, vt, namespace=namespace, rate=rate, burst=burst, adaptation=adaptation
        )

    yield in_redis
    for client in clients:
        await client.aclose()


async def _acquire_all(vt: VirtualTime, bucket: Bucket, n: int) -> list[tuple[int, float]]:
    """Start n acquirers in order; return (index, virtual time) in completion order."""
    done: list[tuple[int, float]] = []

    async def one(index: int) -> None:
        await bucket.acquire()
        done.append((index, vt.now))

    async with anyio.create_task_group() as group:
        for index in range(n):
            group.start_soon(one, index)
            await anyio.wait_all_tasks_blocked()  # arrive in order
        await vt.drive()
    return done


async def _one(vt: VirtualTime, bucket: Bucket) -> float:
    """Acquire once; the seconds waited."""
    [(_, at)] = await _acquire_all(vt, bucket, 1)
    return at


async def test_burst_then_steady_rate(make_bucket: MakeBucket) -> None:
    """8 tokens at once, then one every 1/rate seconds."""
    vt = VirtualTime()
    done = await _acquire_all(vt, make_bucket(vt), 18)
    times = [t for _, t in done]
    assert times[:8] == [0.0] * 8
    assert times[8:] == pytest.approx([0.2 * k for k in range(1, 11)])


async def test_fifo_order(make_bucket: MakeBucket) -> None:
    """Waiters are served in the order they arrived."""
    vt = VirtualTime()
    done = await _acquire_all(vt, make_bucket(vt, burst=1), 12)
    assert [i for i, _ in done] == list(range(12))


async def test_refills_while_idle_up_to_burst(make_bucket: MakeBucket) -> None:
    """An idle bucket refills, but never beyond its burst."""
    vt = VirtualTime()
    bucket = make_bucket(vt, rate=2.0, burst=3)
    assert [t for _, t in await _acquire_all(vt, bucket, 3)] == [0.0] * 3
    vt.now += 100.0
    start = vt.now
    times = [t - start for _, t in await _acquire_all(vt, bucket, 4)]
    assert times == [0.0, 0.0, 0.0, pytest.approx(0.5)]


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
async def test_cancelled_waiters_leave_the_capacity(make_bucket: MakeBucket, order: str) -> None:
    """8 tokens taken, 20 waiters cancelled: the next caller waits one token, not 21."""
    vt = VirtualTime()
    bucket = make_bucket(vt)
    await _acquire_all(vt, bucket, 8)
    scopes = [anyio.CancelScope() for _ in range(20)]

    async def doomed(scope: anyio.CancelScope) -> None:
        with scope:
            await bucket.acquire()

    waited: list[float] = []
    async with anyio.create_task_group() as group:
        for scope in scopes:
            group.start_soon(doomed, scope)
            await anyio.wait_all_tasks_blocked()
        for scope in scopes if order == "oldest first" else reversed(scopes):
            scope.cancel()
            await anyio.wait_all_tasks_blocked()

        async def survivor() -> None:
            waited.append((await bucket.acquire()).waited)

        group.start_soon(survivor)
        await vt.drive()
    assert all(scope.cancelled_caught for scope in scopes)
    assert waited == [pytest.approx(0.2)]  # an idle, empty bucket's wait


async def test_one_throttle_rephases_without_a_rate(make_bucket: MakeBucket) -> None:
    """A lone 429 measures no rate; it says the service is empty, so the next grant waits."""
    vt = VirtualTime()
    bucket = make_bucket(vt)
    grant = await bucket.acquire()
    await bucket.report_throttle(grant)
    assert bucket.stats.rate == 5.0
    # The 7 tokens left are gone; the service held half a token, on average.
    assert await _one(vt, bucket) == pytest.approx(0.1)


def test_two_throttles_pin_the_rate_between_them() -> None:
    """Two 429s 2 s apart with 4 requests admitted between: (4 +/- 1) / 2, so 2/s."""
    model = EXACT.model(5.0, 8)
    model.throttled(0.0, 1, now=0.05)
    assert model.learnt == 5.0
    model.granted = 6
    model.throttled(2.0, 6, now=2.05)
    assert model.learnt == pytest.approx(2.0)
    assert model.rate_at(2.05) == pytest.approx(2.0)
    # Held, then climbing back towards the quota.
    assert model.rate_at(2.05 + model.hold) == pytest.approx(2.0)
    assert model.rate_at(2.05 + model.hold + 10 * model.climb) == pytest.approx(5.0, abs=1e-3)


def test_a_probe_that_finds_the_rate_lengthens_the_hold() -> None:
    """A probe inside a narrow interval around the held rate: the others are steady."""
    model = EXACT.model(5.0, 8)
    model.throttled(0.0, 1, now=0.0)
    model.granted = 10
    model.throttled(2.0, 10, now=2.0)  # 8 admitted in 2 s: (8 +/- 1) / 2
    assert model.learnt == pytest.approx(4.0)
    assert model.held == 1.0
    model.granted = 16
    model.throttled(3.2, 16, now=3.2)  # after the hold: (13 +/- 1) / 3.2 holds 4.0
    assert model.learnt == pytest.approx(13 / 3.2)
    assert model.held == 2.0


def test_a_probe_that_cannot_tell_keeps_the_hold() -> None:
    """An interval wider than half the rate held says nothing of steadiness.

    A caller spending in bursts, measured across two bursts and one gap, reads as far
    less than it leaves on average: holding that longer would leave the bucket idle.
    """
    model = EXACT.model(5.0, 8)
    model.throttled(0.0, 1, now=0.0)
    model.granted = 2
    model.throttled(0.6, 2, now=0.6)  # none admitted in 0.6 s: [floor, 1 / 0.6]
    learnt = model.learnt
    assert learnt == pytest.approx((0.25 + 1 / 0.6) / 2)
    model.granted = 4
    model.throttled(2.0, 4, now=2.0)  # one admitted in 2 s: [floor, 1.0] holds it
    assert 0.25 <= learnt <= 1.0
    assert model.learnt == pytest.approx(0.625)
    assert model.held == model.hold


async def test_a_wide_probe_through_a_bucket(make_bucket: MakeBucket) -> None:
    """A wide probe through a bucket (the Redis one too) keeps the hold, as the pure model.

    Throttles at 0 s and 0.6 s with one grant admitted between: [0.25, 3.33], 1.79/s held
    till 1.6 s. A probe at 2.0 s, three admitted since 0 s: [1.0, 2.0] holds 1.79 but is
    wider than half of it, so the hold stays 1 s: three grants are there at 3.5 s (at
    1.5/s held till 3.0 s, then climbing), where a doubled hold would leave two.
    """
    vt = VirtualTime()
    bucket = make_bucket(vt)
    model = EXACT.model(5.0, 8)
    steps = ((0.0, True), (0.3, False), (0.6, True), (0.95, False), (1.5, False), (2.0, True))
    for at, throttled in steps:
        vt.now = at
        grant = await bucket.acquire()
        assert grant.at == at
        assert isinstance(model.take(at), Grant)
        if throttled:
            await bucket.report_throttle(grant)
            model.throttled(at, grant.seq, now=at)
    assert model.learnt == pytest.approx(1.5)
    assert model.held == model.hold
    vt.now = 3.5
    done = await _acquire_all(vt, bucket, 4)
    modelled = 0
    while isinstance(model.take(3.5), Grant):
        modelled += 1
    assert sum(at == 3.5 for _, at in done) == modelled == 3


def test_throttles_close_together_measure_nothing_yet() -> None:
    """A burst of another caller's looks like no rate at all: spans under 0.5 s are ignored."""
    model = EXACT.model(5.0, 8)
    for seq, at in enumerate((0.0, 0.1, 0.2, 0.3), start=1):
        model.granted = seq
        model.throttled(at, seq, now=at + 0.05)
    assert model.learnt == 5.0


def test_throttles_that_disagree_drop_out_of_the_window() -> None:
    """Throttles older than the window (plus the hold) no longer count."""
    model = EXACT.model(5.0, 8)
    model.throttled(0.0, 1, now=0.0)
    model.granted = 100
    model.throttled(30.0, 100, now=30.0)
    assert model.points == [(30.0, 100)]
    assert model.learnt == 5.0


def test_a_throttle_rephases_the_level() -> None:
    """The level follows the newest throttled grant; an older report, late, leaves it."""
    model = EXACT.model(5.0, 8)
    model.granted = 20
    model.throttled(1.2, 11, now=1.3)
    # A lone throttle: half a token at 1.2, refilled 0.1 s at 5/s since, 9 later grants.
    assert model.tokens == pytest.approx(0.5 + 0.5 - 9)
    model.throttled(1.0, 10, now=1.3)
    assert model.tokens == pytest.approx(0.5 + 0.5 - 9)


def test_throttles_in_a_row_mean_an_empty_service() -> None:
    """Two grants in a row throttled: the service held nothing (another caller drains it)."""
    model = EXACT.model(5.0, 8)
    model.granted = 20
    model.throttled(1.0, 10, now=1.3)
    model.throttled(1.2, 11, now=1.3)
    assert model.tokens == pytest.approx(0.0 + 0.5 - 9)


async def _contend(
    vt: VirtualTime,
    bucket: Bucket,
    others: list[OtherConsumer],
    *,
    until: float,
    latency: float = 0.05,
    callers: int = 40,
) -> tuple[list[float], int]:
    """Callers keep asking through `bucket` of a service shared with `others`.

    The service is the fake's own bucket (5/s, burst 8) on the virtual clock; a request
    reaches it 2 ms after its grant and its answer comes back `latency` after the grant;
    a 429 is reported to the bucket and retried at the next grant. Returns the times our
    requests were admitted, and the 429s we got.
    """
    service = ServiceBucket(5.0, 8, 8.0, 0.0)
    for other in others:
        other.begin(0.0)
        service.others.append(other)
    admitted: list[float] = []
    throttles = 0

    async def caller() -> None:
        nonlocal throttles
        while True:
            grant = await bucket.acquire()
            await vt.sleep(0.002)
            ok = service.take(vt.now)
            if ok:
                admitted.append(vt.now)
            await vt.sleep(latency - 0.002)
            if not ok:
                throttles += 1
                await bucket.report_throttle(grant)

    async def stop() -> None:
        await vt.sleep(until)
        group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        group.start_soon(stop)
        for _ in range(callers):
            group.start_soon(caller)
        await vt.drive()
    return admitted, throttles


def _rate(admitted: list[float], start: float, end: float) -> float:
    return sum(start <= t < end for t in admitted) / (end - start)


@pytest.mark.parametrize(
    ("other_rate", "burst", "tolerance", "throttles_per_second"),
    [
        (1.0, 1, 0.08, 0.75),
        (2.5, 1, 0.08, 0.75),
        (4.0, 1, 0.08, 0.75),
        # 5 at once every 2 s: each burst drains the service's bucket (about two 429s
        # each), and a throttle then measures less than is left on average; the best any
        # client can do here is 2.5/s.
        (2.5, 5, 0.12, 1.0),
    ],
)
async def test_settles_on_the_rate_left(
    make_bucket: MakeBucket,
    other_rate: float,
    burst: int,
    tolerance: float,
    throttles_per_second: float,
) -> None:
    """Another caller spends part of the quota: within about a second we use the rest."""
    vt = VirtualTime()
    other = OtherConsumer(other_rate, burst)
    admitted, throttles = await _contend(vt, make_bucket(vt), [other], until=20.0)
    left = 5.0 - other_rate
    # The other caller got all it asked for, less what our first burst of 8 took before
    # it began: we did not crowd it out.
    assert other.admitted >= math.floor(20.0 * other_rate) - burst - 8
    # From 1.5 s on, we were admitted at the rate left, give or take a token per window.
    assert _rate(admitted, 1.5, 19.5) == pytest.approx(left, rel=tolerance)
    # A 429 costs little time here, but each is a request refused.
    assert throttles <= 3 + 20.0 * throttles_per_second


async def test_climbs_back_when_the_others_stop(make_bucket: MakeBucket) -> None:
    """The other caller stops at 10 s: the full quota is ours again within a few seconds."""
    vt = VirtualTime()
    other = OtherConsumer(2.5, stop=10.0)
    admitted, _ = await _contend(vt, make_bucket(vt), [other], until=20.0)
    assert _rate(admitted, 2.0, 10.0) == pytest.approx(2.5, rel=0.08)
    back = next(t for t in admitted if t > 10.0 and _rate(admitted, t, t + 2.0) >= 4.5)
    assert back - 10.0 < Adaptation().max_hold + 2.0
    assert _rate(admitted, 16.0, 20.0) == pytest.approx(5.0, rel=0.05)


async def test_owning_the_quota_draws_no_429(make_bucket: MakeBucket) -> None:
    """With nobody else on the account, the bucket runs at the quota and is never throttled."""
    vt = VirtualTime()
    admitted, throttles = await _contend(vt, make_bucket(vt), [], until=10.0)
    assert throttles == 0
    assert len(admitted) >= 8 + 5 * 9.9 - 1


async def test_grants_never_bunch_while_the_rate_climbs(make_bucket: MakeBucket) -> None:
    """Callers arriving while the rate climbs back are granted at most at the quota's pace."""
    vt = VirtualTime()
    bucket = make_bucket(vt, rate=4.0, burst=1)
    first = await bucket.acquire()
    await bucket.report_throttle(first)
    vt.now = 1.0
    second = await bucket.acquire()
    await bucket.report_throttle(second)  # two throttles 1 s apart: a measured low rate
    assert bucket.stats.rate < 2.0
    granted: list[float] = []

    async def arrive(delay: float) -> None:
        await vt.sleep(delay)
        await bucket.acquire()
        granted.append(vt.now)

    async with anyio.create_task_group() as group:
        for index in range(30):
            group.start_soon(arrive, 0.05 * index)
        await vt.drive()
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert len(granted) == 30
    assert min(gaps) >= 0.25 - 1e-6
    assert bucket.stats.rate == pytest.approx(4.0, rel=0.01)


async def test_startup_slack_delays_the_first_refill(make_bucket: MakeBucket) -> None:
    """A new bucket's burst is there at once; the first refill comes `slack` late."""
    vt = VirtualTime()
    bucket = make_bucket(vt, burst=2, adaptation=Adaptation(slack=0.1))
    done = await _acquire_all(vt, bucket, 4)
    assert [t for _, t in done] == [0.0, 0.0, pytest.approx(0.3), pytest.approx(0.5)]


async def test_departures_move_the_first_refill(make_bucket: MakeBucket) -> None:
    """The service's bucket refills from our first request's arrival, not its grant.

    Both grants of a burst of 2 leave late (a new connection's set-up): the earliest
    departure, 0.3 s after the grant, is where the refill starts, so the third grant
    comes at 0.3 + 1/5 s, not at 1/5 s; the fourth 1/5 s later.
    """
    vt = VirtualTime()
    bucket = make_bucket(vt, burst=2)
    first, second = await bucket.acquire(), await bucket.acquire()
    bucket.departed(second, 0.35)
    bucket.departed(first, 0.3)
    bucket.departed(first, 0.5)  # later than the earliest: says nothing new
    done = await _acquire_all(vt, bucket, 2)
    assert [t for _, t in done] == [pytest.approx(0.5), pytest.approx(0.7)]


def test_a_departure_after_the_start_stopped_mattering_changes_nothing() -> None:
    """After a throttle, or for a grant of an earlier start, a departure says nothing.

    A throttle re-phases the model; a grant made before the bucket was full again
    belongs to a start before the present one.
    """
    throttled = EXACT.model(5.0, 2)
    grant = throttled.take(0.0)
    assert not isinstance(grant, float)
    throttled.throttled(grant.at, grant.seq, now=0.0)
    twin = attrs.evolve(throttled, points=list(throttled.points))
    throttled.departed(grant.at, 0.4, now=0.1)
    assert throttled.reached is None
    assert throttled.take(0.3) == twin.take(0.3)  # the same level, the same grant

    full = EXACT.model(5.0, 2)
    full.take(0.0)
    assert not isinstance(full.take(10.0), float)  # refilled to the burst: a new start
    assert (full.since, full.base_granted) == (10.0, 1)
    full.departed(0.0, 0.4, now=10.0)  # the first start's grant
    assert full.reached is None
    assert full.tokens == pytest.approx(1.0)


async def test_a_burst_after_a_pause_starts_anew_from_its_departure(
    make_bucket: MakeBucket,
) -> None:
    """Full again after a pause, the service's bucket refills from the next burst's arrival.

    A burst of 2 at 0 s; at 10 s (full again) a burst of 2 whose first request leaves
    0.3 s late (its connection was slow): the third grant comes at 10.3 + 1/5 s, not at
    10.2 s, where it would reach the service before its token.
    """
    vt = VirtualTime()
    bucket = make_bucket(vt, burst=2)
    await bucket.acquire()
    await bucket.acquire()
    vt.now = 10.0
    first, second = await bucket.acquire(), await bucket.acquire()
    bucket.departed(second, 0.35)
    bucket.departed(first, 0.3)
    done = await _acquire_all(vt, bucket, 2)
    assert [t for _, t in done] == [pytest.approx(10.5), pytest.approx(10.7)]


def test_a_full_bucket_others_draw_on_keeps_its_start() -> None:
    """While the model believes others draw on the quota, full is no new start.

    The service's bucket need not be full then; once the rate is back, it is.
    """
    model = EXACT.model(5.0, 2)
    for t in (0.0, 0.0, 0.2, 0.4):
        model.take(t)
    model.throttled(0.0, 1, now=0.0)
    model.throttled(1.0, 4, now=1.0)  # 2 admitted in 1 s: a measured low rate
    assert model.rate_at(2.0) < 5.0 * 0.99
    model.take(2.0)  # full again by now, the rate still climbing back
    assert model.capped
    assert model.since == -math.inf
    model.take(10.0)  # the rate back at the quota's, full: a new start
    assert model.since == 10.0
    assert not model.capped


def test_a_returned_grant_is_not_counted_as_sent() -> None:
    """The level after a departure counts what was sent: a given-back grant was not."""
    model = EXACT.model(5.0, 4)
    for _ in range(3):
        model.take(0.0)
    model.give_back(0.0)
    model.departed(0.0, 0.2, now=0.1)  # refill starts at 0.2: burst 4, 2 sent
    assert model.tokens == pytest.approx(2.0)
    assert model.updated == pytest.approx(0.2)
    model.departed(0.0, 0.05, now=0.1)  # an earlier one: 0.05 s of refill by 0.1
    assert model.tokens == pytest.approx(2.25)


async def test_a_first_throttle_measures_from_the_start(make_bucket: MakeBucket) -> None:
    """A first throttle, measured from the start, bounds the rate left from below.

    The bucket started full where our first request reached it (0.1 s here): a throttle
    at 1.1 s, after 12 grants admitted, says the rate left is at least (12 - 8) / 1 s.
    """
    vt = VirtualTime()
    bucket = make_bucket(vt)
    burst = [await bucket.acquire() for _ in range(8)]
    bucket.departed(burst[0], 0.1)
    granted: list[Any] = []

    async def take() -> None:
        granted.append(await bucket.acquire())

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(take)
            await anyio.wait_all_tasks_blocked()
        await vt.drive()
    last = granted[-1]
    assert (last.seq, last.at) == (13, pytest.approx(1.1))
    await bucket.report_throttle(last)
    assert bucket.stats.rate == pytest.approx(4.0)
    # Without a departure the start is the first take (plus slack): 12 - 8 over 1.1 s.
    model = EXACT.model(5.0, 8)
    for t in [0.0] * 8 + [0.2, 0.4, 0.6, 0.8, 1.0]:
        model.take(t)
    assert model.throttled(1.1, 13, now=1.1) == pytest.approx(4 / 1.1)


async def test_departures_include_the_connection_set_up() -> None:
    """The limiter's start is the earliest departure, after the connection's set-up.

    Against the fake over HTTPS, each new connection's handshake answered 0.25 s late:
    the limiter's idea of where the service's refill started is the earliest departure,
    after the handshake, and no later than the moment the fake saw a request arrive.

    12 batches: the burst of 8 on new connections, then 4 more, so the bucket is not
    full again before the departures are told (then the start would not matter).
    """
    limiter = RateLimiter()
    arrivals: list[float] = []
    with FakeConnect(tls=True, connection_setup=0.25) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 1200)
        fake.add_hook(
            lambda operation, _: (
                arrivals.append(time.monotonic()) if operation == OPERATION else None
            )
        )
        async with fake.metrics_client(instance_id, limiter=limiter) as cm:
            started = anyio.current_time()
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        [key] = [k for k in limiter.stats if k[2] == OPERATION]
    bucket = limiter.bucket(*key)
    assert bucket is not None
    assert bucket.model.reached is not None
    departure = bucket.model.reached - bucket.adaptation.slack
    assert len(arrivals) >= 12  # a retried 429 arrives twice
    assert fake.connections_set_up >= 8
    assert departure - started >= 0.25 * 0.9  # the handshake came first
    # The fake reads its clock in its own threads, whose turns a loaded machine delays
    # (the first arrival seen 0.1-0.2 s after its departure with a busy CPU, and once
    # 6 ms before the departure told): 20 ms of scheduling allowed after the arrival.
    # Before it, the handshake bound above is the one that matters.
    assert departure <= min(arrivals) + 0.02


async def test_replicas_share_what_they_learn(redis_url: str) -> None:
    """Two processes' limiters on one Redis: a rate measured by one slows the other."""
    vt = VirtualTime()
    namespace = f"test-{uuid.uuid4().hex}"
    clients = []
    buckets = []
    for _ in range(2):
        client = cast(CountingRedis, CountingRedis.from_url(redis_url))
        client.vt = vt
        clients.append(client)
        limiter = RedisRateLimiter(
            client, namespace=namespace, adaptation=EXACT, clock=vt.clock, sleep=vt.sleep
        )
        bucket = limiter.bucket("identity", "us-east-1", OPERATION)
        assert bucket is not None
        buckets.append(bucket)
    one, other = buckets
    first = await one.acquire()
    await one.report_throttle(first)
    vt.now = 2.0
    second = await one.acquire()
    assert second.seq == 2
    await one.report_throttle(second)  # nothing admitted in 2 s: (0 +/- 1) / 2 s
    assert other.stats.rate == 5.0  # it has not asked yet
    # The other replica waits as the pure model says the one that learnt would.
    model = EXACT.model(5.0, 8)
    model.take(0.0)
    model.throttled(0.0, 1, now=0.0)
    model.take(2.0)
    model.throttled(2.0, 2, now=2.0)
    expected = next(
        t / 1000 for t in range(2000, 10000) if not isinstance(model.take(t / 1000), float)
    )
    assert expected > 2.0 + model.hold  # held at the measured rate, then climbing
    assert await _one(vt, other) == pytest.approx(expected, abs=0.002)
    assert other.stats.rate < 5.0
    for client in clients:
        await client.aclose()


def test_limiter_keys_buckets_by_identity_region_operation() -> None:
    """Each (identity, region, operation) has its own bucket, with that operation's quota."""
    limiter = RateLimiter(burst_headroom=0)
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
    assert default.max_rate == 5.0  # the quota itself: the bucket finds the edge
    assert (default.burst, default.adaptation.slack) == (8, 0.03)
    reserved = RateLimiter(headroom=0.8).bucket("x", "y", "GetMetricData")
    assert reserved is not None
    assert reserved.max_rate == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"headroom": 0}, "headroom"),
        ({"headroom": math.nan}, "headroom"),
        ({"quotas": {"GetMetricData": (0, 8)}}, "quotas['GetMetricData'].rate"),
        ({"quotas": {"GetMetricData": (5, 0)}}, "quotas['GetMetricData'].burst"),
        ({"quotas": {"PutSomething": (5, 8)}}, "quotas"),
    ],
)
def test_limiter_configuration_is_checked(kwargs: dict[str, object], field: str) -> None:
    """Bad quotas are refused, naming the field."""
    with pytest.raises(InvalidSettingError) as info:
        RateLimiter(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hold": -1.0}, "hold"),
        ({"climb": 0.0}, "climb"),
        ({"window": math.inf}, "window"),
        ({"slack": math.nan}, "slack"),
        ({"max_hold": -0.5}, "max_hold"),
        ({"hold": True}, "hold"),
    ],
)
def test_adaptation_settings_are_checked(kwargs: dict[str, float], field: str) -> None:
    """Bad adaptation settings are refused, naming the field."""
    with pytest.raises(InvalidSettingError) as info:
        Adaptation(**kwargs)
    assert info.value.field == field
