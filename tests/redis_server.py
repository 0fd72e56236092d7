"""A redis-server of our own on a free loopback port, for the tests that need Redis."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The reason Redis tests are skipped on a machine without the binary.
NO_REDIS = "no redis-server binary (.ci/run installs it with apt-get)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on loopback `port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """Return once something listens on `port` (raise if `process` died or it takes long)."""
    deadline = time.monotonic() + seconds
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {port} did not start")
        time.sleep(0.05)


@contextlib.contextmanager
def redis_servers(*extra: list[str], directory: Path | None = None) -> Iterator[list[int]]:
    """One redis-server per `extra` argument list, each on a free loopback port.

    Yields the ports (for a TLS server, its TLS port), and stops every server after.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):  # CI installs it: a skip there would hide the tests
            pytest.fail(NO_REDIS)
        pytest.skip(NO_REDIS)
    servers: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for args in extra:
            port = free_port()
            tls = "--tls-cert-file" in args
            where = ["--port", "0", "--tls-port", str(port)] if tls else ["--port", str(port)]
            dir_args = ["--dir", str(directory)] if directory is not None else []
            fixed = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            servers.append(
                subprocess.Popen(  # noqa: S603 - a fixed command line
                    [binary, *where, *fixed, *dir_args, *args], stdout=subprocess.DEVNULL
                )
            )
            ports.append(port)
        for port, server in zip(ports, servers, strict=True):
            wait_for_port(port, server)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


@pytest.fixture(name="redis_url", scope="session")
def _redis_url() -> Iterator[str]:
    """A redis-server on a free loopback port, gone after the session."""
    with redis_servers([]) as (port,):
        yield f"redis://127.0.0.1:{port}/0"
