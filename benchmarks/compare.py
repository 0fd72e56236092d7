"""How fast, and how safely, each way of fetching many queues gets its answer.

What it measures (design.md section 6): the fake service runs in a separate process
with 50 ms latency and the real quotas (5 requests/s, burst 8, per account). For 100,
1,000 and 5,000 queues, and two workloads (an instance summary; rows grouped by QUEUE
and CHANNEL), it runs, one after another and each under its own access key (so each
starts with a full quota):

* ``boto3 sequential``: a loop over 100-queue batches and their pages, as public samples
  write it (boto3's default retries), adding up the batches' summaries;
* ``aiobotocore gather``: one coroutine per batch, all at once (aiobotocore's default
  retries), adding up likewise;
* ``aioconnectmetrics``: `ConnectMetrics.boto.get_current_metric_data` with the same
  kwargs, on a client that knows the instance's routing-profile map from an earlier
  call (as a long-running service's does);
* ``aioconnectmetrics cold``: the same on a new client: the map is made in the call
  (ListRoutingProfiles, ListQueues, SearchRoutingProfiles: its requests are counted).

The summary runs over two centres of each size: the fake's "spread" layout (every
routing profile serves four neighbouring queues and two from anywhere, so profiles
link queues across the whole centre) and its "departments" layout (profiles serve
queues of one department of 50, listed shuffled). The AGENTS_AVAILABLE column shows
what each contender reports beside the truth (each agent once; the fake's snapshot does
not move during the run): adding the batches' summaries counts an agent once per batch
that holds one of their queues.

It prints wall time (of the fetch: each contender builds its client first and warms its
connection with one quota-free DescribeInstance call, as a long-running service's client
is warm), HTTP requests (of every operation), 429s received, errors surfaced to the
caller, peak Python memory (tracemalloc) and the ratio to the lower bound
``max(latency x pages on the critical path, (requests - burst) / rate + latency)``,
where requests is the fewest requests the workload needs (one per batch and page: the
loop's) and latency is the measured median round trip of one request of that workload
(50 ms plus the service's own work). Results go to benchmarks/results/compare.json.

Run: python -m benchmarks.compare [--sizes 100 1000 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import attrs
import boto3
import botocore.config
import botocore.exceptions
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from aioconnectmetrics import ConnectMetrics, RetryPolicy

REGION = "us-east-1"
DUMMY_SECRET = "benchmark-secret"  # noqa: S105 - the fake accepts any credentials
LATENCY = 0.05
RATE, BURST = 5.0, 8
WORKLOADS: dict[str, dict[str, Any]] = {
    "summary": {},
    "queue+channel": {"Groupings": ["QUEUE", "CHANNEL"]},
}
CHANNELS = ["VOICE", "CHAT", "TASK", "EMAIL"]
METRICS = [
    {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"},
    {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
    {"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"},
]


@contextlib.contextmanager
def fake_service(
    sizes: list[int],
    consumers: Sequence[str] = (),
    *,
    snapshot_interval: float = 15.0,
    connection_setup: float = 0.0,
    tls: bool = False,
    role_sessions: int = 0,
    departments: bool = False,
    quotas: bool = True,
) -> Iterator[dict[str, Any]]:
    """Start the fake in its own process; yield its endpoint and instances.

    `consumers`: ``KEY:RATE:BURST[:DELAY:DURATION]``, other callers of an account's quota.
    `snapshot_interval`: how often the real-time snapshot moves on.
    `connection_setup`: seconds (+-20%) by which a new connection's first request
    reaches the service late, as the real service's TLS handshake makes it.
    `tls`: the fake serves HTTPS, its set-up in the handshake (where a client sees it);
    every client in this process and its children verifies it (``AWS_CA_BUNDLE``).
    `role_sessions`: an account with that many sessions of one role, and a static key.
    `departments`: a centre of the "departments" layout per size too (SIZE/departments).
    `quotas`: False for no quota at all (benchmarks of CPU, not of pacing).
    """
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready.json"
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "benchmarks._fake_process",
                str(ready),
                *map(str, sizes),
                "--latency",
                str(LATENCY),
                f"--snapshot-interval={snapshot_interval}",
                f"--connection-setup={connection_setup}",
                *(["--tls"] if tls else []),
                f"--role-sessions={role_sessions}",
                *(["--departments"] if departments else []),
                *([] if quotas else ["--no-quotas"]),
                *(f"--consumer={spec}" for spec in consumers),
            ],
        )
        previous = os.environ.get("AWS_CA_BUNDLE")
        try:
            deadline = time.monotonic() + 120
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake service did not start")
                time.sleep(0.1)
            started = json.loads(ready.read_text())
            if started["ca_bundle"]:
                os.environ["AWS_CA_BUNDLE"] = started["ca_bundle"]
            yield started
        finally:
            if previous is None:
                os.environ.pop("AWS_CA_BUNDLE", None)
            else:
                os.environ["AWS_CA_BUNDLE"] = previous
            process.terminate()
            process.wait(timeout=10)


class Counter:
    """Counts HTTP attempts and 429s through botocore's response-received event."""

    def __init__(self) -> None:
        self.requests = 0
        self.throttles = 0

    def __call__(self, response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        """Count one response."""
        self.requests += 1
        if response_dict is not None and response_dict.get("status_code") == 429:
            self.throttles += 1


def kwargs_for(instance_id: str, queues: list[str], workload: str) -> dict[str, Any]:
    return {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues, "Channels": CHANNELS},
        "CurrentMetrics": METRICS,
        **WORKLOADS[workload],
    }


