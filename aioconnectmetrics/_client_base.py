"""The configuration and lifecycle of a client, under the facade.

`ClientBase` checks the settings, builds the client's `Runtime` and the path of each
operation over it (`_metrics_path.py`, `_agents_path.py`, `_v2/fetch.py`), opens and
closes the aiobotocore client, and gives the counters. `ConnectMetrics` (`_client.py`)
adds the operations, each a short call into its path. A complete class: nothing in it
waits for its subclass.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import anyio
from aiobotocore.session import AioSession

from ._agents_path import AgentsPath
from ._backend import CacheBackend, MemoryBackend
from ._boto import BotoFace
from ._cache import CachePolicy, CacheStats
from ._checks import check_account_id, check_partial, check_verify, settings_checked
from ._errors import ClientClosedError, InvalidSettingError
from ._follow import Hub
from ._identity import Keys, credential_identity
from ._limiter import Limiter, RateLimiter
from ._metrics_path import MetricsPath
from ._request import CURRENT_OP, HISTORICAL_OP, check_instance_id
from ._retry import RetryPolicy
from ._runtime import Runtime
from ._stats import ClientStats
from ._transport import Caller, ConnectClient, new_session, open_client
from ._v2.fetch import V2Path

_Client = TypeVar("_Client", bound="ClientBase")


class ClientBase:
    """A client's settings, runtime, paths and lifecycle (see `ConnectMetrics`)."""

    def __init__(
        self,
        instance_id: str | None = None,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        session: AioSession | None = None,
        client: ConnectClient | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        verify: bool | str | None = None,
        account_id: str | None = None,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 32,
        pagination_restarts: int = 3,
        partial: bool = False,
        cache: CachePolicy | None = CachePolicy(),  # noqa: B008 - immutable
        cache_backend: CacheBackend | None = None,
        queue_list_ttl: float = 300.0,
        lease_ttl: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        with settings_checked():
            if instance_id is not None:
                check_instance_id(instance_id)
            self._partial = check_partial(partial)
            check_verify(verify)
            self._account_id = check_account_id(account_id)
            self._runtime = Runtime.build(
                backend=cache_backend,
                cache=cache,
                clock=clock,
                lease_ttl=lease_ttl,
                max_concurrency=max_concurrency,
                pagination_restarts=pagination_restarts,
                queue_list_ttl=queue_list_ttl,
                on_progress=on_progress,
                deadline=lambda: self._retry.deadline,
                instance_id=instance_id,
            )
        self._instance_id = instance_id
        self._client_kwargs = {
            "region_name": region_name,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
            "aws_session_token": aws_session_token,
            "verify": verify,
        }
        self._session = session
        self._client = client
        self._borrowed = client is not None
        self._max_concurrency = max_concurrency
        self._cache_policy = cache
        self._limiter: Limiter = limiter if limiter is not None else RateLimiter()
        self._retry = retry if retry is not None else RetryPolicy()
        self._identity: str | None = None
        self._clock = clock
        if not callable(sleep):
            raise InvalidSettingError("sleep", sleep, "a coroutine function taking seconds")
        self._hub = Hub(lambda: self._runtime.tasks, clock=clock, sleep=sleep)
        self._stack: contextlib.AsyncExitStack | None = None
        self._opening = False
        self._caller: Caller | None = None
        runtime = self._runtime
        self._current = MetricsPath(runtime, CURRENT_OP)
        self._historical = MetricsPath(runtime, HISTORICAL_OP)
        self._agents = AgentsPath(runtime)
        self._v2 = V2Path(runtime)
        self._boto = BotoFace(self._current, self._historical, self._agents, self._v2, self._open)

    # -- settings: read-only once built, since the parts were made from them ---------
    @property
    def instance_id(self) -> str | None:
        """The default instance of every call (None: each call names its own)."""
        return self._instance_id

    @property
    def limiter(self) -> Limiter:
        """The limiter whose buckets this client's requests take tokens from."""
        return self._limiter

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy: attempts, backoff, and the deadline of a call."""
        return self._retry

    @property
    def cache_policy(self) -> CachePolicy | None:
        """The cache policy (None: no cache, no single-flight)."""
        return self._cache_policy

    @property
    def clock(self) -> Callable[[], float]:
        """The wall clock the client reads (seconds since the epoch)."""
        return self._clock

    @property
    def identity(self) -> str | None:
        """Whose quota the client spends (the AWS account), once open; None before."""
        return self._identity

    @property
    def boto(self) -> BotoFace:
        """The drop-in face: aiobotocore's methods and shapes, for any number of queues.

        ``await cm.boto.get_current_metric_data(**kwargs)`` takes what the aiobotocore
        client's method takes and answers what it answers, with every row of every
        batch and page; ``client = cm.boto`` moves code written for the client over.
        """
        return self._boto

    def __repr__(self) -> str:
        region = self._client_kwargs["region_name"] if self._client is None else self.region_name
        return f"ConnectMetrics(instance_id={self.instance_id!r}, region={region!r})"

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self: _Client) -> _Client:
        if self._stack is not None or self._opening:
            # A second exit stack would close the client under the outer block, and the
            # outer stack would never close: refused, as httpx refuses it.
            raise RuntimeError(
                "ConnectMetrics is already open: enter it once ('async with cm:'), and "
                "share the open client instead of entering it again"
            )
        self._opening = True
        try:
            return await self._enter()
        finally:
            self._opening = False

    async def _enter(self: _Client) -> _Client:
        stack = contextlib.AsyncExitStack()
        session, given = None, None
        if self._client is None:
            session = self._session or new_session()
            self._client = await stack.enter_async_context(
                open_client(
                    session,
                    max_pool_connections=self._max_concurrency,
                    **self._client_kwargs,
                )
            )
            given = self._given_keys()
        identify = functools.partial(
            credential_identity,
            session=session if given is None else None,
            given=given,
            verify=self._client_kwargs["verify"],
            account_id=self._account_id,
        )
        try:  # entered after the client, so the background closes first
            self._caller, self._identity = await self._runtime.open(
                stack, self._client, limiter=self._limiter, retry=self._retry, identify=identify
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    def _given_keys(self) -> Keys | None:
        """The keys this client was given explicitly, or None (the AWS chain's)."""
        access_key = self._client_kwargs["aws_access_key_id"]
        secret = self._client_kwargs["aws_secret_access_key"]
        if not isinstance(access_key, str) or not isinstance(secret, str):
            return None
        token = self._client_kwargs["aws_session_token"]
        return Keys(access_key, secret, token if isinstance(token, str) else None)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack, self._caller = self._stack, None, None
        if stack is not None:
            await stack.aclose()
        if not self._borrowed:
            self._client = None

    @property
    def region_name(self) -> str:
        """The region of the underlying client."""
        if self._client is None:
            raise ClientClosedError()
        return str(self._client.meta.region_name)

    def _open(self) -> Caller:
        if self._caller is None:
            raise ClientClosedError()
        return self._caller

    # -- counters --------------------------------------------------------------------
    @property
    def stats(self) -> ClientStats:
        """Counters so far: HTTP attempts, pages, batches, restarts, retries, errors."""
        return self._runtime.counters.stats()

    @property
    def cache_stats(self) -> CacheStats:
        """Cache counters: hits, misses, coalesced, stale served, fetches, entries, ..."""
        front = self._runtime.front
        return front.stats(len(front.backend) if isinstance(front.backend, MemoryBackend) else 0)

    async def wait_for_refreshes(self) -> None:
        """Wait until every fetch running now (background refreshes included) is done.

        For a graceful shutdown that keeps the last refresh, or for tests.
        """
        await self._runtime.front.wait_for_refreshes()
