"""Redis as it runs in production: a cluster, TLS, a least-privilege ACL user.

Real servers on loopback, started here: a three-node cluster (`redis-cli --cluster
create`), a TLS server with a certificate made for the test, and the session's plain
server for the ACL user, whose rule is read from docs/replicas.md.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.exceptions import NoPermissionError

from aioconnectmetrics import BackendUnavailableError, InvalidSettingError
from aioconnectmetrics._backend import FORMAT_VERSION
from aioconnectmetrics.redis import RedisBackend, RedisRateLimiter
from aioconnectmetrics.testing import FakeConnect
from aioconnectmetrics.testing._tls import Certificate

from .redis_server import NO_REDIS, free_port, redis_servers
from .test_quota import busiest_window
from .test_redis import answer, first_pages, replica

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("redis-cli") is None, reason=NO_REDIS
)
OPERATION = "GetCurrentMetricData"


CLI = shutil.which("redis-cli") or "redis-cli"


def cli(port: int, *command: str) -> str:
    """A redis-cli command against the node on `port`: its output."""
    return subprocess.run(  # noqa: S603 - a fixed command line
        [CLI, "-p", str(port), *command], check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def cluster(primaries: int, replicas: int = 0) -> Iterator[list[int]]:
    """A Redis cluster on loopback (`replicas` per primary, 1 s node timeout): its ports.

    Each node's bus port is a free port of its own: the default, the port + 10,000, is
    past 65,535 for a high ephemeral port. A cluster that does not come up (on a loaded
    machine, a port taken between its choice and its use by a parallel worker) is
    started again on other ports, up to three times.
    """
    for attempt in range(3):
        with contextlib.ExitStack() as stack:
            try:
                ports = stack.enter_context(_cluster_once(primaries, replicas))
            except (subprocess.CalledProcessError, AssertionError, RuntimeError):
                if attempt == 2:
                    raise
                continue
            yield ports
            return


@contextlib.contextmanager
def _cluster_once(primaries: int, replicas: int) -> Iterator[list[int]]:
    with tempfile.TemporaryDirectory(prefix="aioconnectmetrics-cluster-") as directory:
        nodes = [
            ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{i}.conf",
             "--cluster-node-timeout", "1000", "--cluster-port", str(free_port())]
            for i in range(primaries * (1 + replicas))
        ]  # fmt: skip
        with redis_servers(*nodes, directory=Path(directory)) as ports:
            addresses = [f"127.0.0.1:{port}" for port in ports]
            subprocess.run(  # noqa: S603 - a fixed command line
                [CLI, "--cluster", "create", *addresses, "--cluster-replicas", str(replicas),
                 "--cluster-yes"],
                check=True,
                capture_output=True,
            )  # fmt: skip
            deadline = time.monotonic() + 20
            while not all("cluster_state:ok" in cli(port, "cluster", "info") for port in ports):
                assert time.monotonic() < deadline, "the cluster did not come up"
                time.sleep(0.05)
            yield ports


@pytest.fixture(name="cluster_url", scope="module")
def _cluster_url() -> Iterator[str]:
    """A three-node Redis cluster: ``redis+cluster://`` to one of its nodes."""
    with cluster(3) as ports:
        yield f"redis+cluster://127.0.0.1:{ports[0]}"


def node_ports(seed: int) -> list[int]:
    """The ports of every node of the cluster `seed` is in."""
    return [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)@", cli(seed, "cluster", "nodes"))]


@pytest.fixture(name="empty_cluster")
def _empty_cluster(cluster_url: str) -> str:
    """The cluster, every node's keys gone (the replica tests share one account's bucket)."""
    for port in node_ports(int(cluster_url.rsplit(":", 1)[1])):
        cli(port, "flushall")
    return cluster_url


@pytest.fixture(name="tls_server", scope="module")
def _tls_server() -> Iterator[tuple[str, str]]:
    """A redis-server speaking only TLS, its certificate made here: (URL, CA file)."""
    certificate = Certificate()
    args = [
        "--tls-cert-file", certificate.ca_bundle,
        "--tls-key-file", certificate.key_file,
        "--tls-ca-cert-file", certificate.ca_bundle,
        "--tls-auth-clients", "no",
    ]  # fmt: skip
    try:
        with redis_servers(args) as (port,):
            yield f"rediss://127.0.0.1:{port}/0", certificate.ca_bundle
    finally:
        certificate.remove()


