"""The path of one call below the facade: request in, answer out.

`Pipeline.answer` keys the request (who asks included), asks the cache front, and on a
miss computes: queues resolved by the directory, batches run by the fan-out, pages
merged. The call's deadline covers every wait of it: the cache, another caller's fetch,
another process's lease, as well as its own fetch (which keeps a deadline of its own, for
background refreshes nobody waits for). `Pipeline.stream` is the page-wise path.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import anyio
import attrs

from ._agents import (
    AgentsRequest,
    AgentsResult,
    build_agents_request,
    parse_agent,
    user_data_request_from_kwargs,
)
from ._backend import CacheBackend, MemoryBackend
from ._cache import Answer, CachePolicy, cache_key, fresh_until
from ._catalog import USER_DATA_FILTER_LIMITS
from ._checks import CacheMode, check_count, check_flag, check_positive
from ._departure import watch
from ._directory import Directory, QueueInfo
from ._dropin import current_request_from_kwargs, historical_request_from_kwargs
from ._errors import InvalidRequestError
from ._fanout import Execution, FanOut, within
from ._front import CacheFront
from ._identity import CredentialIdentity, credential_identity
from ._limiter import Limiter
from ._merge import merge
from ._profiles import AgentPlan, ProfileMap, counted_once, needs_map, plan_agents
from ._request import (
    CURRENT_OP,
    HISTORICAL_OP,
    MetricsRequest,
    Operation,
    build_request_memo,
    check_instance_id,
    check_page_size,
    check_queue_types,
)
from ._result import MetricRow, MetricsPage, MetricsResult, check_failures, result_of
from ._retry import RetryingCaller, RetryPolicy
from ._roster import Roster
from ._stats import Counters
from ._transport import Caller, ClientCaller, ConnectClient, credentials_translated
from ._wire import botocore_response, response_metadata

_T = TypeVar("_T")


def for_streaming(request: MetricsRequest, page_size: object) -> MetricsRequest:
    """`request`, checked for streaming (rows of one batch each), with its page size."""
    if request.partition not in request.groupings:
        raise InvalidRequestError(
            "groupings",
            list(request.groupings),
            f"streamed rows must belong to one batch each: group by {request.partition}",
        )
    return attrs.evolve(request, page_size=check_page_size(page_size, "page_size"))


@attrs.define
class Where:
    """Who asks, and through what: part of every cache key."""

    region: str = ""
    endpoint: str = ""
    tenant: str = ""


class Pipeline:
    """Cache front, queue directory and fan-out, put together for one client."""

    def __init__(
        self,
        *,
        front: CacheFront,
        fanout: FanOut,
        directory: Directory,
        counters: Counters,
        deadline: Callable[[], float | None],
        instance_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.front = front
        self.fanout = fanout
        self.directory = directory
        self.counters = counters
        self.where = Where()
        self.instance_id = instance_id
        self._deadline_of = deadline
        self._clock = clock

    @classmethod
    def build(
        cls,
        *,
        backend: CacheBackend | None,
        cache: CachePolicy | None,
        clock: Callable[[], float],
        lease_ttl: float,
        max_concurrency: int,
        pagination_restarts: int,
        queue_list_ttl: float,
        on_progress: Callable[[int, int], None] | None,
        deadline: Callable[[], float | None],
        instance_id: str | None,
    ) -> Pipeline:
        """The parts, from a client's configuration (checked here)."""
        counters = Counters()
        if backend is None:
            backend = MemoryBackend(cache.max_rows if cache is not None else 1, clock=clock)
        return cls(
            front=CacheFront(
                backend, cache, clock=clock, lease_ttl=check_positive("lease_ttl", lease_ttl)
            ),
            fanout=FanOut(
                slots=anyio.CapacityLimiter(
                    check_count("max_concurrency", max_concurrency, minimum=1)
                ),
                counts=counters.counts,
                max_restarts=check_count("pagination_restarts", pagination_restarts, minimum=0),
                clock=clock,
                on_progress=on_progress,
            ),
            directory=Directory(ttl=queue_list_ttl, clock=clock),
            counters=counters,
            deadline=deadline,
            instance_id=instance_id,
            clock=clock,
        )

    async def open(
        self,
        stack: contextlib.AsyncExitStack,
        client: ConnectClient,
        *,
        limiter: Limiter,
        retry: RetryPolicy,
        identify: Callable[[ConnectClient], Awaitable[CredentialIdentity]] | None = None,
    ) -> tuple[Caller, str]:
        """Open on `client`: its caller (limited, retried, counted), and whose quota it is.

        What runs in the background lives in `stack`, and ends with it. `identify` finds
        whose quota and cache the client's credentials are (default: STS, as the
        client's own credentials).
        """
        # Shared fetches and background refreshes run in this task group, not in the
        # caller's task, so that one caller leaving does not cancel what others wait for.
        tasks = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tasks.cancel_scope.cancel)  # what nobody waits for ends here
        self.front.open(tasks)
        stack.callback(self.front.open, None)
        with credentials_translated("reading the credentials"):
            identities = await (identify or credential_identity)(client)
        region = str(client.meta.region_name)
        self.where = Where(region, str(client.meta.endpoint_url), identities.tenant)
        # The limiter learns when requests leave (a new connection's set-up included).
        watch(client)
        caller = RetryingCaller(
            ClientCaller(client, on_call=self.counters.call),
            limiter=limiter,
            identity=identities.account,
            region=region,
            policy=retry,
            on_retry=self.counters.retry,
        )
        return caller, identities.account

    # -- requests in, answers out --------------------------------------------------------
    def request(
        self, operation: Operation, instance_id: str | None, **args: Any
    ) -> MetricsRequest:
        """A rich-API request (`build_request`); `instance_id` None: the default one."""
        now = self.now() if operation == HISTORICAL_OP else None
        instance = self.instance(instance_id)
        return build_request_memo(
            operation, instance_id=instance, region=self.where.region, now=now, **args
        )

    def drop_in_request(self, operation: Operation, kwargs: Mapping[str, Any]) -> MetricsRequest:
        """A drop-in request from aiobotocore's keyword arguments (`_dropin.py`)."""
        if operation == CURRENT_OP:
            return current_request_from_kwargs(
                kwargs, default_instance=self.instance_id, region=self.where.region
            )
        return historical_request_from_kwargs(
            kwargs, default_instance=self.instance_id, region=self.where.region, now=self.now()
        )

    def instance(self, instance_id: str | None) -> str:
        """`instance_id`, or the client's default when None."""
        # Only None means "the default": an empty string is a bad ID, said so later.
        chosen = self.instance_id if instance_id is None else instance_id
        if chosen is None:
            raise InvalidRequestError(
                "instance_id", None, "give instance_id here or to ConnectMetrics(instance_id)"
            )
        return chosen

    def now(self) -> datetime:
        """The clock's time, as an aware UTC datetime."""
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    async def result(
        self,
        call: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        allow_partial: bool,
        mode: CacheMode,
        names: object = False,
    ) -> MetricsResult:
        """The rich API's result; with `names`, its rows carry queue and profile names."""
        # Only rows of a queue or a profile have a name: no listing for anything else.
        labelled = check_flag("names", names) and not {"QUEUE", "ROUTING_PROFILE"}.isdisjoint(
            request.groupings
        )
        answer = await self.answer(call, request, spread, mode)
        labels = await self.names(call, request.instance_id) if labelled else None
        check_failures(request, answer, allow_partial=allow_partial, names=labels)
        return result_of(request, answer, labels)

    async def names(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """ID -> name of the instance's queues and routing profiles (from the directory)."""
        with self.deadline():
            return await self.directory.names(call, instance_id)

    async def usernames(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """User ID -> user name of the instance's users (from the directory)."""
        with self.deadline():
            return await self.directory.usernames(call, instance_id)

    async def response(self, call: Caller, request: MetricsRequest) -> dict[str, Any]:
        """The drop-in API's response, in botocore's shape."""
        answer = await self.answer(call, request, None, "use")
        check_failures(request, answer, allow_partial=False)
        # With a cache, answers are shared: give each caller rows of its own.
        shared = self.front.policy is not None
        return botocore_response(
            request, answer.rows, answer.snapshots, answer.request_ids, copy_rows=shared
        )

    async def list_queues(
        self, call: Caller, instance_id: str | None, queue_types: object
    ) -> tuple[QueueInfo, ...]:
        """The instance's queues of these types, from the directory."""
        types = check_queue_types(queue_types)
        return await self.listing(
            call, instance_id, lambda c, instance: self.directory.queues(c, instance, types)
        )

    async def listing(
        self,
        call: Caller,
        instance_id: str | None,
        listed: Callable[[Caller, str], Awaitable[_T]],
    ) -> _T:
        """One of the directory's listings (`listed`) of an instance (None: the default)."""
        instance = check_instance_id(self.instance(instance_id))
        with self.deadline():
            return await listed(call, instance)

    # -- agents --------------------------------------------------------------------------
    def agents_request(self, instance_id: str | None, **args: Any) -> AgentsRequest:
        """A rich `get_agents` request (`build_agents_request`)."""
        return build_agents_request(
            instance_id=self.instance(instance_id), region=self.where.region, **args
        )

    def user_data_request(self, kwargs: Mapping[str, Any]) -> AgentsRequest:
        """A drop-in GetCurrentUserData request from aiobotocore's keyword arguments."""
        return user_data_request_from_kwargs(
            kwargs, default_instance=self.instance_id, region=self.where.region
        )

    async def roster(self, call: Caller, request: AgentsRequest) -> Roster:
        """Every agent `request` selects, each once ("all" resolved first)."""
        with self.deadline():
            if request.ids is None:
                by_profile = request.filter == "RoutingProfiles"
                request = request.with_ids(
                    await self.everything(
                        call, request.instance_id, by_profile, request.queue_types
                    )
                )
            if request.filter == "Queues":
                request = await self.by_profiles(call, request)
            return await self.fanout.roster(call, request)

    async def by_profiles(self, call: Caller, request: AgentsRequest) -> AgentsRequest:
        """Agents of queues asked as the routing profiles that serve them, where cheaper.

        An agent serves the queues of their one profile: the profiles (from the checked
        routing-profile map) list each agent once, in no more requests than the queues.
        """
        ids = request.ids or ()
        known = await self.directory.profile_map(call, request.instance_id)
        if known is not None:
            known = await self.directory.checked_map(call, request.instance_id, known)
        if known is None or not known.knows(ids):
            return request
        profiles = tuple(sorted(known.profiles_of(ids)))
        per_request = USER_DATA_FILTER_LIMITS
        if math.ceil(len(profiles) / per_request["RoutingProfiles"]) > math.ceil(
            len(ids) / per_request["Queues"]
        ):
            return request
        return attrs.evolve(request, filter="RoutingProfiles", ids=profiles)

    async def agents(self, call: Caller, request: AgentsRequest, *, names: bool) -> AgentsResult:
        """The rich API's agents; with `names`, user, profile and queue names too."""
        roster = await self.roster(call, request)
        labels: Mapping[str, str] = {}
        usernames: Mapping[str, str] = {}
        if names:
            labels = await self.names(call, request.instance_id)
            usernames = await self.usernames(call, request.instance_id)
        return AgentsResult(
            agents=tuple(parse_agent(r, labels, usernames) for r in roster.records),
            batches=roster.batches,
            pages=roster.pages,
            fetched_at=datetime.fromtimestamp(roster.fetched_at, timezone.utc),
        )

    async def user_data_response(self, call: Caller, request: AgentsRequest) -> dict[str, Any]:
        """The drop-in response: every record, each agent once, no NextToken."""
        roster = await self.roster(call, request)
        records = [dict(r) for r in roster.records]
        return {
            "UserDataList": records,
            "ApproximateTotalCount": len(records),
            "ResponseMetadata": response_metadata(roster.request_ids),
        }

    @contextlib.contextmanager
    def deadline(self) -> Iterator[None]:
        """The call's deadline, as `DeadlineExceededError`."""
        with within(self._deadline_of()):
            yield

    async def answer(
        self, call: Caller, request: MetricsRequest, spread: float | None, mode: CacheMode
    ) -> Answer:
        """The merged answer to `request`: from the cache, or fetched."""

        async def fetch() -> Answer:
            return await self.compute(call, request, spread)

        return await self.cached(
            fetch,
            mode,
            key=lambda where: cache_key(
                request,
                region=where.region,
                endpoint=where.endpoint,
                identity=where.tenant,
                extra=(spread,),
            ),
            fresh=lambda policy, answer, at: fresh_until(request, answer, at, policy),
            ahead=request.operation == CURRENT_OP,
        )

    async def cached(
        self,
        fetch: Callable[[], Awaitable[Answer]],
        mode: CacheMode,
        *,
        key: Callable[[Where], str],
        fresh: Callable[[CachePolicy, Answer, float], float],
        ahead: bool,
    ) -> Answer:
        """`fetch`'s answer through the cache front (or straight, without a policy).

        `key` names the answer for who asks; `fresh` says until when an answer fetched at
        a time stays fresh under the policy.
        """
        policy = self.front.policy
        if policy is None or mode == "bypass":
            with self.deadline():
                return await self.front.fetch(fetch)
        name = key(self.where)

        def freshness(answer: Answer, fetched_at: float) -> float:
            return fresh(policy, answer, fetched_at)

        if mode == "use":
            hit = self.front.hit(name, fetch, fresh_until=freshness, ahead=ahead)
            if hit is not None:
                return hit
        with self.deadline():
            return await self.front.get(
                name, fetch, fresh_until=freshness, refresh=mode == "refresh", ahead=ahead
            )

    async def compute(self, call: Caller, request: MetricsRequest, spread: float | None) -> Answer:
        """Resolve, fan out and merge: one upstream fetch, failures recorded, not raised."""
        with self.deadline():
            request = await self.resolve(call, request)
            plan, execution = await self.execute(call, request, spread)
        rows = merge(request, execution.answers)
        used = list(execution.answers)
        if plan is not None:
            counted = counted_once(
                request, rows, execution.answers, execution.profile_answers, plan[1]
            )
            rows = counted.rows
            if counted.contradicted:
                self.directory.forget_map(request.instance_id, plan[0])
            used += execution.profile_answers or ()
        return Answer(
            rows=tuple(rows),
            # Every request's snapshot: the agents' routing-profile requests too.
            snapshots=tuple(t for a in used for t in a.snapshots),
            batches=len(execution.answers),
            pages=sum(a.pages for a in used),
            failures=tuple(sorted(execution.failures.items())),
            failed_queues=tuple((i, execution.batches[i]) for i in sorted(execution.failures)),
            request_ids=tuple(a.request_id for a in execution.answers if a.request_id),
        )

    async def execute(
        self, call: Caller, request: MetricsRequest, spread: float | None
    ) -> tuple[tuple[ProfileMap, AgentPlan] | None, Execution]:
        """The fan-out, with the routing-profile map's plan where it saves requests.

        The map is checked (`Directory.checked_map`) while the batches run; if a profile
        changed, the answer is fetched again with the map made anew.
        """
        if not needs_map(request):
            return None, await self.fanout.execute(call, request, spread)
        instance = request.instance_id
        profiles = await self.directory.profile_map(call, instance)
        for _ in range(2):
            plan = plan_agents(request, profiles) if profiles is not None else None
            if plan is None or profiles is None:
                return None, await self.fanout.execute(call, request, spread)
            checked: list[ProfileMap | None] = []
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._check_map, call, instance, profiles, checked)
                execution = await self.fanout.execute(call, request, spread, plan)
            if checked[0] is profiles:
                return (profiles, plan), execution
            profiles = checked[0]  # a profile changed while the batches ran: again
        return None, await self.fanout.execute(call, request, spread)

    async def _check_map(
        self, call: Caller, instance: str, used: ProfileMap, into: list[ProfileMap | None]
    ) -> None:
        into.append(await self.directory.checked_map(call, instance, used))

    async def resolve(self, call: Caller, request: MetricsRequest) -> MetricsRequest:
        """`request` with ``"all"`` resolved to the instance's queues or routing profiles."""
        by_profile = request.all_routing_profiles
        if not (by_profile or request.all_queues):
            return request
        ids = await self.everything(call, request.instance_id, by_profile, request.queue_types)
        return request.with_routing_profiles(ids) if by_profile else request.with_queues(ids)

    async def everything(
        self, call: Caller, instance_id: str, by_profile: bool, queue_types: tuple[str, ...]
    ) -> tuple[str, ...]:
        """What ``"all"`` means: the IDs of every routing profile, or queue of these types."""
        if by_profile:
            found: tuple[Any, ...] = await self.directory.routing_profiles(call, instance_id)
        else:
            found = await self.directory.queues(call, instance_id, queue_types)
        return tuple(item.id for item in found)

    async def stream(self, call: Caller, request: MetricsRequest) -> AsyncIterator[MetricsPage]:
        """Rows page by page, one batch after another; nothing combined or cached."""
        with self.deadline():
            request = await self.resolve(call, request)
        async for batch, page in self.fanout.stream(call, request, self._deadline_of()):
            yield MetricsPage(
                batch=page.batch,
                page=page.page,
                queue_ids=batch.ids,
                rows=tuple(map(MetricRow, page.rows)),
                snapshot_time=page.snapshot_time,
                restarted=page.restarted,
            )
