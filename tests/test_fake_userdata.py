"""The fake's GetCurrentUserData, ListRoutingProfiles and ListUsers, over HTTP with aiobotocore."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from aioconnectmetrics.testing import FakeConnect


def online(fake: FakeConnect, instance_id: str, agent_ids: set[str]) -> set[str]:
    """Of these agents, those logged in now (the fake's own state)."""
    centre = fake.centre(instance_id)
    snapshot = fake.service.snapshot_index(fake.clock())
    return {a for a in agent_ids if centre.status(a, snapshot)[0] != "OFFLINE"}


async def every_page(client: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """Every UserDataList record, and each page's ApproximateTotalCount."""
    records, totals = [], []
    while True:
        response = await client.get_current_user_data(**kwargs)
        records += response["UserDataList"]
        totals.append(response["ApproximateTotalCount"])
        if "NextToken" not in response:
            return records, totals
        kwargs["NextToken"] = response["NextToken"]


async def test_user_data_by_queue_follows_the_agents_of_those_queues(
    fake: FakeConnect, instance_id: str
) -> None:
    """The agents of the queues' routing profiles who are logged in, page by page."""
    populated = fake.populate(instance_id, queues=60, agents_per_profile=4)
    queues = list(populated.queue_ids[:30])
    centre = fake.centre(instance_id)
    serving = set().union(*(centre.agents_by_queue().get(q, set()) for q in queues))
    async with fake.client() as client:
        records, totals = await every_page(
            client, InstanceId=instance_id, Filters={"Queues": queues}, MaxResults=7
        )
    expected = online(fake, instance_id, serving)
    assert len(expected) > 7  # several pages
    assert [r["User"]["Id"] for r in records] == sorted(expected)
    assert set(totals) == {len(expected)}


async def test_a_record_shows_what_the_metrics_count(fake: FakeConnect, instance_id: str) -> None:
    """Statuses set on agents show in their records as the service shows them."""
    queue = fake.add_queues(instance_id, 1, channels=["VOICE", "CHAT"])[0]
    profile = fake.add_routing_profile(instance_id, [queue], concurrency={"VOICE": 1, "CHAT": 2})
    a, b, c, d, e = fake.add_agents(instance_id, profile, 5)
    for agent, status in (
        (a, "AVAILABLE"),
        (b, "ON_CONTACT"),
        (c, "AFTER_CONTACT_WORK"),
        (d, "NON_PRODUCTIVE"),
        (e, "OFFLINE"),
    ):
        fake.set_agent_status(instance_id, agent, status, channel="CHAT" if agent == b else None)
    async with fake.client() as client:
        response = await client.get_current_user_data(
            InstanceId=instance_id, Filters={"Agents": [a, b, c, d, e]}
        )
    by_id = {r["User"]["Id"]: r for r in response["UserDataList"]}
    assert set(by_id) == {a, b, c, d}  # the offline agent is not listed
    assert by_id[a]["Status"]["StatusName"] == "Available"
    assert by_id[a]["Contacts"] == []
    assert by_id[a]["AvailableSlotsByChannel"] == {"VOICE": 1, "CHAT": 2}
    contact = by_id[b]["Contacts"][0]
    assert contact["Channel"] == "CHAT"
    assert contact["AgentContactState"] in ("CONNECTED", "CONNECTED_ONHOLD")
    assert contact["Queue"]["Id"] == queue
    assert by_id[b]["ActiveSlotsByChannel"] == {"VOICE": 0, "CHAT": 1}
    assert by_id[c]["Contacts"][0]["AgentContactState"] == "ENDED"
    assert by_id[d]["Status"]["StatusName"] == "Break"
    assert by_id[d]["MaxSlotsByChannel"] == {"VOICE": 1, "CHAT": 2}


async def test_contact_states_and_routing_profiles_filter(
    fake: FakeConnect, instance_id: str
) -> None:
    """ContactStates keeps agents with such a contact; RoutingProfiles takes IDs or ARNs."""
    queue = fake.add_queues(instance_id, 1)[0]
    profile = fake.add_routing_profile(instance_id, [queue])
    other = fake.add_routing_profile(instance_id, [queue])
    a, b = fake.add_agents(instance_id, profile, 2)
    fake.add_agents(instance_id, other, 3)
    fake.set_agent_status(instance_id, a, "AFTER_CONTACT_WORK")
    fake.set_agent_status(instance_id, b, "AVAILABLE")
    arn = fake.centre(instance_id).routing_profiles[profile].arn
    async with fake.client() as client:
        ended = await client.get_current_user_data(
            InstanceId=instance_id,
            Filters={"RoutingProfiles": [arn], "ContactFilter": {"ContactStates": ["ENDED"]}},
        )
        both = await client.get_current_user_data(
            InstanceId=instance_id, Filters={"RoutingProfiles": [profile]}
        )
    assert [r["User"]["Id"] for r in ended["UserDataList"]] == [a]
    assert {r["User"]["Id"] for r in both["UserDataList"]} == {a, b}


@pytest.mark.parametrize(
    ("filters", "code", "message"),
    [
        ({"Queues": ["q"], "Agents": ["a"]}, "InvalidParameterException", "at most one"),
        (
            {"ContactFilter": {"ContactStates": ["ENDED"]}},
            "NotSimulatedByFakeException",
            "without a resource filter",
        ),
        ({"Queues": [f"q{i}" for i in range(101)]}, "InvalidParameterException", "1 to 100"),
        (
            {"Queues": ["q"], "ContactFilter": {"ContactStates": ["BUSY"]}},
            "InvalidParameterException",
            "BUSY",
        ),
        ({"UserHierarchyGroups": ["g"]}, "NotSimulatedByFakeException", "UserHierarchyGroups"),
    ],
)
async def test_user_data_rejects_what_the_service_rejects(
    fake: FakeConnect, instance_id: str, filters: dict[str, Any], code: str, message: str
) -> None:
    """Two resource filters, too many values, unknown states; what is not simulated says so."""
    async with fake.client() as client:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_user_data(InstanceId=instance_id, Filters=filters)
    assert info.value.response["Error"]["Code"] == code
    assert message in info.value.response["Error"]["Message"]


async def test_routing_profiles_and_users_are_listed_in_pages(
    fake: FakeConnect, instance_id: str
) -> None:
    """ListRoutingProfiles and ListUsers page like ListQueues, with names."""
    queues = fake.add_queues(instance_id, 3)
    profiles = [fake.add_routing_profile(instance_id, queues) for _ in range(5)]
    agents = fake.add_agents(instance_id, profiles[0], 4)
    seen: list[str] = []
    async with fake.client() as client:
        kwargs: dict[str, Any] = {"InstanceId": instance_id, "MaxResults": 2}
        while True:
            response = await client.list_routing_profiles(**kwargs)
            seen += [p["Id"] for p in response["RoutingProfileSummaryList"]]
            if "NextToken" not in response:
                break
            kwargs["NextToken"] = response["NextToken"]
        users = await client.list_users(InstanceId=instance_id)
    centre = fake.centre(instance_id)
    assert seen == profiles
    assert [u["Id"] for u in users["UserSummaryList"]] == agents
    assert [u["Username"] for u in users["UserSummaryList"]] == [
        centre.agents[a].username for a in agents
    ]
