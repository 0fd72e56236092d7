"""Caching and single-flight: freshness on an injected clock, coalescing against the fake."""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import attrs
import pytest

from aioconnectmetrics import (
    CacheBackend,
    CachePolicy,
    ConfigurationError,
    ConnectMetrics,
    ConnectMetricsError,
    DeadlineExceededError,
    MemoryBackend,
    Metric,
    RateLimiter,
    RetryPolicy,
    ServiceUnavailableError,
)
from aioconnectmetrics._cache import (
    Answer,
    CacheEntry,
    SnapshotCadence,
    cache_key,
    fresh_until,
    newer_or_same,
    refresh_point,
)
from aioconnectmetrics._merge import Row
from aioconnectmetrics._request import MetricsRequest
from aioconnectmetrics.redis import RedisBackend
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

CURRENT = MetricsRequest("GetCurrentMetricData", "i", (Metric("CONTACTS_IN_QUEUE"),), ("q",))
HISTORICAL = MetricsRequest("GetMetricData", "i", (Metric("CONTACTS_HANDLED"),), ("q",))
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)


def answer_at(snapshot: float | None, rows: int = 0) -> Answer:
    snapshots = (datetime.fromtimestamp(snapshot, timezone.utc),) if snapshot is not None else ()
    row = Row((None, None, None), None, None, {"CONTACTS_IN_QUEUE": 1.0})
    return Answer((row,) * rows, snapshots, 1, 1)


# -- pure freshness ----------------------------------------------------------------------
def test_real_time_fresh_until_snapshot_plus_max_age() -> None:
    """Real time: fresh until the snapshot is max_age old, measured from the snapshot."""
    policy = CachePolicy(max_age=15, floor=1)
    assert fresh_until(CURRENT, answer_at(NOW), NOW + 2, policy) == NOW + 15


def test_real_time_floor_after_fetch() -> None:
    """An old snapshot still stays fresh for `floor` seconds after the fetch."""
    policy = CachePolicy(max_age=15, floor=1)
    assert fresh_until(CURRENT, answer_at(NOW - 100), NOW, policy) == NOW + 1


def test_historical_fresh_until_interval_closes_plus_lag() -> None:
    """Historical: until the 5-minute interval of the fetch closes, plus the lag."""
    policy = CachePolicy(publish_lag=30)
    assert fresh_until(HISTORICAL, answer_at(None), NOW + 130, policy) == NOW + 300 + 30
    assert fresh_until(HISTORICAL, answer_at(None), NOW - 0.001, policy) == NOW + 30
    # Fetched as an interval opens, the 300 s cap comes before the close plus the lag.
    assert fresh_until(HISTORICAL, answer_at(None), NOW, policy) == NOW + 300


def test_nothing_lives_past_max_lifetime() -> None:
    """The 300 s cap wins over a long max_age or lag."""
    policy = CachePolicy(max_age=10_000, publish_lag=10_000)
    assert fresh_until(CURRENT, answer_at(NOW), NOW, policy) == NOW + 300
    assert fresh_until(HISTORICAL, answer_at(None), NOW, policy) == NOW + 300


def test_never_step_back() -> None:
    """An older snapshot may not replace a newer one."""
    assert newer_or_same(answer_at(NOW + 15), answer_at(NOW))
    assert newer_or_same(answer_at(NOW), answer_at(NOW))
    assert not newer_or_same(answer_at(NOW), answer_at(NOW + 15))


def test_keys_separate_tenants_and_ignore_page_size() -> None:
    """Identity, region and endpoint are in the key; the page size is not."""

    def key_of(
        request: MetricsRequest,
        region: str = "us-east-1",
        endpoint: str = "https://e",
        identity: str = "alice",
    ) -> str:
        return cache_key(request, region=region, endpoint=endpoint, identity=identity)

    key = key_of(CURRENT)
    assert key != key_of(CURRENT, identity="bob")
    assert key != key_of(CURRENT, region="eu-west-2")
    assert key != key_of(CURRENT, endpoint="https://other")
    assert key == key_of(
        MetricsRequest(
            "GetCurrentMetricData", "i", (Metric("CONTACTS_IN_QUEUE"),), ("q",), page_size=10
        ),
    )
    assert "alice" not in key


