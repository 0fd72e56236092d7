"""What the OpenTelemetry hooks cost when no provider is configured.

With ``opentelemetry-api`` installed and no SDK set up (the API's no-op tracer and
meter), the same calls against the embedded fake (no latency, quotas off, an
unlimited limiter) with the hooks on, and with them off (as without the package),
alternated round by round in one process: a fetch of 10 batches (cache bypassed) and
a cache hit. Median of the rounds, microseconds per call.

Run: python -m benchmarks.otel_cost [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import anyio

from aioconnectmetrics import RateLimiter, _telemetry
from aioconnectmetrics._limiter import SERVICE_QUOTAS
from aioconnectmetrics.testing import FakeConnect

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"]


async def _run(rounds: int) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {
        kind: {"hooks on": [], "hooks off": []} for kind in ("fetch", "hit")
    }
    limiter = RateLimiter(dict.fromkeys(SERVICE_QUOTAS, (1e6, 10**6)))
    with FakeConnect(quotas=None, seed=1) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 1000)
        async with fake.metrics_client(instance_id, limiter=limiter) as cm:
            await cm.get_current_metrics(METRICS, queues=queues)  # warm: imports, the cache
            for _ in range(rounds):
                for state in ("hooks on", "hooks off"):
                    _telemetry.AVAILABLE = state == "hooks on"
                    started = time.perf_counter()
                    await cm.get_current_metrics(METRICS, queues=queues, cache="bypass")
                    times["fetch"][state].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    for _ in range(200):
                        await cm.get_current_metrics(METRICS, queues=queues)
                    times["hit"][state].append((time.perf_counter() - started) / 200)
    _telemetry.AVAILABLE = True
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not _telemetry.AVAILABLE:
        raise SystemExit("install the otel extra: pip install -e '.[otel]'")
    times = anyio.run(_run, args.rounds)
    print(
        f"| call ({args.rounds} rounds, alternated; no provider) | hooks on | hooks off | ratio |"
    )
    print("|---|---|---|---|")
    for kind, label in (("fetch", "fetch, 10 batches"), ("hit", "cache hit")):
        on = statistics.median(times[kind]["hooks on"]) * 1e6
        off = statistics.median(times[kind]["hooks off"]) * 1e6
        print(f"| {label} | {on:,.0f} us | {off:,.0f} us | {on / off:.3f}x |")
    out = Path(__file__).parent / "results" / "otel_cost.json"
    out.write_text(json.dumps(times, indent=2))


if __name__ == "__main__":
    main()
