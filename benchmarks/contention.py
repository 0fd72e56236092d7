"""Sharing the quota: each way of fetching 3,000 queues while another caller spends part of it.

What it measures: the fake service runs in a separate process with 50 ms latency, the
real quota (5 requests/s, burst 8, per account), connections kept alive, over HTTPS,
each new connection's handshake answered 60 ms (+-20%) late, as the real service's TLS
set-up makes a connection's first request reach it late (``--connection-setup``; 0 for
none). 3,000 queues grouped by QUEUE (30
batches of 100, one page each). Another caller of the same account spends part of the
quota from the contender's first request on: none, 1/s, 2.5/s steady, and 2.5/s in
bursts of 5 every 2 s (it retries what is throttled the moment a token is there, so it
always gets its rate: the fake's `add_other_consumer`). Contenders, one after another,
each under an account of its own:

* ``aioconnectmetrics``: `ConnectMetrics.boto.get_current_metric_data`, default limiter;
* ``gather + adaptive`` / ``gather + standard``: one aiobotocore coroutine per batch, all
  at once, botocore's "adaptive" or "standard" retry mode (its default attempts);
* ``boto3 sequential``: a loop over the batches (boto3's default retries).

The bound is the best any client could do: the time at which the service's bucket could
have admitted all 30 requests, had the client asked for every token the other caller
left (computed exactly from the same bucket and the same other caller), plus one
measured round trip, plus one connection set-up (every client's first request pays
it). For a steady caller this is ``(30 - 8) / (rate left) + round trip + set-up``, give
or take one token. It prints wall time, requests, 429s, errors and the ratio.

``--replicas 3 4``: the same 30 batches split between 3 (then 4) processes, each asking
its own queues through one `RedisRateLimiter` (needs ``redis-server``), no other caller.

``--plot``: one client fetching for 16 s while another caller spends 2.5/s from 3 s to
10 s; draws the granted rate and the admitted rate against the rate left to
docs/quota-control.png (needs matplotlib: ``pip install --group bench``).

Results go to benchmarks/results/contention.json.

Run: python -m benchmarks.contention [--rounds 2] [--connection-setup 0.06] [--replicas 3 4]
[--plot] [--levels none 1/s ...] [--contenders aioconnectmetrics "boto3 sequential" ...]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiobotocore.config import AioConfig

from aioconnectmetrics import ConnectMetrics, RetryPolicy, TokenBucket
from aioconnectmetrics.testing import OtherConsumer
from aioconnectmetrics.testing._quota import TokenBucket as ServiceBucket

from ._redis import redis_server
from .compare import (
    BURST,
    RATE,
    TRACE_MEMORY,
    Outcome,
    aiobotocore_gather,
    boto3_sequential,
    calibrate,
    fake_service,
    library,
    run_one,
    warm_client,
)

QUEUES = 3000
CHANNELS = ["VOICE", "CHAT", "TASK", "EMAIL"]
METRICS = [
    {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"},
    {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
    {"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"},
]
#: name -> (rate, burst) of the other caller, or None.
LEVELS: dict[str, tuple[float, int] | None] = {
    "none": None,
    "1/s": (1.0, 1),
    "2.5/s": (2.5, 1),
    "2.5/s bursty": (2.5, 5),
}
CONTENDERS: dict[str, Callable[[str, str, dict[str, Any]], Any]] = {
    "aioconnectmetrics": library,
    "gather + adaptive": functools.partial(aiobotocore_gather, retry_mode="adaptive"),
    "gather + standard": functools.partial(aiobotocore_gather, retry_mode="standard"),
    "boto3 sequential": boto3_sequential,
}
RESULTS = Path(__file__).parent / "results"


def kwargs_for(instance_id: str, queues: list[str]) -> dict[str, Any]:
    return {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues, "Channels": CHANNELS},
        "CurrentMetrics": METRICS,
        "Groupings": ["QUEUE"],
    }


def best_possible(requests: int, other: tuple[float, int] | None) -> float:
    """Seconds from the first request until the service could have admitted `requests`.

    A client that asks for every token the other caller leaves, on the fake's own bucket.
    """
    service = ServiceBucket(RATE, BURST, float(BURST), 0.0)
    if other is not None:
        consumer = OtherConsumer(*other)
        consumer.begin(0.0)
        service.others.append(consumer)
    now, admitted = 0.0, 0
    while True:
        if service.take(now):
            admitted += 1
            if admitted == requests:
                return now
        else:
            now += 0.001


def contenders_table(
    rounds: int, setup: float, levels: list[str], contenders: list[str]
) -> list[dict[str, Any]]:
    keys = {
        (level, name, r): f"contend-{i}-{j}-{r}"
        for i, level in enumerate(levels)
        for j, name in enumerate(contenders)
        for r in range(rounds)
    }
    consumers = [
        f"{key}:{LEVELS[level][0]}:{LEVELS[level][1]}"  # type: ignore[index]
        for (level, _, _), key in keys.items()
        if LEVELS[level] is not None
    ]
    rows = []
    header = (
        f"{'other caller':<14} {'contender':<19} {'wall s':>7} {'bound s':>8} {'vs bound':>8} "
        f"{'requests':>8} {'429s':>5} {'errors':>6}"
    )
    print(
        f"{QUEUES} queues grouped by QUEUE, fake at 50 ms over HTTPS, {setup * 1000:.0f} ms "
        f"connection set-up, quota {RATE:g}/s burst {BURST}"
    )
    print(header)
    print("-" * len(header))
    with fake_service([QUEUES], consumers, connection_setup=setup, tls=True) as fake:
        endpoint = fake["endpoint"]
        instance_id, queues = fake["instances"][str(QUEUES)]
        kwargs = kwargs_for(instance_id, queues)
        total, _, round_trip = calibrate(endpoint, "counting", kwargs)
        for level in levels:
            other = LEVELS[level]
            # Any client's first request pays one connection set-up before the service's
            # bucket sees it; nothing can avoid that one.
            bound = best_possible(total, other) + round_trip + setup
            for name in contenders:
                contender = CONTENDERS[name]
                for r in range(rounds):
                    outcome: Outcome = run_one(contender, endpoint, keys[level, name, r], kwargs)
                    row = {
                        "other": level,
                        "contender": name,
                        "round": r,
                        "wall_s": outcome.wall,
                        "bound_s": bound,
                        "ratio": outcome.wall / bound,
                        "requests": outcome.requests,
                        "throttles": outcome.throttles,
                        "errors": outcome.errors,
                        "formula_s": (total - BURST) / (RATE - (other[0] if other else 0))
                        + round_trip,
                    }
                    rows.append(row)
                    print(
                        f"{level:<14} {name:<19} {outcome.wall:>7.2f} {bound:>8.2f} "
                        f"{outcome.wall / bound:>7.2f}x {outcome.requests:>8} "
                        f"{outcome.throttles:>5} {outcome.errors:>6}"
                    )
    return rows


def replicas_table(counts: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with redis_server() as redis_url, fake_service([QUEUES]) as fake:
        if redis_url is None:
            return rows
        endpoint = fake["endpoint"]
        instance_id, queues = fake["instances"][str(QUEUES)]
        total, _, round_trip = calibrate(endpoint, "counting", kwargs_for(instance_id, queues))
        bound = (total - BURST) / RATE + round_trip
        print()
        print(f"replicas through one RedisRateLimiter, {total} batches, no other caller")
        header = (
            f"{'replicas':>8} {'wall s':>7} {'bound s':>8} {'vs bound':>8} "
            f"{'requests':>8} {'429s':>5} {'errors':>6}"
        )
        print(header)
        print("-" * len(header))
        for count in counts:
            url = f"{redis_url}/{count % 16}"
            outcomes = run_replicas(endpoint, instance_id, url, queues, count)
            wall = max(o["done"] for o in outcomes) - outcomes[0]["start_at"]
            row = {
                "replicas": count,
                "wall_s": wall,
                "bound_s": bound,
                "ratio": wall / bound,
                "requests": sum(o["calls"] for o in outcomes),
                "throttles": sum(o["throttles"] for o in outcomes),
                "errors": sum(1 for o in outcomes if o["error"]),
            }
            rows.append(row)
            print(
                f"{count:>8} {wall:>7.2f} {bound:>8.2f} {wall / bound:>7.2f}x "
                f"{row['requests']:>8} {row['throttles']:>5} {row['errors']:>6}"
            )
    return rows


def run_replicas(
    endpoint: str, instance_id: str, url: str, queues: list[str], count: int
) -> list[dict[str, Any]]:
    """`count` processes, replica i asking for batches i, i + count, ... of `queues`."""
    start_at = time.time() + 4.0  # time for the processes to import, connect and warm
    batches = [queues[s : s + 100] for s in range(0, len(queues), 100)]
    with tempfile.TemporaryDirectory() as tmp:
        processes = []
        for index in range(count):
            share = Path(tmp) / f"replica-{index}.json"
            share.write_text(json.dumps([q for b in batches[index::count] for q in b]))
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                    [
                        sys.executable,
                        "-m",
                        "benchmarks._contention_replica",
                        endpoint,
                        instance_id,
                        url,
                        str(start_at),
                        str(share),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        outcomes = [json.loads(p.communicate(timeout=300)[0]) for p in processes]
    for outcome in outcomes:
        outcome["start_at"] = start_at
    return outcomes


async def _control_trace(endpoint: str, instance_id: str, queues: list[str]) -> dict[str, Any]:
    """One client fetching for 16 s; the bucket's rate and each admitted response, timed."""
    config = AioConfig(retries={"total_max_attempts": 1}, max_pool_connections=32)
    samples: list[tuple[float, float]] = []
    admitted: list[float] = []
    async with (
        warm_client(endpoint, "plot", instance_id, config) as client,
        ConnectMetrics(client=client, retry=RetryPolicy(deadline=600), cache=None) as cm,
    ):

        def record(http_response: Any = None, **_: Any) -> None:
            if http_response is not None and http_response.status_code == 200:
                admitted.append(time.perf_counter())

        client.meta.events.register("after-call.connect.GetCurrentMetricData", record)
        bucket = cm.limiter.bucket(str(cm.identity), cm.region_name, "GetCurrentMetricData")
        assert isinstance(bucket, TokenBucket)
        started = time.perf_counter()

        async def sample() -> None:
            while True:
                samples.append((time.perf_counter() - started, bucket.rate))
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        while time.perf_counter() - started < 16.0:
            await cm.boto.get_current_metric_data(**kwargs_for(instance_id, queues))
        sampler.cancel()
    return {
        "granted": samples,
        "admitted": [t - started for t in admitted],
        "throttles": cm.stats.throttles,
    }