def documented_acl_rule(password: str) -> str:
    """The ``ACL SETUSER`` line of docs/replicas.md, with `password`."""
    text = (ROOT / "docs" / "replicas.md").read_text()
    match = re.search(r"^ACL SETUSER .*$", text, re.MULTILINE)
    assert match is not None, "docs/replicas.md has no ACL SETUSER rule"
    return match.group(0).replace(">PASSWORD", f">{password}")


@pytest.mark.parametrize("kind", [RedisBackend, RedisRateLimiter])
@pytest.mark.parametrize(
    ("url", "ca_file", "field", "allowed"),
    [
        ("http://127.0.0.1:6379", None, "url", "rediss+cluster://"),
        ("127.0.0.1:6379", None, "url", "rediss+cluster://"),
        ("redis+sentinel://127.0.0.1:26379", None, "url", "rediss+cluster://"),
        ("redis://127.0.0.1:6379/0", "/etc/hostname", "ca_file", "with a TLS URL (rediss://"),
        ("redis+cluster://127.0.0.1:6379", "/etc/hostname", "ca_file", "with a TLS URL"),
        ("rediss://127.0.0.1:6379/0", "/no/such/ca.pem", "ca_file", "existing PEM file"),
    ],
)
def test_from_url_refuses_what_it_cannot_connect_to(
    kind: type[RedisBackend] | type[RedisRateLimiter],
    url: str,
    ca_file: str | None,
    field: str,
    allowed: str,
) -> None:
    """A wrong scheme or a CA file without TLS: an error naming the field, no connection."""
    with pytest.raises(InvalidSettingError) as caught:
        kind.from_url(url, ca_file=ca_file)
    assert caught.value.field == field
    assert allowed in str(caught.value)


def test_from_url_builds_the_client_its_form_names() -> None:
    """Cluster URLs make a cluster client; TLS URLs check against the CA file; users parse."""
    cluster = RedisBackend.from_url("rediss+cluster://user:secret@127.0.0.1:7000")
    assert isinstance(cluster.client, RedisCluster)
    certificate = Certificate()
    try:
        server = RedisRateLimiter.from_url(
            "rediss://aioconnectmetrics:secret@127.0.0.1:6380/2", ca_file=certificate.ca_bundle
        )
        assert isinstance(server.client, aioredis.Redis)
        pool = server.client.connection_pool
        assert pool.connection_class is SSLConnection
        assert pool.connection_kwargs["ssl_ca_certs"] == certificate.ca_bundle
        assert pool.connection_kwargs["username"] == "aioconnectmetrics"
        assert pool.connection_kwargs["db"] == 2
        assert pool.connection_kwargs["socket_timeout"] == 1.0
    finally:
        certificate.remove()


async def _round_trip(backend: RedisBackend, limiter: RedisRateLimiter, namespace: str) -> None:
    """Every Redis path the library takes: an entry, a lease, a bucket's take and throttle."""
    with FakeConnect(quotas=None) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 3)
        async with fake.metrics_client(instance_id, cache_backend=backend, limiter=limiter) as cm:
            first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            assert again == first
            assert cm.cache_stats.hits == 1
    bucket = limiter.bucket(f"{namespace}-identity", "us-east-1", OPERATION)
    assert bucket is not None
    grant = await bucket.acquire()
    await bucket.report_throttle(grant)
    assert bucket.stats.throttles == 1
    lease = f"{namespace}-lease"
    token = await backend.acquire_lease(lease, ttl=5)
    assert token is not None
    assert await backend.acquire_lease(lease, ttl=5) is None  # held
    assert await backend.renew_lease(lease, token, ttl=5)
    await backend.release_lease(lease, token)
    retaken = await backend.acquire_lease(lease, ttl=5)
    assert retaken is not None
    await backend.release_lease(lease, retaken)


