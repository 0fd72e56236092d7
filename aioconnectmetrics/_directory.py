"""The directory: an instance's queues, routing profiles and users, listed and reused.

``queues="all"`` and ``routing_profiles="all"`` resolve here (ListQueues,
ListRoutingProfiles), and so do the names shown in results (``names=True``) and agents'
user names (ListUsers). Each listing follows every page, runs under its own operation's
quota, and is reused for `ttl` seconds. One listing runs at a time per client:
concurrent callers wait for it and share its answer.

The routing-profile map (`_profiles.ProfileMap`: which queues each profile serves, from
SearchRoutingProfiles) is kept here too: made once, reused for `ttl` seconds, and checked
against ListRoutingProfiles' ``LastModifiedTime`` at most every `MAP_CHECK_EVERY` seconds
(a profile whose queues changed has a newer time): made again when a profile changed,
was added or went. Where the map cannot be made (a role without SearchRoutingProfiles,
say), the directory says so (None) for `ttl` seconds, with one warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import anyio
import anyio.lowlevel
import attrs

from ._errors import ConnectionFailedError, PaginationError, ServiceError
from ._profiles import ProfileMap
from ._request import QUEUE_TYPES
from ._transport import Caller

logger = logging.getLogger("aioconnectmetrics.directory")  # by concern: docs/observability.md

#: The profile map is checked against ListRoutingProfiles at most this often (seconds).
MAP_CHECK_EVERY = 2.0
#: What makes a map impossible for now (permissions, the service, the network).
_MAP_FAULTS = (ServiceError, ConnectionFailedError, PaginationError)


@attrs.frozen
class QueueInfo:
    """A queue as ListQueues describes it."""

    id: str
    arn: str
    name: str
    queue_type: str


@attrs.frozen
class RoutingProfileInfo:
    """A routing profile as ListRoutingProfiles describes it (`modified`: epoch seconds)."""

    id: str
    arn: str
    name: str
    modified: float | None = None


def _profile_info(summary: Mapping[str, Any]) -> RoutingProfileInfo:
    modified = summary.get("LastModifiedTime")
    return RoutingProfileInfo(
        summary["Id"],
        summary["Arn"],
        summary.get("Name", ""),
        modified.timestamp() if isinstance(modified, datetime) else None,
    )


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
    "SearchRoutingProfiles": "RoutingProfiles",
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
        # instance -> (made at, checked at, the map or None: cannot be made for now)
        self._maps: dict[str, tuple[float, float, ProfileMap | None]] = {}
        self._map_lock = anyio.Lock()
        self._warned: set[str] = set()

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
        return await self._listing(call, "ListRoutingProfiles", instance_id, _profile_info)

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

    # -- the routing-profile map ----------------------------------------------------------
    async def profile_map(self, call: Caller, instance_id: str) -> ProfileMap | None:
        """The instance's map as known (made now if not known); None: cannot be made."""
        async with self._map_lock:
            known = self._maps.get(instance_id)
            if known is not None and self._clock() - known[0] < self._ttl:
                return known[2]
            return await self._make_map(call, instance_id)

    async def checked_map(
        self, call: Caller, instance_id: str, used: ProfileMap
    ) -> ProfileMap | None:
        """`used` if no profile changed since it was made; else the map made again.

        Checked now, unless checked in the last `MAP_CHECK_EVERY` seconds. None: the map
        cannot be made (or checked) now.
        """
        async with self._map_lock:
            known = self._maps.get(instance_id)
            if known is None or known[2] is not used:
                return known[2] if known is not None else await self._make_map(call, instance_id)
            made, checked, _ = known
            now = self._clock()
            if now - checked < MAP_CHECK_EVERY:
                return used
            try:
                listed = await self._list_profiles(call, instance_id)
            except _MAP_FAULTS as exc:
                self._unavailable(instance_id, exc)
                return None
            if _versions(listed) == used.versions:
                self._maps[instance_id] = (made, now, used)
                return used
            return await self._make_map(call, instance_id, listed)

    def forget_map(self, instance_id: str, used: ProfileMap) -> None:
        """Drop `used` (an answer contradicted it): the next call makes the map again."""
        known = self._maps.get(instance_id)
        if known is not None and known[2] is used:
            del self._maps[instance_id]

    async def _list_profiles(
        self, call: Caller, instance_id: str
    ) -> tuple[RoutingProfileInfo, ...]:
        """ListRoutingProfiles now (the listing's cache takes the fresh answer too)."""
        found = tuple(
            _profile_info(s) for s in await list_all(call, "ListRoutingProfiles", instance_id)
        )
        self._known[("ListRoutingProfiles", instance_id)] = (self._clock(), found)
        return found

    async def _make_map(
        self,
        call: Caller,
        instance_id: str,
        listed: tuple[RoutingProfileInfo, ...] | None = None,
    ) -> ProfileMap | None:
        # Versions first: a profile changed while searching shows a newer time next check.
        try:
            if listed is None:
                listed = await self._list_profiles(call, instance_id)
            standard = await self.queues(call, instance_id, ("STANDARD",))
            found = await list_all(call, "SearchRoutingProfiles", instance_id, MaxResults=500)
        except _MAP_FAULTS as exc:
            self._unavailable(instance_id, exc)
            return None
        made = ProfileMap(
            instance_id=instance_id,
            queues_of=MappingProxyType(
                {
                    p["RoutingProfileId"]: tuple(p.get("AssociatedQueueIds") or ())
                    for p in found
                    if p.get("RoutingProfileId")
                }
            ),
            standard=frozenset(q.id for q in standard),
            versions=_versions(listed),
        )
        now = self._clock()
        self._maps[instance_id] = (now, now, made)
        return made

    def _unavailable(self, instance_id: str, exc: Exception) -> None:
        if instance_id not in self._warned:
            self._warned.add(instance_id)
            logger.warning(
                "routing-profile map of instance %s unavailable (%s): agent counts over "
                "several batches ask each batch's agents apart (one more request per batch)",
                instance_id,
                exc,
            )
        now = self._clock()
        self._maps[instance_id] = (now, now, None)


def _versions(listed: tuple[RoutingProfileInfo, ...]) -> Mapping[str, float]:
    return MappingProxyType({p.id: p.modified if p.modified is not None else -1.0 for p in listed})
