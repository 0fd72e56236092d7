"""Four replicas of one service, one AWS account: with and without the Redis backend.

What it measures: 4 processes, each a `ConnectMetrics` over 1,000 queues (10 batches,
plus the queue listing), all starting at the same moment, against the fake service in
its own process (50 ms latency, the real quotas: 5/s burst 8 per account). Setups:

* each replica on its own (in-process cache and limiter), every replica one question;
* sharing a Redis backend (cache, single-flight lease) and a Redis token bucket, every
  replica asking the same instance summary, signed with one static key of the account
  (an IAM user's), then each with its own session of one IAM role, as replicas on ECS
  task roles, EKS (IRSA), Lambda or instance profiles run;
* the same two credential setups, each replica asking a different metric (so 40 metric
  requests of one account's quota), with the bound: the earliest the account's bucket
  admits them all, plus one round trip.

The four Redis setups run on one redis-server, then on a three-node Redis cluster
(``redis+cluster://``; needs ``redis-cli`` too). It prints upstream requests (all
replicas), 429s received, errors surfaced, and wall time (from the common start to the
last replica's answer). Needs ``redis-server``.

Run: python -m benchmarks.replicas
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._redis import redis_cluster, redis_server
from .compare import BURST, RATE, calibrate, fake_service
from .contention import kwargs_for

REPLICAS = 4
QUEUES = 1000


#: One question per replica, none an agent metric (no routing-profile requests): 10
#: metric requests each.
DIFFERENT = [
    ["CONTACTS_IN_QUEUE"],
    ["CONTACTS_SCHEDULED"],
    ["OLDEST_CONTACT_AGE"],
    ["CONTACTS_IN_QUEUE", "CONTACTS_SCHEDULED"],
]


def run_replicas(
    endpoint: str,
    instance_id: str,
    redis_url: str,
    credentials: list[dict[str, str] | None],
    questions: list[list[str]],
) -> list[dict[str, Any]]:
    start_at = time.time() + 3.0  # time for the processes to import and connect
    processes = []
    for keys, metrics in zip(credentials, questions, strict=True):
        env = dict(os.environ)
        if keys is not None:
            env.update(REPLICA_KEY=keys["key"], REPLICA_SECRET=keys["secret"])
            env["REPLICA_TOKEN"] = keys["token"]
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [
                    sys.executable,
                    "-m",
                    "benchmarks._replica",
                    endpoint,
                    instance_id,
                    redis_url,
                    str(start_at),
                    *metrics,
                ],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    outcomes = [json.loads(p.communicate(timeout=300)[0]) for p in processes]
    for outcome in outcomes:
        outcome["start_at"] = start_at
    return outcomes


def main() -> None:
    rows = []
    with (
        redis_server() as redis_url,
        redis_cluster() as cluster,
        fake_service([QUEUES], role_sessions=REPLICAS) as fake,
    ):
        if redis_url is None:
            return
        instance_id, queues = fake["instances"][str(QUEUES)]
        static = fake["credentials"]["static"]
        sessions = fake["credentials"]["sessions"]
        _, _, round_trip = calibrate(fake["endpoint"], "counting", kwargs_for(instance_id, queues))
        same = [["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"]] * REPLICAS
        different = DIFFERENT
        shared: list[tuple[str, list[dict[str, str] | None], list[list[str]]]] = [
            ("one static key", [static] * REPLICAS, same),
            ("role sessions", sessions, same),
            ("one static key, different", [static] * REPLICAS, different),
            ("role sessions, different", sessions, different),
        ]
        # Each setup starts from an empty store: a database of its own on the server, the
        # cluster's keys flushed (a cluster has one database).
        setups: list[tuple[str, str, list[dict[str, str] | None], list[list[str]]]] = [
            ("each on its own", "none", [None] * REPLICAS, same),
            *((f"Redis, {n}", f"{redis_url}/{db}", c, q) for db, (n, c, q) in enumerate(shared)),
        ]
        if cluster is not None:
            setups += [(f"Redis cluster, {n}", cluster[0], c, q) for n, c, q in shared]
        for name, url, credentials, questions in setups:
            if cluster is not None and url == cluster[0]:
                cluster[1]()
            outcomes = run_replicas(fake["endpoint"], instance_id, url, credentials, questions)
            metric_requests = REPLICAS * (QUEUES // 100)
            rows.append(
                {
                    "setup": name,
                    "requests": sum(o["calls"] for o in outcomes),
                    "throttles": sum(o["throttles"] for o in outcomes),
                    "errors": sum(1 for o in outcomes if o["error"]),
                    "wall_s": max(o["done"] for o in outcomes) - outcomes[0]["start_at"],
                    "bound_s": (metric_requests - BURST) / RATE + round_trip
                    if questions is different
                    else None,
                }
            )
    print(
        f"{REPLICAS} replicas x {QUEUES} queues, fake at 50 ms, quota 5/s burst 8 per account; "
        "Redis: one server, then a three-node cluster"
    )
    header = (
        f"{'setup':<42}{'requests':>9}{'429s':>6}{'errors':>7}{'wall s':>8}{'bound s':>8}"
        f"{'vs bound':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        bound = row["bound_s"]
        versus = f"{row['wall_s'] / bound:>8.2f}x" if bound else f"{'-':>9}"
        bound_text = f"{bound:>8.2f}" if bound else f"{'-':>8}"
        print(
            f"{row['setup']:<42}{row['requests']:>9}{row['throttles']:>6}{row['errors']:>7}"
            f"{row['wall_s']:>8.2f}{bound_text}{versus}"
        )
    print(
        "same question: every replica the instance summary of CONTACTS_IN_QUEUE and "
        "AGENTS_AVAILABLE; different: a question each, no agent metric; "
        "bound = (40 - burst) / rate + one round trip"
    )
    (Path(__file__).parent / "results" / "replicas.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
