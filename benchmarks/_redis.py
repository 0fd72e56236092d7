"""A redis-server of the benchmarks' own on a free loopback port."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """Yield ``redis://127.0.0.1:PORT`` (no database), or None with no redis-server binary."""
    server = shutil.which("redis-server")
    if server is None:
        print("no redis-server binary: install it (apt-get install redis-server)")
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(  # noqa: S603 - a fixed command line
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}"
    finally:
        redis.terminate()
        redis.wait(timeout=10)
