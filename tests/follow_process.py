"""A process following one question through a shared Redis cache, for test_follow.

Run: python -m tests.follow_process ENDPOINT INSTANCE REDIS_URL NAMESPACE UPDATES QUEUE...
Three followers in this process; prints "ready" once they have their first update, then
one JSON line: each follower's snapshot times (epoch seconds), and this process's count
of GetCurrentMetricData requests it sent.
"""

from __future__ import annotations

import json
import sys

import anyio

from aioconnectmetrics import CachePolicy, ConnectMetrics, RateLimiter
from aioconnectmetrics._limiter import SERVICE_QUOTAS
from aioconnectmetrics.redis import RedisBackend
from aioconnectmetrics.testing._accounts import dummy_keys

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"]


async def main(argv: list[str]) -> None:
    endpoint, instance_id, redis_url, namespace, updates, *queues = argv
    wanted = int(updates)
    backend = RedisBackend.from_url(redis_url, namespace=namespace)
    snapshots: list[list[float]] = [[], [], []]
    firsts = anyio.Event()
    async with ConnectMetrics(
        instance_id,
        endpoint_url=endpoint,
        region_name="us-east-1",
        **dummy_keys("follow-processes"),
        account_id="123456789012",
        cache=CachePolicy(max_age=2.0),  # the fake's snapshots move every 2 s
        cache_backend=backend,
        limiter=RateLimiter(dict.fromkeys(SERVICE_QUOTAS, (1e6, 10**6))),
    ) as cm:

        async def follower(mine: list[float]) -> None:
            async for update in cm.follow(METRICS, queues=queues):
                assert update.result.snapshot_time is not None
                mine.append(update.result.snapshot_time.timestamp())
                if all(snapshots):
                    firsts.set()
                if len(mine) == wanted:
                    return

        async with anyio.create_task_group() as group:
            for mine in snapshots:
                group.start_soon(follower, mine)
            await firsts.wait()
            sys.stdout.write("ready\n")
            sys.stdout.flush()
        calls = cm.stats.calls
    await backend.aclose()
    sys.stdout.write(json.dumps({"snapshots": snapshots, "calls": calls}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
