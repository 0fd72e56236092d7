"""The agents and directory face of `ConnectMetrics`: who is logged in; what exists.

A base class of `ConnectMetrics`, kept apart so that the metrics facade stays one
concept: these methods turn their arguments into an `AgentsRequest` (`_agents.py`) and
hand it to the client's `Pipeline`, or read the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from ._agents import AgentsResult
from ._checks import check_flag
from ._directory import QueueInfo, RoutingProfileInfo, UserInfo
from ._pipeline import Pipeline
from ._transport import Caller


class DirectoryMethods:
    """`get_agents` and the listings of the directory (``get_current_user_data``: ``cm.boto``)."""

    _pipeline: Pipeline

    def _open(self) -> Caller:
        raise NotImplementedError  # ConnectMetrics says whether it is open

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
        request = self._pipeline.agents_request(
            instance_id,
            queues=queues,
            routing_profiles=routing_profiles,
            agents=agents,
            contact_states=contact_states,
            queue_types=queue_types,
        )
        return await self._pipeline.agents(self._open(), request, names=check_flag("names", names))

    async def list_queues(
        self, *, queue_types: Iterable[str] = ("STANDARD",), instance_id: str | None = None
    ) -> tuple[QueueInfo, ...]:
        """Every queue of the instance of the given types (reused for `queue_list_ttl`)."""
        return await self._pipeline.list_queues(self._open(), instance_id, queue_types)

    async def list_routing_profiles(
        self, *, instance_id: str | None = None
    ) -> tuple[RoutingProfileInfo, ...]:
        """Every routing profile of the instance (reused for `queue_list_ttl`)."""
        pipeline = self._pipeline
        return await pipeline.listing(
            self._open(), instance_id, pipeline.directory.routing_profiles
        )

    async def list_users(self, *, instance_id: str | None = None) -> tuple[UserInfo, ...]:
        """Every user of the instance (reused for `queue_list_ttl`)."""
        pipeline = self._pipeline
        return await pipeline.listing(self._open(), instance_id, pipeline.directory.users)