async def test_memory_backend_is_bounded_in_rows() -> None:
    """The least recently used answers go first when the rows exceed the bound."""
    backend = MemoryBackend(max_rows=25, clock=lambda: NOW)
    for name in ("a", "b", "c"):
        await backend.set(name, CacheEntry(answer_at(NOW, rows=10), NOW, NOW + 15), ttl=300)
    assert await backend.get("a") is None
    assert await backend.get("b") is not None
    assert len(backend) == 2


# -- against the fake ------------------------------------------------------------------------
def fetches(fake: FakeConnect) -> int:
    """First pages of GetCurrentMetricData the fake served: one per batch of a fan-out."""
    return sum(
        1
        for r in fake.requests
        if r.operation == "GetCurrentMetricData" and "NextToken" not in r.params
    )


async def test_real_time_expiry_at_the_exact_boundary(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Served from the cache until snapshot + 15 s, fetched again at exactly that moment."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        clock.advance(14.999)
        again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert fetches(fake) == 1
        assert again == first
        clock.advance(0.001)
        later = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        stats = cm.cache_stats
    assert fetches(fake) == 2
    assert later.snapshot_time == first.snapshot_time + timedelta(seconds=15)  # type: ignore[operator]
    assert (stats.hits, stats.misses, stats.fetches) == (1, 2, 2)


async def test_historical_expiry_when_the_interval_closes(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """A historical answer fetched at 08:02:10 lives until 08:05:00 plus the 30 s lag."""
    queues = fake.add_queues(instance_id, 3)
    end = datetime.fromtimestamp(NOW, timezone.utc)
    args: dict[str, Any] = {"start": end - timedelta(hours=1), "end": end, "queues": queues}
    clock.advance(130)
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_historical_metrics(["CONTACTS_HANDLED"], **args)
        clock.advance(300 + 30 - 130 - 0.001)
        await cm.get_historical_metrics(["CONTACTS_HANDLED"], **args)
        assert len(fake.requests) == 1
        clock.advance(0.001)
        await cm.get_historical_metrics(["CONTACTS_HANDLED"], **args)
    assert len(fake.requests) == 2


async def test_cap_of_300_seconds(clock: ManualClock, fake: FakeConnect, instance_id: str) -> None:
    """Even with a long max_age, an entry is fetched again 300 s after its fetch."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id, cache=CachePolicy(max_age=3600)) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        clock.advance(299.999)
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert fetches(fake) == 1
        clock.advance(0.001)
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert fetches(fake) == 2


async def test_no_stepping_back(clock: ManualClock) -> None:
    """A refresh that comes back with an older snapshot does not replace the newer answer."""
    service_time = [NOW + 30]
    with FakeConnect(clock=lambda: service_time[0], quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        async with fake.metrics_client(instance_id, clock=clock) as cm:
            newer = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            service_time[0] = NOW  # the service answers from an older snapshot now
            refreshed = await cm.get_current_metrics(
                ["CONTACTS_IN_QUEUE"], queues=queues, cache="refresh"
            )
            cached = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert len(fake.requests) == 2
    assert newer.snapshot_time == datetime.fromtimestamp(NOW + 30, timezone.utc)
    assert refreshed.snapshot_time == newer.snapshot_time
    assert cached.snapshot_time == newer.snapshot_time


async def test_bypass_and_refresh(fake: FakeConnect, instance_id: str) -> None:
    """Bypass neither reads nor writes; refresh fetches and writes."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, cache="bypass")
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, cache="refresh")
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert cm.cache_stats.hits == 1
    assert fetches(fake) == 3


async def test_1000_concurrent_callers_make_one_fan_out(clock: ManualClock) -> None:
    """1,000 identical concurrent calls: one fan-out in the fake's log, equal answers."""
    with FakeConnect(clock=clock, quotas=None, latency=0.2) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 150)
        answers = []
        async with fake.metrics_client(instance_id) as cm:

            async def ask() -> None:
                answers.append(await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues))

            async with anyio.create_task_group() as group:
                for _ in range(1000):
                    group.start_soon(ask)
            stats = cm.cache_stats
        assert fetches(fake) == 2  # two batches, once
    assert len(answers) == 1000
    assert all(a == answers[0] for a in answers)
    assert (stats.fetches, stats.coalesced) == (1, 999)


