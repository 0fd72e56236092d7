"""`ConnectMetrics`: the facade, its public methods (settings and lifecycle: `_client_base.py`).

Each public method is a short call into the path of its operation over the client's
`Runtime` (`_runtime.py`): `MetricsPath` for real-time and historical metrics,
`AgentsPath` for the agents, `V2Path` for GetMetricDataV2. The path builds the request,
answers it and renders the answer. The drop-in face lives under ``cm.boto``
(`_boto.py`), over the same paths; its old names on the client itself are deprecated.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

from ._agents import AgentsResult
from ._cache import CachePolicy
from ._checks import (
    CacheMode,
    check_cache_mode,
    check_flag,
    check_partial,
    check_spread,
)
from ._client_base import ClientBase
from ._directory import QueueInfo, RoutingProfileInfo, UserInfo
from ._errors import InvalidRequestError
from ._follow import (
    CurrentSchedule,
    Follower,
    HistoricalSchedule,
    alerts_checked,
    check_last,
    check_last_v2,
    question_key,
)
from ._metric import Metric
from ._metrics_path import MetricsPath, for_streaming
from ._request import (
    CURRENT_OP,
    HISTORICAL_OP,
    MetricsRequest,
    check_queue_types,
)
from ._result import MetricsPage, MetricsResult
from ._v2.catalog import INTERVALS as V2_INTERVALS
from ._v2.request import V2Metric, V2Request
from ._v2.result import V2Result

#: A placeholder time: a followed V2 question's key leaves out its moving window.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ConnectMetrics(ClientBase):
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
        sleep: how `follow` waits for `clock` to move on (``anyio.sleep``; with an
            injected clock, one that waits for that clock, as ``ManualClock.sleep``).
        on_progress: told ``(batches done, batches in all)`` as each batch of a fetch
            finishes, for progress displays.
    """

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
        self._open()  # a closed client says so before anything else
        request = self._current.request(
            instance_id,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        spread = check_spread(max_spread)
        return await self._rich(
            self._current, request, spread, partial=partial, cache=cache, names=names
        )

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
        self._open()
        request = self._historical.request(
            instance_id,
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        return await self._rich(
            self._historical, request, None, partial=partial, cache=cache, names=names
        )

    async def _rich(
        self,
        path: MetricsPath,
        request: MetricsRequest,
        spread: float | None,
        *,
        partial: bool | None,
        cache: object,
        names: object,
    ) -> MetricsResult:
        allow_partial = self._allow_partial(partial)
        mode = check_cache_mode(cache)
        return await path.result(
            self._open(), request, spread, allow_partial=allow_partial, mode=mode, names=names
        )

    def _allow_partial(self, partial: bool | None) -> bool:
        return self._partial if partial is None else check_partial(partial)

    # -- live answers ---------------------------------------------------------------------
    def follow(
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
        names: bool = False,
        alerts: Iterable[str] = (),
    ) -> Follower[MetricsResult]:
        """Follow a real-time question: each newer snapshot's answer, as it comes.

        ``async for update in cm.follow(["CONTACTS_IN_QUEUE"], queues="all"): ...`` or
        ``async with cm.follow(...) as updates: async for update in updates: ...``.
        The arguments are `get_current_metrics`'s, checked here (bad input raises
        before the first answer), plus `alerts`. The first `Update` comes at once (the
        cached answer, or the first fetch), then one per newer snapshot; the next poll
        is when a newer snapshot can exist (the cache's `max_age` after the snapshot,
        or what the service's cadence showed). Followers of one question in this client
        share one loop, and through a shared cache backend, one fetch per snapshot with
        other processes. See docs/live.md.

        `alerts` are thresholds on the metrics asked (``"OLDEST_CONTACT_AGE>120"``, as
        ``watch --alert``): each update's `events` say which rows crossed one since this
        follower's previous update (entered, cleared), once per crossing.

        Raises:
            InvalidRequestError: bad input, at once.
            ConnectMetricsError: from the first ask, when the first poll fails (a later
                failure is an `Update` whose `error` says so, the last answer kept).
        """
        self._open()
        request = self._current.request(
            instance_id,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=groupings,
            queue_types=queue_types,
        )
        spread = check_spread(max_spread)
        allow_partial = self._allow_partial(partial)
        labelled = check_flag("names", names)
        checked = alerts_checked(alerts, [m.key for m in request.metrics])
        policy = self._cache_policy
        front = self._runtime.front
        schedule = CurrentSchedule(
            max_age=policy.max_age if policy is not None else CachePolicy().max_age,
            floor=lambda: front.cadence.floor,
        )

        async def poll() -> MetricsResult:
            return await self._current.result(
                self._open(), request, spread, allow_partial=allow_partial, mode="use",
                names=labelled,
            )  # fmt: skip

        key = question_key(CURRENT_OP, request, spread, allow_partial, labelled)
        return self._hub.follow(key, poll, schedule, checked)

    def follow_historical(
        self,
        metrics: Iterable[str | Metric],
        *,
        last: timedelta,
        queues: Iterable[str] | Literal["all"],
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] = (),
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        partial: bool | None = None,
        names: bool = False,
        alerts: Iterable[str] = (),
    ) -> Follower[MetricsResult]:
        """Follow a historical question over the last `last`: each interval as published.

        The window ends at the last 5-minute boundary whose interval the service has
        published (`CachePolicy.publish_lag` after it closes) and is `last` long (whole
        5-minute intervals, up to 23 h 50 min with the default lag); an update comes
        when the next interval is published. Other arguments, updates and errors as for
        `follow` and `get_historical_metrics`.
        """
        self._open()
        policy = self._cache_policy or CachePolicy()
        schedule = HistoricalSchedule(check_last(last, policy.publish_lag), policy.publish_lag)
        allow_partial = self._allow_partial(partial)
        labelled = check_flag("names", names)
        metrics = tuple(metrics) if not isinstance(metrics, str) else metrics

        def request_now() -> MetricsRequest:
            start, end = schedule.window(self._clock())
            return self._historical.request(
                instance_id, metrics=metrics, start=start, end=end, queues=queues,
                channels=channels, groupings=groupings, queue_types=queue_types,
            )  # fmt: skip

        first = request_now()  # every argument checked now
        checked = alerts_checked(alerts, [m.key for m in first.metrics])

        async def poll() -> MetricsResult:
            return await self._historical.result(
                self._open(), request_now(), None, allow_partial=allow_partial, mode="use",
                names=labelled,
            )  # fmt: skip

        question = attrs.evolve(first, start_time=None, end_time=None)
        key = question_key(HISTORICAL_OP, question, schedule.last, allow_partial, labelled)
        return self._hub.follow(key, poll, schedule, checked)

    def follow_v2(
        self,
        metrics: Iterable[str | V2Metric],
        *,
        last: timedelta,
        interval: str = "TOTAL",
        time_zone: str | None = None,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        agents: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        filters: Mapping[str, Iterable[str]] | None = None,
        groupings: Iterable[str] = (),
        instance_id: str | None = None,
        partial: bool | None = None,
        names: bool = False,
    ) -> Follower[V2Result]:
        """Follow a GetMetricDataV2 question over the last `last`, as intervals publish.

        The window ends at the last 5-minute boundary published (`publish_lag` after it
        closes), as `follow_historical`'s; `last` is whole 5-minute intervals, up to 35
        days less 5 minutes with DAY, WEEK and TOTAL and up to 89 days otherwise. Other
        arguments as for `get_historical_metrics_v2`; updates and errors as for
        `follow` (no `alerts`: V2 rows are checked by the caller).
        """
        self._open()
        policy = self._cache_policy or CachePolicy()
        if interval not in tuple(V2_INTERVALS):  # by equality: a list given is refused too
            raise InvalidRequestError("interval", interval, f"one of {', '.join(V2_INTERVALS)}")
        schedule = HistoricalSchedule(
            check_last_v2(last, interval, policy.publish_lag), policy.publish_lag
        )
        allow_partial = self._allow_partial(partial)
        labelled = check_flag("names", names)
        metrics = tuple(metrics) if not isinstance(metrics, str) else metrics

        def request_now() -> V2Request:
            start, end = schedule.window(self._clock())
            return self._v2.request(
                instance_id, metrics=metrics, start=start, end=end, interval=interval,
                time_zone=time_zone, queues=queues, routing_profiles=routing_profiles,
                agents=agents, channels=channels, filters=filters, groupings=groupings,
            )  # fmt: skip

        first = request_now()  # every argument checked now

        async def poll() -> V2Result:
            return await self._v2.result(
                self._open(), request_now(), allow_partial=allow_partial, mode="use",
                names=labelled,
            )  # fmt: skip

        question = attrs.evolve(first, start_time=_EPOCH, end_time=_EPOCH)
        key = question_key("GetMetricDataV2", question, schedule.last, allow_partial, labelled)
        return self._hub.follow(key, poll, schedule)

    # -- agents and the directory -----------------------------------------------------
    async def get_agents(
        self,
        *,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        agents: Iterable[str] | None = None,
        contact_states: Iterable[str] | None = None,
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        names: bool = False,
    ) -> AgentsResult:
        """Every logged-in agent of these queues, routing profiles or users, each once.

        An agent serves a queue through its routing profile (or its own AGENT queue).

        Args:
            queues: queue IDs or ARNs, any number, or ``"all"``.
            routing_profiles: routing profile IDs or ARNs, or ``"all"``: the cheapest
                way to list everyone (each agent has one profile, so no agent is fetched
                twice).
            agents: user IDs or ARNs.
            contact_states: only agents with a contact in one of these states
                (``CONNECTED``, ``ENDED``, ...).
            queue_types: with ``queues="all"``: STANDARD and/or AGENT.
            instance_id: overrides the client's default instance.
            names: also look up user names (ListUsers), routing profile and queue names
                (ListRoutingProfiles, ListQueues); each listing is reused for
                `queue_list_ttl` seconds.

        Returns:
            an `AgentsResult`: the agents in user ID order, each with its
            `AgentActivity`; ``result.counts()`` gives agents per activity.

        Raises:
            InvalidRequestError: bad input (before any network call).
            ServiceError, ConnectionFailedError, PaginationError: a request failed
                after retries (the whole call fails: a list missing some agents would
                read as the truth).
        """
        self._open()
        request = self._agents.request(
            instance_id,
            queues=queues,
            routing_profiles=routing_profiles,
            agents=agents,
            contact_states=contact_states,
            queue_types=queue_types,
        )
        return await self._agents.result(self._open(), request, names=check_flag("names", names))

    async def list_queues(
        self, *, queue_types: Iterable[str] = ("STANDARD",), instance_id: str | None = None
    ) -> tuple[QueueInfo, ...]:
        """Every queue of the instance of the given types (reused for `queue_list_ttl`)."""
        types = check_queue_types(queue_types)
        return await self._runtime.listing(
            self._open(),
            instance_id,
            lambda call, instance: self._runtime.directory.queues(call, instance, types),
        )

    async def list_routing_profiles(
        self, *, instance_id: str | None = None
    ) -> tuple[RoutingProfileInfo, ...]:
        """Every routing profile of the instance (reused for `queue_list_ttl`)."""
        runtime = self._runtime
        return await runtime.listing(self._open(), instance_id, runtime.directory.routing_profiles)

    async def list_users(self, *, instance_id: str | None = None) -> tuple[UserInfo, ...]:
        """Every user of the instance (reused for `queue_list_ttl`)."""
        runtime = self._runtime
        return await runtime.listing(self._open(), instance_id, runtime.directory.users)

    # -- GetMetricDataV2 ----------------------------------------------------------------
    async def get_historical_metrics_v2(
        self,
        metrics: Iterable[str | V2Metric],
        *,
        start: datetime,
        end: datetime,
        interval: str = "TOTAL",
        time_zone: str | None = None,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        agents: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        filters: Mapping[str, Iterable[str]] | None = None,
        groupings: Iterable[str] = (),
        instance_id: str | None = None,
        partial: bool | None = None,
        cache: CacheMode = "use",
        names: bool = False,
    ) -> V2Result:
        """GetMetricDataV2 metrics for any number of queues, profiles or agents.

        Args:
            metrics: names (``"AVG_HANDLE_TIME"``), keys with a threshold
                (``"SERVICE_LEVEL_60"``), or `V2Metric` objects (metric filters too).
            start: an aware datetime within the last 3 months.
            end: an aware datetime after `start`, not in the future. FIFTEEN_MIN,
                THIRTY_MIN and HOUR take any such range (cut into calls of under 3
                days); DAY, WEEK and TOTAL take under 35 days.
            interval: FIFTEEN_MIN, THIRTY_MIN, HOUR, DAY, WEEK or TOTAL (the default:
                one interval over the whole range).
            time_zone: the IANA time zone intervals are aligned to (default UTC).
            queues: queue IDs or ARNs, any number, or ``"all"``.
            routing_profiles: routing profile IDs or ARNs, any number, or ``"all"``.
            agents: user IDs or ARNs, any number.
            channels: VOICE, CHAT, TASK, EMAIL.
            filters: other filter keys and their values (``{"AGENT_HIERARCHY_LEVEL_ONE":
                [...]}``); at most 5 filter keys in all, at least one a resource.
            groupings: up to 4 grouping keys (QUEUE, CHANNEL, ROUTING_PROFILE, AGENT, ...).
            instance_id: overrides the client's default; an instance ARN spares the one
                ListQueues call that otherwise learns it (the ARN names the account).
            partial: return what succeeded instead of raising `PartialResultError`.
            cache: "use", "refresh" or "bypass", as for `get_current_metrics`; an
                answer over a final range (ended `CachePolicy.final_after` ago) lives
                `CachePolicy.final_max_age`.
            names: name the rows' queues, routing profiles and agents
                (``row.name("QUEUE")``, ``QUEUE_NAME`` in ``to_dict()``), from the
                directory's listings (reused for `queue_list_ttl`).

        Returns:
            a `V2Result`: rows by dimensions and interval; values combined across calls
            are marked (``row.is_exact``, ``row.bounds``). See docs/metrics.md.

        Raises:
            InvalidRequestError: bad input, or a metric with no honest combination
                across the calls the request needs (before any network call).
            PartialResultError: some calls failed (unless `partial`).
            ServiceError, ConnectionFailedError, PaginationError: the call failed.
        """
        self._open()
        request = self._v2.request(
            instance_id,
            metrics=metrics,
            start=start,
            end=end,
            interval=interval,
            time_zone=time_zone,
            queues=queues,
            routing_profiles=routing_profiles,
            agents=agents,
            channels=channels,
            filters=filters,
            groupings=groupings,
        )
        allow_partial = self._allow_partial(partial)
        mode = check_cache_mode(cache)
        return await self._v2.result(
            self._open(), request, allow_partial=allow_partial, mode=mode, names=names
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
        self._open()
        request = self._current.request(
            instance_id,
            metrics=metrics,
            queues=queues,
            routing_profiles=routing_profiles,
            channels=channels,
            groupings=rows_grouped(groupings, "iter_current_pages"),
            queue_types=queue_types,
        )
        return self._current.stream(self._open(), for_streaming(request, page_size))

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
        self._open()
        request = self._historical.request(
            instance_id,
            metrics=metrics,
            start=start,
            end=end,
            queues=queues,
            channels=channels,
            groupings=rows_grouped(groupings, "iter_current_pages"),
            queue_types=queue_types,
        )
        return self._historical.stream(self._open(), for_streaming(request, page_size))


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
