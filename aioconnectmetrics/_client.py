"""`ConnectMetrics`: the client facade over validation, planning, fetching and merging."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import attrs
import botocore.exceptions
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session

from ._cache import (
    Answer,
    CacheBackend,
    CacheEntry,
    CachePolicy,
    CacheStats,
    MemoryBackend,
    SnapshotCadence,
    cache_key,
    fresh_until,
    newer_or_same,
    refresh_point,
)
from ._catalog import TOKEN_LIFETIME_SECONDS
from ._errors import (
    ConfigurationError,
    ConnectionFailedError,
    ConnectMetricsError,
    DeadlineExceededError,
    InvalidRequestError,
    PaginationError,
    PartialResultError,
    ServiceUnavailableError,
    SnapshotSpreadError,
    ThrottledError,
)
from ._fetch import (
    Caller,
    ClientCaller,
    fetch_batch,
    iter_batch_pages,
    list_all_queues,
    logger,
)
from ._identity import credential_identity
from ._limiter import Limiter, RateLimiter
from ._merge import BatchAnswer, merge
from ._plan import batch_params, fetch_metrics, plan_batches
from ._request import (
    CURRENT_OP,
    MetricsRequest,
    check_count,
    check_instance_id,
    check_non_negative,
    check_page_size,
    check_positive,
    check_queue_types,
    current_request,
    current_request_from_kwargs,
    historical_request,
    historical_request_from_kwargs,
)
from ._result import MetricRow, MetricsPage, MetricsResult, botocore_response, build_result
from ._retry import RetryingCaller, RetryPolicy

#: Errors after which the other batches are still worth having (a partial answer).
_BATCH_FAULTS = (ThrottledError, ServiceUnavailableError, ConnectionFailedError, PaginationError)
_SPREAD_ROUNDS = 3


@attrs.frozen
class QueueInfo:
    """A queue as ListQueues describes it."""

    id: str
    arn: str
    name: str
    queue_type: str


@attrs.frozen
class ClientStats:
    """Counters of one client, read with `ConnectMetrics.stats`."""

    calls: int = 0
    pages: int = 0
    batches: int = 0
    restarts: int = 0
    retries: int = 0
    throttles: int = 0
    errors: Mapping[str, int] = attrs.field(factory=dict)


@attrs.define
class _Execution:
    answers: list[BatchAnswer]
    failures: dict[int, ConnectMetricsError]
    batches: dict[int, tuple[str, ...]]


class ConnectMetrics:
    """Amazon Connect queue metrics for any number of queues.

    An async context manager: ``async with ConnectMetrics(instance_id) as cm: ...``.
    It owns an aiobotocore Connect client (credentials from the standard AWS chain, or
    the keys given), or borrows `client` and leaves it open. botocore's own retries are
    set to one attempt: one HTTP attempt is one request.

    Args:
        instance_id: the default Connect instance for every call.
        region_name, endpoint_url, session: for the client it creates.
        aws_access_key_id, aws_secret_access_key, aws_session_token: explicit credentials.
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
        queue_list_ttl: seconds that ``queues="all"`` discovery is reused.
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
        client: Any = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
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
        if instance_id is not None:
            check_instance_id(instance_id)
        check_count("max_concurrency", max_concurrency, minimum=1)
        check_count("pagination_restarts", pagination_restarts, minimum=0)
        self.instance_id = instance_id
        self._client_kwargs = {
            "region_name": region_name,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
            "aws_session_token": aws_session_token,
        }
        self._session = session
        self._client = client
        self._borrowed = client is not None
        self._max_concurrency = max_concurrency
        self._restarts = pagination_restarts
        self._partial = _check_partial(partial)
        self._queue_list_ttl = queue_list_ttl
        self._lease_ttl = check_positive("lease_ttl", lease_ttl)
        self._lease_poll = min(0.05, self._lease_ttl / 10)
        self.cache_policy = cache
        # (Not `cache_backend or ...`: an empty backend has a length of 0, so is falsy.)
        self._backend: CacheBackend = (
            cache_backend
            if cache_backend is not None
            else MemoryBackend(cache.max_rows if cache is not None else 1, clock=clock)
        )
        self._cache_counts: Counter[str] = Counter()
        # What fetches showed of when the service has a newer snapshot (refresh ahead).
        self._cadence = SnapshotCadence()
        self._flights: dict[str, _Flight] = {}
        self._tasks: anyio.abc.TaskGroup | None = None
        self._clock = clock
        self._on_progress = on_progress
        self.limiter: Limiter = limiter if limiter is not None else RateLimiter()
        self.retry = retry if retry is not None else RetryPolicy()
        self.identity: str | None = None
        self._tenant = ""
        self._stack: contextlib.AsyncExitStack | None = None
        self._caller: Caller | None = None
        self._slots = anyio.CapacityLimiter(max_concurrency)
        self._counts: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._queues: dict[tuple[str, tuple[str, ...]], tuple[float, tuple[QueueInfo, ...]]] = {}
        self._discovery_lock = anyio.Lock()

    def __repr__(self) -> str:
        return (
            f"ConnectMetrics(instance_id={self.instance_id!r}, region={self._region_or_none()!r})"
        )

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> ConnectMetrics:
        stack = contextlib.AsyncExitStack()
        if self._client is None:
            session = self._session or get_session()
            config = AioConfig(
                retries={"total_max_attempts": 1},
                max_pool_connections=self._max_concurrency,
            )
            kwargs = {k: v for k, v in self._client_kwargs.items() if v is not None}
            try:
                self._client = await stack.enter_async_context(
                    session.create_client("connect", config=config, **kwargs)
                )
            except (botocore.exceptions.NoRegionError, botocore.exceptions.ProfileNotFound) as exc:
                await stack.aclose()
                raise ConfigurationError(str(exc)) from exc
        # Shared fetches and background refreshes run here, not in the caller's task, so
        # that one caller leaving does not cancel what others wait for. Entered after
        # the client, so it closes first.
        self._tasks = await stack.enter_async_context(anyio.create_task_group())
        self._stack = stack
        identities = await credential_identity(self._client)
        self.identity, self._tenant = identities.account, identities.tenant
        self._caller = RetryingCaller(
            ClientCaller(self._client, on_call=self._count_call),
            limiter=self.limiter,
            identity=self.identity,
            region=self.region_name,
            policy=self.retry,
            on_retry=self._count_retry,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tasks is not None:
            # Background refreshes and fetches nobody waits for any more end here.
            self._tasks.cancel_scope.cancel()
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = None
        self._tasks = None
        if not self._borrowed:
            self._client = None
        self._caller = None

    def _region_or_none(self) -> str | None:
        if self._client is not None:
            return str(self._client.meta.region_name)
        return self._client_kwargs["region_name"]

    @property
    def region_name(self) -> str:
        """The region of the underlying client."""
        region = self._region_or_none()
        if region is None:
            raise RuntimeError("ConnectMetrics is not open: use 'async with'")
        return region

    def _require_caller(self) -> Caller:
        if self._caller is None:
            raise RuntimeError("ConnectMetrics is not open: use 'async with ConnectMetrics(...)'")
        return self._caller

    def _instance(self, instance_id: str | None) -> str:
        # Only None means "the default": an empty string is a bad ID, said so below.
        chosen = self.instance_id if instance_id is None else instance_id
        if chosen is None:
            raise InvalidRequestError(
                "instance_id", None, "give instance_id here or to ConnectMetrics(instance_id)"
            )
        return chosen

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    # -- counters --------------------------------------------------------------------
    def _count_call(self, operation: str, error: ConnectMetricsError | None) -> None:
        self._counts["calls"] += 1
        if error is not None:
            self._errors[getattr(error, "code", type(error).__name__)] += 1

    def _count_retry(self, operation: str, error: BaseException) -> None:
        self._counts["retries"] += 1

    @property
    def stats(self) -> ClientStats:
        """Counters so far: HTTP attempts, pages, batches, restarts, retries, errors."""
        return ClientStats(
            calls=self._counts["calls"],
            pages=self._counts["pages"],
            batches=self._counts["batches"],
            restarts=self._counts["restarts"],
            retries=self._counts["retries"],
            throttles=self._errors["ThrottlingException"],
            errors=dict(self._errors),
        )

    # -- the rich API ----------------------------------------------------------------
    async def get_current_metrics(
        self,
        metrics: Iterable[Any],
        *,
        queues: Iterable[str] | str | None = None,
        routing_profiles: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = (),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        max_spread: float | timedelta | None = None,
        partial: bool | None = None,
        cache: str = "use",
    ) -> MetricsResult:
        """Real-time metrics for any number of queues (or routing profiles).

        Args:
            metrics: names (``"AGENTS_ONLINE"``) or `Metric` objects.
            queues: queue IDs or ARNs (mixed, duplicates allowed), or ``"all"``.
            routing_profiles: routing profile IDs or ARNs, instead of queues.
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

        Returns:
            a `MetricsResult`.

        Raises:
            InvalidRequestError: bad input (before any network call).
            PartialResultError: some batches failed (unless `partial`).
            ServiceError, ConnectionFailedError, PaginationError: the call failed.
        """
        caller = self._require_caller()
        request = current_request(
            instance_id=self._instance(instance_id),
            region=self.region_name,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        spread = _spread_seconds(max_spread)
        return await self._rich(caller, request, spread, partial, cache)

    async def get_historical_metrics(
        self,
        metrics: Iterable[Any],
        *,
        start: datetime,
        end: datetime,
        queues: Iterable[str] | str,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = (),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        partial: bool | None = None,
        cache: str = "use",
    ) -> MetricsResult:
        """Historical metrics (5-minute intervals, last 24 hours) for any number of queues.

        `start` and `end` are aware datetimes on 5-minute boundaries, less than 24 hours
        apart, `start` no earlier than 24 hours ago. Groupings: QUEUE and/or CHANNEL.
        Other arguments, the result and the errors are as for `get_current_metrics`.
        """
        caller = self._require_caller()
        request = historical_request(
            instance_id=self._instance(instance_id),
            region=self.region_name,
            now=self._now(),
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return await self._rich(caller, request, None, partial, cache)

    async def _rich(
        self,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
        partial: bool | None,
        mode: str = "use",
    ) -> MetricsResult:
        allow_partial = self._partial if partial is None else _check_partial(partial)
        answer = await self._answer(caller, request, spread, _cache_mode(mode))
        _check_failures(request, answer, allow_partial)
        return _result(request, answer)

    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        deadline = self.retry.deadline
        if deadline is None:
            yield
            return
        try:
            with anyio.fail_after(deadline):
                yield
        except DeadlineExceededError:
            raise  # an inner deadline (the fetch's own) already said so
        except TimeoutError as exc:
            raise DeadlineExceededError(deadline) from exc

    async def _compute(
        self,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        replacing: float | None = None,
    ) -> Answer:
        """Discover, fan out and merge: one upstream fetch, failures recorded, not raised.

        `replacing`: for a refresh ahead, the snapshot of the entry it is to replace.
        """
        asked_at = self._clock()
        with self._deadline():
            request = await self._resolve(caller, request)
            execution = await self._execute(caller, request, spread)
        answer = Answer(
            rows=tuple(merge(request, execution.answers)),
            snapshots=tuple(a.snapshot_time for a in execution.answers if a.snapshot_time),
            batches=len(execution.answers),
            pages=sum(a.pages for a in execution.answers),
            failures=tuple(sorted(execution.failures.items())),
            failed_queues=tuple((i, execution.batches[i]) for i in sorted(execution.failures)),
        )
        got = answer.snapshot_time
        if got is not None:
            self._cadence.observe(asked_at, self._clock(), got.timestamp(), replacing)
        return answer

    # -- the cache and single-flight --------------------------------------------------
    async def _answer(
        self, caller: Caller, request: MetricsRequest, spread: float | None, mode: str
    ) -> Answer:
        # The call's deadline covers every wait of the caller's: the cache, another
        # caller's fetch, another process's lease, as well as its own fetch.
        with self._deadline():
            return await self._answer_within_deadline(caller, request, spread, mode)

    async def _answer_within_deadline(
        self, caller: Caller, request: MetricsRequest, spread: float | None, mode: str
    ) -> Answer:
        policy = self.cache_policy
        if policy is None or mode == "bypass":
            self._cache_counts["fetches"] += 1
            return await self._compute(caller, request, spread)
        key = cache_key(
            request,
            region=self.region_name,
            endpoint=str(self._client.meta.endpoint_url),
            identity=self._tenant,
            extra=(spread,),
        )
        if mode == "use":
            entry = await self._backend.get(key)
            if entry is not None:
                now = self._clock()
                if now < entry.fresh_until:
                    self._cache_counts["hits"] += 1
                    self._maybe_refresh_ahead(key, caller, request, spread, entry=entry, now=now)
                    return entry.answer
                grace = policy.stale_grace
                if grace is not None and now < entry.fresh_until + grace:
                    self._cache_counts["stale_served"] += 1
                    if key not in self._flights:
                        self._start_flight(key, caller, request, spread, background=True)
                    return entry.answer
        self._cache_counts["misses"] += 1
        return await self._join_flight(key, caller, request, spread)

    def _maybe_refresh_ahead(
        self,
        key: str,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        entry: CacheEntry,
        now: float,
    ) -> None:
        """Refresh a fresh entry in the background, if past its point and worth it.

        Worth it: the service can have something newer (see `SnapshotCadence`).
        """
        policy, snapshot = self.cache_policy, entry.answer.snapshot_time
        if (
            policy is None
            or snapshot is None
            or request.operation != CURRENT_OP
            or key in self._flights
            or now < refresh_point(key, entry, policy.refresh_ahead)
        ):
            return
        verdict = self._cadence.verdict(snapshot.timestamp(), now)
        if verdict is None:
            return
        self._cadence.probing |= verdict == "probe"
        self._cache_counts["refreshed_ahead"] += 1
        self._start_flight(
            key, caller, request, spread, ahead=snapshot.timestamp(), probe=verdict == "probe"
        )

    def _start_flight(
        self,
        key: str,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        background: bool = False,
        ahead: float | None = None,
        probe: bool = False,
    ) -> _Flight:
        if self._tasks is None:
            raise RuntimeError("ConnectMetrics is not open: use 'async with'")
        flight = _Flight(background=background or ahead is not None, ahead=ahead, probe=probe)
        self._flights[key] = flight
        self._cache_counts["fetches"] += 1
        self._tasks.start_soon(self._fly, key, flight, caller, request, spread)
        return flight

    async def _join_flight(
        self, key: str, caller: Caller, request: MetricsRequest, spread: float | None
    ) -> Answer:
        flight = self._flights.get(key)
        if flight is None:
            flight = self._start_flight(key, caller, request, spread)
        else:
            self._cache_counts["coalesced"] += 1
        flight.waiters += 1
        try:
            await flight.done.wait()
        except BaseException:
            # This caller leaves (cancelled): the others keep the fetch; the last one
            # to leave cancels it, and takes it off the board at once, so that a caller
            # arriving while it winds down starts a fetch of its own instead of joining
            # one that can only fail.
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.background and flight.scope is not None:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.scope.cancel()
                # Wait for it to wind down, so that when this caller's cancellation
                # returns, no task, connection or token of its fetch is left.
                with anyio.CancelScope(shield=True):
                    await flight.done.wait()
            raise
        flight.waiters -= 1
        if flight.error is not None:
            raise flight.error
        assert flight.answer is not None
        return flight.answer

    async def _fly(
        self,
        key: str,
        flight: _Flight,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
    ) -> None:
        try:
            with anyio.CancelScope() as flight.scope:
                try:
                    flight.answer = await self._fetch_under_lease(
                        key, caller, request, spread, replacing=flight.ahead
                    )
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    flight.error = exc
        finally:
            if flight.probe:
                self._cadence.probing = False
            if flight.answer is None and flight.error is None:
                flight.error = ConnectMetricsError("the fetch was cancelled (client closing)")
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()

    async def _fetch_under_lease(
        self,
        key: str,
        caller: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        replacing: float | None = None,
    ) -> Answer:
        """Fetch, unless another process already does: then wait for its answer.

        The lease (shorter than any cache lifetime, renewed while the fetch runs) says who
        fetches a key. A process that does not get it polls the backend for the answer;
        if the holder dies, its lease runs out and another process takes over.
        """
        while True:
            token = await self._backend.acquire_lease(key, self._lease_ttl)
            if token is not None:
                stored: Answer | None = None
                error: Exception | None = None
                try:
                    async with anyio.create_task_group() as renewals:
                        renewals.start_soon(self._renew_lease, key, token)
                        # Caught here and raised below, so that callers see the error
                        # itself, not a task group's ExceptionGroup around it.
                        try:
                            answer = await self._compute(
                                caller, request, spread, replacing=replacing
                            )
                            stored = await self._store(key, request, answer)
                        except Exception as exc:  # noqa: BLE001 - re-raised below
                            error = exc
                        finally:
                            renewals.cancel_scope.cancel()
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._backend.release_lease(key, token)
                if error is not None:
                    raise error
                assert stored is not None
                return stored
            entry = await self._await_other_process(key)
            if entry is not None:
                return entry.answer

    async def _renew_lease(self, key: str, token: str) -> None:
        while True:
            await anyio.sleep(self._lease_ttl / 3)
            if not await self._backend.renew_lease(key, token, self._lease_ttl):
                logger.warning(
                    "lost the fetch lease of a cache key; another process may fetch it too"
                )
                return

    async def _await_other_process(self, key: str) -> CacheEntry | None:
        """Poll until a fresh entry appears, or the lease is free again (None)."""
        while True:
            await anyio.sleep(self._lease_poll)
            entry = await self._backend.get(key)
            if entry is not None and self._clock() < entry.fresh_until:
                self._cache_counts["coalesced"] += 1
                return entry
            probe = await self._backend.acquire_lease(key, self._lease_ttl)
            if probe is not None:
                await self._backend.release_lease(key, probe)
                return None

    async def _store(self, key: str, request: MetricsRequest, answer: Answer) -> Answer:
        """Cache a complete answer, unless the cache already holds a newer snapshot."""
        policy = self.cache_policy
        if policy is None or answer.failures:
            return answer  # partial answers are never cached
        stored = await self._backend.get(key)
        if stored is not None and not newer_or_same(answer, stored.answer):
            logger.info("kept the cached answer: the new fetch's snapshot is older")
            return stored.answer
        now = self._clock()
        entry = CacheEntry(answer, now, fresh_until(request, answer, now, policy))
        await self._backend.set(key, entry, policy.max_lifetime + (policy.stale_grace or 0.0))
        return answer

    async def wait_for_refreshes(self) -> None:
        """Wait until every fetch running now (background refreshes included) is done.

        For a graceful shutdown that keeps the last refresh, or for tests.
        """
        while self._flights:
            await next(iter(self._flights.values())).done.wait()

    @property
    def cache_stats(self) -> CacheStats:
        """Cache counters.

        Hits, misses, coalesced callers, stale answers served, upstream fetches
        (fan-outs) and stored entries.
        """
        counts = self._cache_counts
        entries = len(self._backend) if isinstance(self._backend, MemoryBackend) else 0
        return CacheStats(
            hits=counts["hits"],
            misses=counts["misses"],
            coalesced=counts["coalesced"],
            stale_served=counts["stale_served"],
            refreshed_ahead=counts["refreshed_ahead"],
            fetches=counts["fetches"],
            entries=entries,
        )

    # -- the drop-in API -------------------------------------------------------------
    async def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """Drop-in for aiobotocore's ``get_current_metric_data``, for any number of queues.

        Takes the same keyword arguments (``InstanceId`` optional with a default
        instance; ``MaxResults`` is the page size; no ``NextToken``) and returns the
        botocore response shape with every row of every batch and page, no
        ``NextToken``, and ``DataSnapshotTime`` = the oldest batch's snapshot.
        ``OLDEST_CONTACT_AGE`` is always in seconds.
        """
        caller = self._require_caller()
        request = current_request_from_kwargs(
            kwargs, default_instance=self.instance_id, region=self.region_name
        )
        return await self._drop_in(caller, request)

    async def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """Drop-in for aiobotocore's ``get_metric_data``, for any number of queues."""
        caller = self._require_caller()
        request = historical_request_from_kwargs(
            kwargs, default_instance=self.instance_id, region=self.region_name, now=self._now()
        )
        return await self._drop_in(caller, request)

    async def _drop_in(self, caller: Caller, request: MetricsRequest) -> dict[str, Any]:
        answer = await self._answer(caller, request, None, "use")
        _check_failures(request, answer, allow_partial=False)
        # With a cache, answers are shared: give each caller rows of its own.
        shared = self.cache_policy is not None
        return botocore_response(request, answer.rows, answer.snapshots, copy_rows=shared)

    # -- page-wise iteration ------------------------------------------------------------
    def iter_current_pages(
        self,
        metrics: Iterable[Any],
        *,
        queues: Iterable[str] | str | None = None,
        routing_profiles: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = ("QUEUE",),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[MetricsPage]:
        """Stream real-time rows page by page: ``async for page in cm.iter_current_pages(...)``.

        For answers too large to hold at once: batches are fetched one after another and
        each page is handed over as it comes, so memory holds one page. Rows must belong
        to one batch each (group by QUEUE, or by ROUTING_PROFILE when filtering by
        routing profiles); nothing is combined or cached. Arguments as for
        `get_current_metrics`; input is checked now, before any request.
        """
        caller = self._require_caller()
        request = current_request(
            instance_id=self._instance(instance_id),
            region=self.region_name,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return self._iter_pages(caller, _for_streaming(request, page_size))

    def iter_historical_pages(
        self,
        metrics: Iterable[Any],
        *,
        start: datetime,
        end: datetime,
        queues: Iterable[str] | str,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = ("QUEUE",),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[MetricsPage]:
        """Stream historical rows page by page; see `iter_current_pages`."""
        caller = self._require_caller()
        request = historical_request(
            instance_id=self._instance(instance_id),
            region=self.region_name,
            now=self._now(),
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return self._iter_pages(caller, _for_streaming(request, page_size))

    async def _iter_pages(
        self, caller: Caller, request: MetricsRequest
    ) -> AsyncIterator[MetricsPage]:
        request = await self._resolve(caller, request)
        thresholds = any(m.threshold is not None for m in request.metrics)
        for batch in plan_batches(request):
            pages = iter_batch_pages(
                caller,
                request.operation,
                batch,
                batch_params(request, batch, request.metrics),
                grouped=True,
                thresholds=thresholds,
                max_restarts=self._restarts,
                clock=self._clock,
                token_ttl=TOKEN_LIFETIME_SECONDS - TOKEN_SAFETY_MARGIN,
            )
            async for page in pages:
                self._counts["pages"] += 1
                self._counts["restarts"] += page.restarted
                yield MetricsPage(
                    batch=page.batch,
                    page=page.page,
                    queue_ids=batch.ids,
                    rows=tuple(map(MetricRow, page.rows)),
                    snapshot_time=page.snapshot_time,
                    restarted=page.restarted,
                )
            self._counts["batches"] += 1

    # -- queues ----------------------------------------------------------------------
    async def list_queues(
        self, *, queue_types: Iterable[str] = ("STANDARD",), instance_id: str | None = None
    ) -> tuple[QueueInfo, ...]:
        """Every queue of the instance of the given types (reused for `queue_list_ttl`)."""
        caller = self._require_caller()
        instance = check_instance_id(self._instance(instance_id))
        types = check_queue_types(queue_types)
        with self._deadline():
            return await self._discover(caller, instance, types)

    async def _discover(
        self, caller: Caller, instance_id: str, queue_types: tuple[str, ...]
    ) -> tuple[QueueInfo, ...]:
        key = (instance_id, queue_types)
        # One discovery at a time: concurrent "all" callers wait and share its answer.
        async with self._discovery_lock:
            cached = self._queues.get(key)
            if cached is not None and self._clock() - cached[0] < self._queue_list_ttl:
                return cached[1]
            summaries = await list_all_queues(caller, instance_id, queue_types)
            queues = tuple(
                QueueInfo(s["Id"], s["Arn"], s.get("Name", ""), s.get("QueueType", ""))
                for s in summaries
            )
            self._queues[key] = (self._clock(), queues)
            return queues

    async def _resolve(self, caller: Caller, request: MetricsRequest) -> MetricsRequest:
        if not request.all_queues:
            return request
        queues = await self._discover(caller, request.instance_id, request.queue_types)
        return request.with_queues(q.id for q in queues)

    # -- fan-out ---------------------------------------------------------------------
    async def _execute(
        self, caller: Caller, request: MetricsRequest, max_spread: float | None
    ) -> _Execution:
        if request.all_queues:
            raise RuntimeError("unresolved queues='all'")
        batches = plan_batches(request)
        metrics = fetch_metrics(request, len(batches))
        execution = _Execution([], {}, {b.index: b.ids for b in batches})
        answers = await self._fetch(caller, request, batches, metrics, execution.failures)
        for _ in range(_SPREAD_ROUNDS if max_spread is not None else 0):
            stale = _stale_batches(answers, max_spread)
            if not stale:
                break
            again = [b for b in batches if b.index in stale]
            answers.update(await self._fetch(caller, request, again, metrics, execution.failures))
        else:
            if max_spread is not None and _stale_batches(answers, max_spread):
                times = [a.snapshot_time for a in answers.values() if a.snapshot_time]
                raise SnapshotSpreadError((max(times) - min(times)).total_seconds(), max_spread)
        execution.answers = [answers[i] for i in sorted(answers)]
        return execution

    async def _fetch(
        self,
        caller: Caller,
        request: MetricsRequest,
        batches: Iterable[Any],
        metrics: tuple[Any, ...],
        failures: dict[int, ConnectMetricsError],
    ) -> dict[int, BatchAnswer]:
        answers: dict[int, BatchAnswer] = {}
        fatal: list[ConnectMetricsError] = []
        grouped = bool(request.groupings)
        thresholds = any(m.threshold is not None for m in request.metrics)

        async def run(batch: Any, scope: anyio.CancelScope) -> None:
            try:
                async with self._slots:
                    answer = await fetch_batch(
                        caller,
                        request.operation,
                        batch,
                        batch_params(request, batch, metrics),
                        grouped=grouped,
                        thresholds=thresholds,
                        max_restarts=self._restarts,
                        clock=self._clock,
                        token_ttl=TOKEN_LIFETIME_SECONDS - TOKEN_SAFETY_MARGIN,
                    )
            except _BATCH_FAULTS as exc:
                logger.warning("batch %d failed: %s", batch.index, exc)
                failures[batch.index] = exc
                return
            except ConnectMetricsError as exc:
                # The whole request is wrong (unknown instance, rejected parameters):
                # the other batches would fail alike, so stop them.
                fatal.append(exc)
                scope.cancel()
                return
            failures.pop(batch.index, None)
            answers[batch.index] = answer
            self._counts["batches"] += 1
            self._counts["pages"] += answer.pages
            self._counts["restarts"] += answer.restarts
            if self._on_progress is not None:
                self._on_progress(len(answers), total)

        batches = list(batches)
        total = len(batches)
        async with anyio.create_task_group() as group:
            for batch in batches:
                group.start_soon(run, batch, group.cancel_scope)
        if fatal:
            raise fatal[0]
        return answers


@attrs.define(eq=False)
class _Flight:
    """One shared upstream fetch and the callers waiting for it."""

    background: bool = False
    ahead: float | None = None  # a refresh ahead: the snapshot of the entry it replaces
    probe: bool = False  # a refresh ahead that probes when the service has newer
    done: anyio.Event = attrs.field(factory=anyio.Event)
    answer: Answer | None = None
    error: BaseException | None = None
    waiters: int = 0
    scope: anyio.CancelScope | None = None


_CACHE_MODES = ("use", "refresh", "bypass")


def _cache_mode(mode: object) -> str:
    if mode not in _CACHE_MODES:
        raise InvalidRequestError("cache", mode, "one of 'use', 'refresh', 'bypass'")
    return str(mode)


def _result(request: MetricsRequest, answer: Answer) -> MetricsResult:
    return build_result(
        request,
        answer.rows,
        snapshots=answer.snapshots,
        batches=answer.batches,
        pages=answer.pages,
        partial=bool(answer.failures),
    )


#: Seconds before a pagination token's 5-minute life ends at which it is no longer used.
TOKEN_SAFETY_MARGIN = 30.0


def _for_streaming(request: MetricsRequest, page_size: object) -> MetricsRequest:
    if request.partition not in request.groupings:
        raise InvalidRequestError(
            "groupings",
            list(request.groupings),
            f"streamed rows must belong to one batch each: group by {request.partition}",
        )
    return attrs.evolve(request, page_size=check_page_size(page_size, "page_size"))


def _check_failures(request: MetricsRequest, answer: Answer, allow_partial: bool) -> None:
    """Raise for failed batches: the first error if none succeeded, else a partial one."""
    if not answer.failures:
        return
    failures = dict(answer.failures)
    if not answer.batches:
        # Nothing succeeded: the error itself says more than an empty answer.
        raise failures[min(failures)]
    if not allow_partial:
        raise PartialResultError(_result(request, answer), failures, dict(answer.failed_queues))


def _check_partial(value: object) -> bool:
    # Only a real bool: "no" is truthy, and would mean yes.
    if not isinstance(value, bool):
        raise InvalidRequestError("partial", value, "True or False")
    return value


def _spread_seconds(value: object) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    # NaN would switch the bound off: refused with infinity and negatives.
    return check_non_negative("max_spread", seconds, "finite seconds (or a timedelta) >= 0")


def _stale_batches(answers: Mapping[int, BatchAnswer], max_spread: float | None) -> set[int]:
    if max_spread is None:
        return set()
    times = {i: a.snapshot_time for i, a in answers.items() if a.snapshot_time is not None}
    if not times:
        return set()
    newest = max(times.values())
    return {i for i, t in times.items() if (newest - t).total_seconds() > max_spread}
