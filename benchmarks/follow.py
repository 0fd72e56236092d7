"""A thousand browsers on one board: server-sent events against polling a JSON endpoint.

The fake service runs here (real clock, 15 s snapshots, 50 ms latency, the real quotas),
and each server in a process of its own, so that its CPU and memory are its own:

* **board (SSE)**: ``aioconnectmetrics board`` itself; each client holds one event stream
  open, as the page's ``EventSource`` does;
* **JSON polling**: ``examples/aiohttp_wallboard.py`` (one shared client, its cache and
  single-flight), each client asking every `--poll` seconds from a random phase, as a
  polling page does.

Both ask the same question (four real-time metrics of every queue, grouped by queue).
Each round: the clients connect, then `--seconds` of measurement. Reported: upstream
requests (GetCurrentMetricData) per snapshot; the delay from a snapshot's time to a
client having it (p50, p99, and the last client); the server's CPU (share of one core
over the round) and its memory (RSS at the end, and its peak), read from /proc.

Run: python -m benchmarks.follow [--clients 1000] [--seconds 60] [--queues 200]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import anyio

from aioconnectmetrics.testing import FakeConnect

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]
SNAPSHOT = re.compile(rb'"snapshot_time":\s*"([^"]+)"')
ROOT = Path(__file__).parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, peak RSS) in MB (/proc/PID/status)."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def server(
    command: list[str], port: int, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, once it accepts connections on `port`."""
    process = subprocess.Popen(  # noqa: S603 - our own commands
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            import socket  # noqa: PLC0415

            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[2]} did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def snapshot_of(text: bytes) -> float | None:
    match = SNAPSHOT.search(text)
    return datetime.fromisoformat(match.group(1).decode()).timestamp() if match else None


async def sse_client(
    http: aiohttp.ClientSession, url: str, firsts: dict[float, float], stop: float
) -> None:
    """One browser's event stream: when each snapshot first reached it."""
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with http.get(url) as response:
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    if b"event: answer" in event:
                        snapshot = snapshot_of(event)
                        if snapshot is not None:
                            firsts.setdefault(snapshot, time.time())
                if time.time() > stop:
                    return


async def polling_client(
    http: aiohttp.ClientSession,
    url: str,
    firsts: dict[float, float],
    *,
    stop: float,
    every: float,
    phase: float,
) -> None:
    """One polling page: a GET every `every` seconds; when each snapshot first came."""
    await anyio.sleep(phase)
    while time.time() < stop:
        asked = time.monotonic()
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(url) as response:
                snapshot = snapshot_of(await response.read())
                if snapshot is not None:
                    firsts.setdefault(snapshot, time.time())
        await anyio.sleep(max(0.0, every - (time.monotonic() - asked)))