async def test_an_acl_user_with_only_the_documented_rule(redis_url: str) -> None:
    """The rule from docs/replicas.md is enough for every path, a SCRIPT FLUSH included.

    And it is no more than that: other commands and other keys are refused to the user.
    """
    admin = aioredis.Redis.from_url(redis_url)
    password = uuid.uuid4().hex
    user = f"acm-{uuid.uuid4().hex[:8]}"
    rule = documented_acl_rule(password).replace("SETUSER aioconnectmetrics", f"SETUSER {user}")
    await admin.execute_command(*rule.split())  # type: ignore[no-untyped-call]
    url = redis_url.replace("redis://", f"redis://{user}:{password}@")
    backend = RedisBackend.from_url(url, fallback="error")
    limiter = RedisRateLimiter.from_url(url, fallback="error")
    try:
        await _round_trip(backend, limiter, "acl")
        await admin.script_flush()  # as a restart or a failover leaves the server
        await _round_trip(backend, limiter, "acl-after-flush")
        with pytest.raises(NoPermissionError):
            await backend.client.keys("*")
        with pytest.raises(NoPermissionError):
            await backend.client.set("someone-else:key", "x")
    finally:
        await backend.aclose()
        await limiter.aclose()
        await admin.execute_command("ACL", "DELUSER", user)  # type: ignore[no-untyped-call]
        await admin.aclose()


async def test_tls_with_a_ca_file(tls_server: tuple[str, str]) -> None:
    """``rediss://`` checked against the CA file given; without it the server is refused."""
    url, ca_file = tls_server
    backend = RedisBackend.from_url(url, ca_file=ca_file, fallback="error")
    limiter = RedisRateLimiter.from_url(url, ca_file=ca_file, fallback="error")
    try:
        await _round_trip(backend, limiter, "tls")
    finally:
        await backend.aclose()
        await limiter.aclose()
    unchecked = RedisBackend.from_url(url, fallback="error")  # the system's CAs only
    try:
        with pytest.raises(BackendUnavailableError, match="certificate verify failed"):
            await unchecked.get("anything")
    finally:
        await unchecked.aclose()


async def test_a_new_cluster_client_serves_many_tasks_at_once(cluster_url: str) -> None:
    """Fifty tasks' first commands on a fresh cluster client: none fails, keys in every node.

    redis-py's cluster client, used by several tasks before it has read the slots, fails
    some of their script calls (redis-py #3935): the backends make it ready first.
    """
    namespace = f"burst-{uuid.uuid4().hex[:8]}"
    backend = RedisBackend.from_url(cluster_url, namespace=namespace, fallback="error")
    limiter = RedisRateLimiter.from_url(cluster_url, namespace=namespace, fallback="error")
    tokens: list[str | None] = []
    try:
        async with anyio.create_task_group() as group:
            for i in range(25):
                bucket = limiter.bucket(f"account-{i}", "us-east-1", OPERATION)
                assert bucket is not None
                group.start_soon(bucket.acquire)

                async def lease(key: str = f"key-{i}") -> None:
                    tokens.append(await backend.acquire_lease(key, ttl=5))

                group.start_soon(lease)
        assert len(tokens) == 25
        assert all(tokens)
        client = backend.client
        assert isinstance(client, RedisCluster)
        holding = {
            node.name
            for node in client.get_primaries()
            if await client.execute_command("DBSIZE", target_nodes=node)
        }
        assert len(holding) == 3  # the keys are spread: every script ran on its own slot
        for port in node_ports(int(cluster_url.rsplit(":", 1)[1])):
            cli(port, "script", "flush")  # through redis-cli: redis-py 7.1 cannot route it
        await _round_trip(backend, limiter, namespace)  # NOSCRIPT: loaded again, run
    finally:
        await backend.aclose()
        await limiter.aclose()


def test_replicas_on_a_cluster_make_one_fan_out(empty_cluster: str) -> None:
    """Four processes asking the same thing through a cluster: one fan-out, one answer."""
    with FakeConnect(quotas=None, latency=1.0) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=150)
        processes = [
            replica(fake, instance_id, empty_cluster, "CONTACTS_IN_QUEUE") for _ in range(4)
        ]
        answers = [answer(p) for p in processes]
        assert first_pages(fake, "ListQueues") == 1
        assert first_pages(fake) == 2  # two batches, once
    assert len({a["value"] for a in answers}) == 1
    assert sorted(a["calls"] for a in answers) == [0, 0, 0, 3]


