"""The path of GetCurrentUserData: who is logged in, each agent once.

`AgentsPath` builds a request (`get_agents`' arguments, or aiobotocore's keyword
arguments: `_agents.py`), resolves ``"all"`` through the directory, asks queues as the
routing profiles that serve them where the routing-profile map makes that cheaper, runs
the batches (`_roster.py`), and renders the agents for the face that asked. Answers are
not cached (docs/decisions.md, "Agents").
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from . import _telemetry as telemetry
from ._agents import (
    AgentsRequest,
    AgentsResult,
    build_agents_request,
    parse_agent,
    user_data_request_from_kwargs,
)
from ._catalog import USER_DATA_FILTER_LIMITS
from ._roster import Roster
from ._runtime import Runtime
from ._transport import Caller
from ._wire import response_metadata

OPERATION = "GetCurrentUserData"


class AgentsPath:
    """GetCurrentUserData over a client's `Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def request(self, instance_id: str | None, **args: Any) -> AgentsRequest:
        """A rich `get_agents` request (`build_agents_request`)."""
        return build_agents_request(
            instance_id=self.runtime.instance(instance_id),
            region=self.runtime.where.region,
            **args,
        )

    def drop_in(self, kwargs: Mapping[str, Any]) -> AgentsRequest:
        """A drop-in GetCurrentUserData request from aiobotocore's keyword arguments."""
        return user_data_request_from_kwargs(
            kwargs, default_instance=self.runtime.instance_id, region=self.runtime.where.region
        )

    async def roster(self, call: Caller, request: AgentsRequest) -> Roster:
        """Every agent `request` selects, each once ("all" resolved first)."""
        with self.runtime.deadline():
            if request.ids is None:
                by_profile = request.filter == "RoutingProfiles"
                request = request.with_ids(
                    await self.runtime.everything(
                        call, request.instance_id, by_profile, request.queue_types
                    )
                )
            if request.filter == "Queues":
                request = await self.by_profiles(call, request)
            return await self.runtime.fanout.roster(call, request)

    async def by_profiles(self, call: Caller, request: AgentsRequest) -> AgentsRequest:
        """Agents of queues asked as the routing profiles that serve them, where cheaper.

        An agent serves the queues of their one profile: the profiles (from the checked
        routing-profile map) list each agent once, in no more requests than the queues.
        """
        ids = request.ids or ()
        known = await self.runtime.directory.profile_map(call, request.instance_id)
        if known is not None:
            known = await self.runtime.directory.checked_map(call, request.instance_id, known)
        if known is None or not known.knows(ids):
            return request
        profiles = tuple(sorted(known.profiles_of(ids)))
        per_request = USER_DATA_FILTER_LIMITS
        if math.ceil(len(profiles) / per_request["RoutingProfiles"]) > math.ceil(
            len(ids) / per_request["Queues"]
        ):
            return request
        return attrs.evolve(request, filter="RoutingProfiles", ids=profiles)

    def _span(self, request: AgentsRequest) -> contextlib.AbstractContextManager[Any]:
        """The call's span (nothing at all while no tracer provider is set)."""
        return telemetry.call(
            OPERATION, region=self.runtime.where.region, instance_id=request.instance_id
        )

    async def result(self, call: Caller, request: AgentsRequest, *, names: bool) -> AgentsResult:
        """The rich API's agents; with `names`, user, profile and queue names too."""
        with self._span(request) as span:
            roster = await self.roster(call, request)
            _annotate(span, roster)
            labels: Mapping[str, str] = {}
            usernames: Mapping[str, str] = {}
            if names:
                labels = await self.runtime.names(call, request.instance_id)
                usernames = await self.runtime.usernames(call, request.instance_id)
        return AgentsResult(
            agents=tuple(parse_agent(r, labels, usernames) for r in roster.records),
            batches=roster.batches,
            pages=roster.pages,
            fetched_at=datetime.fromtimestamp(roster.fetched_at, timezone.utc),
        )

    async def response(self, call: Caller, request: AgentsRequest) -> dict[str, Any]:
        """The drop-in response: every record, each agent once, no NextToken."""
        with self._span(request) as span:
            roster = await self.roster(call, request)
            _annotate(span, roster)
        records = [dict(r) for r in roster.records]
        return {
            "UserDataList": records,
            "ApproximateTotalCount": len(records),
            "ResponseMetadata": response_metadata(roster.request_ids),
        }


def _annotate(span: object, roster: Roster) -> None:
    """What an agents call's span learns: batches, pages, the agents found."""
    telemetry.answered(
        span,
        OPERATION,
        batches=roster.batches,
        pages=roster.pages,
        rows=len(roster.records),
        exact=lambda: True,  # each agent once, or the call fails
        partial=False,
    )