@pytest.mark.parametrize("who", ["leader", "one follower", "everyone"])
async def test_cancelled_waiters(who: str, clock: ManualClock) -> None:
    """A cancelled waiter leaves the others unharmed; the fetch stops when all have left."""
    with FakeConnect(clock=clock, quotas=None, latency=0.3) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        outcomes: dict[int, str] = {}
        async with fake.metrics_client(instance_id) as cm:
            tasks_before = len(asyncio.all_tasks())
            scopes = [anyio.CancelScope() for _ in range(4)]
            doomed = {"leader": [0], "one follower": [2], "everyone": [0, 1, 2, 3]}[who]

            async def ask(index: int) -> None:
                with scopes[index]:
                    await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
                    outcomes[index] = "answer"
                    return
                outcomes[index] = "cancelled"

            async with anyio.create_task_group() as group:
                for index in range(4):
                    group.start_soon(ask, index)
                    await anyio.wait_all_tasks_blocked()
                for index in doomed:
                    scopes[index].cancel()
            assert len(asyncio.all_tasks()) == tasks_before  # nothing left running
            stats = cm.cache_stats
        expected = {i: "cancelled" if i in doomed else "answer" for i in range(4)}
        assert outcomes == expected
        assert stats.fetches == 1
        if who == "everyone":
            assert stats.entries == 0  # nothing was stored


async def test_failure_reaches_every_waiter_and_is_not_cached(
    fake: FakeConnect, instance_id: str
) -> None:
    """Every waiter of a failed fetch gets the error; the next call fetches again."""
    queues = fake.add_queues(instance_id, 3)
    rule = fake.inject_fault("error")
    errors: list[BaseException] = []
    async with fake.metrics_client(instance_id, retry=FAST) as cm:

        async def ask() -> None:
            try:
                await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            except ServiceUnavailableError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(ask)
        fake.remove_fault(rule)
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert len(errors) == 5
    assert result.summary is not None
    assert cm.cache_stats.fetches == 2


async def test_partial_answers_are_not_cached(fake: FakeConnect, instance_id: str) -> None:
    """A partial answer is returned on request but never stored."""
    queues = fake.add_queues(instance_id, 150)
    rule = fake.inject_fault(
        "error", when=lambda p: queues[120] in p.get("Filters", {}).get("Queues", [])
    )
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        partial = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, partial=True)
        fake.remove_fault(rule)
        whole = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert partial.partial
    assert not whole.partial
    assert whole.batches == 2


async def test_tenants_never_share_entries(fake: FakeConnect, instance_id: str) -> None:
    """Two clients with different credentials over one backend each fetch their own."""
    queues = fake.add_queues(instance_id, 3)
    backend = MemoryBackend(clock=fake.clock)
    async with (
        fake.metrics_client(instance_id, access_key="tenant-a", cache_backend=backend) as a,
        fake.metrics_client(instance_id, access_key="tenant-b", cache_backend=backend) as b,
    ):
        await a.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await b.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await a.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert (a.cache_stats.hits, b.cache_stats.hits) == (1, 0)
    assert [r.access_key for r in fake.requests] == ["tenant-a", "tenant-b"]
    assert len(backend) == 2


