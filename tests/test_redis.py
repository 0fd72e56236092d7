"""Several processes, one cache and one quota, through a real redis-server on loopback."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio as aioredis

from aioconnectmetrics import BackendUnavailableError, CachePolicy
from aioconnectmetrics._backend import FORMAT_VERSION
from aioconnectmetrics.redis import RedisBackend, RedisRateLimiter
from aioconnectmetrics.testing import FakeConnect, FakeCredentials

from .redis_server import NO_REDIS, free_port
from .test_quota import busiest_window

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason=NO_REDIS)


@pytest.fixture(autouse=True)
def _empty_redis(redis_url: str) -> None:
    async def flush() -> None:
        client = aioredis.Redis.from_url(redis_url)
        await client.flushall()
        await client.aclose()

    anyio.run(flush)


def replica(
    fake: FakeConnect,
    instance_id: str,
    redis_url: str,
    metric: str,
    *,
    lease_ttl: float = 10.0,
    credentials: FakeCredentials | None = None,
) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if credentials is not None:
        env["REPLICA_KEY"] = credentials.access_key
        env["REPLICA_SECRET"] = credentials.secret_key
        env["REPLICA_TOKEN"] = credentials.token or ""
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "tests.redis_worker",
            fake.endpoint_url,
            instance_id,
            redis_url,
            metric,
            str(lease_ttl),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def answer(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    return dict(json.loads(out.strip().splitlines()[-1]))


def first_pages(fake: FakeConnect, operation: str = "GetCurrentMetricData") -> int:
    return sum(
        1 for r in fake.requests if r.operation == operation and "NextToken" not in r.params
    )


async def test_entries_are_versioned_json(redis_url: str) -> None:
    """What a replica stores is JSON with a format version, under a namespaced key."""
    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        backend = RedisBackend.from_url(redis_url, namespace="tenant-x")
        async with fake.metrics_client(instance_id, cache_backend=backend) as cm:
            first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        keys = [k for k in await backend.client.keys("*") if isinstance(k, bytes)]
        (entry_key,) = [k for k in keys if k.endswith(b":entry")]
        raw = await backend.client.get(entry_key)
        assert isinstance(raw, bytes)
        stored = json.loads(raw)
        ttl = await backend.client.pttl(entry_key)
        await backend.aclose()
    assert entry_key.startswith(b"tenant-x:{acm:v1:")
    assert stored["v"] == FORMAT_VERSION == 3
    assert stored["snapshots"] == [first.snapshot_time.timestamp()]  # type: ignore[union-attr]
    assert 0 < ttl <= 300_000  # Redis keeps the lifetime
    assert again == first
    assert cm.cache_stats.hits == 1


def test_replicas_asking_the_same_make_one_fan_out(redis_url: str) -> None:
    """Four processes asking the same thing at once: one fan-out, one answer."""
    with FakeConnect(quotas=None, latency=1.0) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=150)
        processes = [replica(fake, instance_id, redis_url, "CONTACTS_IN_QUEUE") for _ in range(4)]
        answers = [answer(p) for p in processes]
        assert first_pages(fake, "ListQueues") == 1
        assert first_pages(fake) == 2  # two batches, once
    assert len({a["value"] for a in answers}) == 1
    assert sorted(a["calls"] for a in answers) == [0, 0, 0, 3]


def test_a_killed_leader_is_replaced(redis_url: str) -> None:
    """A leader killed mid-fetch: its lease runs out and another replica fetches."""
    arrived, release = threading.Event(), threading.Event()
    fetches: list[str] = []

    def stall_the_first_fetch(operation: str, params: Any) -> None:
        if operation == "GetCurrentMetricData":
            fetches.append(operation)
            if not arrived.is_set():
                arrived.set()
                release.wait(5)  # the leader's request hangs in the server until it dies

    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=20)
        fake.add_hook(stall_the_first_fetch)
        try:
            leader = replica(fake, instance_id, redis_url, "CONTACTS_IN_QUEUE", lease_ttl=1.0)
            assert arrived.wait(timeout=30)
            follower = replica(fake, instance_id, redis_url, "CONTACTS_IN_QUEUE", lease_ttl=1.0)
            assert follower.stdout is not None
            assert follower.stdout.readline().strip() == "asking"  # its call has begun
            os.kill(leader.pid, signal.SIGKILL)
            leader.wait(timeout=10)
            assert leader.stdout is not None
            leader.stdout.close()
            started = time.monotonic()
            result = answer(follower)
            assert time.monotonic() - started < 15
            assert len(fetches) == 2  # the leader's, then the follower's
        finally:
            release.set()
    assert result["calls"] >= 1
    assert result["value"] is not None


def test_replicas_share_one_quota(redis_url: str) -> None:
    """Three processes fetching different things under one account stay under its quota."""
    with FakeConnect(latency=0.01) as fake:
        instance_id = fake.add_instance()
        fake.add_queues(instance_id, 1000)
        metrics = ["CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"]
        processes = [replica(fake, instance_id, redis_url, m) for m in metrics]
        answers = [answer(p) for p in processes]
        requests = [r for r in fake.requests if r.operation == "GetCurrentMetricData"]
    assert all(a["value"] is not None for a in answers)
    assert len(requests) >= 30
    assert sum(1 for r in requests if r.status == 429) <= 1
    first = min(r.time for r in requests)
    assert busiest_window(requests, after=first + 1.6) <= 6


async def test_lease_release_is_compare_and_delete(redis_url: str) -> None:
    """Releasing with a token that no longer holds the lease deletes nothing."""
    backend = RedisBackend.from_url(redis_url)
    mine = await backend.acquire_lease("k", ttl=30)
    assert mine is not None
    assert await backend.acquire_lease("k", ttl=30) is None  # held
    # The lease ran out and another replica took it:
    await backend.client.set(backend._key("k", "lease"), "someone-else", px=30_000)
    await backend.release_lease("k", mine)
    assert await backend.client.get(backend._key("k", "lease")) == b"someone-else"
    assert not await backend.renew_lease("k", mine, ttl=30)
    await backend.aclose()


@pytest.mark.parametrize("kind", ["cache", "limiter"])
async def test_redis_down_falls_back_with_a_warning(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis unreachable, the default keeps working in-process and warns, never hangs."""
    down = f"redis://127.0.0.1:{free_port()}/0"
    extra: dict[str, Any] = (
        {"cache_backend": RedisBackend.from_url(down)}
        if kind == "cache"
        else {"limiter": RedisRateLimiter.from_url(down)}
    )
    with FakeConnect(quotas=None) as fake, caplog.at_level(logging.WARNING, "aioconnectmetrics"):
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        async with fake.metrics_client(instance_id, **extra) as cm:
            with anyio.fail_after(10):
                result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert result.summary is not None
    assert any("unavailable" in r.message for r in caplog.records)


