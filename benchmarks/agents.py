"""What exact agent counts cost: the instance summary over many queues.

Against the fake service in a separate process (50 ms latency, the real quotas), over
1,000 and 5,000 queues of a populated centre (routing profiles serve neighbouring queues
and two from anywhere, so most profiles reach several batches), one client asks for the
instance summary of AGENTS_ONLINE, AGENTS_AVAILABLE and CONTACTS_IN_QUEUE, and the
table gives HTTP requests, pages, wall time, and the AGENTS_ONLINE it got, exact or with
its bounds. Each size under its own access key (a full quota each).

Run: python -m benchmarks.agents [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import time

import anyio

from aioconnectmetrics import ConnectMetrics

from .compare import DUMMY_SECRET, REGION, fake_service

METRICS = ["AGENTS_ONLINE", "AGENTS_AVAILABLE", "CONTACTS_IN_QUEUE"]


async def summary(endpoint: str, instance_id: str, queues: list[str], key: str) -> list[str]:
    async with ConnectMetrics(
        instance_id,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=DUMMY_SECRET,
        cache=None,
    ) as cm:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    rows = []
    with fake_service(args.sizes) as fake:
        for size in args.sizes:
            instance_id, queues = fake["instances"][str(size)]
            rows.append(anyio.run(summary, fake["endpoint"], instance_id, queues, f"agents{size}"))
    print("Instance summary of AGENTS_ONLINE, AGENTS_AVAILABLE, CONTACTS_IN_QUEUE")
    print(f"{'queues':>7}{'batches':>9}{'requests':>10}{'pages':>7}{'wall s':>8}  AGENTS_ONLINE")
    for queues, batches, requests, pages, wall, online in rows:
        print(f"{queues:>7}{batches:>9}{requests:>10}{pages:>7}{wall:>8}  {online}")


if __name__ == "__main__":
    main()
