"""Four replicas of one service, one AWS account: with and without the Redis backend.

What it measures: 4 processes, each a `ConnectMetrics` asking for the same instance
summary over 1,000 queues (10 batches, plus the queue listing) at the same moment,
against the fake service in its own process (50 ms latency, the real quotas: 5/s burst 8
per account). Once with each replica on its own (in-process cache and limiter), once
sharing a Redis backend (cache, single-flight lease) and a Redis token bucket. It prints
upstream requests (all replicas), 429s received, errors surfaced, and wall time (from
the common start to the last replica's answer). Needs a ``redis-server`` binary.

Run: python -m benchmarks.replicas
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._redis import redis_server
from .compare import fake_service

REPLICAS = 4
QUEUES = 1000


def run_replicas(endpoint: str, instance_id: str, redis_url: str) -> list[dict[str, Any]]:
    start_at = time.time() + 3.0  # time for the processes to import and connect
    processes = [
        subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "benchmarks._replica",
                endpoint,
                instance_id,
                redis_url,
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    outcomes = [json.loads(p.communicate(timeout=300)[0]) for p in processes]
    for outcome in outcomes:
        outcome["start_at"] = start_at
    return outcomes


def main() -> None:
    rows = []
    with redis_server() as redis_url, fake_service([QUEUES]) as fake:
        if redis_url is None:
            return
        instance_id, _ = fake["instances"][str(QUEUES)]
        for name, url in (
            ("each on its own", "none"),
            ("shared Redis backend", f"{redis_url}/0"),
        ):
            outcomes = run_replicas(fake["endpoint"], instance_id, url)
            rows.append(
                {
                    "setup": name,
                    "requests": sum(o["calls"] for o in outcomes),
                    "throttles": sum(o["throttles"] for o in outcomes),
                    "errors": sum(1 for o in outcomes if o["error"]),
                    "wall_s": max(o["done"] for o in outcomes) - outcomes[0]["start_at"],
                }
            )
    print(
        f"{REPLICAS} replicas x {QUEUES} queues (instance summary), "
        "fake at 50 ms, quota 5/s burst 8"
    )
    print(f"{'setup':<24}{'requests':>10}{'429s':>6}{'errors':>8}{'wall s':>9}")
    for row in rows:
        print(
            f"{row['setup']:<24}{row['requests']:>10}{row['throttles']:>6}{row['errors']:>8}{row['wall_s']:>9.2f}"
        )
    (Path(__file__).parent / "results" / "replicas.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