@pytest.mark.parametrize("kind", ["cache", "limiter"])
async def test_redis_down_fails_fast_when_asked_to(kind: str) -> None:
    """fallback="error": a clear BackendUnavailableError, quickly."""
    down = f"redis://127.0.0.1:{free_port()}/0"
    extra: dict[str, Any] = (
        {"cache_backend": RedisBackend.from_url(down, fallback="error")}
        if kind == "cache"
        else {"limiter": RedisRateLimiter.from_url(down, fallback="error"), "cache": None}
    )
    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        async with fake.metrics_client(instance_id, **extra) as cm:
            with anyio.fail_after(10), pytest.raises(BackendUnavailableError, match="Redis"):
                await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)


async def test_memory_and_redis_backends_agree(redis_url: str) -> None:
    """An entry read back from Redis is the entry stored (rows, bounds, snapshots)."""
    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=150).queue_ids)
        backend = RedisBackend.from_url(redis_url)
        async with fake.metrics_client(
            instance_id, cache_backend=backend, cache=CachePolicy()
        ) as cm:
            fetched = await cm.get_current_metrics(
                ["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"], queues=queues
            )
            cached = await cm.get_current_metrics(
                ["AGENTS_ONLINE", "CONTACTS_IN_QUEUE"], queues=queues
            )
        await backend.aclose()
    assert cm.cache_stats.hits == 1
    assert cached == fetched
    assert cached.summary is not None
    assert cached.summary.bounds("AGENTS_ONLINE") == fetched.summary.bounds("AGENTS_ONLINE")  # type: ignore[union-attr]