@attrs.define
class Outcome:
    """One contender's run: wall time and peak memory of the fetch alone, and counts."""

    wall: float = 0.0
    peak: int = 0
    requests: int = 0
    throttles: int = 0
    errors: int = 0
    #: AGENTS_AVAILABLE as the contender reports it (summary workload; else None).
    agents: float | None = None


def summary_value(responses: Sequence[dict[str, Any]], name: str) -> float | None:
    """`name` added up over the ungrouped summaries of `responses` (None: not asked)."""
    found = [
        collection.get("Value") or 0.0
        for response in responses
        for row in response.get("MetricResults", ())
        if not row.get("Dimensions")
        for collection in row.get("Collections", ())
        if collection["Metric"]["Name"] == name
    ]
    return float(sum(found)) if found else None


#: Trace peak memory while timing. tracemalloc slows every allocation down (about 2x
#: here), which changes the timing of what it traces: the contention benchmark, which
#: measures timing alone, turns it off.
TRACE_MEMORY = {"on": True}


@contextlib.contextmanager
def timed(outcome: Outcome) -> Iterator[None]:
    """Time and trace the fetch only: clients are built before, as a service does once."""
    tracing = TRACE_MEMORY["on"]
    if tracing:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        outcome.wall = time.perf_counter() - started
        if tracing:
            outcome.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


def boto3_sequential(endpoint: str, key: str, kwargs: dict[str, Any]) -> Outcome:
    client = boto3.client(
        "connect",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=DUMMY_SECRET,
    )
    client.describe_instance(InstanceId=kwargs["InstanceId"])  # warm: connection, botocore
    counter = Counter()
    client.meta.events.register("response-received.connect.*", counter)
    outcome = Outcome()
    queues = kwargs["Filters"]["Queues"]
    responses = []
    with timed(outcome):
        for start in range(0, len(queues), 100):
            ids = queues[start : start + 100]
            batch = {**kwargs, "Filters": {**kwargs["Filters"], "Queues": ids}}
            try:
                response = client.get_current_metric_data(**batch)
                responses.append(response)
                while "NextToken" in response:
                    token = response["NextToken"]
                    response = client.get_current_metric_data(**batch, NextToken=token)
                    responses.append(response)
            except botocore.exceptions.ClientError:
                outcome.errors += 1
    outcome.requests, outcome.throttles = counter.requests, counter.throttles
    outcome.agents = summary_value(responses, "AGENTS_AVAILABLE")
    return outcome


@contextlib.asynccontextmanager
async def warm_client(
    endpoint: str, key: str, instance_id: str, config: AioConfig
) -> AsyncIterator[Any]:
    """An aiobotocore Connect client, warmed like the boto3 one (untimed, quota-free)."""
    async with get_session().create_client(
        "connect",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=DUMMY_SECRET,
        config=config,
    ) as client:
        await client.describe_instance(InstanceId=instance_id)
        yield client


