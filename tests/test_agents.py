"""The agents model, without a server: activities, each agent once, the requests' checks."""

from __future__ import annotations

from typing import Any

import pytest

from aioconnectmetrics import AgentActivity, InvalidRequestError
from aioconnectmetrics._agents import (
    build_agents_request,
    each_agent_once,
    parse_agent,
    user_data_request_from_kwargs,
)

REGION = "us-east-1"
INSTANCE = "11111111-2222-3333-4444-555555555555"
PREFIX = f"arn:aws:connect:{REGION}:123456789012:instance/{INSTANCE}"


def record(user: str, status: str = "Available", *states: str, **extra: Any) -> dict[str, Any]:
    return {
        "User": {"Id": user, "Arn": f"{PREFIX}/agent/{user}"},
        "RoutingProfile": {"Id": "rp", "Arn": f"{PREFIX}/routing-profile/rp"},
        "Status": {"StatusName": status},
        "Contacts": [
            {"ContactId": f"c{i}", "Channel": "CHAT", "AgentContactState": s, "Queue": {"Id": "q"}}
            for i, s in enumerate(states)
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "states", "activity"),
    [
        ("Available", (), AgentActivity.AVAILABLE),
        ("Break", (), AgentActivity.NON_PRODUCTIVE),
        ("Offline", (), AgentActivity.OFFLINE),
        ("Available", ("CONNECTED",), AgentActivity.ON_CONTACT),
        ("Available", ("CONNECTED_ONHOLD",), AgentActivity.ON_CONTACT),
        ("Available", ("INCOMING",), AgentActivity.INCOMING),
        ("Available", ("ENDED",), AgentActivity.AFTER_CONTACT_WORK),
        ("Available", ("MISSED",), AgentActivity.ERROR),
        ("Break", ("ENDED",), AgentActivity.AFTER_CONTACT_WORK),
        # A chat agent connected on one contact and in after-contact work on another is
        # on a contact, as the metrics count it.
        ("Available", ("ENDED", "CONNECTED"), AgentActivity.ON_CONTACT),
        ("Available", ("MISSED", "ENDED"), AgentActivity.AFTER_CONTACT_WORK),
    ],
)
def test_activity_follows_contacts_then_status(
    status: str, states: tuple[str, ...], activity: AgentActivity
) -> None:
    assert parse_agent(record("u", status, *states)).activity is activity


def test_a_record_parses_to_a_typed_immutable_agent() -> None:
    agent = parse_agent(
        record(
            "u1",
            "Available",
            "CONNECTED",
            AvailableSlotsByChannel={"CHAT": 2},
            MaxSlotsByChannel={"CHAT": 3},
            ActiveSlotsByChannel={"CHAT": 1},
            HierarchyPath={"LevelOne": {"Id": "g1"}, "LevelTwo": {"Id": "g2"}},
        ),
        names={"rp": "Sales", "q": "Billing"},
        usernames={"u1": "jdoe"},
    )
    assert (agent.username, agent.routing_profile_name) == ("jdoe", "Sales")
    assert agent.contacts[0].queue_name == "Billing"
    assert dict(agent.available_slots) == {"CHAT": 2}
    assert agent.hierarchy_group_ids == ("g1", "g2")
    with pytest.raises(TypeError):
        agent.max_slots["CHAT"] = 9  # type: ignore[index]
    assert agent.to_dict()["activity"] == "ON_CONTACT"


def test_each_agent_once_keeps_the_last_record_in_user_order() -> None:
    """Records arrive batch after batch: of an agent's two, the later one is kept."""
    first = [record("b", "Available"), record("a", "Break")]
    later = [record("b", "Available", "CONNECTED"), record("c")]
    combined = each_agent_once(first + later)
    assert [r["User"]["Id"] for r in combined] == ["a", "b", "c"]
    assert parse_agent(combined[1]).activity is AgentActivity.ON_CONTACT


def test_a_rich_request_cuts_any_number_of_queues_into_hundreds() -> None:
    queues = [f"q{i:04d}" for i in range(250)] + [f"{PREFIX}/queue/q0001"]
    request = build_agents_request(instance_id=INSTANCE, region=REGION, queues=queues)
    assert request.filter == "Queues"
    assert [len(b) for b in request.batches()] == [100, 100, 50]  # the ARN was a duplicate
    params = request.params(request.batches()[2])
    assert params["Filters"] == {"Queues": queues[200:250]}
    assert params["MaxResults"] == 100


@pytest.mark.parametrize(
    ("arguments", "field", "says"),
    [
        ({}, "queues", "exactly one of queues, routing_profiles and agents"),
        ({"queues": ["q"], "agents": ["a"]}, "queues", "exactly one"),
        ({"agents": "all"}, "agents", "agent IDs/ARNs"),
        ({"queues": "q1"}, "queues", "or 'all'"),
        ({"queues": [f"{PREFIX}/routing-profile/r"]}, "queues", "queue ID or ARN"),
        ({"queues": ["q"], "contact_states": ["BUSY"]}, "contact_states", "CONNECTED"),
        ({"queues": ["q"], "contact_states": ["ENDED", "ENDED"]}, "contact_states", "once"),
        ({"routing_profiles": "all", "queue_types": ["OTHER"]}, "queue_types", "STANDARD"),
    ],
)
def test_a_rich_request_names_what_is_wrong(
    arguments: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        build_agents_request(instance_id=INSTANCE, region=REGION, **arguments)
    assert info.value.field == field
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({"Filters": {"Queues": ["q"]}, "NextToken": "t"}, "NextToken", "every page"),
        ({"Filters": {"Queues": ["q"], "Channels": ["VOICE"]}}, "Filters.Channels", "filters"),
        ({"Filters": {"Queues": ["q"], "Agents": ["a"]}}, "Filters", "exactly one"),
        ({"Filters": {"UserHierarchyGroups": ["g1", "g2"]}}, "Filters.UserHierarchyGroups", "one"),
        ({"Filters": {"Queues": ["q"]}, "MaxResults": 0}, "MaxResults", "1 to 100"),
        ({}, "Filters", "a dict"),
        (
            {"Filters": {"Queues": ["q"], "ContactFilter": {"ContactStates": ["X"]}}},
            "Filters.ContactFilter.ContactStates",
            "contact states",
        ),
    ],
)
def test_a_drop_in_request_names_what_is_wrong(
    kwargs: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        user_data_request_from_kwargs(kwargs, default_instance=INSTANCE, region=REGION)
    assert info.value.field == field
    assert says in str(info.value)


def test_a_drop_in_request_takes_any_number_of_agents_and_one_group() -> None:
    agents = [f"a{i}" for i in range(130)]
    request = user_data_request_from_kwargs(
        {"Filters": {"Agents": agents, "ContactFilter": {"ContactStates": ["CONNECTED"]}}},
        default_instance=INSTANCE,
        region=REGION,
    )
    assert [len(b) for b in request.batches()] == [100, 30]
    assert request.params(request.batches()[1])["Filters"] == {
        "Agents": agents[100:],
        "ContactFilter": {"ContactStates": ["CONNECTED"]},
    }
    group = user_data_request_from_kwargs(
        {"InstanceId": INSTANCE, "Filters": {"UserHierarchyGroups": ["g"]}, "MaxResults": 5},
        default_instance=None,
        region=REGION,
    )
    assert group.batches() == [("g",)]
    assert group.page_size == 5
