"""The directory: an instance's queues, routing profiles and users, listed and reused.

``queues="all"`` and ``routing_profiles="all"`` resolve here (ListQueues,
ListRoutingProfiles), and so do the names shown in results (``names=True``) and agents'
user names (ListUsers). Each listing follows every page, runs under its own operation's
quota, and is reused for `ttl` seconds. One listing runs at a time per client:
concurrent callers wait for it and share its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import anyio
import anyio.lowlevel
import attrs

from ._request import QUEUE_TYPES
from ._transport import Caller


@attrs.frozen
class QueueInfo:
    """A queue as ListQueues describes it."""

    id: str
    arn: str
    name: str
    queue_type: str


@attrs.frozen
class RoutingProfileInfo:
    """A routing profile as ListRoutingProfiles describes it."""

    id: str
    arn: str
    name: str


@attrs.frozen
class UserInfo:
    """A user (an agent) as ListUsers describes it."""

    id: str
    arn: str
    username: str


#: Operation -> the key of its summary list.
_LISTS = {
    "ListQueues": "QueueSummaryList",
    "ListRoutingProfiles": "RoutingProfileSummaryList",
    "ListUsers": "UserSummaryList",
}
#: Queue types listed for names: every queue can appear in a result.


async def list_all(
    call: Caller, operation: str, instance_id: str, **params: Any
) -> list[dict[str, Any]]:
    """Every summary a listing operation gives, through all pages."""
    request: dict[str, Any] = {"InstanceId": instance_id, "MaxResults": 1000, **params}
    summaries: list[dict[str, Any]] = []
    while True:
        response = await call(operation, request)
        summaries.extend(response.get(_LISTS[operation]) or ())
        token = response.get("NextToken")
        if not token:
            return summaries
        request = {**request, "NextToken": token}
        await anyio.lowlevel.checkpoint()


class Directory:
    """Listings per (operation, instance, parameters), each made once per `ttl` seconds."""

    def __init__(self, *, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[object, ...], tuple[float, tuple[Any, ...]]] = {}
        self._lock = anyio.Lock()

    async def _listing(
        self,
        call: Caller,
        operation: str,
        instance_id: str,
        build: Callable[[dict[str, Any]], Any],
        **params: Any,
    ) -> tuple[Any, ...]:
        key = (operation, instance_id, *sorted((k, repr(v)) for k, v in params.items()))
        # One listing at a time: concurrent callers wait and share its answer.
        async with self._lock:
            known = self._known.get(key)
            if known is not None and self._clock() - known[0] < self._ttl:
                return known[1]
            summaries = await list_all(call, operation, instance_id, **params)
            found = tuple(build(s) for s in summaries)
            self._known[key] = (self._clock(), found)
            return found

    async def queues(
        self, call: Caller, instance_id: str, queue_types: tuple[str, ...]
    ) -> tuple[QueueInfo, ...]:
        """The instance's queues of these types: known ones, or listed now."""
        return await self._listing(
            call,
            "ListQueues",
            instance_id,
            lambda s: QueueInfo(s["Id"], s["Arn"], s.get("Name", ""), s.get("QueueType", "")),
            QueueTypes=list(queue_types),
        )

    async def routing_profiles(
        self, call: Caller, instance_id: str
    ) -> tuple[RoutingProfileInfo, ...]:
        """The instance's routing profiles: known ones, or listed now."""
        return await self._listing(
            call,
            "ListRoutingProfiles",
            instance_id,
            lambda s: RoutingProfileInfo(s["Id"], s["Arn"], s.get("Name", "")),
        )

    async def users(self, call: Caller, instance_id: str) -> tuple[UserInfo, ...]:
        """The instance's users: known ones, or listed now."""
        return await self._listing(
            call,
            "ListUsers",
            instance_id,
            lambda s: UserInfo(s["Id"], s["Arn"], s.get("Username", "")),
        )

    async def names(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """ID -> name of every queue and routing profile of the instance."""
        queues = await self.queues(call, instance_id, QUEUE_TYPES)
        profiles = await self.routing_profiles(call, instance_id)
        return MappingProxyType({q.id: q.name for q in queues} | {p.id: p.name for p in profiles})

    async def usernames(self, call: Caller, instance_id: str) -> Mapping[str, str]:
        """User ID -> user name of every user of the instance."""
        return MappingProxyType({u.id: u.username for u in await self.users(call, instance_id)})
