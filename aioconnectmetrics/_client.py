"""`ConnectMetrics`: the facade. Configuration, lifecycle, and the public methods.

Each public method turns its arguments into a `MetricsRequest` (`_request.py`, or
`_dropin.py` for aiobotocore's keyword arguments) and hands it to the client's
`Pipeline`; what comes back is rendered for the face that asked. The drop-in face lives
under ``cm.boto`` (`_boto.py`); its old names on the client itself are deprecated.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal

from aiobotocore.session import AioSession, get_session

from ._backend import CacheBackend, MemoryBackend
from ._boto import BotoFace
from ._cache import CachePolicy, CacheStats
from ._checks import (
    CacheMode,
    check_account_id,
    check_cache_mode,
    check_partial,
    check_spread,
    check_verify,
    settings_checked,
)
from ._client_agents import DirectoryMethods
from ._client_v2 import V2Methods
from ._errors import ClientClosedError
from ._identity import Keys, credential_identity
from ._limiter import Limiter, RateLimiter
from ._metric import Metric
from ._pipeline import Pipeline, for_streaming
from ._request import (
    CURRENT_OP,
    HISTORICAL_OP,
    MetricsRequest,
    Operation,
    check_instance_id,
)
from ._result import MetricsPage, MetricsResult
from ._retry import RetryPolicy
from ._stats import ClientStats
from ._transport import Caller, ConnectClient, open_client


class ConnectMetrics(DirectoryMethods, V2Methods):
    """Amazon Connect queue metrics for any number of queues.

    An async context manager: ``async with ConnectMetrics(instance_id) as cm: ...``.
    It owns an aiobotocore Connect client (credentials from the standard AWS chain, or
    the keys given), or borrows `client` and leaves it open. botocore's own retries are
    set to one attempt: one HTTP attempt is one request.

    Args:
        instance_id: the default Connect instance for every call.
        region_name, endpoint_url, session: for the client it creates.
        aws_access_key_id, aws_secret_access_key, aws_session_token: explicit credentials.
        verify: for the client it creates: the CA bundle (a path) to verify the
            service's certificate against, or False not to verify; default botocore's.
        account_id: the AWS account whose quota the credentials spend, for setups
            where STS cannot be reached; by default STS ``GetCallerIdentity`` tells it
            (once per set of credentials), and the cache is shared by the credentials'
            principal (see docs/replicas.md).
        client: an aiobotocore Connect client to borrow instead. Configure it with
            ``retries={"total_max_attempts": 1}`` so that retries are not multiplied.
        limiter: a `RateLimiter` to share with other clients of the same account;
            by default each client has its own, with the service's quotas.
        retry: the `RetryPolicy` (attempts, backoff, the deadline of a call).
        max_concurrency: requests in flight at once (also sizes the connection pool).
        pagination_restarts: how often one batch may restart its page chain.
        partial: default for returning partial answers instead of `PartialResultError`.
        cache: the `CachePolicy` (freshness, stale-while-revalidate, size); None turns
            caching and single-flight off.
        cache_backend: where entries live; default: in memory, bounded by the policy.
        queue_list_ttl: seconds that listings (``"all"``, names) are reused.
        lease_ttl: with a shared cache backend, how long a process's right to fetch a
            key lasts unless renewed (it is renewed every third of it while fetching).
        clock: seconds since the epoch (for "24 hours ago" and discovery TTL); injectable.
        on_progress: told ``(batches done, batches in all)`` as each batch of a fetch
            finishes, for progress displays.
    """

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
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        with settings_checked():
            if instance_id is not None:
                check_instance_id(instance_id)
            self._partial = check_partial(partial)
            check_verify(verify)
            self._account_id = check_account_id(account_id)
            self._pipeline = Pipeline.build(
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
        self._stack: contextlib.AsyncExitStack | None = None
        self._opening = False
        self._caller: Caller | None = None
        self._boto = BotoFace(self._pipeline, self._open)

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
    async def __aenter__(self) -> ConnectMetrics:
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

    async def _enter(self) -> ConnectMetrics:
        stack = contextlib.AsyncExitStack()
        session, given = None, None
        if self._client is None:
            session = self._session or get_session()
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
            self._caller, self._identity = await self._pipeline.open(
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
        return self._pipeline.counters.stats()

    @property
    def cache_stats(self) -> CacheStats:
        """Cache counters: hits, misses, coalesced, stale served, fetches, entries, ..."""
        backend = self._pipeline.front.backend
        return self._pipeline.front.stats(
            len(backend) if isinstance(backend, MemoryBackend) else 0
        )

    async def wait_for_refreshes(self) -> None:
        """Wait until every fetch running now (background refreshes included) is done.

        For a graceful shutdown that keeps the last refresh, or for tests.
        """
        await self._pipeline.front.wait_for_refreshes()

    # -- the rich API ----------------------------------------------------------------
    async def get_current_metrics(
        self,
        metrics: Iterable[str | Metric],
        *,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = (),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        max_spread: float | timedelta | None = None,
        partial: bool | None = None,
        cache: CacheMode = "use",
        names: bool = False,
    ) -> MetricsResult:
        """Real-time metrics for any number of queues (or routing profiles).

        Args:
            metrics: names (``"AGENTS_ONLINE"``) or `Metric` objects.
            queues: queue IDs or ARNs (mixed, duplicates allowed), or ``"all"``.
            routing_profiles: routing profile IDs or ARNs, or ``"all"``, instead of queues.
            channels: a channel filter (needed to group by CHANNEL).
            groupings: up to two of QUEUE, CHANNEL, ROUTING_PROFILE.
            queue_types: with ``queues="all"``: STANDARD and/or AGENT.
            instance_id: overrides the client's default instance.
            max_spread: the most seconds that batch snapshots may lie apart; older
                batches are fetched again (up to 3 rounds), else `SnapshotSpreadError`.
            partial: return what succeeded (``result.partial``) instead of raising
                `PartialResultError` when some batches fail.
            cache: "use" (default) a fresh cached answer, "refresh" fetch anew and store
                it, "bypass" fetch without reading or writing the cache.
            names: label rows with queue and routing profile names (``row.queue_name``),
                listed by ListQueues and ListRoutingProfiles (see `queue_list_ttl`).

        Returns:
            a `MetricsResult`.

        Raises:
            InvalidRequestError: bad input (before any network call).
            PartialResultError: some batches failed (unless `partial`).
            ServiceError, ConnectionFailedError, PaginationError: the call failed.
        """
        request = self._build(
            CURRENT_OP,
            instance_id,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return await self._rich(request, check_spread(max_spread), partial, cache, names)

    async def get_historical_metrics(
        self,
        metrics: Iterable[str | Metric],
        *,
        start: datetime,
        end: datetime,
        queues: Iterable[str] | Literal["all"],
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = (),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        partial: bool | None = None,
        cache: CacheMode = "use",
        names: bool = False,
    ) -> MetricsResult:
        """Historical metrics (5-minute intervals, last 24 hours) for any number of queues.

        `start` and `end` are aware datetimes on 5-minute boundaries, less than 24 hours
        apart, `start` no earlier than 24 hours ago. Groupings: QUEUE and/or CHANNEL.
        Other arguments, the result and the errors are as for `get_current_metrics`.
        """
        request = self._build(
            HISTORICAL_OP,
            instance_id,
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return await self._rich(request, None, partial, cache, names)

    def _build(self, operation: Operation, instance_id: str | None, **args: Any) -> MetricsRequest:
        self._open()  # a closed client says so before anything else
        return self._pipeline.request(operation, instance_id, **args)

    async def _rich(
        self,
        request: MetricsRequest,
        spread: float | None,
        partial: bool | None,
        cache: object,
        names: object,
    ) -> MetricsResult:
        allow_partial = self._partial if partial is None else check_partial(partial)
        mode = check_cache_mode(cache)
        return await self._pipeline.result(
            self._open(), request, spread, allow_partial=allow_partial, mode=mode, names=names
        )

    # -- the drop-in API's old names: deprecated, see `boto` -----------------------------
    async def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """Deprecated: ``cm.boto.get_current_metric_data`` (same arguments, same answer)."""
        _renamed("get_current_metric_data")
        return await self._boto.get_current_metric_data(**kwargs)

    async def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """Deprecated: ``cm.boto.get_metric_data`` (same arguments, same answer)."""
        _renamed("get_metric_data")
        return await self._boto.get_metric_data(**kwargs)

    async def get_metric_data_v2(self, **kwargs: Any) -> dict[str, Any]:
        """Deprecated: ``cm.boto.get_metric_data_v2`` (same arguments, same answer)."""
        _renamed("get_metric_data_v2")
        return await self._boto.get_metric_data_v2(**kwargs)

    async def get_current_user_data(self, **kwargs: Any) -> dict[str, Any]:
        """Deprecated: ``cm.boto.get_current_user_data`` (same arguments, same answer)."""
        _renamed("get_current_user_data")
        return await self._boto.get_current_user_data(**kwargs)

    # -- page-wise iteration ------------------------------------------------------------
    def iter_current_pages(
        self,
        metrics: Iterable[str | Metric],
        *,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] | None = None,
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[MetricsPage]:
        """Stream real-time rows page by page: ``async for page in cm.iter_current_pages(...)``.

        For answers too large to hold at once: batches are fetched one after another and
        each page is handed over as it comes, so memory holds one page. Rows must belong
        to one batch each (group by QUEUE, or by ROUTING_PROFILE when filtering by
        routing profiles); nothing is combined or cached. Each page's request counts
        against `max_concurrency` and has the call deadline. Arguments as for
        `get_current_metrics`, but `groupings` is to be given: rows are the point, and
        a default other than the rich calls' ``()`` would surprise (omitted, it is
        ``("QUEUE",)`` with a `DeprecationWarning`; required from 0.3). Input is
        checked now, before any request.
        """
        request = self._build(
            CURRENT_OP,
            instance_id,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=rows_grouped(groupings, "iter_current_pages"),
            queue_types=queue_types,
        )
        return self._pipeline.stream(self._open(), for_streaming(request, page_size))

    def iter_historical_pages(
        self,
        metrics: Iterable[str | Metric],
        *,
        start: datetime,
        end: datetime,
        queues: Iterable[str] | Literal["all"],
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] | None = None,
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[MetricsPage]:
        """Stream historical rows page by page; see `iter_current_pages`."""
        request = self._build(
            HISTORICAL_OP,
            instance_id,
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=rows_grouped(groupings, "iter_current_pages"),
            queue_types=queue_types,
        )
        return self._pipeline.stream(self._open(), for_streaming(request, page_size))


def _renamed(method: str) -> None:
    warnings.warn(
        f"ConnectMetrics.{method} is deprecated: call cm.boto.{method} (the same "
        "arguments and answer); the old name goes in 0.3",
        DeprecationWarning,
        stacklevel=3,
    )


def rows_grouped(groupings: Iterable[str] | None, where: str) -> Iterable[str]:
    """The groupings of a call whose output is rows: given, or the old default, warned."""
    if groupings is not None:
        return groupings
    warnings.warn(
        f"{where} without groupings is deprecated: give them (groupings=['QUEUE'] was the "
        "default); from 0.3 they are required, as every other call defaults to ()",
        DeprecationWarning,
        stacklevel=3,
    )
    return ("QUEUE",)
