"""Agents in the fake: GetCurrentUserData, and agent statuses as the service names them.

The records come from the same `ContactCentre` state as the real-time metrics at the same
snapshot, so counts of agents by state over any scope equal the service's agent metrics
over that scope:

* an agent whose simulated status is OFFLINE is not listed (the service lists agents who
  are logged in);
* ON_CONTACT: status "Available", one contact CONNECTED (or CONNECTED_ONHOLD);
* AFTER_CONTACT_WORK: status "Available", one contact ENDED (after-contact work);
* ERROR: status "Available", one contact MISSED;
* NON_PRODUCTIVE: a custom status ("Break"), no contact;
* AVAILABLE: status "Available", no contact.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .._catalog import CONTACT_STATES, USER_DATA_FILTER_LIMITS
from ._coverage import not_simulated
from ._faults import invalid
from ._sim import Agent, ContactCentre
from ._tokens import Chain, ScopedTokens, digest

#: (a resource ID or ARN, its kind) -> its ID, or the service's error.
ResourceId = Callable[[str, str], str]

#: The agent status (the one set in the CCP) of each simulated activity.
STATUS_NAMES = {
    "AVAILABLE": "Available",
    "ON_CONTACT": "Available",
    "AFTER_CONTACT_WORK": "Available",
    "ERROR": "Available",
    "NON_PRODUCTIVE": "Break",
    "OFFLINE": "Offline",
}
#: Simulated statuses change every fourth snapshot (`ContactCentre.status`).
_STATUS_BLOCK = 4
_RESOURCE_FILTERS = {
    "Queues": "queue",
    "RoutingProfiles": "routing-profile",
    "Agents": "agent",
    "UserHierarchyGroups": "agent-group",
}
_INITIATIONS = ("INBOUND", "TRANSFER", "CALLBACK", "API", "OUTBOUND")


def _stable_id(*parts: object) -> str:
    return str(uuid.UUID(int=random.Random(":".join(map(str, parts))).getrandbits(128), version=4))


def status_resource(centre: ContactCentre, name: str) -> tuple[str, str]:
    """The ID and ARN of the agent status named `name` in this instance."""
    status_id = _stable_id(centre.instance_id, name)
    return status_id, f"{centre.instance_arn}/agent-state/{status_id}"


def agent_status_counts(
    centre: ContactCentre,
    snapshot: int,
    queue_ids: list[str],
    channels: list[str],
    status_ids: set[str] | None,
) -> dict[tuple[str, str], int]:
    """AGENTS_ONLINE per (queue, agent status name), as grouped by QUEUE, AGENT_STATUS.

    An agent counts for a queue where it can take one of the queue's channels in the
    filter, as in `ContactCentre.current_rows`; offline agents are not online.
    """
    counts: dict[tuple[str, str], int] = {}
    index = centre.agents_by_queue()
    for queue_id in dict.fromkeys(queue_ids):
        queue = centre.queues.get(queue_id)
        if queue is None:
            continue
        wanted = set(queue.channels) & set(channels)
        for agent_id in sorted(index.get(queue_id, ())):
            agent = centre.agents[agent_id]
            if not wanted & set(centre.agent_channels(agent)):
                continue
            name = STATUS_NAMES[centre.status(agent_id, snapshot)[0]]
            if name == "Offline":
                continue
            if status_ids is not None and status_resource(centre, name)[0] not in status_ids:
                continue
            counts[(queue_id, name)] = counts.get((queue_id, name), 0) + 1
    return counts


def _contact(
    centre: ContactCentre, agent: Agent, status: str, channel: str | None, *, block: int, at: float
) -> dict[str, Any]:
    rng = random.Random(f"{centre.seed}:contact:{agent.id}:{block}")
    if channel is None:  # after-contact work or a missed contact: on one of its channels
        channel = rng.choice(centre.agent_channels(agent))
    served = [q for q in centre.agent_queues(agent) if channel in centre.queues[q].channels]
    queue = centre.queues[rng.choice(served or list(centre.agent_queues(agent)))]
    state = {"AFTER_CONTACT_WORK": "ENDED", "ERROR": "MISSED"}.get(status, "CONNECTED")
    if state == "CONNECTED" and rng.random() < 0.15:
        state = "CONNECTED_ONHOLD"
    contact: dict[str, Any] = {
        "ContactId": _stable_id(centre.seed, "contact-id", agent.id, block),
        "Channel": channel,
        "InitiationMethod": rng.choices(_INITIATIONS, (80, 8, 5, 4, 3))[0],
        "AgentContactState": state,
        "StateStartTimestamp": at,
        "Queue": {"Id": queue.id, "Arn": queue.arn},
    }
    if state != "MISSED":
        contact["ConnectedToAgentTimestamp"] = at
    return contact


def user_record(
    centre: ContactCentre, agent: Agent, snapshot: int, snapshot_interval: float
) -> dict[str, Any] | None:
    """An agent's GetCurrentUserData record at a snapshot; None when offline."""
    status, channel = centre.status(agent.id, snapshot)
    if status == "OFFLINE":
        return None
    block = snapshot // _STATUS_BLOCK
    since = block * _STATUS_BLOCK * snapshot_interval
    profile = centre.routing_profiles[agent.routing_profile_id]
    name = STATUS_NAMES[status]
    slots = {ch: centre.slots(agent, ch, snapshot) for ch in profile.concurrency}
    contacts = []
    if status in ("ON_CONTACT", "AFTER_CONTACT_WORK", "ERROR"):
        contacts.append(_contact(centre, agent, status, channel, block=block, at=since))
    return {
        "User": {"Id": agent.id, "Arn": f"{centre.instance_arn}/agent/{agent.id}"},
        "RoutingProfile": {"Id": profile.id, "Arn": profile.arn},
        "Status": {
            "StatusStartTimestamp": since,
            "StatusArn": status_resource(centre, name)[1],
            "StatusName": name,
        },
        "AvailableSlotsByChannel": {ch: s[1] for ch, s in slots.items()},
        "MaxSlotsByChannel": dict(profile.concurrency),
        "ActiveSlotsByChannel": {ch: s[0] for ch, s in slots.items()},
        "Contacts": contacts,
    }


