"""Staying under the quota, retrying faults, and cancelling cleanly: against the fake."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

import anyio
import pytest
from aiobotocore.session import AioSession

from aioconnectmetrics import (
    ConnectMetrics,
    DeadlineExceededError,
    MetricsResult,
    PartialResultError,
    RateLimiter,
    ResourceNotFoundError,
    RetryPolicy,
    TokenBucket,
)
from aioconnectmetrics.testing import FakeConnect, RecordedRequest

from .conftest import NOW
from .truth import assert_matches_truth, current_truth
from .virtual_time import VirtualTime

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def busiest_window(requests: Sequence[RecordedRequest], *, after: float) -> int:
    """The most requests that arrived within any 1-second window starting at or after `after`."""
    times = sorted(r.time for r in requests if r.time >= after)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def open_connections(cm: ConnectMetrics) -> int:
    """Connections aiohttp holds checked out (aiobotocore internals, read for the test)."""
    client: Any = cm._client
    sessions = client._endpoint.http_session._sessions.values()
    return sum(len(s.connector._acquired) for s in sessions)


async def test_5000_queues_under_the_quota() -> None:
    """50 batches with the service's quotas on: no error, few 429s, no window over the quota.

    On virtual time, shared by the limiter and the fake's quota: the limiter's waits
    move the clock, and it stands still while a request is on the wire (counted through
    botocore's own events), so each request reaches the fake at its grant's moment.
    Deterministic, and about a second instead of the quota's ten.
    """
    vt = VirtualTime()  # from 0: the limiter's arithmetic wants a monotonic clock's values
    limiter = RateLimiter(clock=vt.clock, sleep=vt.sleep)
    session = AioSession()

    def sent(**_: Any) -> None:
        vt.io += 1

    def answered(**_: Any) -> None:
        vt.io -= 1

    session.register("before-send.connect.GetCurrentMetricData", sent)
    session.register("needs-retry.connect.GetCurrentMetricData", answered)
    with FakeConnect(latency=0.01, clock=lambda: NOW + vt.now) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 5000)
        async with fake.metrics_client(instance_id, limiter=limiter, session=session) as cm:
            answers: list[MetricsResult] = []

            async def ask() -> None:
                answers.append(await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues))

            async with anyio.create_task_group() as group:
                group.start_soon(ask)
                while not answers:
                    await vt.drive()
                    await anyio.sleep(0.001)  # a task between two awaits: let it on
            stats = cm.stats
        metric_requests = [r for r in fake.requests if r.operation == "GetCurrentMetricData"]
    [result] = answers
    assert result.batches == 50
    assert result.summary is not None
    assert stats.throttles <= 2
    assert fake.counts()[("GetCurrentMetricData", 429)] == stats.throttles
    first = min(r.time for r in metric_requests)
    # After the burst of 8 has been spent (8 / 5 per second), at most 5 per second (+1
    # for a window that catches both ends of the refill).
    assert busiest_window(metric_requests, after=first + 1.6) <= 6
    # The pace itself: 42 requests after the burst at 5 a second (virtual), no faster.
    assert max(r.time for r in metric_requests) - first >= (50 - 8) / 5 - 0.01


async def test_clients_sharing_a_limiter_share_the_quota() -> None:
    """Two clients with one limiter and one account stay under one quota together."""
    limiter = RateLimiter()
    with FakeConnect(latency=0.01) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 1000)
        async with (
            fake.metrics_client(instance_id, limiter=limiter) as one,
            fake.metrics_client(instance_id, limiter=limiter) as two,
        ):
            assert one.identity == two.identity
            async with anyio.create_task_group() as group:
                for cm in (one, two):
                    group.start_soon(
                        functools.partial(
                            cm.get_current_metrics, ["CONTACTS_IN_QUEUE"], queues=queues
                        )
                    )
    assert fake.counts()[("GetCurrentMetricData", 429)] <= 1
    assert fake.counts()[("GetCurrentMetricData", 200)] == 20


async def test_faults_are_retried_to_correct_answers(fake: FakeConnect, instance_id: str) -> None:
    """20% of requests answering 500 and 5% dropped connections: complete, correct rows."""
    populated = fake.populate(instance_id, queues=1000)
    fake.inject_fault("error", probability=0.2)
    fake.inject_fault("drop", probability=0.05)
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        result = await cm.get_current_metrics(
            ["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"], queues=populated.queue_ids, groupings=["QUEUE"]
        )
        stats = cm.stats
    truth = current_truth(
        fake,
        instance_id,
        ["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"],
        queues=populated.queue_ids,
        groupings=["QUEUE"],
    )
    assert_matches_truth(result, truth)
    assert stats.retries > 0
    assert stats.retries == stats.calls - 10
    assert set(stats.errors) <= {"InternalServiceException", "ConnectionFailedError"}


async def test_one_batch_failing_for_good(fake: FakeConnect, instance_id: str) -> None:
    """A batch that fails every attempt: the partial-failure error with the exact split."""
    queues = fake.add_queues(instance_id, 300)

    def in_batch_two(params: Any) -> bool:
        return queues[200] in params.get("Filters", {}).get("Queues", [])

    fake.inject_fault("error", when=in_batch_two)
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        with pytest.raises(PartialResultError) as info:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"])
    assert set(info.value.failures) == {2}
    assert info.value.failed_queues == {2: tuple(queues[200:])}
    assert len(info.value.partial.rows) == 200
    attempts = [r for r in fake.requests if in_batch_two(r.params)]
    assert len(attempts) == FAST.attempts


async def test_throttles_are_retried_and_reach_the_limiter(
    fake: FakeConnect, instance_id: str
) -> None:
    """Two 429s are retried and reported; two throttles a moment apart measure no rate."""
    queues = fake.add_queues(instance_id, 5)
    fake.inject_fault("throttle", at=[1, 2])
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        stats = cm.stats
        bucket = cm.limiter.bucket(str(cm.identity), "us-east-1", "GetCurrentMetricData")
    assert result.summary is not None
    assert (stats.throttles, stats.retries, stats.calls) == (2, 2, 3)
    assert isinstance(bucket, TokenBucket)
    assert bucket.stats.throttles == 2
    # Injected 429s from a full bucket: nothing says the rate left is below the quota.
    assert bucket.rate == bucket.max_rate


async def test_non_retryable_errors_fail_at_once(fake: FakeConnect) -> None:
    """An unknown instance is not retried: one request."""
    async with fake.metrics_client("missing-instance", retry=FAST) as cm:
        with pytest.raises(ResourceNotFoundError):
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=["q1"])
    assert len(fake.requests) == 1


async def settled(arrived: list[str], quiet: float = 0.5, limit: float = 5.0) -> None:
    """Wait until no request has arrived for `quiet` seconds (at most `limit`)."""
    waited, seen, still = 0.0, len(arrived), 0.0
    while still < quiet and waited < limit:
        await anyio.sleep(0.05)
        waited += 0.05
        still = still + 0.05 if len(arrived) == seen else 0.0
        seen = len(arrived)


@pytest.mark.parametrize("how", ["move_on_after", "fail_after"])
async def test_cancellation_leaks_no_task_connection_or_token(
    how: str, instance_id: str, fake: FakeConnect
) -> None:
    """Cancelling a call mid-flight leaves no task, no checked-out connection, no token."""
    queues = fake.add_queues(instance_id, 1500)
    fake.latency = 0.3
    arrived: list[str] = []
    fake.add_hook(lambda operation, params: arrived.append(operation))
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues[:1])  # warm up
        tasks_before = len(asyncio.all_tasks())
        if how == "move_on_after":
            with anyio.move_on_after(0.1):
                await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        else:
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.1):
                    await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_connections(cm) == 0
        bucket = cm.limiter.bucket(str(cm.identity), "us-east-1", "GetCurrentMetricData")
        assert isinstance(bucket, TokenBucket)
        # Requests sent just before the cancellation reach the server's threads a little
        # later on a loaded machine: count them once they have all landed.
        await settled(arrived)
        # No request went out without a token; the callers cancelled while waiting for a
        # token took none (15 batches; the burst of 8 and 0.1 s of refill are far fewer).
        # A token is spent once its request starts: one cancelled while connecting may
        # never reach the server, so the two counts need not be equal.
        assert len(arrived) <= bucket.stats.acquired < 15
    fake.latency = 0.0


async def test_deadline_bounds_the_whole_call(fake: FakeConnect, instance_id: str) -> None:
    """A call that outlives RetryPolicy.deadline raises DeadlineExceededError (a TimeoutError)."""
    queues = fake.add_queues(instance_id, 3)
    fake.latency = 0.5
    async with fake.metrics_client(instance_id, retry=RetryPolicy(deadline=0.1)) as cm:
        with pytest.raises(DeadlineExceededError) as info:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert isinstance(info.value, TimeoutError)
    assert info.value.deadline == 0.1
    fake.latency = 0.0
