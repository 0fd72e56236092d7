"""Agents: who is logged in and what they are doing, from GetCurrentUserData.

Pure: the request (checked before any call, for the rich and the drop-in face alike),
the typed records parsed from the service's ``UserDataList``, the activity each record
shows, and how the records of several batches combine: each agent once, by user ID.

What an agent is doing is read from the record as the real-time metrics count it:

* a contact CONNECTED or CONNECTED_ONHOLD: `AgentActivity.ON_CONTACT`;
* else a contact being offered (INCOMING, PENDING, CONNECTING): ``INCOMING``;
* else a contact ENDED (after-contact work): ``AFTER_CONTACT_WORK``;
* else a contact MISSED, ERROR or REJECTED: ``ERROR``;
* else, by the agent status the agent set: "Available" is ``AVAILABLE``, "Offline" is
  ``OFFLINE``, any other (a custom status such as "Break") is ``NON_PRODUCTIVE``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import attrs

from ._catalog import CONTACT_STATES, USER_DATA_FILTER_LIMITS
from ._checks import check_choices, check_strings
from ._dropin import check_filters, check_kwargs
from ._errors import InvalidRequestError
from ._request import check_instance_id, check_page_size, check_queue_types, select_resources

#: The filters of GetCurrentUserData that name resources; a request uses exactly one.
RESOURCE_FILTERS = tuple(USER_DATA_FILTER_LIMITS)


class AgentActivity(enum.Enum):
    """What an agent is doing, as the real-time agent metrics count it."""

    AVAILABLE = "AVAILABLE"
    INCOMING = "INCOMING"
    ON_CONTACT = "ON_CONTACT"
    AFTER_CONTACT_WORK = "AFTER_CONTACT_WORK"
    ERROR = "ERROR"
    NON_PRODUCTIVE = "NON_PRODUCTIVE"
    OFFLINE = "OFFLINE"


_BY_STATE = (
    (frozenset({"CONNECTED", "CONNECTED_ONHOLD"}), AgentActivity.ON_CONTACT),
    (frozenset({"INCOMING", "PENDING", "CONNECTING"}), AgentActivity.INCOMING),
    (frozenset({"ENDED"}), AgentActivity.AFTER_CONTACT_WORK),
    (frozenset({"MISSED", "ERROR", "REJECTED"}), AgentActivity.ERROR),
)


def _frozen_counts(value: Mapping[str, Any] | None) -> Mapping[str, int]:
    return MappingProxyType({str(k): int(v) for k, v in (value or {}).items()})


@attrs.frozen
class AgentContact:
    """One contact of an agent's, as GetCurrentUserData gives it."""

    contact_id: str
    channel: str
    state: str
    initiation_method: str | None = None
    state_since: datetime | None = None
    connected_at: datetime | None = None
    queue_id: str | None = None
    queue_arn: str | None = None
    queue_name: str | None = None


@attrs.frozen
class Agent:
    """One logged-in agent: status, routing profile, contacts and slots.

    Slots are read-only mappings, channel -> count. Names (`username`,
    `routing_profile_name`, and each contact's `queue_name`) are set when asked for
    with ``names=True``; otherwise None.
    """

    user_id: str
    user_arn: str
    routing_profile_id: str
    routing_profile_arn: str
    status_name: str | None
    status_arn: str | None = None
    status_since: datetime | None = None
    next_status: str | None = None
    contacts: tuple[AgentContact, ...] = ()
    available_slots: Mapping[str, int] = attrs.field(
        factory=dict, converter=_frozen_counts, hash=False
    )
    max_slots: Mapping[str, int] = attrs.field(factory=dict, converter=_frozen_counts, hash=False)
    active_slots: Mapping[str, int] = attrs.field(
        factory=dict, converter=_frozen_counts, hash=False
    )
    hierarchy_group_ids: tuple[str, ...] = ()
    username: str | None = None
    routing_profile_name: str | None = None

    @property
    def activity(self) -> AgentActivity:
        """What the agent is doing (see the module's rules)."""
        states = {c.state for c in self.contacts}
        for wanted, activity in _BY_STATE:
            if states & wanted:
                return activity
        if self.status_name == "Available":
            return AgentActivity.AVAILABLE
        if self.status_name == "Offline":
            return AgentActivity.OFFLINE
        return AgentActivity.NON_PRODUCTIVE

    def to_dict(self) -> dict[str, Any]:
        """A flat dict for JSON: IDs, names, status, activity, slots and contacts."""
        return {
            "user_id": self.user_id,
            "username": self.username,
            "activity": self.activity.value,
            "status_name": self.status_name,
            "status_since": self.status_since.isoformat() if self.status_since else None,
            "routing_profile_id": self.routing_profile_id,
            "routing_profile_name": self.routing_profile_name,
            "available_slots": dict(self.available_slots),
            "active_slots": dict(self.active_slots),
            "max_slots": dict(self.max_slots),
            "contacts": [
                {
                    "contact_id": c.contact_id,
                    "channel": c.channel,
                    "state": c.state,
                    "queue_id": c.queue_id,
                    "queue_name": c.queue_name,
                }
                for c in self.contacts
            ],
        }


