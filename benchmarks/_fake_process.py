"""The fake service in a process of its own, for benchmarks.

Run: python -m benchmarks._fake_process OUT.json SIZE [SIZE ...] [--latency S]
         [--snapshot-interval S] [--connection-setup S] [--tls] [--role-sessions N]
         [--departments] [--no-quotas] [--consumer KEY:RATE:BURST[:DELAY:DURATION] ...]
Writes {"endpoint": ..., "ca_bundle": ..., "instances": {size: [instance_id, [queue
ids]]}, "truth": {size: {metric: value}}} to OUT.json once it serves, then runs until
killed. ``--departments``: besides each populated centre (``populate``'s "spread"
layout), one of the "departments" layout per size, keyed ``SIZE/departments``, its
queues listed shuffled. ``truth``: each instance's summary over all its queues and
channels at the snapshot of the moment it started (CONTACTS_IN_QUEUE, AGENTS_ONLINE,
AGENTS_AVAILABLE: each agent once). ``--tls``: HTTPS, with a
self-signed certificate (``ca_bundle``), each connection's set-up in its handshake.
``--role-sessions N``: an account with N sessions of one role and one user's static key
(``credentials``). Each
``--consumer`` is another caller of the account ``KEY``'s GetCurrentMetricData quota,
from that account's first request on (see `FakeConnect.add_other_consumer`).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
from pathlib import Path
from typing import Any

from aioconnectmetrics.testing import FakeConnect
from aioconnectmetrics.testing._service import DEFAULT_QUOTAS

#: The summary the benchmarks check their answers against (each agent once).
TRUTH_METRICS = ("CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE")
CHANNELS = ("VOICE", "CHAT", "TASK", "EMAIL")


def truth(fake: FakeConnect, instance_id: str, queues: list[str]) -> dict[str, Any]:
    """The instance's summary over `queues` at the present snapshot."""
    snapshot = fake.service.snapshot_index(fake.clock())
    [(_, values)] = fake.centre(instance_id).current_rows(
        snapshot,
        queue_ids=queues,
        routing_profile_ids=None,
        channels=CHANNELS,
        groupings=(),
        metrics=TRUTH_METRICS,
    )
    return {"snapshot": snapshot, **values}


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
    parser.add_argument(
        "--departments",
        action="store_true",
        help="also a centre of the 'departments' layout per size (SIZE/departments)",
    )
    parser.add_argument("--consumer", action="append", default=[])
    parser.add_argument(
        "--no-quotas", action="store_true", help="no quota at all (CPU benchmarks, not pacing)"
    )
    args = parser.parse_args()
    setup = args.connection_setup
    with FakeConnect(
        seed=6,
        latency=args.latency,
        snapshot_interval=args.snapshot_interval,
        connection_setup=(0.8 * setup, 1.2 * setup),
        tls=args.tls,
        quotas=None if args.no_quotas else DEFAULT_QUOTAS,
    ) as fake:
        for spec in args.consumer:
            key, rate, burst, *timing = spec.split(":")
            delay, duration = (float(timing[0]), float(timing[1])) if timing else (0.0, None)
            fake.add_other_consumer(
                float(rate), burst=int(burst), access_key=key, delay=delay, duration=duration
            )
        instances: dict[str, list[Any]] = {}
        truths: dict[str, dict[str, Any]] = {}
        layouts = ["spread", "departments"] if args.departments else ["spread"]
        for size in args.sizes:
            for layout in layouts:
                instance_id = fake.add_instance()
                queues = list(fake.populate(instance_id, queues=size, layout=layout).queue_ids)
                if layout == "departments":  # as a listing gives them: not by department
                    random.Random(size).shuffle(queues)
                key = str(size) if layout == "spread" else f"{size}/{layout}"
                instances[key] = [instance_id, queues]
                truths[key] = truth(fake, instance_id, queues)
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
            "truth": truths,
            "credentials": credentials,
        }
        partial = args.out.with_suffix(".tmp")
        partial.write_text(json.dumps(ready))
        partial.rename(args.out)
        threading.Event().wait()


if __name__ == "__main__":
    main()