def test_replicas_on_a_cluster_share_one_quota(empty_cluster: str) -> None:
    """Three processes fetching different things through a cluster stay under one quota."""
    with FakeConnect(latency=0.01) as fake:
        instance_id = fake.add_instance()
        fake.add_queues(instance_id, 1000)
        metrics = ["CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"]
        processes = [replica(fake, instance_id, empty_cluster, m) for m in metrics]
        answers = [answer(p) for p in processes]
        requests = [r for r in fake.requests if r.operation == OPERATION]
    assert all(a["value"] is not None for a in answers)
    assert len(requests) >= 30
    assert sum(1 for r in requests if r.status == 429) <= 1
    first = min(r.time for r in requests)
    assert busiest_window(requests, after=first + 1.6) <= 6


async def test_a_primary_killed_mid_run(caplog: pytest.LogCaptureFixture) -> None:
    """A primary of a six-node cluster dies mid-run: answers keep coming, none waits long.

    The primary holding the account's bucket is shut down while one client asks question
    after question: every call answers, none takes longer than Redis's bound allows (1 s
    per backend, then the in-process fallback, with a warning for the limiter), and once
    its replica has taken over, each entry the dead primary held is read back or is a
    miss, never an error.
    """
    with cluster(3, replicas=1) as ports:
        url = f"redis+cluster://127.0.0.1:{ports[0]}"
        namespace = f"failover-{uuid.uuid4().hex[:8]}"
        backend = RedisBackend.from_url(url, namespace=namespace)
        limiter = RedisRateLimiter.from_url(url, namespace=namespace)
        durations: list[float] = []
        with FakeConnect(quotas=None) as fake:
            instance_id = fake.add_instance()
            queues = fake.add_queues(instance_id, 40)
            async with fake.metrics_client(
                instance_id, cache_backend=backend, limiter=limiter
            ) as cm:
                bucket_key = f"{namespace}:{{bucket:{cm.identity}:us-east-1:{OPERATION}}}"
                for i in range(40):
                    if i == 20:
                        assert isinstance(backend.client, RedisCluster)
                        victim = backend.client.get_node_from_key(bucket_key)
                        assert victim is not None
                        held = cli(int(victim.port), "keys", f"{namespace}:*:entry").split()
                        cli(int(victim.port), "shutdown", "nosave")
                    started = time.monotonic()
                    result = await cm.get_current_metrics(
                        ["CONTACTS_IN_QUEUE"], queues=queues[i : i + 1]
                    )
                    durations.append(time.monotonic() - started)
                    assert result.batches == 1
                    await anyio.sleep(0.02)
        await backend.aclose()
        await limiter.aclose()
        # A Redis call is bounded (1 s), then the fallback.
        assert max(durations) < 3.0, durations
        # The bucket's primary is the dead one: its next take finds it gone, and says so.
        # (The cache may or may not notice: redis-py retries a key whose node is gone
        # on the new map, and the failover can be over within the cache's 1 s.)
        assert "Redis limiter unavailable" in caplog.text
        assert victim is not None
        assert held  # twenty entries over three primaries: the dead one held some
        survivor = next(p for p in ports if p != int(victim.port))
        deadline = time.monotonic() + 20
        while "cluster_state:ok" not in cli(survivor, "cluster", "info"):
            assert time.monotonic() < deadline, "no replica took over"
            await anyio.sleep(0.1)
        after_url = f"redis+cluster://127.0.0.1:{survivor}"
        after = RedisBackend.from_url(after_url, namespace=namespace, fallback="error")
        after_limiter = RedisRateLimiter.from_url(after_url, namespace=namespace, fallback="error")
        try:
            for key in held:
                stored = await after.client.get(key)
                assert stored is None or json.loads(stored)["v"] == FORMAT_VERSION
            await _round_trip(after, after_limiter, namespace)
        finally:
            await after.aclose()
            await after_limiter.aclose()
