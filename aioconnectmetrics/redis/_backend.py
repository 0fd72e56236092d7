"""`RedisBackend`: cache entries and fetch leases in Redis."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from .._backend import MemoryBackend, entry_from_json, entry_to_json
from .._cache import CacheEntry
from .._checks import check_count, settings_checked
from .._errors import BackendUnavailableError
from ._connect import AnyRedis, Ready, client_from_url
from ._guard import Fallback, Guard, T, check_fallback
from ._lua import RELEASE, RENEW


class RedisBackend:
    """A cache backend in Redis, shared by every process that uses the same Redis.

    Args:
        client: a ``redis.asyncio.Redis`` or ``RedisCluster`` (give it socket timeouts);
            see `from_url`.
        namespace: the prefix of every key.
        fallback: ``"local"`` (default) keeps working with an in-process cache while
            Redis is unreachable, with a warning; ``"error"`` raises
            `BackendUnavailableError` instead.
        timeout: seconds any one Redis call may take.
        max_rows: the bound of the in-process fallback cache.
    """

    def __init__(
        self,
        client: AnyRedis,
        *,
        namespace: str = "aioconnectmetrics",
        fallback: Fallback = "local",
        timeout: float = 1.0,
        max_rows: int = 200_000,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._guard = Guard(
            "cache", timeout, check_fallback(fallback), retry_after=5.0, prepare=Ready(client)
        )
        with settings_checked():
            self._local = MemoryBackend(check_count("max_rows", max_rows, minimum=1))
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)

    @classmethod
    def from_url(cls, url: str, *, ca_file: str | None = None, **kwargs: Any) -> RedisBackend:
        """A backend on a new client for `url`, with socket timeouts of `timeout`.

        `url`: ``redis://[user:password@]host:port/db``, ``rediss://`` for TLS,
        ``redis+cluster://`` or ``rediss+cluster://`` for a cluster (any node, or a
        managed service's configuration endpoint). `ca_file`: the CA a TLS server is
        checked against. See docs/replicas.md#redis-in-production.
        """
        timeout = kwargs.get("timeout", 1.0)
        return cls(client_from_url(url, ca_file=ca_file, timeout=timeout), **kwargs)

    async def aclose(self) -> None:
        """Close the Redis client."""
        await self.client.aclose()

    def _key(self, key: str, part: str) -> str:
        # A hash tag: an entry and its lease live in one slot of a Redis cluster.
        return f"{self.namespace}:{{{key}}}:{part}"

    async def _use(
        self, redis_call: Callable[[], Awaitable[T]], local_call: Callable[[], Awaitable[T]]
    ) -> T:
        if self._guard.down and self._guard.fallback == "local":
            return await local_call()
        try:
            return await self._guard.call(redis_call)
        except BackendUnavailableError:
            if self._guard.fallback == "error":
                raise
            return await local_call()

    async def get(self, key: str) -> CacheEntry | None:
        """The entry stored under `key` (JSON, of this format version), or None."""

        async def from_redis() -> CacheEntry | None:
            stored = await self.client.get(self._key(key, "entry"))
            return entry_from_json(stored) if stored is not None else None

        return await self._use(from_redis, lambda: self._local.get(key))

    async def set(self, key: str, entry: CacheEntry, ttl: float) -> None:
        """Store the entry as JSON; Redis forgets it after `ttl` seconds."""
        text = entry_to_json(entry)

        async def to_redis() -> None:
            await self.client.set(self._key(key, "entry"), text, px=max(1, int(ttl * 1000)))

        await self._use(to_redis, lambda: self._local.set(key, entry, ttl))

    async def acquire_lease(self, key: str, ttl: float) -> str | None:
        """``SET NX PX`` a random token: it, or None when another process holds the lease."""
        token = secrets.token_hex(16)

        async def in_redis() -> str | None:
            taken = await self.client.set(
                self._key(key, "lease"), token, nx=True, px=max(1, int(ttl * 1000))
            )
            return token if taken else None

        return await self._use(in_redis, lambda: self._local.acquire_lease(key, ttl))

    async def release_lease(self, key: str, token: str) -> None:
        """Delete the lease only if `token` still holds it (compare-and-delete in Lua)."""

        async def in_redis() -> None:
            await self._release(keys=[self._key(key, "lease")], args=[token])

        await self._use(in_redis, lambda: self._local.release_lease(key, token))

    async def renew_lease(self, key: str, token: str, ttl: float) -> bool:
        """Extend the lease only if `token` still holds it."""

        async def in_redis() -> bool:
            renewed = await self._renew(
                keys=[self._key(key, "lease")], args=[token, max(1, int(ttl * 1000))]
            )
            return bool(renewed)

        return await self._use(in_redis, lambda: self._local.renew_lease(key, token, ttl))
