"""Several processes, one quota and one cache: Redis backends (the ``redis`` extra).

``RedisBackend`` stores cache entries as versioned JSON (never pickles) under namespaced
keys, with their lifetimes kept by Redis, and gives one process at a time the right to
fetch a key (a lease: ``SET NX PX`` with a random token, renewed while the fetch runs,
released by compare-and-delete). ``RedisRateLimiter`` keeps each token bucket in Redis:
one atomic Lua script per token, on Redis's own clock (``TIME``), so the processes that
share an AWS account share its quota.

When Redis cannot be reached, both either fall back to their in-process equivalents
(with a warning; the default) or raise `BackendUnavailableError`. Every Redis call is
bounded in time: nothing waits forever on a Redis that does not answer.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar

import anyio
import redis.asyncio as aioredis
import redis.exceptions

from ._cache import CacheEntry, MemoryBackend, entry_from_json, entry_to_json
from ._errors import BackendUnavailableError, InvalidRequestError
from ._limiter import SERVICE_QUOTAS, Bucket, BucketStats, TokenBucket
from ._request import check_count, check_positive

__all__ = ["RedisBackend", "RedisRateLimiter", "RedisTokenBucket"]

logger = logging.getLogger("aioconnectmetrics")
T = TypeVar("T")
Fallback = Literal["local", "error"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# The bucket of `_limiter.TokenBucket`, in Lua: the state lives in one hash, time comes
# from Redis, and the script runs atomically, so grants are FIFO across processes.
_BUCKET_STATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max_rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local floor, recovery, slack = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'last_grant', 'trate', 'tat')
local tokens = tonumber(s[1]) or burst
local updated = tonumber(s[2]) or (now + slack)
local last_grant = tonumber(s[3]) or -1e18
local trate = tonumber(s[4]) or max_rate
local tat = tonumber(s[5]) or -1e18
local function rate_at(x)
  if trate >= max_rate or recovery <= 0 then return max_rate end
  return math.min(max_rate, trate + (max_rate - floor) / recovery * (x - tat))
end
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate_at(updated))
  updated = now
end
"""
_BUCKET_SAVE = """
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(updated),
  'last_grant', tostring(last_grant), 'trate', tostring(trate), 'tat', tostring(tat))
redis.call('PEXPIRE', KEYS[1], 3600000)
"""
_ACQUIRE = (
    _BUCKET_STATE
    + """
local rate = rate_at(now)
tokens = tokens - 1
local grant = now
if tokens < 0 then
  grant = math.max(math.max(now, updated) - tokens / rate, last_grant + 1 / rate)
end
last_grant = grant
"""
    + _BUCKET_SAVE
    + """
return {tostring(grant - now), tostring(rate)}
"""
)
_THROTTLED = (
    _BUCKET_STATE
    + """
trate = math.max(floor, rate_at(now) / 2)
tat = now
if tokens > 0 then tokens = 0 end
"""
    + _BUCKET_SAVE
    + """
return tostring(trate)
"""
)
_GIVE_BACK = "return redis.call('HINCRBYFLOAT', KEYS[1], 'tokens', 1)"

_REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    TimeoutError,
    OSError,
)


def _check_fallback(fallback: object) -> Fallback:
    if fallback == "local":
        return "local"
    if fallback == "error":
        return "error"
    raise InvalidRequestError("fallback", fallback, "'local' (with a warning) or 'error'")


