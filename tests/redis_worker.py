"""One replica, for the multi-process Redis tests: ask once, print the answer as JSON.

It prints ``asking`` on a line of its own as its call begins, then the answer. Its
credentials come from ``REPLICA_KEY``, ``REPLICA_SECRET`` and ``REPLICA_TOKEN`` when set
(a key the fake made: a role session, say), else a dummy key of its own.

Run: python -m tests.redis_worker ENDPOINT INSTANCE REDIS_URL METRIC [LEASE_TTL]
"""

from __future__ import annotations

import json
import os
import sys

import anyio

from aioconnectmetrics import ConnectMetrics
from aioconnectmetrics.redis import RedisBackend, RedisRateLimiter


async def ask(
    endpoint: str, instance_id: str, redis_url: str, metric: str, lease_ttl: float
) -> None:
    backend = RedisBackend.from_url(redis_url)
    limiter = RedisRateLimiter.from_url(redis_url)
    async with ConnectMetrics(
        instance_id,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("REPLICA_KEY", "replicas"),
        aws_secret_access_key=os.environ.get("REPLICA_SECRET", "replicas-secret"),
        aws_session_token=os.environ.get("REPLICA_TOKEN") or None,
        cache_backend=backend,
        limiter=limiter,
        lease_ttl=lease_ttl,
    ) as cm:
        print("asking", flush=True)  # noqa: T201
        result = await cm.get_current_metrics([metric], queues="all")
        summary = result.summary
        answer = {
            "value": summary[metric] if summary else None,
            "calls": cm.stats.calls,
            "throttles": cm.stats.throttles,
            "identity": cm.identity,
        }
        print(json.dumps(answer))  # noqa: T201
    await backend.aclose()
    await limiter.aclose()


if __name__ == "__main__":
    endpoint, instance_id, redis_url, metric = sys.argv[1:5]
    lease_ttl = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    anyio.run(ask, endpoint, instance_id, redis_url, metric, lease_ttl)
