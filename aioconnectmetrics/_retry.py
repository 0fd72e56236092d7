"""Retries in our layer (botocore's are off): one HTTP attempt takes one limiter token.

A throttled request goes straight back to the limiter: the 429 has already taught the
bucket the rate that is left (see `_quota.py`), so its next grant is the right moment,
and a back-off on top of it would only leave quota unused. Internal errors, other 5xx
and connection failures are retried after a capped exponential backoff with full jitter
(a uniform wait between zero and ``min(max_delay, base_delay * 2 ** attempt)``), since
they say nothing about the quota. Anything else fails at once. A rejected pagination
token is not retried here: the batch restarts its chain (see `_pages.py`), which is not a fault.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import attrs

from . import _telemetry as telemetry
from ._checks import check_count, positive_or_none, settings_checked
from ._departure import departing
from ._errors import (
    ConnectionFailedError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
)
from ._limiter import Limiter
from ._transport import Caller

logger = logging.getLogger("aioconnectmetrics.quota")  # by concern: docs/observability.md


@attrs.frozen
class RetryPolicy:
    """How often and how patiently to retry one request, and how long a call may take.

    Attributes:
        attempts: HTTP attempts per request, the first included.
        base_delay, max_delay: seconds; the backoff before retry n is drawn uniformly
            from [0, min(max_delay, base_delay * 2**n)].
        deadline: seconds for a whole call (every batch and page), or None.
    """

    attempts: int = attrs.field(default=8)
    base_delay: float = attrs.field(default=0.1, validator=positive_or_none)
    max_delay: float = attrs.field(default=5.0, validator=positive_or_none)
    deadline: float | None = attrs.field(default=120.0, validator=positive_or_none)

    @attempts.validator
    def _check_attempts(self, attribute: attrs.Attribute[int], value: object) -> None:
        with settings_checked():
            check_count("attempts", value, minimum=1)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (0-based): full jitter."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**retry))


def is_retryable(error: BaseException) -> bool:
    """Throttling, internal errors, other 5xx and connection failures are retried."""
    if isinstance(error, (ThrottledError, ServiceUnavailableError, ConnectionFailedError)):
        return True
    return isinstance(error, ServiceError) and (error.status or 0) >= 500


class RetryingCaller:
    """Wraps a one-attempt `Caller`: a limiter token per attempt, retries with backoff."""

    def __init__(
        self,
        inner: Caller,
        *,
        limiter: Limiter,
        identity: str,
        region: str,
        policy: RetryPolicy,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        on_retry: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._identity = identity
        self._region = region
        self._policy = policy
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._sleep = sleep
        self._on_retry = on_retry

    async def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Make the call, retrying what is worth retrying."""
        bucket = self._limiter.bucket(self._identity, self._region, operation)
        retry = 0
        while True:
            grant = None
            if bucket is not None:
                asked = anyio.current_time()
                grant = await bucket.acquire()
                telemetry.limiter_waited(
                    operation, anyio.current_time() - asked, lambda: bucket.stats.rate
                )
            try:
                if bucket is None or grant is None:
                    answer = await self._inner(operation, params)
                else:
                    # The bucket learns when the request really left (set-up included).
                    with departing(functools.partial(bucket.departed, grant)):
                        answer = await self._inner(operation, params)
            except (ServiceError, ConnectionFailedError) as exc:
                throttled = isinstance(exc, ThrottledError)
                telemetry.attempt(operation, "throttled" if throttled else "fault", self._region)
                if throttled:
                    telemetry.event("throttle", {"rpc.method": operation, "attempt": retry + 1})
                if throttled and bucket is not None and grant is not None:
                    await bucket.report_throttle(grant)
                if not is_retryable(exc) or retry + 1 >= self._policy.attempts:
                    raise
                # A throttle waits for its next grant; other faults back off with jitter.
                delay = (
                    0.0
                    if throttled and bucket is not None
                    else self._policy.backoff(retry, self._rng)
                )
                logger.debug(
                    "%s: %s; retry %d in %.2f s",
                    operation,
                    exc,
                    retry + 1,
                    delay,
                    extra={
                        "operation": operation,
                        "error_type": type(exc).__qualname__,
                        "retry": retry + 1,
                        "delay": delay,
                    },
                )
                if self._on_retry is not None:
                    self._on_retry(operation, exc)
                telemetry.event(
                    "retry",
                    {
                        "rpc.method": operation,
                        "error.type": type(exc).__qualname__,
                        "attempt": retry + 2,
                        "aioconnectmetrics.delay_s": delay,
                    },
                )
                retry += 1
                if delay > 0:
                    await self._sleep(delay)
            else:
                telemetry.attempt(operation, "ok", self._region)
                return answer