async def aiobotocore_gather(
    endpoint: str, key: str, kwargs: dict[str, Any], retry_mode: str | None = None
) -> Outcome:
    """One coroutine per batch, all at once, with botocore's retries.

    Its default mode, or `retry_mode` ("standard", "adaptive") with that mode's attempts.
    """
    counter = Counter()
    outcome = Outcome()
    retries = {} if retry_mode is None else {"retries": {"mode": retry_mode}}
    config = AioConfig(max_pool_connections=100, **retries)
    async with warm_client(endpoint, key, kwargs["InstanceId"], config) as client:
        client.meta.events.register("response-received.connect.*", counter)
        queues = kwargs["Filters"]["Queues"]

        responses: list[dict[str, Any]] = []

        async def batch(ids: list[str]) -> None:
            params = {**kwargs, "Filters": {**kwargs["Filters"], "Queues": ids}}
            response = await client.get_current_metric_data(**params)
            responses.append(response)
            while "NextToken" in response:
                token = response["NextToken"]
                response = await client.get_current_metric_data(**params, NextToken=token)
                responses.append(response)

        with timed(outcome):
            outcomes = await asyncio.gather(
                *(batch(queues[s : s + 100]) for s in range(0, len(queues), 100)),
                return_exceptions=True,
            )
    outcome.errors = sum(1 for o in outcomes if isinstance(o, Exception))
    outcome.requests, outcome.throttles = counter.requests, counter.throttles
    outcome.agents = summary_value(responses, "AGENTS_AVAILABLE")
    return outcome


#: The quota's burst refills in 8 / 5 = 1.6 s: a client warmed by an earlier call waits
#: this long before the timed one, so that it starts with a full quota like the others.
REFILL = 2.0


async def library(
    endpoint: str, key: str, kwargs: dict[str, Any], *, cold: bool = False
) -> Outcome:
    """The library's drop-in call; unless `cold`, on a client that made an earlier call.

    The earlier call (200 of the queues, untimed) makes the routing-profile map, as a
    long-running service's earlier calls do; the timed call then checks the map (one
    ListRoutingProfiles request, counted) while its batches run.
    """
    outcome = Outcome()
    config = AioConfig(retries={"total_max_attempts": 1}, max_pool_connections=32)
    async with (
        warm_client(endpoint, key, kwargs["InstanceId"], config) as client,
        ConnectMetrics(client=client, retry=RetryPolicy(deadline=600)) as cm,
    ):
        if not cold and "QUEUE" not in kwargs.get("Groupings", ()):
            earlier = {**kwargs["Filters"], "Queues": kwargs["Filters"]["Queues"][:200]}
            await cm.boto.get_current_metric_data(**{**kwargs, "Filters": earlier})
            await asyncio.sleep(REFILL)
        calls, throttles = cm.stats.calls, cm.stats.throttles
        with timed(outcome):
            try:
                response = await cm.boto.get_current_metric_data(**kwargs)
                outcome.agents = summary_value([response], "AGENTS_AVAILABLE")
            except Exception:  # noqa: BLE001 - an error surfaced to the caller is what we count
                outcome.errors = 1
        outcome.requests = cm.stats.calls - calls
        outcome.throttles = cm.stats.throttles - throttles
    return outcome


async def library_cold(endpoint: str, key: str, kwargs: dict[str, Any]) -> Outcome:
    """The library on a new client: the routing-profile map is made in the call."""
    return await library(endpoint, key, kwargs, cold=True)


def run_one(
    contender: Callable[[str, str, dict[str, Any]], Any],
    endpoint: str,
    key: str,
    kwargs: dict[str, Any],
) -> Outcome:
    """Run one contender to completion (in an event loop of its own if it is async)."""
    if asyncio.iscoroutinefunction(contender):
        return cast(Outcome, asyncio.run(contender(endpoint, key, kwargs)))
    return cast(Outcome, contender(endpoint, key, kwargs))