def bucket_accounts(redis_url: str) -> set[str]:
    """The accounts that have a limiter bucket in Redis (from the keys' names)."""

    async def keys() -> list[bytes]:
        client = aioredis.Redis.from_url(redis_url)
        try:
            return [k async for k in client.scan_iter("aioconnectmetrics:{bucket:*")]
        finally:
            await client.aclose()

    return {k.decode().split("{bucket:", 1)[1].split(":", 1)[0] for k in anyio.run(keys)}


def test_role_sessions_of_one_account_share_its_quota(redis_url: str) -> None:
    """Role sessions of one account, asking different things at once: one quota.

    Three replicas, each its own role session: one bucket, few 429s, as three replicas
    on one key would.
    """
    with FakeConnect(latency=0.01) as fake:
        instance_id = fake.add_instance()
        fake.add_queues(instance_id, 1000)
        account = fake.add_account()
        sessions = [fake.role_credentials(account, "Board", f"replica-{i}") for i in range(3)]
        metrics = ["CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"]
        processes = [
            replica(fake, instance_id, redis_url, m, credentials=s)
            for m, s in zip(metrics, sessions, strict=True)
        ]
        answers = [answer(p) for p in processes]
        requests = [r for r in fake.requests if r.operation == "GetCurrentMetricData"]
    assert all(a["value"] is not None for a in answers)
    assert {a["identity"] for a in answers} == {account}
    assert bucket_accounts(redis_url) == {account}
    assert {r.access_key for r in requests} == {s.access_key for s in sessions}
    assert len(requests) >= 30
    assert sum(1 for r in requests if r.status == 429) <= 2
    first = min(r.time for r in requests)
    assert busiest_window(requests, after=first + 1.6) <= 6


def test_role_sessions_asking_the_same_make_one_fan_out(redis_url: str) -> None:
    """Four role sessions of one role: one principal, one cache tenant, one fan-out."""
    with FakeConnect(quotas=None, latency=1.0) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=150)
        account = fake.add_account()
        processes = [
            replica(
                fake,
                instance_id,
                redis_url,
                "CONTACTS_IN_QUEUE",
                credentials=fake.role_credentials(account, "Board", f"replica-{i}"),
            )
            for i in range(4)
        ]
        answers = [answer(p) for p in processes]
        assert first_pages(fake, "ListQueues") == 1
        assert first_pages(fake) == 2  # two batches, once
    assert len({a["value"] for a in answers}) == 1
    assert sorted(a["calls"] for a in answers) == [0, 0, 0, 3]


def test_another_account_neither_spends_nor_reads(redis_url: str) -> None:
    """A replica of another account, same question, same Redis: its own bucket and fetch.

    It reads nothing the first account fetched, and spends its own account's quota.
    """
    with FakeConnect(latency=0.01) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=150)
        ours, theirs = fake.add_account(), fake.add_account()
        first = replica(
            fake,
            instance_id,
            redis_url,
            "CONTACTS_IN_QUEUE",
            credentials=fake.role_credentials(ours, "Board", "replica-1"),
        )
        mine = answer(first)
        other = replica(
            fake,
            instance_id,
            redis_url,
            "CONTACTS_IN_QUEUE",
            credentials=fake.role_credentials(theirs, "Board", "replica-1"),
        )
        foreign = answer(other)
        assert first_pages(fake) == 4  # two batches each
    assert (mine["identity"], foreign["identity"]) == (ours, theirs)
    assert mine["calls"] == foreign["calls"] == 3
    assert bucket_accounts(redis_url) == {ours, theirs}
