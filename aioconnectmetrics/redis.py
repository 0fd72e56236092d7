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

import contextlib
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
from ._limiter import (
    Adaptation,
    Bucket,
    BucketStats,
    FifoTurns,
    TokenBucket,
    check_headroom,
    check_quotas,
)
from ._quota import FLOOR_DIVISOR, MIN_SPAN, THROTTLED_LEVEL, Grant
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
# The quota model of `_quota.QuotaModel`, in Lua: the state lives in one hash, time comes
# from Redis (or from the caller, for tests on virtual time), and each script runs
# atomically, so every process that shares the key shares one model and what it learnt.
# ARGV: rate, burst, hold, climb, window, slack, max_hold, now ('' for Redis TIME), then
# per script.
_MODEL = """
local now
if ARGV[8] ~= '' then
  now = tonumber(ARGV[8])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local hold, climb = tonumber(ARGV[3]), tonumber(ARGV[4])
local window, slack, max_hold = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'granted', 'throttles',
  'learnt', 'learnt_at', 'points', 'streak')
local tokens = tonumber(s[1]) or burst
local updated = tonumber(s[2]) or (now + slack)
local granted = tonumber(s[3]) or 0
local throttles = tonumber(s[4]) or 0
local learnt = tonumber(s[5]) or rate
local learnt_at = tonumber(s[6]) or -1e18
local points = {}
if s[7] then points = cjson.decode(s[7]) end
local streak = tonumber(s[8]) or 0
local function held() return math.min(max_hold, hold * 2 ^ streak) end
local function rate_at(x)
  if learnt >= rate then return rate end
  local since = x - learnt_at - held()
  if since <= 0 then return learnt end
  return rate - (rate - learnt) * math.exp(-since / climb)
end
local function refilled(a, b)
  if b <= a then return 0 end
  if learnt >= rate then return rate * (b - a) end
  local from = learnt_at + held()
  local total = 0
  if a < from then
    local flat_end = math.min(b, from)
    total = total + learnt * (flat_end - a)
    a = flat_end
  end
  if b > a then
    total = total + rate * (b - a) - (rate - learnt) * climb
      * (math.exp(-(a - from) / climb) - math.exp(-(b - from) / climb))
  end
  return total
end
if now > updated then
  tokens = math.min(burst, tokens + refilled(updated, now))
  updated = now
end
local function num(x) return string.format('%.17g', x) end
local function save()
  local encoded = '[]'
  if #points > 0 then encoded = cjson.encode(points) end
  redis.call('HSET', KEYS[1], 'tokens', num(tokens), 'updated', num(updated),
    'granted', num(granted), 'throttles', num(throttles), 'learnt', num(learnt),
    'learnt_at', num(learnt_at), 'points', encoded, 'streak', num(streak))
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
"""
_TAKE = (
    _MODEL
    + """
if tokens >= 1 - 1e-9 then
  tokens = tokens - 1
  granted = granted + 1
  save()
  return {'1', num(now), num(granted), num(rate_at(now))}
end
save()
-- Seconds until a whole token has refilled (the rate never falls): by bisection.
local start = math.max(now, updated)
local need = 1 - tokens
local low, high = need / rate, need / rate_at(start)
while high - low > 1e-6 do
  local middle = (low + high) / 2
  if refilled(start, start + middle) >= need then high = middle else low = middle end
end
return {'0', num((start - now) + high), '0', num(rate_at(now))}
"""
)
# A grant whose caller was cancelled before its request went out: its token comes back.
_GIVE_BACK = (
    _MODEL
    + """
tokens = math.min(burst, tokens + 1)
save()
return 1
"""
)
# ARGV[9] .. ARGV[13]: the throttled grant's time and seq; the floor's divisor; the
# shortest span that measures a rate; the level assumed at a throttle.
_THROTTLED = (
    _MODEL
    + """
local at, seq = tonumber(ARGV[9]), tonumber(ARGV[10])
local floor = rate / tonumber(ARGV[11])
throttles = throttles + 1
local horizon = at - window - held()
local kept = {}
for _, p in ipairs(points) do
  if p[1] >= horizon and not (p[1] == at and p[2] == seq) then kept[#kept + 1] = p end
end
kept[#kept + 1] = {at, seq}
table.sort(kept, function(x, y)
  if x[1] ~= y[1] then return x[1] < y[1] end
  return x[2] < y[2]
end)
points = kept
if #points >= 2 then
  local first, last = points[1], points[#points]
  local span = last[1] - first[1]
  if span >= tonumber(ARGV[12]) then
    local admitted = last[2] - first[2] - (#points - 1)
    local low = math.max(floor, (admitted - 1) / span)
    local high = math.max(low, math.min(rate, (admitted + 1) / span))
    if learnt < rate and now > learnt_at + held() then
      if low <= learnt and learnt <= high then streak = streak + 1 else streak = 0 end
    end
    learnt = (low + high) / 2
    learnt_at = now
  end
end
local newest = points[#points]
if newest[1] == at and newest[2] == seq then
  local level = tonumber(ARGV[13])
  if #points >= 2 and points[#points][2] - points[#points - 1][2] == 1 then level = 0 end
  tokens = math.min(burst, level + refilled(at, now) - (granted - seq))
end
save()
return num(rate_at(now))
"""
)

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
    """One token bucket kept in Redis; every process using the same key shares it.

    Each process keeps its own callers in FIFO order (`FifoTurns`); the head of each
    process's line asks the shared model for a token. So across processes grants go to
    whichever head asks first once a token is there, and what any process learns from a
    throttle (the rate that is left) every process uses at once.
    """

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
        adaptation = limiter.adaptation
        self._args = [
            repr(rate),
            str(burst),
            repr(adaptation.hold),
            repr(adaptation.climb),
            repr(adaptation.window),
            repr(adaptation.slack),
            repr(adaptation.max_hold),
        ]
        self._turns = FifoTurns(limiter.sleep)
        self._acquired = 0
        self._waited = 0.0
        self._throttles = 0
        self._rate = rate

    def _now(self) -> str:
        clock = self._limiter.clock
        return "" if clock is None else repr(clock())

    async def _take(self) -> Grant | float:
        answer = await self._limiter.guard.call(
            lambda: self._limiter.take_script(keys=[self.key], args=[*self._args, self._now()])
        )
        granted, value, seq, rate = answer
        self._rate = float(rate)
        if granted in (b"1", "1"):
            return Grant(float(value), int(float(seq)), origin=self.key)
        return float(value)

    async def _give_back(self, grant: Grant) -> None:
        # Redis unreachable: the caller is cancelled either way; the token refills.
        with contextlib.suppress(BackendUnavailableError):
            await self._limiter.guard.call(
                lambda: self._limiter.give_back_script(
                    keys=[self.key], args=[*self._args, self._now()]
                )
            )

    async def acquire(self) -> Grant:
        """Take a token from the shared bucket, waiting in line for it."""
        guard = self._limiter.guard
        if guard.down and guard.fallback == "local":
            return await self._local.acquire()
        try:
            grant = await self._turns.wait_for(
                self._take, self._give_back, self._limiter.local_clock
            )
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise
            return await self._local.acquire()
        self._acquired += 1
        self._waited += grant.waited
        return grant

    async def report_throttle(self, grant: Grant) -> None:
        """Teach the shared model: every process settles on the rate that is left."""
        self._throttles += 1
        if grant.origin != self.key:
            self._local.throttled(grant)  # granted by the fallback while Redis was away
            return
        guard = self._limiter.guard
        if guard.down:
            return  # the lesson is for the shared model, which cannot be reached now
        args = [
            *self._args,
            self._now(),
            repr(grant.at),
            str(grant.seq),
            repr(FLOOR_DIVISOR),
            repr(MIN_SPAN),
            repr(THROTTLED_LEVEL),
        ]
        try:
            rate_text = await guard.call(
                lambda: self._limiter.throttled_script(keys=[self.key], args=args)
            )
            self._rate = float(rate_text)
        except BackendUnavailableError:
            if guard.fallback == "error":
                raise

    @property
    def stats(self) -> BucketStats:
        """This process's counters of the shared bucket."""
        return BucketStats(self._acquired, self._waited, self._throttles, self._rate)