@attrs.frozen
class AgentsResult:
    """Every agent the filter selects, each once, in user ID order.

    Attributes:
        agents: the agents.
        batches: requests' worth of filter values (100 each); pages: pages they took.
        fetched_at: when the last page arrived (UTC).
    """

    agents: tuple[Agent, ...]
    batches: int
    pages: int
    fetched_at: datetime

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents)

    def __len__(self) -> int:
        return len(self.agents)

    def agent(self, user_id: str) -> Agent:
        """The agent with this user ID; KeyError if not listed."""
        for agent in self.agents:
            if agent.user_id == user_id:
                return agent
        raise KeyError(user_id)

    def counts(self) -> Mapping[AgentActivity, int]:
        """Agents per activity, every activity present (zero where none)."""
        counts = dict.fromkeys(AgentActivity, 0)
        for agent in self.agents:
            counts[agent.activity] += 1
        return MappingProxyType(counts)

    def by_activity(self, activity: AgentActivity | str) -> tuple[Agent, ...]:
        """The agents doing `activity` (an `AgentActivity` or its name)."""
        wanted = AgentActivity(activity) if isinstance(activity, str) else activity
        return tuple(a for a in self.agents if a.activity is wanted)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts, one per agent."""
        return [agent.to_dict() for agent in self.agents]


@attrs.frozen
class AgentsRequest:
    """One checked GetCurrentUserData request, for any number of filter values.

    `ids` None means "all" (queues or routing profiles), resolved before fetching.
    """

    instance_id: str
    filter: str
    ids: tuple[str, ...] | None
    contact_states: tuple[str, ...] | None = None
    queue_types: tuple[str, ...] = ("STANDARD",)
    page_size: int = 100

    def with_ids(self, ids: Iterable[str]) -> AgentsRequest:
        """This request with "all" resolved."""
        return attrs.evolve(self, ids=tuple(dict.fromkeys(ids)))

    def batches(self) -> list[tuple[str, ...]]:
        """The filter values, cut into requests of the service's limit."""
        if self.ids is None:
            raise RuntimeError("'all' must be resolved before fetching")
        size = USER_DATA_FILTER_LIMITS[self.filter]
        return [self.ids[i : i + size] for i in range(0, len(self.ids), size)]

    def params(self, ids: tuple[str, ...]) -> dict[str, Any]:
        """The parameters of one request (no token)."""
        filters: dict[str, Any] = {self.filter: list(ids)}
        if self.contact_states:
            filters["ContactFilter"] = {"ContactStates": list(self.contact_states)}
        return {"InstanceId": self.instance_id, "Filters": filters, "MaxResults": self.page_size}


def check_contact_states(value: object, field: str) -> tuple[str, ...] | None:
    """Contact states (each once, from the service's list), or None for any."""
    return check_choices(field, value, CONTACT_STATES, "contact states")


def build_agents_request(
    *,
    instance_id: object,
    region: str,
    queues: object = None,
    routing_profiles: object = None,
    agents: object = None,
    contact_states: object = None,
    queue_types: object = ("STANDARD",),
) -> AgentsRequest:
    """The rich API's request: exactly one of queues, routing profiles or agents."""
    instance = check_instance_id(instance_id)
    given = {
        name: value
        for name, value in (
            ("queues", queues),
            ("routing_profiles", routing_profiles),
            ("agents", agents),
        )
        if value is not None
    }
    if len(given) != 1:
        raise InvalidRequestError(
            "queues",
            sorted(given),
            "give exactly one of queues, routing_profiles and agents",
        )
    [(field, value)] = given.items()
    kind = {"queues": "queue", "routing_profiles": "routing-profile", "agents": "agent"}[field]
    ids, everything = select_resources(
        value,
        instance_id=instance,
        region=region,
        field=field,
        kind=kind,
        allow_all=field != "agents",
    )
    return AgentsRequest(
        instance_id=instance,
        filter={"queues": "Queues", "routing_profiles": "RoutingProfiles"}.get(field, "Agents"),
        ids=None if everything else ids,
        contact_states=check_contact_states(contact_states, "contact_states"),
        queue_types=check_queue_types(queue_types),
    )


