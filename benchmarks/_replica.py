"""One replica of the replicas benchmark: ask once, print counters as JSON.

Run: python -m benchmarks._replica ENDPOINT INSTANCE REDIS_URL|none START_AT [METRIC ...]

Its credentials come from ``REPLICA_KEY``, ``REPLICA_SECRET`` and ``REPLICA_TOKEN`` when
set (a key the fake made), else a dummy key of its own. Without metrics it asks the
instance summary of CONTACTS_IN_QUEUE and AGENTS_AVAILABLE.
"""

from __future__ import annotations

import json
import os
import sys
import time

import anyio

from aioconnectmetrics import CachePolicy, ConnectMetrics
from aioconnectmetrics.redis import RedisBackend, RedisRateLimiter

from .compare import DUMMY_SECRET, REGION

DEFAULT_METRICS = ["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"]


async def ask(
    endpoint: str, instance_id: str, redis_url: str, start_at: float, metrics: list[str]
) -> None:
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
        aws_access_key_id=os.environ.get("REPLICA_KEY", "replicas"),
        aws_secret_access_key=os.environ.get("REPLICA_SECRET", DUMMY_SECRET),
        aws_session_token=os.environ.get("REPLICA_TOKEN") or None,
        cache=CachePolicy(),
        **shared,  # type: ignore[arg-type]
    ) as cm:
        await anyio.sleep(max(0.0, start_at - time.time()))  # all replicas start together
        started = time.time()
        error = None
        try:
            await cm.get_current_metrics(metrics, queues="all")
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
    anyio.run(
        ask,
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        float(sys.argv[4]),
        sys.argv[5:] or DEFAULT_METRICS,
    )