async def one_round(
    kind: str,
    fake: FakeConnect,
    instance_id: str,
    *,
    clients: int,
    seconds: float,
    poll: float,
) -> dict[str, Any]:
    """Serve `kind` ("board" or "polling") to `clients` for `seconds`: the figures."""
    port = free_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_CONNECT": fake.endpoint_url,
        "AWS_ENDPOINT_URL_STS": fake.endpoint_url,
        "AWS_ACCESS_KEY_ID": f"bench-{kind}",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_DEFAULT_REGION": fake.region_name,
        "AIOCONNECTMETRICS_INSTANCE_ID": instance_id,
    }
    if kind == "board":
        command = [
            sys.executable, "-m", "aioconnectmetrics", "board", *METRICS, "--all-queues",
            "--group-by", "QUEUE", "--ids", "--listen", f"127.0.0.1:{port}",
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}/events"
    else:
        command = [
            sys.executable, "-c",
            "from aiohttp import web; from examples.aiohttp_wallboard import make_app; "
            f"web.run_app(make_app(), host='127.0.0.1', port={port}, print=None)",
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}/wallboard"
    firsts: list[dict[float, float]] = [{} for _ in range(clients)]
    with server(command, port, env) as process:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            # Warm: the server's first answer (its client opened, the queues listed).
            async with http.get(url) as response:
                if kind == "board":
                    async for line in response.content:
                        if line.startswith(b"event: answer"):
                            break
                else:
                    await response.read()
            fake.clear_requests()
            cpu_before = cpu_seconds(process.pid)
            started = time.time()
            stop = started + seconds
            draw = random.Random(7)
            async with anyio.create_task_group() as group:
                for mine in firsts:
                    if kind == "board":
                        group.start_soon(sse_client, http, url, mine, stop)
                    else:
                        group.start_soon(
                            functools.partial(
                                polling_client, http, url, mine, stop=stop, every=poll,
                                phase=draw.random() * poll,
                            )
                        )  # fmt: skip
                await anyio.sleep(max(0.0, stop - time.time()))
                group.cancel_scope.cancel()
            ended = time.time()
            cpu = cpu_seconds(process.pid) - cpu_before
            rss, peak = memory_mb(process.pid)
    upstream = sum(n for (op, _), n in fake.counts().items() if op == "GetCurrentMetricData")
    # Snapshots that began during the round (each client's first look at an older one
    # is its connection, not a delivery).
    snapshots = sorted({s for mine in firsts for s in mine if s >= started})
    delays = [mine[s] - s for mine in firsts for s in snapshots if s in mine]
    missing = sum(1 for mine in firsts for s in snapshots if s not in mine and s < stop - poll)
    lasts = [max(mine[s] for mine in firsts if s in mine) - s for s in snapshots]
    return {
        "server": kind,
        "clients": clients,
        "seconds": ended - started,
        "snapshots": len(snapshots),
        "upstream_requests": upstream,
        "requests_per_snapshot": upstream / max(1, len(snapshots)),
        "delay_p50": statistics.median(delays) if delays else None,
        "delay_p99": statistics.quantiles(delays, n=100)[98] if len(delays) > 1 else None,
        "delay_last": max(lasts) if lasts else None,
        "undelivered": missing,
        "cpu_share": cpu / (ended - started),
        "rss_mb": rss,
        "peak_rss_mb": peak,
    }


async def run(clients: int, seconds: float, poll: float, queues: int) -> list[dict[str, Any]]:
    with FakeConnect(latency=0.05, snapshot_interval=15.0, seed=5) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=queues)
        return [
            await one_round(kind, fake, instance_id, clients=clients, seconds=seconds, poll=poll)
            for kind in ("board", "polling")
        ]


def _fmt(value: float | None, unit: str = "s") -> str:
    return "-" if value is None else f"{value:.2f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=5.0, help="the polling pages' period")
    parser.add_argument("--queues", type=int, default=200)
    args = parser.parse_args()
    rows = anyio.run(run, args.clients, args.seconds, args.poll, args.queues)
    print(
        f"{args.clients} clients for {args.seconds:.0f} s, {args.queues} queues by QUEUE, "
        f"fake: 15 s snapshots, 50 ms latency; polling every {args.poll:g} s"
    )
    print(
        "| server | snapshots | upstream requests | per snapshot | delay p50 | delay p99 "
        "| last client | server CPU | RSS (peak) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        name = "board (SSE)" if row["server"] == "board" else f"JSON polling ({args.poll:g} s)"
        print(
            f"| {name} | {row['snapshots']} | {row['upstream_requests']} "
            f"| {row['requests_per_snapshot']:.1f} | {_fmt(row['delay_p50'])} "
            f"| {_fmt(row['delay_p99'])} | {_fmt(row['delay_last'])} "
            f"| {row['cpu_share'] * 100:.1f}% "
            f"| {row['rss_mb']:.0f} MB ({row['peak_rss_mb']:.0f}) |"
        )
    undelivered = sum(row["undelivered"] for row in rows)
    if undelivered:
        print(f"warning: {undelivered} (client, snapshot) deliveries never arrived")
    out = Path(__file__).parent / "results" / "follow.json"
    out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
