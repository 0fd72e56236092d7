"""The fake service in a process of its own, for benchmarks.

Run: python -m benchmarks._fake_process OUT.json SIZE [SIZE ...] [--latency S]
         [--snapshot-interval S] [--connection-setup S] [--tls] [--role-sessions N]
         [--consumer KEY:RATE:BURST[:DELAY:DURATION] ...]
Writes {"endpoint": ..., "ca_bundle": ..., "instances": {size: [instance_id, [queue
ids]]}} to OUT.json once it serves, then runs until killed. ``--tls``: HTTPS, with a
self-signed certificate (``ca_bundle``), each connection's set-up in its handshake.
``--role-sessions N``: an account with N sessions of one role and one user's static key
(``credentials``). Each
``--consumer`` is another caller of the account ``KEY``'s GetCurrentMetricData quota,
from that account's first request on (see `FakeConnect.add_other_consumer`).
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
    parser.add_argument("--tls", action="store_true", help="serve HTTPS (self-signed)")
    parser.add_argument(
        "--role-sessions",
        type=int,
        default=0,
        help="make an account with this many sessions of one role and a static user key",
    )
    parser.add_argument("--consumer", action="append", default=[])
    args = parser.parse_args()
    setup = args.connection_setup
    with FakeConnect(
        seed=6,
        latency=args.latency,
        snapshot_interval=args.snapshot_interval,
        connection_setup=(0.8 * setup, 1.2 * setup),
        tls=args.tls,
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
        credentials: dict[str, object] = {}
        if args.role_sessions:
            account = fake.add_account()
            keys = [fake.user_credentials(account, "static")] + [
                fake.role_credentials(account, "Board", f"replica-{i}")
                for i in range(args.role_sessions)
            ]
            static, *sessions = [
                {"key": k.access_key, "secret": k.secret_key, "token": k.token or ""} for k in keys
            ]
            credentials = {"account": account, "static": static, "sessions": sessions}
        ready = {
            "endpoint": fake.endpoint_url,
            "ca_bundle": fake.ca_bundle,
            "instances": instances,
            "credentials": credentials,
        }
        partial = args.out.with_suffix(".tmp")
        partial.write_text(json.dumps(ready))
        partial.rename(args.out)
        threading.Event().wait()


if __name__ == "__main__":
    main()