_USER_DATA_KWARGS = frozenset({"InstanceId", "Filters", "MaxResults", "NextToken"})
_USER_DATA_FILTERS = (*RESOURCE_FILTERS, "ContactFilter")


def user_data_request_from_kwargs(
    kwargs: Mapping[str, Any], *, default_instance: str | None, region: str
) -> AgentsRequest:
    """The drop-in face: aiobotocore's ``get_current_user_data`` keyword arguments."""
    check_kwargs(kwargs, _USER_DATA_KWARGS, "GetCurrentUserData")
    instance = kwargs.get("InstanceId", default_instance)
    if instance is None:
        raise InvalidRequestError("InstanceId", None, "give InstanceId or a default instance")
    instance = check_instance_id(instance, "InstanceId")
    filters = check_filters(kwargs, _USER_DATA_FILTERS)
    given = [name for name in RESOURCE_FILTERS if name in filters]
    if len(given) != 1:
        raise InvalidRequestError(
            "Filters", sorted(given), "exactly one of " + ", ".join(RESOURCE_FILTERS)
        )
    [name] = given
    field = f"Filters.{name}"
    if name == "UserHierarchyGroups":
        groups = check_strings(field, filters[name])
        if len(groups) != 1:
            raise InvalidRequestError(field, groups, "exactly one user hierarchy group")
        ids: tuple[str, ...] | None = tuple(groups)
    else:
        kind = {"Queues": "queue", "RoutingProfiles": "routing-profile"}.get(name, "agent")
        ids, _ = select_resources(
            filters[name],
            instance_id=instance,
            region=region,
            field=field,
            kind=kind,
            allow_all=False,
        )
    contact_filter = filters.get("ContactFilter")
    states = None
    if contact_filter is not None:
        if not isinstance(contact_filter, Mapping) or set(contact_filter) - {"ContactStates"}:
            raise InvalidRequestError(
                "Filters.ContactFilter", contact_filter, "a dict with ContactStates"
            )
        states = check_contact_states(
            contact_filter.get("ContactStates"), "Filters.ContactFilter.ContactStates"
        )
    return AgentsRequest(
        instance_id=instance,
        filter=name,
        ids=ids,
        contact_states=states,
        page_size=check_page_size(kwargs.get("MaxResults"), "MaxResults"),
    )


# -- records ---------------------------------------------------------------------------------
def _ref(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _utc(value: Any) -> datetime | None:
    # botocore parses timestamps into local time: results say UTC, as everywhere else.
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else None


def parse_agent(
    record: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
    usernames: Mapping[str, str] | None = None,
) -> Agent:
    """One ``UserDataList`` record as an `Agent`; names looked up where given."""
    names = names or {}
    user, profile = record.get("User") or {}, record.get("RoutingProfile") or {}
    status = record.get("Status") or {}
    path = record.get("HierarchyPath") or {}
    contacts = tuple(
        AgentContact(
            contact_id=c.get("ContactId", ""),
            channel=c.get("Channel", ""),
            state=c.get("AgentContactState", ""),
            initiation_method=c.get("InitiationMethod"),
            state_since=_utc(c.get("StateStartTimestamp")),
            connected_at=_utc(c.get("ConnectedToAgentTimestamp")),
            queue_id=_ref(c.get("Queue"), "Id"),
            queue_arn=_ref(c.get("Queue"), "Arn"),
            queue_name=names.get(_ref(c.get("Queue"), "Id") or ""),
        )
        for c in record.get("Contacts") or ()
    )
    levels = ("LevelOne", "LevelTwo", "LevelThree", "LevelFour", "LevelFive")
    return Agent(
        user_id=user.get("Id", ""),
        user_arn=user.get("Arn", ""),
        routing_profile_id=profile.get("Id", ""),
        routing_profile_arn=profile.get("Arn", ""),
        status_name=status.get("StatusName"),
        status_arn=status.get("StatusArn"),
        status_since=_utc(status.get("StatusStartTimestamp")),
        next_status=record.get("NextStatus"),
        contacts=contacts,
        available_slots=record.get("AvailableSlotsByChannel"),
        max_slots=record.get("MaxSlotsByChannel"),
        active_slots=record.get("ActiveSlotsByChannel"),
        hierarchy_group_ids=tuple(
            _ref(path.get(level), "Id") for level in levels if _ref(path.get(level), "Id")
        ),
        username=(usernames or {}).get(user.get("Id", "")),
        routing_profile_name=names.get(profile.get("Id", "")),
    )


def each_agent_once(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One record per user ID, in user ID order; of several, the last given wins.

    Records come in the order their pages arrived, so the last is the freshest.
    """
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        user_id = _ref(record.get("User"), "Id")
        if user_id:
            latest[user_id] = record
    return [latest[k] for k in sorted(latest)]
