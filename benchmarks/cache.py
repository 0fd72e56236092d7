"""What the cache and single-flight buy: hit latency, throughput, and concurrent callers.

What it measures, against the fake service in a separate process (50 ms latency, the
real quotas), for 1,000 queues (an instance summary over 10 batches):

* a cold call (a cache miss: the fan-out) and then cache hits: latency per hit (median
  and 99th percentile of 2,000 sequential calls) and throughput (hits per second, 2,000
  calls sequentially, and 100 tasks x 20 calls concurrently);
* 1,000 concurrent identical callers, with single-flight: wall time and upstream
  requests; and, for contrast, 25 concurrent callers with the cache off (each fans out,
  so the quota queues them all; 1,000 would need 40 times their requests).

Run: python -m benchmarks.cache
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import anyio

from aioconnectmetrics import CachePolicy, ConnectMetrics

from .compare import DUMMY_SECRET, REGION, fake_service

QUEUES = 1000
METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]


def client(endpoint: str, key: str, **kwargs: Any) -> ConnectMetrics:
    return ConnectMetrics(
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=DUMMY_SECRET,
        **kwargs,
    )


async def hits(endpoint: str, instance_id: str, queues: list[str]) -> dict[str, float]:
    # A long max_age keeps the entry fresh for the whole measurement.
    async with client(
        endpoint, "hits", instance_id=instance_id, cache=CachePolicy(max_age=300)
    ) as cm:
        started = time.perf_counter()
        await cm.get_current_metrics(METRICS, queues=queues)
        cold = time.perf_counter() - started
        latencies = []
        for _ in range(2000):
            started = time.perf_counter()
            await cm.get_current_metrics(METRICS, queues=queues)
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()

        async def twenty() -> None:
            for _ in range(20):
                await cm.get_current_metrics(METRICS, queues=queues)

        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(twenty)
        concurrent = 2000 / (time.perf_counter() - started)
        assert cm.cache_stats.fetches == 1
    latencies.sort()
    return {
        "cold_s": cold,
        "hit_median_us": statistics.median(latencies) * 1e6,
        "hit_p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
        "hits_per_s_sequential": len(latencies) / sum(latencies),
        "hits_per_s_concurrent": concurrent,
    }


async def callers(
    endpoint: str, instance_id: str, queues: list[str], n: int, key: str, *, cache: bool
) -> dict[str, float]:
    policy = CachePolicy() if cache else None
    async with client(endpoint, key, instance_id=instance_id, cache=policy) as cm:
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(lambda: cm.get_current_metrics(METRICS, queues=queues))
        wall = time.perf_counter() - started
        return {
            "callers": n,
            "wall_s": wall,
            "requests": cm.stats.calls,
            "throttles": cm.stats.throttles,
        }


def main() -> None:
    with fake_service([QUEUES]) as fake:
        endpoint = fake["endpoint"]
        instance_id, queues = fake["instances"][str(QUEUES)]
        hit = anyio.run(hits, endpoint, instance_id, queues)
        flight = anyio.run(
            lambda: callers(endpoint, instance_id, queues, 1000, "flight", cache=True)
        )
        naive = anyio.run(lambda: callers(endpoint, instance_id, queues, 25, "naive", cache=False))
    print(f"Cache: {QUEUES} queues, instance summary (10 batches), fake at 50 ms, quotas on")
    print(f"{'measure':<46}{'value':>14}")
    print(f"{'cold call (miss: the fan-out)':<46}{hit['cold_s']:>12.3f} s")
    print(f"{'hit latency, median':<46}{hit['hit_median_us']:>11.1f} us")
    print(f"{'hit latency, 99th percentile':<46}{hit['hit_p99_us']:>11.1f} us")
    print(f"{'hits per second, one caller':<46}{hit['hits_per_s_sequential']:>14,.0f}")
    print(f"{'hits per second, 100 concurrent callers':<46}{hit['hits_per_s_concurrent']:>14,.0f}")
    print()
    print(
        f"{'concurrent identical callers':<34}{'callers':>8}{'wall s':>9}"
        f"{'requests':>10}{'429s':>6}"
    )
    for name, row in (("single-flight + cache", flight), ("cache off (each fans out)", naive)):
        print(
            f"{name:<34}{row['callers']:>8.0f}{row['wall_s']:>9.2f}{row['requests']:>10.0f}{row['throttles']:>6.0f}"
        )
    out = Path(__file__).parent / "results" / "cache.json"
    out.write_text(
        json.dumps({"hits": hit, "single_flight": flight, "cache_off": naive}, indent=2)
    )


if __name__ == "__main__":
    main()
