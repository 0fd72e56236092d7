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

from ._backend import RedisBackend
from ._limiter import RedisRateLimiter, RedisTokenBucket

__all__ = ["RedisBackend", "RedisRateLimiter", "RedisTokenBucket"]
