"""Redis clients from a URL: one server or a cluster, over TLS, as an ACL user.

`client_from_url` reads the forms `RedisBackend.from_url` and `RedisRateLimiter.from_url`
document (docs/replicas.md#redis-in-production):

* ``redis://[user:password@]host:port/db``, ``rediss://...`` (TLS), ``unix:///path``: one
  server (or the primary a managed service names);
* ``redis+cluster://[user:password@]host:port``, ``rediss+cluster://...``: a cluster, any
  node of it as the seed (ElastiCache and MemoryDB in cluster mode, ElastiCache
  Serverless: their configuration endpoint).

`ca_file` is the certificate authority a TLS server is checked against (the system's
when not given); it belongs to a TLS URL only. `Ready` initialises a cluster client once,
before its first command: redis-py's cluster client, used by several tasks at once
before it has read the cluster's slots, fails some of their script calls (redis-py
#3935).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from .._errors import InvalidSettingError

#: A client the Redis backends take: one server's, or a cluster's.
AnyRedis = aioredis.Redis | RedisCluster
#: URL schemes of a cluster, and the scheme redis-py reads in their place.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
#: URL schemes of one server.
SERVER_SCHEMES = ("redis", "rediss", "unix")
#: URL schemes that speak TLS.
TLS_SCHEMES = ("rediss", "rediss+cluster")
_ALLOWED = "redis://, rediss://, unix://, redis+cluster:// or rediss+cluster://"


def client_from_url(url: object, *, ca_file: str | None = None, timeout: float = 1.0) -> AnyRedis:
    """A client for `url` (one of the forms above), with socket timeouts of `timeout`."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidSettingError("url", url, f"a URL: {_ALLOWED}")
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in CLUSTER_SCHEMES and scheme not in SERVER_SCHEMES:
        raise InvalidSettingError("url", url, f"a URL: {_ALLOWED}")
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if ca_file is not None:
        if scheme not in TLS_SCHEMES:
            raise InvalidSettingError(
                "ca_file",
                ca_file,
                "a CA file goes with a TLS URL (rediss:// or rediss+cluster://)",
            )
        if not Path(ca_file).is_file():
            raise InvalidSettingError(
                "ca_file", ca_file, "an existing PEM file of CA certificates (no such file)"
            )
        options["ssl_ca_certs"] = ca_file
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", **options)
    return aioredis.Redis.from_url(url, **options)


class Ready:
    """Makes a cluster client ready once, before its first command; nothing for a server.

    The first caller initialises it (reads the slots) while the others wait; a failure
    leaves it to the next call to try again.
    """

    def __init__(self, client: AnyRedis) -> None:
        self._client = client if isinstance(client, RedisCluster) else None
        self._lock = anyio.Lock()

    async def __call__(self) -> None:
        """Return once the client can take commands from any number of tasks."""
        if self._client is None:
            return
        async with self._lock:
            if self._client is not None:
                await self._client.initialize()
                self._client = None
