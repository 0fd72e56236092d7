"""One replica of the replicas benchmark: ask once, print counters as JSON.

Run: python -m benchmarks._replica ENDPOINT INSTANCE REDIS_URL|none START_AT
"""

from __future__ import annotations

import json
import sys
import time

import anyio

from aioconnectmetrics import CachePolicy, ConnectMetrics
from aioconnectmetrics.redis import RedisBackend, RedisRateLimiter

from .compare import DUMMY_SECRET, REGION


async def ask(endpoint: str, instance_id: str, redis_url: str, start_at: float) -> None:
    shared: dict[str, object] = {}
    if redis_url != "none":
        shared = {
            "cache_backend": RedisBackend.from_url(redis_url),
            "limiter": RedisRateLimiter.from_url(redis_url),
        }
    async with ConnectMetrics(
        instance_id,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="replicas",
        aws_secret_access_key=DUMMY_SECRET,
        cache=CachePolicy(),
        **shared,  # type: ignore[arg-type]
    ) as cm:
        await anyio.sleep(max(0.0, start_at - time.time()))  # all replicas start together
        started = time.time()
        error = None
        try:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"], queues="all")
        except Exception as exc:  # noqa: BLE001 - an error surfaced to the caller is counted
            error = type(exc).__name__
        done = time.time()
        stats = cm.stats
    print(
        json.dumps(
            {
                "started": started,
                "done": done,
                "calls": stats.calls,
                "throttles": stats.throttles,
                "error": error,
            }
        )
    )


if __name__ == "__main__":
    anyio.run(ask, sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))
