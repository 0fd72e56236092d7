"""Following a question (`ConnectMetrics.follow`): one loop, newest answers, clean exits.

Against the fake over HTTP on a manual clock: the fake's snapshot moves every 15 s of
that clock, and the client's loops sleep on it (`ManualClock.sleep`), so each test
moves time itself and nothing waits for real seconds.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import anyio.streams.text
import pytest

from aioconnectmetrics import (
    ConnectMetrics,
    InvalidRequestError,
    MetricsResult,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceError,
    Update,
)
from aioconnectmetrics._follow import (
    CurrentSchedule,
    HistoricalSchedule,
    backoff,
    check_last,
    check_last_v2,
    longest_window,
)
from aioconnectmetrics.redis import RedisBackend
from aioconnectmetrics.sse import update_json
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW, unlimited
from .test_quota import open_connections

FAST = RetryPolicy(attempts=1, base_delay=0.01, max_delay=0.02)
METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"]
OPERATION = "GetCurrentMetricData"
ROOT = Path(__file__).parent.parent


def metric_requests(fake: FakeConnect) -> int:
    return sum(n for (op, _), n in fake.counts().items() if op == OPERATION)


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (real time, briefly) for what the loops do after the clock moved."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - a condition on state, not an event
            await anyio.sleep(0.002)


def each_has(got: list[list[Update[MetricsResult]]], n: int) -> bool:
    """Whether every follower has received `n` updates."""
    return all(len(mine) == n for mine in got)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


# -- when to poll: pure ------------------------------------------------------------------
def test_a_snapshot_is_followed_after_max_age_or_the_learnt_cadence() -> None:
    floor = [-1e9]
    schedule = CurrentSchedule(max_age=15.0, floor=lambda: floor[0])

    class Result:
        snapshot_time = at(NOW)

    result: object = Result()
    assert schedule.next_poll(result, True, NOW + 0.2) == NOW + 15  # type: ignore[arg-type]
    # Nothing newer yet: ask again a step later, not at once.
    assert schedule.next_poll(result, False, NOW + 15) == NOW + 16  # type: ignore[arg-type]
    floor[0] = 29.5  # fetches showed the service keeps a snapshot at least 29.5 s
    assert schedule.next_poll(result, True, NOW + 0.2) == NOW + 29.5  # type: ignore[arg-type]


def test_a_historical_window_ends_at_the_last_published_boundary() -> None:
    schedule = HistoricalSchedule(last=3600.0, publish_lag=30.0)
    assert schedule.window(NOW + 29) == (at(NOW - 300 - 3600), at(NOW - 300))
    assert schedule.window(NOW + 30) == (at(NOW - 3600), at(NOW))

    class Result:
        end_time = at(NOW)

    result: object = Result()
    # The next interval (NOW .. NOW+300) is published at NOW + 300 + 30.
    assert schedule.next_poll(result, True, NOW + 31) == NOW + 330  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "last", [timedelta(minutes=7), timedelta(0), timedelta(hours=24), 3600, "1h", None]
)
def test_a_window_that_cannot_follow_is_refused_by_name(last: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_last(last, 30.0)
    assert caught.value.field == "last"
    assert "23:50:00" in caught.value.allowed


def test_the_longest_window_starts_within_the_service_s_24_hours() -> None:
    assert longest_window(30.0) == 23 * 3600 + 50 * 60
    assert check_last(timedelta(hours=23, minutes=50), 30.0) == 85800.0
    assert [backoff(n) for n in (1, 2, 3, 6, 9)] == [1.0, 2.0, 4.0, 30.0, 30.0]


# -- one loop for many followers ---------------------------------------------------------
async def test_a_thousand_followers_over_three_snapshots_make_three_fan_outs(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 250)  # three batches
    got: list[list[Update[MetricsResult]]] = [[] for _ in range(1000)]
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:

        async def follower(mine: list[Update[MetricsResult]]) -> None:
            async with cm.follow(METRICS, queues=queues) as updates:
                async for update in updates:
                    mine.append(update)
                    if len(mine) == 3:
                        return

        async with anyio.create_task_group() as group:
            for mine in got:
                group.start_soon(follower, mine)
            for n in (1, 2):
                await until(functools.partial(each_has, got, n))
                assert cm._hub.loops == 1  # one loop for the thousand
                clock.advance(15)
        assert cm._hub.loops == 0  # the loop ended with its last follower
    assert metric_requests(fake) == 3 * 3
    first = got[0]
    assert [u.number for u in first] == [1, 2, 3]
    assert [u.result.snapshot_time for u in first] == [at(NOW), at(NOW + 15), at(NOW + 30)]
    # Every follower received the very same answers, none missed, none twice.
    assert all([u.result for u in mine] == [u.result for u in first] for mine in got)
    assert all(u.missed == 0 and not u.stale for mine in got for u in mine)


async def test_a_late_follower_gets_the_newest_answer_at_once(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow(METRICS, queues=queues) as early,
    ):
        first = await anext(early)
        clock.advance(15)
        second = await anext(early)
        # A follower arriving now (a browser reconnecting) has it with no request.
        before = metric_requests(fake)
        async with cm.follow(METRICS, queues=queues) as late:
            newest = await anext(late)
        assert metric_requests(fake) == before
    assert (first.number, second.number, newest.number) == (1, 2, 2)
    assert newest.result is second.result
    assert newest.missed == 0  # its first update: nothing before it was missed


async def test_a_sleeping_follower_gets_the_newest_with_what_it_missed(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow(METRICS, queues=queues) as pace,
        cm.follow(METRICS, queues=queues) as sleeper,
    ):
        assert (await anext(sleeper)).number == 1
        assert (await anext(pace)).number == 1
        for _ in range(3):  # three snapshots while the sleeper does not ask
            clock.advance(15)
            await anext(pace)
        woke = await anext(sleeper)
    assert woke.number == 4
    assert woke.missed == 2  # updates 2 and 3 went by; no backlog of them
    assert woke.result.snapshot_time == at(NOW + 45)


async def test_followers_cancelled_at_random_leave_nothing_running(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 150)
    draw = random.Random(11)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        tasks_before = len(asyncio.all_tasks())
        received = [0] * 100

        async def follower(i: int) -> None:
            async for _ in cm.follow(METRICS, queues=queues):
                received[i] += 1

        async with anyio.create_task_group() as group:
            scopes = []
            for i in range(100):
                scope = anyio.CancelScope()
                scopes.append(scope)

                async def run(i: int = i, scope: anyio.CancelScope = scope) -> None:
                    with scope:
                        await follower(i)

                group.start_soon(run)
            draw.shuffle(scopes)
            for n, scope in enumerate(scopes):
                if n == 30:  # some leave before the first answer, some after it
                    await until(lambda: sum(received) >= 70)
                if n == 60:
                    clock.advance(15)  # a poll in flight while others leave
                scope.cancel()
                await anyio.sleep(draw.random() * 0.002)
        await until(lambda: cm._hub.loops == 0)
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_connections(cm) == 0
        requests = metric_requests(fake)
        clock.advance(60)  # four snapshots later, nobody follows: nothing is asked
        await anyio.sleep(0.1)
        assert metric_requests(fake) == requests


async def test_break_releases_the_loop(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        async for update in cm.follow(METRICS, queues=queues):
            assert update.number == 1
            break
        gc.collect()
        await until(lambda: cm._hub.loops == 0)
        clock.advance(30)
        await anyio.sleep(0.05)
    assert metric_requests(fake) == 1


async def test_closing_the_client_ends_its_followers(fake: FakeConnect, instance_id: str) -> None:
    queues = fake.add_queues(instance_id, 20)
    cm = fake.metrics_client(instance_id, limiter=unlimited())
    seen: list[int] = []

    async def follow() -> None:
        async for update in cm.follow(METRICS, queues=queues):
            seen.append(update.number)  # noqa: PERF401 - seen as each comes, not at the end

    async with anyio.create_task_group() as group:
        await cm.__aenter__()
        group.start_soon(follow)
        await until(lambda: seen == [1])
        await cm.__aexit__(None, None, None)
    assert seen == [1]  # the follower's loop ended: StopAsyncIteration, no error


# -- faults and bad input -------------------------------------------------------------------
async def test_a_failed_poll_keeps_the_last_answer_and_says_so(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited(), retry=FAST) as cm,
        cm.follow(METRICS, queues=queues) as updates,
    ):
        first = await anext(updates)
        rule = fake.inject_fault("error", operation=OPERATION)
        clock.advance(15)
        failed = await anext(updates)
        assert failed.stale
        assert isinstance(failed.error, ServiceError)
        assert failed.result is first.result  # the last answer, kept
        assert failed.failed_at == at(NOW + 15)
        assert failed.age(at(NOW + 15)) == timedelta(seconds=15)
        fake.remove_fault(rule)
        clock.advance(1)  # the first retry comes a second after the failure
        recovered = await anext(updates)
    assert (first.number, failed.number, recovered.number) == (1, 2, 3)
    assert not recovered.stale
    assert recovered.result.snapshot_time == at(NOW + 15)


async def test_a_first_poll_that_fails_raises_to_its_followers(
    fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with fake.metrics_client(limiter=unlimited(), retry=FAST) as cm:
        follower = cm.follow(METRICS, queues=queues, instance_id=str(uuid.uuid4()))
        with pytest.raises(ResourceNotFoundError):
            await anext(follower)
        assert follower.closed
        with pytest.raises(StopAsyncIteration):
            await anext(follower)
        assert cm._hub.loops == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metrics": ["NOT_A_METRIC"], "queues": ["q"]}, "metrics[0]"),
        ({"metrics": METRICS, "queues": ["q"], "alerts": ["OLDEST_CONTACT_AGE=>1"]}, "alerts"),
        ({"metrics": METRICS, "queues": ["q"], "alerts": ["AGENTS_ONLINE>1"]}, "alerts"),
        ({"metrics": METRICS, "queues": ["q"], "alerts": "OLDEST_CONTACT_AGE>1"}, "alerts"),
        ({"metrics": METRICS, "queues": ["q"], "names": "yes"}, "names"),
        ({"metrics": METRICS, "queues": ["q"], "max_spread": -1}, "max_spread"),
    ],
)
async def test_bad_input_is_refused_before_any_request(
    fake: FakeConnect, instance_id: str, kwargs: dict[str, object], field: str
) -> None:
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(InvalidRequestError) as caught:
            cm.follow(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
        assert cm._hub.loops == 0
    assert metric_requests(fake) == 0


async def test_historical_bad_input_is_refused_by_name(
    fake: FakeConnect, instance_id: str
) -> None:
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(InvalidRequestError) as caught:
            cm.follow_historical(["CONTACTS_HANDLED"], last=timedelta(minutes=3), queues=["q"])
        assert caught.value.field == "last"
        with pytest.raises(InvalidRequestError) as caught:
            cm.follow_historical(["NOPE"], last=timedelta(hours=1), queues=["q"])
        assert caught.value.field == "metrics[0]"
    assert len(fake.requests) == 0


def test_follow_needs_an_open_client() -> None:
    cm = ConnectMetrics("00000000-0000-0000-0000-000000000000", region_name="us-east-1")
    with pytest.raises(Exception, match="not open"):
        cm.follow(METRICS, queues=["q"])


# -- alerts ----------------------------------------------------------------------------------
async def test_alerts_tell_each_crossing_once_per_queue(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 3)
    for queue in queues:
        fake.set_waiting(instance_id, queue, "VOICE", in_queue=1, oldest_age=10)
    fake.set_waiting(instance_id, queues[0], "VOICE", in_queue=2, oldest_age=200)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow(
            METRICS, queues=queues, groupings=["QUEUE"], alerts=["OLDEST_CONTACT_AGE>120"]
        ) as updates,
    ):
        first = await anext(updates)
        fake.set_waiting(instance_id, queues[1], "VOICE", in_queue=2, oldest_age=130)
        clock.advance(15)
        second = await anext(updates)  # queue 1 enters, queue 0 stays over: one event
        fake.set_waiting(instance_id, queues[0], "VOICE", in_queue=0, oldest_age=0)
        clock.advance(15)
        third = await anext(updates)
        clock.advance(15)
        fourth = await anext(updates)  # nothing crossed
    summary = [
        [(e.state, e.queue_id, e.value) for e in u.events] for u in (first, second, third, fourth)
    ]
    assert summary == [
        [("entered", queues[0], 200.0)],
        [("entered", queues[1], 130.0)],
        [("cleared", queues[0], 0.0)],
        [],
    ]
    assert first.events[0].to_dict() == {
        "alert": "OLDEST_CONTACT_AGE>120",
        "state": "entered",
        "queue_id": queues[0],
        "value": 200.0,
    }


# -- historical -------------------------------------------------------------------------------
async def test_historical_follows_each_published_interval(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow_historical(
            ["CONTACTS_HANDLED"], last=timedelta(hours=1), queues=queues
        ) as updates,
    ):
        first = await anext(updates)
        clock.advance(29)  # the interval closing at NOW is not published yet
        await anyio.sleep(0.05)
        requests = len(fake.requests)
        clock.advance(1)
        second = await anext(updates)
    assert (first.result.start_time, first.result.end_time) == (at(NOW - 3900), at(NOW - 300))
    assert (second.result.start_time, second.result.end_time) == (at(NOW - 3600), at(NOW))
    assert requests == 1  # no poll before the next interval could be published


# -- several processes on one Redis ------------------------------------------------------------
async def test_three_processes_on_one_redis_make_one_fan_out_per_snapshot(
    fake: FakeConnect, instance_id: str, clock: ManualClock, redis_url: str
) -> None:
    queues = fake.add_queues(instance_id, 250)  # three batches
    namespace = f"follow-{uuid.uuid4().hex[:8]}"
    backends = [RedisBackend.from_url(redis_url, namespace=namespace) for _ in range(3)]
    got: list[list[Update[MetricsResult]]] = [[] for _ in range(9)]
    try:
        clients = [
            fake.metrics_client(instance_id, limiter=unlimited(), cache_backend=b)
            for b in backends
        ]
        async with clients[0] as one, clients[1] as two, clients[2] as three:

            async def follower(cm: ConnectMetrics, mine: list[Update[MetricsResult]]) -> None:
                async for update in cm.follow(METRICS, queues=queues):
                    mine.append(update)
                    if len(mine) == 3:
                        return

            async with anyio.create_task_group() as group:
                for i, mine in enumerate(got):  # three followers in each "process"
                    group.start_soon(follower, (one, two, three)[i % 3], mine)
                for n in (1, 2):
                    await until(functools.partial(each_has, got, n))
                    clock.advance(15)
    finally:
        for backend in backends:
            await backend.aclose()
    assert metric_requests(fake) == 3 * 3  # one fan-out of three batches per snapshot
    snapshots = {tuple(u.result.snapshot_time for u in mine) for mine in got}
    assert snapshots == {(at(NOW), at(NOW + 15), at(NOW + 30))}


# -- GetMetricDataV2 ------------------------------------------------------------------------------
async def test_v2_follows_each_published_interval(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 20)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow_v2(
            ["CONTACTS_HANDLED"], last=timedelta(hours=1), interval="FIFTEEN_MIN", queues=queues
        ) as updates,
    ):
        first = await anext(updates)
        clock.advance(30)  # the interval closing at NOW is published
        second = await anext(updates)
    assert (first.result.start_time, first.result.end_time) == (at(NOW - 3900), at(NOW - 300))
    assert (second.result.start_time, second.result.end_time) == (at(NOW - 3600), at(NOW))
    assert second.number == 2
    assert second.age() is None  # a range, not a snapshot
    document = update_json(second)
    assert document["interval"] == "FIFTEEN_MIN"
    assert document["end_time"] == "2027-01-15T08:00:00+00:00"
    assert len(document["rows"]) == len(second.result.rows)
    json.dumps(document, allow_nan=False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"last": timedelta(days=35), "interval": "TOTAL"}, "last"),
        ({"last": timedelta(days=90), "interval": "HOUR"}, "last"),
        ({"last": timedelta(hours=1), "interval": "MINUTE"}, "interval"),
        ({"last": timedelta(hours=1), "interval": ["HOUR"]}, "interval"),
        ({"last": timedelta(hours=1), "time_zone": "Mars/Olympus Mons"}, "time_zone"),
    ],
)
async def test_v2_bad_input_is_refused_by_name(
    fake: FakeConnect, instance_id: str, kwargs: dict[str, object], field: str
) -> None:
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(InvalidRequestError) as caught:
            cm.follow_v2(["CONTACTS_HANDLED"], queues=["q"], **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
    assert len(fake.requests) == 0


def test_the_longest_v2_windows() -> None:
    assert check_last_v2(timedelta(days=35) - timedelta(minutes=5), "TOTAL", 30.0) == (
        35 * 86400 - 300
    )
    assert check_last_v2(timedelta(days=88), "HOUR", 30.0) == 88 * 86400


async def test_three_real_processes_on_one_redis_make_one_fan_out_per_snapshot(
    redis_url: str,
) -> None:
    """As above, with three processes (`tests/follow_process.py`) on the real clock.

    The fake's snapshot moves every 2 s; each process follows with three followers
    until four snapshots. Once every follower has its first answer, each snapshot
    costs one fan-out (two batches) for the three processes together.
    """
    with FakeConnect(quotas=None, snapshot_interval=2.0, seed=3) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 120)  # two batches
        namespace = f"processes-{uuid.uuid4().hex[:8]}"
        command = [
            sys.executable, "-m", "tests.follow_process", fake.endpoint_url, instance_id,
            redis_url, namespace, "4", *queues,
        ]  # fmt: skip
        outputs: list[list[str]] = [[], [], []]
        ready: list[float] = []

        async def run(lines: list[str]) -> None:
            async with await anyio.open_process(command, cwd=ROOT) as process:
                assert process.stdout is not None
                async for chunk in anyio.streams.text.TextReceiveStream(process.stdout):
                    lines.extend(chunk.splitlines())
                    if "ready" in lines and len(ready) < sum("ready" in o for o in outputs):
                        ready.append(time.time())
                assert await process.wait() == 0

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for lines in outputs:
                    group.start_soon(run, lines)
        requests = [r for r in fake.requests if r.operation == OPERATION]
    results = [json.loads(lines[-1]) for lines in outputs]
    after = max(ready)  # every follower of every process has had its first answer
    by_snapshot: dict[int, int] = {}
    for r in requests:
        if r.time > after:
            index = int(r.time // 2.0)
            by_snapshot[index] = by_snapshot.get(index, 0) + 1
    assert len(by_snapshot) >= 2
    assert set(by_snapshot.values()) == {2}  # one fan-out of two batches each
    for result in results:
        for mine in result["snapshots"]:
            assert len(mine) == 4
            assert mine == sorted(set(mine))  # newer each time, never twice
    # The processes shared the work: together they sent what one would have.
    assert sum(r["calls"] for r in results) == len(requests)
