"""Every Redis call bounded in time; an outage noted once, and when it ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import anyio
import redis.exceptions

from .._checks import check_positive, settings_checked
from .._errors import BackendUnavailableError, InvalidSettingError

logger = logging.getLogger("aioconnectmetrics.redis")  # by concern: docs/observability.md
T = TypeVar("T")
Fallback = Literal["local", "error"]

_REDIS_DOWN = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    TimeoutError,
    OSError,
)


def check_fallback(fallback: object) -> Fallback:
    if fallback == "local":
        return "local"
    if fallback == "error":
        return "error"
    raise InvalidSettingError("fallback", fallback, "'local' (with a warning) or 'error'")


class Guard:
    """Runs Redis calls with a time bound; notes an outage once, and when it ends.

    `prepare`, when given, runs before each call inside the same bound (`_connect.Ready`:
    a cluster client initialised once before its first command).
    """

    def __init__(
        self,
        what: str,
        timeout: float,
        fallback: Fallback,
        retry_after: float,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.what = what
        self.prepare = prepare
        with settings_checked():
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
                if self.prepare is not None:
                    await self.prepare()  # a cluster client reads its slots first, once
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
            logger.info("Redis %s is back", self.what)
            self._down_since = None
        return result