async def test_stale_while_revalidate(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Within the grace, the last answer comes at once and one refresh runs behind it."""
    queues = fake.add_queues(instance_id, 3)
    policy = CachePolicy(stale_grace=30)
    async with fake.metrics_client(instance_id, cache=policy) as cm:
        first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        clock.advance(20)  # 5 s past freshness, inside the grace
        stale = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        stale_again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert stale is not None
        assert stale.snapshot_time == first.snapshot_time
        assert cm.cache_stats.fetches == 2  # the refresh started at once
        with anyio.fail_after(5):
            await cm.wait_for_refreshes()
        fresh = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        stats = cm.cache_stats
    assert stale_again.snapshot_time == first.snapshot_time
    assert fresh.snapshot_time == first.snapshot_time + timedelta(seconds=15)  # type: ignore[operator]
    assert (stats.stale_served, stats.fetches) == (2, 2)  # one refresh for two stale answers


async def test_drop_in_answers_are_copies(fake: FakeConnect, instance_id: str) -> None:
    """Changing a drop-in response does not change what the next caller gets."""
    queues = fake.add_queues(instance_id, 3)
    kwargs: dict[str, Any] = {
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
    }
    async with fake.metrics_client(instance_id) as cm:
        first = await cm.boto.get_current_metric_data(**kwargs)
        first["MetricResults"][0]["Collections"][0]["Value"] = -1.0
        second = await cm.boto.get_current_metric_data(**kwargs)
    assert second["MetricResults"][0]["Collections"][0]["Value"] != -1.0
    assert fetches(fake) == 1


async def test_closing_cancels_background_refreshes(clock: ManualClock) -> None:
    """A refresh still running when the client closes is cancelled, not leaked."""
    with FakeConnect(clock=clock, quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        tasks_before = len(asyncio.all_tasks())
        async with fake.metrics_client(instance_id, cache=CachePolicy(stale_grace=60)) as cm:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            fake.latency = 5.0
            clock.advance(20)
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)  # stale
            assert cm.cache_stats.fetches == 2  # the refresh is running
        assert len(asyncio.all_tasks()) == tasks_before
        fake.latency = 0.0


def test_policy_is_checked() -> None:
    """A bad policy names its field."""
    with pytest.raises(ValueError, match="max_age"):
        CachePolicy(max_age=-1)
    with pytest.raises(ValueError, match="max_rows"):
        CachePolicy(max_rows=0)


async def test_cache_mode_is_checked(fake: FakeConnect, instance_id: str) -> None:
    """An unknown cache mode is refused before any request."""
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(ValueError, match="cache"):
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=["q"], cache="sometimes")  # type: ignore[arg-type]
    assert fake.requests == []


# -- page-wise iteration -----------------------------------------------------------------
async def test_pages_stream_every_row(fake: FakeConnect, instance_id: str) -> None:
    """250 queues in pages of 40: every row once, batch by batch, page by page."""
    queues = fake.add_queues(instance_id, 250)
    seen: list[tuple[int, int, int]] = []
    ids: list[str] = []
    async with fake.metrics_client(instance_id) as cm:
        async for page in cm.iter_current_pages(
            ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"], page_size=40
        ):
            seen.append((page.batch, page.page, len(page.rows)))
            ids += [str(r.queue_id) for r in page.rows]
            assert not page.restarted
    assert seen == [
        (0, 0, 40),
        (0, 1, 40),
        (0, 2, 20),
        (1, 0, 40),
        (1, 1, 40),
        (1, 2, 20),
        (2, 0, 40),
        (2, 1, 10),
    ]
    assert sorted(ids) == sorted(queues)


async def test_an_old_token_is_never_sent(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """A consumer slower than the token's life minus the margin restarts the batch cleanly."""
    queues = fake.add_queues(instance_id, 30)
    pages = []
    async with fake.metrics_client(instance_id) as cm:
        async for page in cm.iter_current_pages(
            ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"], page_size=10
        ):
            pages.append((page.page, page.restarted, page.snapshot_time))
            if len(pages) == 2:
                clock.advance(270)  # 300 s life minus the 30 s margin
        stats = cm.stats
    assert [(p, r) for p, r, _ in pages] == [
        (0, False),
        (1, False),
        (0, True),
        (1, False),
        (2, False),
    ]
    assert pages[2][2] == pages[0][2] + timedelta(seconds=270)  # type: ignore[operator]
    # The token of page 1 was not sent after the pause: the batch began again instead.
    assert ["NextToken" in r.params for r in fake.requests] == [False, True, False, True, True]
    assert stats.restarts == 1


async def test_a_streamed_page_has_the_call_deadline(clock: ManualClock) -> None:
    """A page request slower than the call's deadline raises DeadlineExceededError."""
    with FakeConnect(clock=clock, quotas=None, latency=1.0) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        retry = RetryPolicy(deadline=0.2)
        async with fake.metrics_client(instance_id, retry=retry) as cm:
            pages = cm.iter_current_pages(
                ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"]
            )
            with pytest.raises(DeadlineExceededError):
                await anext(pages)


async def test_streamed_pages_keep_to_max_concurrency(clock: ManualClock) -> None:
    """With one slot, a page request starts only once the other call's request is over."""
    arrivals: list[float] = []
    arrived = threading.Event()

    def note(operation: str, params: object) -> None:
        arrivals.append(time.monotonic())  # the server thread, as each request arrives
        arrived.set()

    with FakeConnect(clock=clock, quotas=None, latency=0.3) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        fake.add_hook(note)
        async with fake.metrics_client(instance_id, max_concurrency=1) as cm:

            async def call() -> None:
                await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)

            async def stream() -> None:
                async for _ in cm.iter_current_pages(
                    ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"]
                ):
                    pass

            async with anyio.create_task_group() as group:
                group.start_soon(call)
                await anyio.to_thread.run_sync(arrived.wait)  # the call's request is out
                group.start_soon(stream)
    # The page request waited for the call's 0.3 s request to end: never both at once.
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3