def _selected(
    centre: ContactCentre, resource_id: ResourceId, filters: Mapping[str, Any]
) -> list[Agent]:
    given = [name for name in _RESOURCE_FILTERS if name in filters]
    if len(given) > 1:
        raise invalid(
            "Filters takes at most one of Queues, RoutingProfiles, Agents and UserHierarchyGroups"
        )
    if not given:  # "a maximum of one": what the service lists then is not documented
        raise not_simulated("GetCurrentUserData without a resource filter")
    [name] = given
    values = filters[name]
    upper = USER_DATA_FILTER_LIMITS[name]
    if not isinstance(values, list) or not 1 <= len(values) <= upper:
        raise invalid(f"Filters.{name} must hold 1 to {upper} items")
    ids = {resource_id(v, _RESOURCE_FILTERS[name]) for v in values}
    if name == "Queues":
        index = centre.agents_by_queue()
        chosen = set().union(*(index.get(q, set()) for q in ids))
    elif name == "RoutingProfiles":
        chosen = {a.id for a in centre.agents.values() if a.routing_profile_id in ids}
    else:
        chosen = ids & set(centre.agents)
    return [centre.agents[a] for a in sorted(chosen)]


def _contact_states(filters: Mapping[str, Any]) -> frozenset[str] | None:
    contact_filter = filters.get("ContactFilter")
    if contact_filter is None:
        return None
    states = contact_filter.get("ContactStates") or []
    if len(states) > len(CONTACT_STATES):
        raise invalid(f"ContactFilter.ContactStates holds at most {len(CONTACT_STATES)} items")
    for state in states:
        if state not in CONTACT_STATES:
            raise invalid(f"Invalid contact state {state!r}")
    return frozenset(states) if states else None


def get_current_user_data(
    tokens: ScopedTokens,
    centre: ContactCentre,
    params: Mapping[str, Any],
    now: float,
    *,
    snapshot: int,
    snapshot_interval: float,
    resource_id: ResourceId,
) -> dict[str, Any]:
    """The first page of a GetCurrentUserData answer at a snapshot (later pages: by token)."""
    filters = params.get("Filters")
    if not isinstance(filters, dict):
        raise invalid("Filters is required")
    agents = _selected(centre, resource_id, filters)
    states = _contact_states(filters)
    records = []
    for agent in agents:
        record = user_record(centre, agent, snapshot, snapshot_interval)
        if record is None:
            continue
        if states is not None and not any(
            c["AgentContactState"] in states for c in record["Contacts"]
        ):
            continue
        records.append(record)
    chain = Chain(digest(params), records, {"ApproximateTotalCount": len(records)}, "UserDataList")
    return tokens.first_page(chain, params, now)
