"""What exact agent counts cost, and what listing the agents themselves costs.

Against the fake service in a separate process (50 ms latency, the real quotas), over
1,000 and 5,000 queues of a populated centre (routing profiles serve neighbouring queues
and two from anywhere, so most profiles reach several batches), one client asks for the
instance summary of AGENTS_ONLINE, AGENTS_AVAILABLE and CONTACTS_IN_QUEUE, and the
table gives HTTP requests, pages, wall time, and the AGENTS_ONLINE it got, exact or with
its bounds. Each size under its own access key (a full quota each).

The second table lists the agents themselves (`get_agents`, GetCurrentUserData at its
quota of 2 per second, burst 5) over the same queues, asked two ways: by the queues
(batches of 100 queues, whose agents overlap: an agent comes back in every batch that
holds one of its queues) and by ``routing_profiles="all"`` (every agent in exactly one
batch). Requests count every HTTP call (the listings too), pages those of
GetCurrentUserData.

Run: python -m benchmarks.agents [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import time

import anyio

from aioconnectmetrics import ConnectMetrics

from .compare import DUMMY_SECRET, REGION, fake_service

METRICS = ["AGENTS_ONLINE", "AGENTS_AVAILABLE", "CONTACTS_IN_QUEUE"]


def client(endpoint: str, instance_id: str, key: str) -> ConnectMetrics:
    """A client of the benchmark's fake under access key `key`, without a cache."""
    return ConnectMetrics(
        instance_id,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=DUMMY_SECRET,
        cache=None,
    )


async def summary(endpoint: str, instance_id: str, queues: list[str], key: str) -> list[str]:
    async with client(endpoint, instance_id, key) as cm:
        started = time.perf_counter()
        result = await cm.get_current_metrics(METRICS, queues=queues)
        wall = time.perf_counter() - started
        row = result.summary
        assert row is not None
        online = f"{row['AGENTS_ONLINE']:g}"
        bounds = row.bounds("AGENTS_ONLINE")
        shown = f"{online} exact" if row.is_exact("AGENTS_ONLINE") else f"{online} in {bounds}"
        stats = cm.stats
        return [
            str(len(queues)),
            str(result.batches),
            str(stats.calls),
            str(stats.pages),
            f"{wall:.2f}",
            shown,
        ]


async def roster(
    endpoint: str, instance_id: str, queues: list[str], key: str, how: str
) -> list[str]:
    async with client(endpoint, instance_id, key) as cm:
        started = time.perf_counter()
        if how == "queues":
            agents = await cm.get_agents(queues=queues)
        else:
            agents = await cm.get_agents(routing_profiles="all")
        wall = time.perf_counter() - started
        stats = cm.stats
        counts = (len(queues), how, stats.calls, agents.pages, f"{wall:.2f}", len(agents))
        return [str(value) for value in counts]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    rows = []
    with fake_service(args.sizes) as fake:
        for size in args.sizes:
            instance_id, queues = fake["instances"][str(size)]
            rows.append(anyio.run(summary, fake["endpoint"], instance_id, queues, f"agents{size}"))
        listed = []
        for size in args.sizes:
            instance_id, queues = fake["instances"][str(size)]
            for how in ("queues", "profiles"):
                key = f"{how}{size}"
                listed.append(anyio.run(roster, fake["endpoint"], instance_id, queues, key, how))
    print("Instance summary of AGENTS_ONLINE, AGENTS_AVAILABLE, CONTACTS_IN_QUEUE")
    print(f"{'queues':>7}{'batches':>9}{'requests':>10}{'pages':>7}{'wall s':>8}  AGENTS_ONLINE")
    for queues, batches, requests, pages, wall, online in rows:
        print(f"{queues:>7}{batches:>9}{requests:>10}{pages:>7}{wall:>8}  {online}")
    print()
    print("The agents themselves (get_agents), by the queues or by routing_profiles='all'")
    print(f"{'queues':>7}  {'asked by':<9}{'requests':>9}{'pages':>7}{'wall s':>8}{'agents':>8}")
    for queues, how, requests, pages, wall, agents in listed:
        print(f"{queues:>7}  {how:<9}{requests:>9}{pages:>7}{wall:>8}{agents:>8}")


if __name__ == "__main__":
    main()