class _Guard:
    """Runs Redis calls with a time bound; notes an outage once, and when it ends."""

    def __init__(self, what: str, timeout: float, fallback: Fallback, retry_after: float) -> None:
        self.what = what
        self.timeout = check_positive("timeout", timeout)
        self.fallback = fallback
        self.retry_after = retry_after
        self._down_since: float | None = None

    @property
    def down(self) -> bool:
        """Whether to skip Redis for now (it failed less than `retry_after` ago)."""
        return (
            self._down_since is not None and time.monotonic() - self._down_since < self.retry_after
        )

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation`; on an outage raise `BackendUnavailableError`, noting it."""
        try:
            with anyio.fail_after(self.timeout):
                result = await operation()
        except _REDIS_DOWN as exc:
            if self._down_since is None:
                action = (
                    "using in-process state instead"
                    if self.fallback == "local"
                    else "failing calls"
                )
                logger.warning("Redis %s unavailable (%s): %s", self.what, exc, action)
            self._down_since = time.monotonic()
            raise BackendUnavailableError(f"Redis {self.what} unavailable: {exc}") from exc
        if self._down_since is not None:
            logger.warning("Redis %s is back", self.what)
            self._down_since = None
        return result


class RedisBackend:
    """A cache backend in Redis, shared by every process that uses the same Redis.

    Args:
        client: a ``redis.asyncio.Redis`` (give it socket timeouts); see `from_url`.
        namespace: the prefix of every key.
        fallback: ``"local"`` (default) keeps working with an in-process cache while
            Redis is unreachable, with a warning; ``"error"`` raises
            `BackendUnavailableError` instead.
        timeout: seconds any one Redis call may take.
        max_rows: the bound of the in-process fallback cache.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        namespace: str = "aioconnectmetrics",
        fallback: Fallback = "local",
        timeout: float = 1.0,
        max_rows: int = 200_000,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._guard = _Guard("cache", timeout, _check_fallback(fallback), retry_after=5.0)
        self._local = MemoryBackend(check_count("max_rows", max_rows, minimum=1))
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBackend:
        """A backend on a new client for `url` (``redis://host:port/db``), with timeouts."""
        client = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, **kwargs)

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


class RedisTokenBucket:
    """One token bucket kept in Redis; every process using the same key shares it."""

    def __init__(
        self,
        limiter: RedisRateLimiter,
        key: str,
        rate: float,
        burst: int,
        local: TokenBucket,
    ) -> None:
        self._limiter = limiter
        self.key = key
        self.max_rate = rate
        self.burst = burst
        self._local = local  # the fallback while Redis is unreachable
        self._args = [rate, burst, rate / 8, limiter.recovery, limiter.startup_slack]
        self._acquired = 0
        self._waited = 0.0
        self._throttles = 0
        self._rate = rate

    async def acquire(self) -> float:
        """Take a token from the shared bucket, waiting for the grant Redis gave."""
        guard = self._limiter.guard
        if guard.down and guard.fallback == "local":
            return await self._local.acquire()
        try:
            wait_text, rate_text = await guard.call(
                lambda: self._limiter.acquire_script(keys=[self.key], args=self._args)
            )
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise
            return await self._local.acquire()
        wait, self._rate = float(wait_text), float(rate_text)
        if wait > 0:
            try:
                await anyio.sleep(wait)
            except BaseException:
                # Cancelled before its turn: give the token back to the shared bucket.
                with anyio.CancelScope(shield=True), anyio.move_on_after(guard.timeout):
                    await self._limiter.give_back_script(keys=[self.key])
                raise
        self._acquired += 1
        self._waited += max(0.0, wait)
        return max(0.0, wait)

    async def report_throttle(self) -> None:
        """Halve the shared bucket's rate: every process slows down."""
        self._throttles += 1
        guard = self._limiter.guard
        if guard.down and guard.fallback == "local":
            self._local.throttled()
            return
        try:
            rate_text = await guard.call(
                lambda: self._limiter.throttled_script(keys=[self.key], args=self._args)
            )
            self._rate = float(rate_text)
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise
            self._local.throttled()

    @property
    def stats(self) -> BucketStats:
        """This process's counters of the shared bucket."""
        return BucketStats(self._acquired, self._waited, self._throttles, self._rate)


class RedisRateLimiter:
    """Token buckets per (credential identity, region, operation), kept in Redis.

    Give it to every `ConnectMetrics` of every process that uses the same AWS account:
    together they stay under its quota. Arguments as for `RateLimiter`, plus:

    Args:
        client: a ``redis.asyncio.Redis``; see `from_url`.
        namespace: the prefix of every key.
        fallback: ``"local"`` (default): while Redis is unreachable, each process keeps
            an in-process bucket (so together they may exceed the quota), with a
            warning; ``"error"`` raises `BackendUnavailableError` instead.
        timeout: seconds any one Redis call may take.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        namespace: str = "aioconnectmetrics",
        headroom: float = 0.95,
        startup_slack: float = 0.05,
        recovery: float = 10.0,
        fallback: Fallback = "local",
        timeout: float = 1.0,
    ) -> None:
        if not 0 < headroom <= 1:
            raise InvalidRequestError("headroom", headroom, "a fraction in (0, 1]")
        self.client = client
        self.quotas = dict(SERVICE_QUOTAS if quotas is None else quotas)
        for rate, burst in self.quotas.values():
            check_positive("rate", rate)
            check_count("burst", burst, minimum=1)
        self.namespace = namespace
        self.headroom = headroom
        self.startup_slack = startup_slack
        self.recovery = recovery
        self.guard = _Guard("limiter", timeout, _check_fallback(fallback), retry_after=5.0)
        self.acquire_script = client.register_script(_ACQUIRE)
        self.throttled_script = client.register_script(_THROTTLED)
        self.give_back_script = client.register_script(_GIVE_BACK)
        self._buckets: dict[tuple[str, str, str], RedisTokenBucket] = {}

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRateLimiter:
        """A limiter on a new client for `url`, with timeouts."""
        client = aioredis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, **kwargs)

    async def aclose(self) -> None:
        """Close the Redis client."""
        await self.client.aclose()

    def bucket(self, identity: str, region: str, operation: str) -> Bucket | None:
        """The shared bucket for these, or None for an operation with no quota."""
        key = (identity, region, operation)
        found = self._buckets.get(key)
        if found is None:
            if operation not in self.quotas:
                return None
            rate, burst = self.quotas[operation]
            rate *= self.headroom
            redis_key = f"{self.namespace}:{{bucket:{identity}:{region}:{operation}}}"
            local = TokenBucket(
                rate, burst, recovery=self.recovery, startup_slack=self.startup_slack
            )
            found = self._buckets[key] = RedisTokenBucket(self, redis_key, rate, burst, local)
        return found

    def stats(self) -> dict[tuple[str, str, str], BucketStats]:
        """This process's counters per (identity, region, operation)."""
        return {key: bucket.stats for key, bucket in self._buckets.items()}