def calibrate(endpoint: str, key: str, kwargs: dict[str, Any]) -> tuple[int, int, float]:
    """(total pages, most pages of one batch, median seconds per request).

    Asked batch by batch, one request at a time, on a warm client, so the quota never
    interferes: the median round trip is the service's real response time for this
    workload (the injected latency plus the fake's own work), used in the bound.
    """

    async def count() -> tuple[int, int, float]:
        async with ConnectMetrics(
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=DUMMY_SECRET,
        ) as cm:
            queues = kwargs["Filters"]["Queues"]
            most = total = 0
            timings = []
            for start in range(0, len(queues), 100):
                ids = queues[start : start + 100]
                started = time.perf_counter()
                await cm.boto.get_current_metric_data(
                    **{**kwargs, "Filters": {**kwargs["Filters"], "Queues": ids}}
                )
                pages = cm.stats.pages - total
                timings.append((time.perf_counter() - started) / pages)
                total, most = cm.stats.pages, max(most, pages)
            return total, most, statistics.median(timings)

    return asyncio.run(count())


#: (centre layout, workload) in the order they run for each size.
RUNS = (("spread", "summary"), ("departments", "summary"), ("spread", "queue+channel"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--only", nargs="+", help="contenders to run (default: all)")
    args = parser.parse_args()
    contenders: dict[str, Callable[[str, str, dict[str, Any]], Any]] = {
        "boto3 sequential": boto3_sequential,
        "aiobotocore gather": aiobotocore_gather,
        "aioconnectmetrics": library,
        "aioconnectmetrics cold": library_cold,
    }
    results = []
    header = (
        f"{'queues':>6} {'centre':<11} {'workload':<14} {'contender':<22} {'wall s':>7} "
        f"{'requests':>8} {'429s':>5} {'errors':>6} {'peak MB':>8} {'vs bound':>8} "
        f"{'AGENTS_AVAILABLE':>18}"
    )
    print(f"fake service: {LATENCY * 1000:.0f} ms latency, quota {RATE:g}/s burst {BURST}")
    print(header)
    print("-" * len(header))
    # One snapshot for the whole run: every contender answers the same moment's question.
    with fake_service(args.sizes, snapshot_interval=86400.0, departments=True) as fake:
        endpoint = fake["endpoint"]
        serial = 0
        for size in args.sizes:
            for layout, workload in RUNS:
                if workload not in args.workloads:
                    continue
                centre = str(size) if layout == "spread" else f"{size}/{layout}"
                instance_id, queues = fake["instances"][centre]
                truth = fake["truth"][centre]["AGENTS_AVAILABLE"]
                kwargs = kwargs_for(instance_id, queues, workload)
                serial += 1
                total, most, round_trip = calibrate(endpoint, f"counting-{serial}", kwargs)
                bound = max(round_trip * most, max(0, total - BURST) / RATE + round_trip)
                for name, contender in contenders.items():
                    if args.only and name not in args.only:
                        continue
                    if name.endswith("cold") and workload != "summary":
                        continue  # no map: the rows carry their queue
                    serial += 1
                    outcome = run_one(contender, endpoint, f"bench-{serial}", kwargs)
                    agents = "-"
                    if outcome.agents is not None:
                        verdict = "= truth" if outcome.agents == truth else f"/ {truth:.0f}"
                        agents = f"{outcome.agents:.0f} {verdict}"
                    row = {
                        "queues": size,
                        "centre": layout,
                        "workload": workload,
                        "contender": name,
                        "wall_s": outcome.wall,
                        "requests": outcome.requests,
                        "throttles": outcome.throttles,
                        "errors": outcome.errors,
                        "peak_mb": outcome.peak / 1e6,
                        "bound_s": bound,
                        "ratio": outcome.wall / bound,
                        "min_requests": total,
                        "round_trip_s": round_trip,
                        "agents_available": outcome.agents,
                        "agents_available_truth": truth if workload == "summary" else None,
                    }
                    results.append(row)
                    print(
                        f"{size:>6} {layout:<11} {workload:<14} {name:<22} {outcome.wall:>7.2f} "
                        f"{outcome.requests:>8} {outcome.throttles:>5} {outcome.errors:>6} "
                        f"{outcome.peak / 1e6:>8.1f} {outcome.wall / bound:>7.2f}x {agents:>18}"
                    )
    out = Path(__file__).parent / "results" / "compare.json"
    out.write_text(json.dumps(results, indent=2))
    print(
        "lower bound = max(round trip x pages on the critical path, "
        f"(requests - {BURST}) / {RATE:g} + round trip), with the fewest requests the "
        "workload needs and the measured median round trip of one request; "
        "AGENTS_AVAILABLE: the contender's / the truth (each agent once)"
    )


if __name__ == "__main__":
    main()
