"""What synchronised expiry costs the callers of a busy cache, and what spreading buys.

The load (issue 15, item 7): 1,000 callers for 60 s, each asking in a loop for one of
40 real-time answers (40 keys of 10 queues: one request each), with a think time drawn
from 0.5-1.5 s (about 1,000 asks a second). The 40 entries are warmed together before the
clock starts, as a service does at start-up, so their lifetimes begin in step. The fake
service runs in a separate process (50 ms latency, the real quota: 5 requests/s, burst 8).

Two kinds of service, since both are plausible: ``live`` answers with a snapshot taken at
the request (the API reference: "the time at which the metrics were retrieved"), and
``15 s cadence`` moves its snapshot on every 15 s, as the fake does by default. For each,
it runs the cache without and with refreshing ahead (`CachePolicy.refresh_ahead`), at
the default ``max_age`` of 15 s and (on the cadence service) at 20 s, and with a 5 s
``stale_grace`` instead, one after another, each under its own access
key (so each starts with a full quota), and prints the callers' latency (median, 99th
percentile, maximum), the asks served, and the upstream requests and 429s.

Run: python -m benchmarks.expiry [--duration 60] [--callers 1000]
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time
from pathlib import Path
from typing import Any

import anyio

from aioconnectmetrics import CachePolicy, ConnectMetrics

from .compare import DUMMY_SECRET, REGION, fake_service

KEYS, QUEUES_PER_KEY = 40, 10
METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]
SERVICES = {"live": 0.001, "15 s cadence": 15.0}
VARIANTS: dict[str, dict[str, Any]] = {
    "max_age 15, no spreading": {"refresh_ahead": None},
    "max_age 15, refresh ahead": {},
    "max_age 20, no spreading": {"max_age": 20.0, "refresh_ahead": None},
    "max_age 20, refresh ahead": {"max_age": 20.0},
    "max_age 15, stale_grace 5": {"stale_grace": 5.0},
}
#: The variants run against each kind of service (a live service has nothing to spread).
RUNS = {"live": list(VARIANTS)[:2], "15 s cadence": list(VARIANTS)}


async def run(
    endpoint: str,
    instance_id: str,
    keys: list[list[str]],
    access_key: str,
    policy: CachePolicy,
    *,
    callers: int,
    duration: float,
) -> dict[str, float]:
    latencies: list[float] = []
    async with ConnectMetrics(
        instance_id,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=DUMMY_SECRET,
        cache=policy,
    ) as cm:

        async def ask(queues: list[str]) -> None:
            await cm.get_current_metrics(METRICS, queues=queues)

        async with anyio.create_task_group() as warm:
            for queues in keys:
                warm.start_soon(ask, queues)
        warm_requests = cm.stats.calls
        stop = time.perf_counter() + duration

        async def caller(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop:
                started = time.perf_counter()
                await ask(keys[rng.randrange(len(keys))])
                latencies.append(time.perf_counter() - started)
                await anyio.sleep(rng.uniform(0.5, 1.5))

        async with anyio.create_task_group() as group:
            for seed in range(callers):
                group.start_soon(caller, seed)
        latencies.sort()
        return {
            "asks": len(latencies),
            "median_s": latencies[len(latencies) // 2],
            "p99_s": latencies[int(len(latencies) * 0.99)],
            "max_s": latencies[-1],
            "requests": cm.stats.calls - warm_requests,
            "throttles": cm.stats.throttles,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--callers", type=int, default=1000)
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    n = 0
    for service, interval in SERVICES.items():
        with fake_service([KEYS * QUEUES_PER_KEY], snapshot_interval=interval) as fake:
            instance_id, queues = fake["instances"][str(KEYS * QUEUES_PER_KEY)]
            keys = [queues[i : i + QUEUES_PER_KEY] for i in range(0, len(queues), QUEUES_PER_KEY)]
            for name in RUNS[service]:
                n += 1
                one = functools.partial(
                    run,
                    fake["endpoint"],
                    instance_id,
                    keys,
                    f"expiry{n}",
                    CachePolicy(**VARIANTS[name]),
                    callers=args.callers,
                    duration=args.duration,
                )
                results.setdefault(service, {})[name] = anyio.run(one)
    print(
        f"Synchronised expiry: {args.callers} callers for {args.duration:.0f} s over {KEYS}"
        " real-time answers (one request each), fake at 50 ms, quota 5/s burst 8"
    )
    print(
        f"{'service':<14}{'cache':<26}{'asks':>8}{'median s':>10}{'p99 s':>8}{'max s':>8}"
        f"{'requests':>10}{'429s':>6}"
    )
    for service, rows in results.items():
        for name, row in rows.items():
            print(
                f"{service:<14}{name:<26}{row['asks']:>8.0f}{row['median_s']:>10.4f}"
                f"{row['p99_s']:>8.3f}{row['max_s']:>8.3f}{row['requests']:>10.0f}"
                f"{row['throttles']:>6.0f}"
            )
    out = Path(__file__).parent / "results" / "expiry.json"
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