async def test_streaming_needs_rows_of_one_batch(fake: FakeConnect, instance_id: str) -> None:
    """Ungrouped rows would need combining: streaming them is refused at once."""
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(ValueError, match="groupings"):
            cm.iter_current_pages(
                ["CONTACTS_IN_QUEUE"], queues=["q"], groupings=["CHANNEL"], channels=["VOICE"]
            )
        with pytest.raises(ValueError, match="page_size"):
            cm.iter_current_pages(
                ["CONTACTS_IN_QUEUE"], queues=["q"], groupings=["QUEUE"], page_size=0
            )
    assert fake.requests == []


async def test_streaming_without_groupings_keeps_the_old_default_and_warns(
    fake: FakeConnect, instance_id: str
) -> None:
    """Left out, groupings are ("QUEUE",) as before 0.2, with a DeprecationWarning."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        with pytest.warns(DeprecationWarning, match="groupings"):
            pages = cm.iter_current_pages(["CONTACTS_IN_QUEUE"], queues=queues)
        rows = [row async for page in pages for row in page.rows]
    assert sorted(str(r.queue_id) for r in rows) == sorted(queues)


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_known_key_id_with_a_wrong_secret_is_never_served(
    fake: FakeConnect, instance_id: str, store: str, request: pytest.FixtureRequest
) -> None:
    """Unproven by STS, the same key ID with another secret fetches for itself.

    With the account given, STS is not asked, and the tenant is the HMAC of the key
    under its secret (memory or Redis backend).
    """
    queues = fake.add_queues(instance_id, 3)
    if store == "memory":
        backend: CacheBackend = MemoryBackend(clock=fake.clock)
    else:
        backend = RedisBackend.from_url(request.getfixturevalue("redis_url") + "/7")

    def client(secret: str) -> ConnectMetrics:
        return ConnectMetrics(
            instance_id,
            region_name=fake.region_name,
            endpoint_url=fake.endpoint_url,
            aws_access_key_id="AKIAKNOWNKEYID",
            aws_secret_access_key=secret,
            account_id="123456789012",
            clock=fake.clock,
            cache_backend=backend,
        )

    async with client("the-owners-secret") as owner, client("a-guess") as intruder:
        await owner.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await intruder.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await owner.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert (owner.cache_stats.hits, intruder.cache_stats.hits) == (1, 0)
        # One account (one quota), two tenants.
        assert owner.identity == intruder.identity
    assert len(fake.requests) == 2
    assert fake.sts_calls == 0  # the account was given
    if isinstance(backend, RedisBackend):
        await backend.aclose()


async def test_a_wrong_secret_is_refused_before_anything_is_served(
    fake: FakeConnect, instance_id: str
) -> None:
    """With STS, a key ID with a wrong secret is refused when the client opens.

    It is never served what the key's owner fetched, and never asks the service anything.
    """
    queues = fake.add_queues(instance_id, 3)
    account = fake.add_account()
    owner_keys = fake.role_credentials(account, "Board", "owner")
    backend = MemoryBackend(clock=fake.clock)
    async with fake.metrics_client(
        instance_id, credentials=owner_keys, cache_backend=backend
    ) as owner:
        await owner.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    guess = attrs.evolve(owner_keys, secret_key="a-guess")  # noqa: S106 - the wrong one
    intruder = fake.metrics_client(instance_id, credentials=guess, cache_backend=backend)
    with pytest.raises(ConfigurationError, match="SignatureDoesNotMatch") as refused:
        async with intruder:
            pytest.fail("opened")
    assert "a-guess" not in str(refused.value)
    assert len(fake.requests) == 1  # the owner's one request


async def test_a_newcomer_never_joins_a_fetch_being_cancelled(clock: ManualClock) -> None:
    """The last waiter of a fetch leaves; a caller arriving as it winds down gets an answer.

    100 tries of the race, each: one caller's fetch reaches the service, the caller is
    cancelled, and a new caller asks for the same thing before the fetch has wound down.
    """
    arrived = threading.Event()
    with FakeConnect(clock=clock, quotas=None, latency=0.02) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        fake.add_hook(lambda operation, params: arrived.set())
        failed = 0
        # The fake's quotas are off; so are ours: 200 requests at 5 a second would wait.
        unlimited = RateLimiter({"GetCurrentMetricData": (1000.0, 1000)})
        async with fake.metrics_client(instance_id, limiter=unlimited) as cm:

            async def ask() -> None:
                await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, cache="refresh")

            async def leave(scope: anyio.CancelScope) -> None:
                with scope:
                    await ask()

            for _ in range(100):
                arrived.clear()
                async with anyio.create_task_group() as group:
                    leaver = anyio.CancelScope()
                    group.start_soon(leave, leaver)
                    await anyio.to_thread.run_sync(arrived.wait)
                    leaver.cancel()
                    await anyio.lowlevel.checkpoint()  # it leaves, and cancels its fetch
                    try:
                        await ask()
                    except ConnectMetricsError:
                        failed += 1
        assert failed == 0


async def test_the_deadline_covers_waiting_for_another_replicas_lease(
    clock: ManualClock,
) -> None:
    """A replica waiting on another's slow fetch gives up at its own deadline."""
    arrived = threading.Event()
    with FakeConnect(clock=clock, quotas=None, latency=1.5) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        fake.add_hook(lambda operation, params: arrived.set())
        backend = MemoryBackend(clock=fake.clock)  # one store, as Redis is for replicas
        slow_done = anyio.Event()
        async with (
            fake.metrics_client(instance_id, cache_backend=backend) as slow,
            fake.metrics_client(
                instance_id, cache_backend=backend, retry=RetryPolicy(deadline=0.2)
            ) as hurried,
        ):

            async def fetch_slowly() -> None:
                await slow.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
                slow_done.set()

            async with anyio.create_task_group() as group:
                group.start_soon(fetch_slowly)
                await anyio.to_thread.run_sync(arrived.wait)  # it holds the lease now
                with pytest.raises(DeadlineExceededError):
                    await hurried.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
                assert not slow_done.is_set()  # it gave up before the other's answer
        assert slow_done.is_set()
        assert len(fake.requests) == 1


