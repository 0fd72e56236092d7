"""What opening a client costs: botocore's data read once a process, or once a client.

A service that opens a `ConnectMetrics` per job, per tenant or per test pays the client's
set-up each time: an aiobotocore session, its Connect and STS clients, and STS
``GetCallerIdentity``. The sessions the library makes share one botocore data loader
(service models, endpoints, partitions), so the JSON is parsed once a process. Given a
fresh session of its own each time (``session=AioSession()``), a client parses it all
again: that is what every open cost before the loader was shared.

Against the embedded fake on loopback (no latency), alternating the two ways, each open
timed from ``async with`` to inside it (the STS call included), median of the rounds.

Run: python -m benchmarks.client_open [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import anyio
from aiobotocore.session import AioSession

from aioconnectmetrics.testing import FakeConnect


async def _open_once(fake: FakeConnect, instance_id: str, *, own_session: bool) -> float:
    options = {"session": AioSession()} if own_session else {}
    started = time.perf_counter()
    async with fake.metrics_client(instance_id, **options):
        return time.perf_counter() - started


async def _run(rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"shared loader (default)": [], "a new session each": []}
    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        await _open_once(fake, instance_id, own_session=False)  # imports, first parse
        for _ in range(rounds):
            times["shared loader (default)"].append(
                await _open_once(fake, instance_id, own_session=False)
            )
            times["a new session each"].append(
                await _open_once(fake, instance_id, own_session=True)
            )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    times = anyio.run(_run, args.rounds)
    base = statistics.median(times["a new session each"])
    print(
        f"| opening a client ({args.rounds} rounds, alternated) | median | p90 | vs new session |"
    )
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"| {name} | {median * 1000:.1f} ms | {p90 * 1000:.1f} ms | {median / base:.2f}x |")
    out = Path(__file__).parent / "results" / "client_open.json"
    out.write_text(json.dumps({name: sorted(values) for name, values in times.items()}, indent=2))


if __name__ == "__main__":
    main()
