"""The fake service in a process of its own, for benchmarks.

Run: python -m benchmarks._fake_process OUT.json SIZE [SIZE ...] [--latency S]
         [--snapshot-interval S] [--consumer KEY:RATE:BURST[:DELAY:DURATION] ...]
Writes {"endpoint": ..., "instances": {size: [instance_id, [queue ids]]}} to OUT.json
once it serves, then runs until killed. Each ``--consumer`` is another caller of the
account ``KEY``'s GetCurrentMetricData quota, from that account's first request on (see
`FakeConnect.add_other_consumer`).
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from aioconnectmetrics.testing import FakeConnect


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--snapshot-interval", type=float, default=15.0)
    parser.add_argument(
        "--connection-setup",
        type=float,
        default=0.0,
        help="seconds a new connection's first request reaches the service late (+-20%%)",
    )
    parser.add_argument("--consumer", action="append", default=[])
    args = parser.parse_args()
    setup = args.connection_setup
    with FakeConnect(
        seed=6,
        latency=args.latency,
        snapshot_interval=args.snapshot_interval,
        connection_setup=(0.8 * setup, 1.2 * setup),
    ) as fake:
        for spec in args.consumer:
            key, rate, burst, *timing = spec.split(":")
            delay, duration = (float(timing[0]), float(timing[1])) if timing else (0.0, None)
            fake.add_other_consumer(
                float(rate), burst=int(burst), access_key=key, delay=delay, duration=duration
            )
        instances = {}
        for size in args.sizes:
            instance_id = fake.add_instance()
            populated = fake.populate(instance_id, queues=size)
            instances[size] = [instance_id, list(populated.queue_ids)]
        ready = {"endpoint": fake.endpoint_url, "instances": instances}
        partial = args.out.with_suffix(".tmp")
        partial.write_text(json.dumps(ready))
        partial.rename(args.out)
        threading.Event().wait()


if __name__ == "__main__":
    main()