class RedisRateLimiter:
    """Token buckets per (credential identity, region, operation), kept in Redis.

    Give it to every `ConnectMetrics` of every process that uses the same AWS account:
    together they stay under its quota, and they share what their buckets learn about
    the rate that other callers leave. Arguments as for `RateLimiter`, plus:

    Args:
        client: a ``redis.asyncio.Redis``; see `from_url`.
        namespace: the prefix of every key.
        fallback: ``"local"`` (default): while Redis is unreachable, each process keeps
            an in-process bucket (so together they may exceed the quota), with a
            warning; ``"error"`` raises `BackendUnavailableError` instead.
        timeout: seconds any one Redis call may take.
        clock: None (default) for Redis's own clock (``TIME``); tests give a virtual
            clock (seconds), with `sleep` to match.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        quotas: Mapping[str, tuple[float, int]] | None = None,
        *,
        namespace: str = "aioconnectmetrics",
        headroom: float = 1.0,
        adaptation: Adaptation | None = None,
        fallback: Fallback = "local",
        timeout: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.client = client
        self.quotas = check_quotas(quotas)
        self.headroom = check_headroom(headroom)
        self.adaptation = adaptation if adaptation is not None else Adaptation()
        self.namespace = namespace
        self.guard = _Guard("limiter", timeout, _check_fallback(fallback), retry_after=5.0)
        self.clock = clock
        self.local_clock: Callable[[], float] = clock or anyio.current_time
        self.sleep = sleep
        self.take_script = client.register_script(_TAKE)
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
                rate, burst, clock=self.local_clock, sleep=self.sleep, adaptation=self.adaptation
            )
            found = self._buckets[key] = RedisTokenBucket(self, redis_key, rate, burst, local)
        return found

    def stats(self) -> dict[tuple[str, str, str], BucketStats]:
        """This process's counters per (identity, region, operation)."""
        return {key: bucket.stats for key, bucket in self._buckets.items()}