# -- refresh ahead: spreading the refetches of entries fetched together -----------------
def entry_fetched(at: float, fresh_for: float = 15.0) -> CacheEntry:
    return CacheEntry(answer_at(at), at, at + fresh_for)


def test_refresh_point_in_the_last_fraction_of_the_fresh_life() -> None:
    """Each entry's point lies in the window, and entries fetched together spread over it."""
    points = [refresh_point(f"key{i}", entry_fetched(NOW), 0.25) for i in range(400)]
    assert all(NOW + 15 - 0.25 * 15 <= p < NOW + 15 for p in points)
    # Drawn uniformly: every tenth of the 3.75 s window holds some of 400 entries' points.
    tenths = {int((p - (NOW + 11.25)) / 0.375) for p in points}
    assert tenths == set(range(10))
    # The same entry gets the same point wherever it is asked (every replica agrees) ...
    assert refresh_point("key0", entry_fetched(NOW), 0.25) == points[0]
    # ... and another point after each fetch.
    assert refresh_point("key0", entry_fetched(NOW + 15), 0.25) != points[0] + 15


def test_refresh_point_off() -> None:
    """None or 0 turns refreshing ahead off."""
    assert refresh_point("k", entry_fetched(NOW), None) == float("inf")
    assert refresh_point("k", entry_fetched(NOW), 0) == float("inf")


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, True, "0.2", float("nan")])
def test_refresh_ahead_must_be_a_fraction(bad: object) -> None:
    """refresh_ahead is a fraction in [0, 1), named in the error."""
    with pytest.raises(ConnectMetricsError, match="refresh_ahead"):
        CachePolicy(refresh_ahead=bad)  # type: ignore[arg-type]


