"""Redis of the benchmarks' own on free loopback ports: one server, or a cluster."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _servers(count: int, *extra: str, directory: str | None = None) -> Iterator[list[int]]:
    """`count` redis-servers on free loopback ports (each `extra`, in `directory`)."""
    binary = shutil.which("redis-server") or "redis-server"
    ports = [_free_port() for _ in range(count)]
    buses = [_free_port() for _ in range(count)]  # a cluster's bus ports, named {bus}
    where = ["--dir", directory] if directory else []
    fixed = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *where]
    servers = [
        subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                binary,
                "--port",
                str(port),
                *fixed,
                *(arg.format(i=i, bus=buses[i]) for arg in extra),
            ],
            stdout=subprocess.DEVNULL,
        )
        for i, port in enumerate(ports)
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server on port {port} did not start") from None
                    time.sleep(0.05)
        yield ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """Yield ``redis://127.0.0.1:PORT`` (no database), or None with no redis-server binary."""
    if shutil.which("redis-server") is None:
        print("no redis-server binary: install it (apt-get install redis-server)")
        yield None
        return
    with _servers(1) as (port,):
        yield f"redis://127.0.0.1:{port}"


@contextlib.contextmanager
def redis_cluster(nodes: int = 3) -> Iterator[tuple[str, Callable[[], None]] | None]:
    """Yield ``redis+cluster://`` to a cluster of `nodes` primaries and a flush-all, or None."""
    cli = shutil.which("redis-cli")
    if shutil.which("redis-server") is None or cli is None:
        print("no redis-server or redis-cli binary: install them (apt-get install redis-server)")
        yield None
        return
    with (
        tempfile.TemporaryDirectory(prefix="aioconnectmetrics-bench-cluster-") as directory,
        _servers(nodes, "--cluster-enabled", "yes", "--cluster-config-file", "nodes-{i}.conf",
                 "--cluster-port", "{bus}", directory=directory) as ports,
    ):  # fmt: skip

        def run(*command: str) -> str:
            done = subprocess.run(  # noqa: S603 - a fixed command line
                [cli, *command], check=True, capture_output=True, text=True
            )
            return done.stdout

        run("--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes")
        while not all("cluster_state:ok" in run("-p", str(p), "cluster", "info") for p in ports):
            time.sleep(0.05)

        def flush() -> None:
            for port in ports:
                run("-p", str(port), "flushall")

        yield f"redis+cluster://127.0.0.1:{ports[0]}", flush