def plot(path: Path) -> None:
    try:
        import matplotlib as mpl  # noqa: PLC0415 - optional, benchmark-only

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("no matplotlib: pip install --group bench, then --plot")
        return
    delay, duration, other = 3.0, 7.0, 2.5
    with fake_service([QUEUES], [f"plot:{other}:1:{delay}:{duration}"]) as fake:
        instance_id, queues = fake["instances"][str(QUEUES)]
        trace = asyncio.run(_control_trace(fake["endpoint"], instance_id, queues))
    admitted = trace["admitted"]
    grid = [i / 10 for i in range(5, 161)]
    admitted_rate = [sum(t - 1.0 < a <= t for a in admitted) for t in grid]
    left = [RATE - (other if delay <= t < delay + duration else 0.0) for t in grid]
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    ax.step(grid, left, where="post", color="black", lw=1.5, label="rate left by the other caller")
    ax.plot(*zip(*trace["granted"], strict=True), color="tab:blue", label="limiter's rate")
    ax.plot(grid, admitted_rate, color="tab:orange", alpha=0.8, label="admitted (1 s window)")
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests / s")
    ax.set_ylim(0, 6.5)
    ax.set_title(f"Another caller spends {other}/s from {delay:g} s to {delay + duration:g} s")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path} ({trace['throttles']} 429s in 16 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each contender")
    parser.add_argument("--replicas", type=int, nargs="*", default=[3, 4])
    parser.add_argument("--plot", action="store_true", help="draw docs/quota-control.png")
    parser.add_argument("--skip-contenders", action="store_true")
    parser.add_argument(
        "--connection-setup",
        type=float,
        default=0.06,
        help="seconds (+-20%%) a new connection's first request reaches the service late "
        "(the real service's TLS handshake; default 0.06)",
    )
    parser.add_argument(
        "--levels",
        nargs="+",
        choices=list(LEVELS),
        default=list(LEVELS),
        metavar="LEVEL",
        help=f"the other caller's levels to run (default all: {', '.join(LEVELS)})",
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=list(CONTENDERS),
        default=list(CONTENDERS),
        metavar="NAME",
        help=f"contenders to run (default all: {', '.join(CONTENDERS)})",
    )
    args = parser.parse_args()
    TRACE_MEMORY["on"] = False  # timing only: see compare.TRACE_MEMORY
    results: dict[str, Any] = {}
    if not args.skip_contenders:
        results["contenders"] = contenders_table(
            args.rounds, args.connection_setup, args.levels, args.contenders
        )
    if args.replicas:
        results["replicas"] = replicas_table(args.replicas)
    if args.plot:
        plot(Path(__file__).parent.parent / "docs" / "quota-control.png")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "contention.json").write_text(json.dumps(results, indent=2))
    print(
        "bound = the earliest the service could admit every request given the other "
        "caller's schedule, plus one measured round trip"
    )


if __name__ == "__main__":
    main()