async def walk_until_fetched(
    cm: ConnectMetrics, clock: ManualClock, queues: list[str], until: float
) -> tuple[float | None, list[datetime | None]]:
    """Ask every 0.25 s up to `until`; return when a second fetch started, and the answers."""
    started, seen = None, []
    while clock() < until:
        clock.advance(0.25)
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        seen.append(result.snapshot_time)
        if started is None and cm.cache_stats.fetches == 2:
            started = clock()
        await cm.wait_for_refreshes()
    return started, seen


class Recorded(MemoryBackend):
    """The in-memory backend, keeping every entry set and its key (to read its point)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stored: list[tuple[str, CacheEntry]] = []

    @property
    def last(self) -> tuple[str, CacheEntry] | None:
        """The entry set last, with its key."""
        return self.stored[-1] if self.stored else None

    async def set(self, key: str, entry: CacheEntry, ttl: float) -> None:
        """Store, and keep what was stored."""
        self.stored.append((key, entry))
        await super().set(key, entry, ttl)


async def test_a_hot_entry_is_refreshed_ahead_of_expiry(clock: ManualClock) -> None:
    """Asked past its refresh point, an entry is refreshed behind the caller: nobody waits."""
    # A service whose snapshot is taken at the request, as the API reference says.
    with FakeConnect(clock=clock, quotas=None, seed=7, snapshot_interval=0.25) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        backend = Recorded(clock=clock)
        async with fake.metrics_client(instance_id, cache_backend=backend) as cm:
            first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            assert first.snapshot_time == datetime.fromtimestamp(NOW, timezone.utc)
            assert backend.last is not None
            point = refresh_point(*backend.last, 0.25)
            started, seen = await walk_until_fetched(cm, clock, queues, NOW + 14.75)
            stats = cm.cache_stats
    assert NOW + 11.25 <= point < NOW + 15
    if point > NOW + 14.75:  # past the last ask of its fresh life: it simply expires
        assert started is None
        return
    # The first ask at or past the point started it, and got the answer it had.
    assert started == NOW + math.ceil((point - NOW) / 0.25) * 0.25
    before = [s for s in seen if s == first.snapshot_time]
    assert len(before) == round((started - NOW) / 0.25)
    # Every ask after it got the new snapshot, taken as the refresh asked.
    assert all(s is not None and s.timestamp() == started for s in seen[len(before) :])
    assert (stats.misses, stats.refreshed_ahead, stats.fetches) == (1, 1, 2)


async def test_refresh_ahead_learns_when_the_service_has_nothing_newer(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """With nothing newer before expiry, refreshes ahead stop instead of doubling requests.

    On a service that moves its snapshot every 15 s, with max_age 15, the next snapshot
    appears as the entry expires: the client learns from the refreshes that found nothing
    (each a snapshot older than any seen before with nothing newer), and from every fetch.
    """
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await walk_until_fetched(cm, clock, queues, NOW + 300)
        stats = cm.cache_stats
    times = [r.time - NOW for r in fake.requests]
    per_snapshot = Counter(int(t // 15) for t in times)
    assert set(per_snapshot) == set(range(21))  # one fetch for every snapshot: 0 .. 300 s
    # The wasted ones: a second request within one snapshot's life.
    pairs = itertools.pairwise(times)
    wasted = [t % 15 for u, t in pairs if int(t // 15) == int(u // 15)]
    assert len(wasted) == stats.refreshed_ahead
    assert wasted == sorted(set(wasted))  # each at an age above all before it
    # About ln(20) of 20 snapshots (up to 9 in 30 seeds tried); without learning, 20.
    assert 1 <= len(wasted) <= 15


async def test_refresh_ahead_spreads_within_a_longer_max_age(clock: ManualClock) -> None:
    """With max_age 20 on a 15 s cadence, refreshes ahead land where they gain.

    The next snapshot exists for the last 5 s of an entry's life: refreshes ahead land
    there, and no ask waits for a fetch, unless an entry's point falls after the last
    ask of its life (asks come every 0.25 s here).
    """
    with FakeConnect(clock=clock, quotas=None, seed=7) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        backend = Recorded(clock=clock)
        policy = CachePolicy(max_age=20)
        async with fake.metrics_client(instance_id, cache=policy, cache_backend=backend) as cm:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            _, seen = await walk_until_fetched(cm, clock, queues, NOW + 300)
            stats = cm.cache_stats
    ages = [(NOW + 0.25 * (i + 1)) - s.timestamp() for i, s in enumerate(seen) if s is not None]
    assert len(ages) == len(seen)
    assert max(ages) < 20
    unasked = sum(
        refresh_point(key, entry, 0.25)
        > NOW + 0.25 * math.ceil((entry.fresh_until - NOW) / 0.25 - 1)
        for key, entry in backend.stored
        if entry.fresh_until <= NOW + 300
    )
    assert stats.misses == 1 + unasked  # the first ask, and the unasked points
    assert stats.fetches == 1 + stats.refreshed_ahead + unasked
    # Each of the 19 snapshots after the first is fetched once: ahead of expiry, unless
    # its entry's point fell after the last ask of the entry's life (the instance ID,
    # and so every point, differs from run to run; the count of unasked points with it).
    assert stats.refreshed_ahead + unasked == 19
    # Each refresh got the newest snapshot: one per 15 s snapshot, none wasted.
    assert len({int((r.time - NOW) // 15) for r in fake.requests}) == len(fake.requests)


async def test_historical_entries_are_not_refreshed_ahead(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Historical numbers change only when an interval is published: no early refresh."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:

        async def ask() -> None:
            end = datetime.fromtimestamp(NOW, timezone.utc)
            await cm.get_historical_metrics(
                ["CONTACTS_HANDLED"], queues=queues, start=end - timedelta(hours=1), end=end
            )

        await ask()
        for _ in range(29):
            clock.advance(10)  # to NOW + 290, inside the fresh life (until NOW + 300)
            await ask()
        assert (cm.cache_stats.fetches, cm.cache_stats.refreshed_ahead) == (1, 0)


def test_cadence_learns_a_service_that_snapshots_at_each_request() -> None:
    """The first probe gains: from then on, entries as old as it refresh surely."""
    cadence = SnapshotCadence()
    cadence.observe(NOW, NOW + 0.05, NOW + 0.01)  # a fetch: the snapshot is the request's
    assert cadence.verdict(NOW, NOW + 12) == "probe"
    cadence.probing = True
    assert cadence.verdict(NOW + 1, NOW + 13) is None  # one probe at a time
    cadence.probing = False
    cadence.observe(NOW + 12, NOW + 12.05, NOW + 12.01, replaced=NOW)
    assert cadence.ceiling == pytest.approx(12.05)
    assert cadence.verdict(NOW + 1, NOW + 13.1) == "sure"
    assert cadence.verdict(NOW + 1, NOW + 12) == "probe"  # younger: still to be learnt


def test_cadence_learns_a_service_that_snapshots_every_15_seconds() -> None:
    """A probe that finds nothing newer raises the floor and ends probing its snapshot."""
    cadence = SnapshotCadence()
    cadence.observe(NOW + 6, NOW + 6.05, NOW)  # a fetch at 6 s got a snapshot 6 s old
    assert cadence.floor == 6
    assert cadence.verdict(NOW, NOW + 5.9) is None  # nothing newer existed at that age
    cadence.observe(NOW + 12, NOW + 12.05, NOW, replaced=NOW)  # a probe: the same
    assert (cadence.floor, cadence.spent) == (12, NOW)
    assert cadence.verdict(NOW, NOW + 14) is None  # this snapshot: probed enough
    assert cadence.verdict(NOW + 15, NOW + 15 + 11) is None  # the next, at most 12 s old
    assert cadence.verdict(NOW + 15, NOW + 15 + 13) == "probe"
