"""One replica of the contention benchmark: its share of the batches, through Redis.

Run: python -m benchmarks._contention_replica ENDPOINT INSTANCE REDIS_URL START_AT QUEUES
Asks for its queues (a JSON list in the file QUEUES) grouped by QUEUE, through a
`RedisRateLimiter` shared by every replica, all under one account; prints its counters as
JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio
from aiobotocore.config import AioConfig

from aioconnectmetrics import ConnectMetrics, RetryPolicy
from aioconnectmetrics.redis import RedisRateLimiter

from .compare import warm_client
from .contention import kwargs_for


async def ask(
    endpoint: str, instance_id: str, redis_url: str, start_at: float, mine: list[str]
) -> None:
    config = AioConfig(retries={"total_max_attempts": 1}, max_pool_connections=32)
    limiter = RedisRateLimiter.from_url(redis_url)
    async with (
        warm_client(endpoint, "replicas", instance_id, config) as client,
        ConnectMetrics(client=client, limiter=limiter, retry=RetryPolicy(deadline=600)) as cm,
    ):
        await anyio.sleep(max(0.0, start_at - time.time()))  # all replicas start together
        error = None
        try:
            await cm.boto.get_current_metric_data(**kwargs_for(instance_id, mine))
        except Exception as exc:  # noqa: BLE001 - an error surfaced to the caller is counted
            error = type(exc).__name__
        done = time.time()
        stats = cm.stats
    await limiter.aclose()
    print(
        json.dumps(
            {"done": done, "calls": stats.calls, "throttles": stats.throttles, "error": error}
        )
    )


if __name__ == "__main__":
    endpoint, instance_id, url, start_at, queues_file = sys.argv[1:]
    queues = json.loads(Path(queues_file).read_text())
    anyio.run(ask, endpoint, instance_id, url, float(start_at), queues)
