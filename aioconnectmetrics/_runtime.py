"""The runtime of one client: the parts every operation's path runs on.

`Runtime` owns the cache front (fresh? stale? single-flight, leases), the fan-out (batches
under the concurrency cap), the directory (listings, the routing-profile map), the
counters, who asks (`Where`: part of every cache key), the default instance and the
call's deadline. Each operation has a path of its own over it (`_metrics_path.py` for
GetCurrentMetricData and GetMetricData, `_agents_path.py` for GetCurrentUserData,
`_v2/fetch.py` for GetMetricDataV2): the path builds its request, answers it through
the runtime, and renders the answer for the face that asked.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import anyio
import anyio.abc
import attrs

from . import _telemetry as telemetry
from ._backend import CacheBackend, MemoryBackend
from ._cache import Answer, CachePolicy
from ._checks import CacheMode, check_count, check_positive
from ._departure import watch
from ._directory import Directory
from ._errors import InvalidRequestError
from ._fanout import FanOut, within
from ._front import CacheFront
from ._identity import CredentialIdentity, credential_identity
from ._limiter import Limiter
from ._request import check_instance_id
from ._retry import RetryingCaller, RetryPolicy
from ._stats import Counters
from ._transport import Caller, ClientCaller, ConnectClient, credentials_translated

_T = TypeVar("_T")


@attrs.define
class Where:
    """Who asks, and through what: part of every cache key."""

    region: str = ""
    endpoint: str = ""
    tenant: str = ""


class Runtime:
    """Cache front, directory, fan-out, counters and deadline, for one client's paths."""

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
        #: The open client's task group (shared fetches, refreshes, followed questions).
        self.tasks: anyio.abc.TaskGroup | None = None
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
    ) -> Runtime:
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
        self.tasks = tasks
        stack.callback(setattr, self, "tasks", None)
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

    def annotate(self, span: object, operation: str, answer: Answer) -> None:
        """What a call's span learns from its merged answer; its snapshot's age recorded.

        Nothing is computed while no span records and no meter listens.
        """
        if span is None and not telemetry.metering():
            return
        snapshot = answer.snapshot_time
        age = self._clock() - snapshot.timestamp() if snapshot else None
        telemetry.answered(
            span,
            operation,
            batches=answer.batches,
            pages=answer.pages,
            rows=len(answer.rows),
            exact=lambda: all(not row.approximate for row in answer.rows),
            partial=bool(answer.failures),
            snapshot_age=age,
        )

    def deadline_of(self) -> float | None:
        """Seconds a call may take (the retry policy's deadline; None: no limit)."""
        return self._deadline_of()

    @contextlib.contextmanager
    def deadline(self) -> Iterator[None]:
        """The call's deadline, as `DeadlineExceededError`."""
        with within(self._deadline_of()):
            yield

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

    async def names(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """ID -> name of the instance's queues and routing profiles (from the directory)."""
        with self.deadline():
            return await self.directory.names(call, instance_id)

    async def usernames(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """User ID -> user name of the instance's users (from the directory)."""
        with self.deadline():
            return await self.directory.usernames(call, instance_id)

    async def everything(
        self, call: Caller, instance_id: str, by_profile: bool, queue_types: tuple[str, ...]
    ) -> tuple[str, ...]:
        """What ``"all"`` means: the IDs of every routing profile, or queue of these types."""
        if by_profile:
            found: tuple[Any, ...] = await self.directory.routing_profiles(call, instance_id)
        else:
            found = await self.directory.queues(call, instance_id, queue_types)
        return tuple(item.id for item in found)
