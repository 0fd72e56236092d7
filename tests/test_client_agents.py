"""Agents and the directory through `ConnectMetrics`, against the fake over HTTP."""

from __future__ import annotations

import collections

import pytest

from aioconnectmetrics import (
    AgentActivity,
    InvalidRequestError,
    RateLimiter,
    RetryPolicy,
    ServiceUnavailableError,
)
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .truth import current_truth

AGENT_METRICS = {
    "AGENTS_ONLINE": None,
    "AGENTS_AVAILABLE": AgentActivity.AVAILABLE,
    "AGENTS_ON_CONTACT": AgentActivity.ON_CONTACT,
    "AGENTS_AFTER_CONTACT_WORK": AgentActivity.AFTER_CONTACT_WORK,
    "AGENTS_ERROR": AgentActivity.ERROR,
    "AGENTS_NON_PRODUCTIVE": AgentActivity.NON_PRODUCTIVE,
}


def logged_in(fake: FakeConnect, instance_id: str, queues: list[str]) -> set[str]:
    """Who serves any of `queues` and is logged in now: the fake's own state."""
    centre = fake.centre(instance_id)
    snapshot = fake.service.snapshot_index(fake.clock())
    serving = set().union(*(centre.agents_by_queue().get(q, set()) for q in queues))
    return {a for a in serving if centre.status(a, snapshot)[0] != "OFFLINE"}


def without_map(fake: FakeConnect) -> None:
    """Credentials that may not call SearchRoutingProfiles: agents asked by queues."""
    fake.inject_fault("denied", operation="SearchRoutingProfiles")


async def test_user_data_over_250_queues_lists_every_agent_once(
    fake: FakeConnect, instance_id: str
) -> None:
    """250 queues in three requests; agents whose profile spans batches come back once."""
    populated = fake.populate(instance_id, queues=300)
    queues = list(populated.queue_ids[:250])
    without_map(fake)
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_current_user_data(Filters={"Queues": queues})
    ids = [r["User"]["Id"] for r in response["UserDataList"]]
    expected = logged_in(fake, instance_id, queues)
    assert sorted(ids) == sorted(expected)
    assert len(ids) == len(set(ids))
    assert response["ApproximateTotalCount"] == len(expected)
    assert "NextToken" not in response
    calls = [r for r in fake.requests if r.operation == "GetCurrentUserData"]
    assert {len(r.params["Filters"]["Queues"]) for r in calls if "NextToken" not in r.params} == {
        100,
        50,
    }
    # The batches overlapped: without de-duplication some agents would be listed twice.
    centre = fake.centre(instance_id)
    per_batch = sum(
        len(logged_in(fake, instance_id, queues[i : i + 100])) for i in range(0, 250, 100)
    )
    assert per_batch > len(expected)
    assert all(centre.agents[a].routing_profile_id for a in ids)


async def test_agents_of_queues_are_asked_by_the_profiles_that_serve_them(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """With the routing-profile map, 250 queues' agents come from their 60-odd profiles.

    The same agents as by queues (each once), in one request instead of three: no agent
    comes back twice. A profile whose queues change is seen by the next call.
    """
    populated = fake.populate(instance_id, queues=300)
    queues = list(populated.queue_ids[:250])
    centre = fake.centre(instance_id)
    async with fake.metrics_client(instance_id) as cm:
        agents = await cm.get_agents(queues=queues)
        response = await cm.boto.get_current_user_data(Filters={"Queues": queues})
        asked = [r for r in fake.requests if r.operation == "GetCurrentUserData"]
        serving = {
            p
            for p, profile in centre.routing_profiles.items()
            if set(profile.queue_ids) & set(queues)
        }
        # One profile no longer serves any of the queues: its agents leave the answer.
        gone = sorted(serving)[0]
        outside = [q for q in populated.queue_ids if q not in queues]
        clock.advance(5)  # past the map's check interval
        fake.set_routing_profile_queues(instance_id, gone, outside[:2])
        after = await cm.get_agents(queues=queues)
    expected = logged_in(fake, instance_id, queues)
    assert {a.user_id for a in after} == expected
    assert not any(a.routing_profile_id == gone for a in after)
    assert any(a.routing_profile_id == gone for a in agents)
    fake_before = {a.user_id for a in agents}
    assert [r["User"]["Id"] for r in response["UserDataList"]] == sorted(fake_before)
    first_pages = [r for r in asked if "NextToken" not in r.params]
    assert len(first_pages) == 2  # one call each, not three
    assert all(set(r.params["Filters"]) == {"RoutingProfiles"} for r in first_pages)
    assert set(first_pages[0].params["Filters"]["RoutingProfiles"]) == serving
    assert fake.counts()[("SearchRoutingProfiles", 200)] == 2  # the map, made again


async def test_agent_counts_equal_the_agent_metrics(fake: FakeConnect, instance_id: str) -> None:
    """Counted by activity, the agents equal the exact real-time agent metrics."""
    populated = fake.populate(instance_id, queues=300)
    queues = list(populated.queue_ids[:250])
    async with fake.metrics_client(instance_id) as cm:
        agents = await cm.get_agents(queues=queues)
        metrics = await cm.get_current_metrics(list(AGENT_METRICS), queues=queues)
    truth = current_truth(fake, instance_id, list(AGENT_METRICS), queues=queues)
    counts = agents.counts()
    assert metrics.summary is not None
    for name, activity in AGENT_METRICS.items():
        expected = truth[(None, None, None)][name]
        assert metrics.summary[name] == expected
        assert metrics.summary.is_exact(name)
        got = len(agents) if activity is None else counts[activity]
        assert got == expected, name
    assert len(agents.by_activity("ON_CONTACT")) == counts[AgentActivity.ON_CONTACT] > 0


async def test_every_agent_by_routing_profiles_all_with_names(
    fake: FakeConnect, instance_id: str
) -> None:
    """routing_profiles="all": ListRoutingProfiles once, every logged-in agent, named."""
    populated = fake.populate(instance_id, queues=120)
    centre = fake.centre(instance_id)
    async with fake.metrics_client(instance_id) as cm:
        agents = await cm.get_agents(routing_profiles="all", names=True)
        again = await cm.get_agents(routing_profiles="all")
    assert {a.user_id for a in agents} == logged_in(fake, instance_id, list(populated.queue_ids))
    assert [a.user_id for a in again] == [a.user_id for a in agents]
    counts = fake.counts()
    assert counts[("ListRoutingProfiles", 200)] == 1  # the listing was reused
    assert counts[("ListUsers", 200)] == 1
    for agent in agents:
        simulated = centre.agents[agent.user_id]
        assert agent.username == simulated.username
        profile = centre.routing_profiles[agent.routing_profile_id]
        assert agent.routing_profile_name == profile.name
        for contact in agent.contacts:
            assert contact.queue_name == centre.queues[contact.queue_id or ""].name


async def test_contact_states_select_agents_in_after_contact_work(
    fake: FakeConnect, instance_id: str
) -> None:
    populated = fake.populate(instance_id, queues=120)
    async with fake.metrics_client(instance_id) as cm:
        everyone = await cm.get_agents(queues="all")
        wrapping_up = await cm.get_agents(queues="all", contact_states=["ENDED"])
    expected = everyone.by_activity(AgentActivity.AFTER_CONTACT_WORK)
    assert expected
    assert wrapping_up.agents == expected
    assert len(everyone) == len(logged_in(fake, instance_id, list(populated.queue_ids)))


async def test_small_pages_and_an_expired_token_still_give_each_agent_once(
    fake: FakeConnect, instance_id: str
) -> None:
    """Pages of 10; the third page's token expires: its batch starts again."""
    populated = fake.populate(instance_id, queues=150)
    queues = list(populated.queue_ids)
    without_map(fake)
    fake.inject_fault("expire", operation="GetCurrentUserData", at=[3])
    # The fake's quotas are off; so are ours (2 a second would only make it wait).
    unlimited = RateLimiter({"GetCurrentUserData": (1000.0, 1000)})
    async with fake.metrics_client(instance_id, limiter=unlimited) as cm:
        response = await cm.boto.get_current_user_data(Filters={"Queues": queues}, MaxResults=10)
        stats = cm.stats
    ids = [r["User"]["Id"] for r in response["UserDataList"]]
    assert sorted(ids) == sorted(logged_in(fake, instance_id, queues))
    assert len(ids) == len(set(ids))
    assert stats.restarts == 1
    assert stats.pages > stats.batches == 2


async def test_a_failed_batch_fails_the_call(fake: FakeConnect, instance_id: str) -> None:
    """A list with some agents silently missing would read as the truth: it raises."""
    populated = fake.populate(instance_id, queues=250)
    queues = list(populated.queue_ids[:250])
    without_map(fake)
    fake.inject_fault(
        "error",
        operation="GetCurrentUserData",
        when=lambda params: queues[200] in params.get("Filters", {}).get("Queues", ()),
    )
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
    async with fake.metrics_client(instance_id, retry=retry) as cm:
        with pytest.raises(ServiceUnavailableError):
            await cm.get_agents(queues=queues)


async def test_user_data_spends_its_own_quota(fake: FakeConnect, instance_id: str) -> None:
    """One limiter token per GetCurrentUserData attempt, from that operation's bucket."""
    populated = fake.populate(instance_id, queues=250)
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_agents(queues=list(populated.queue_ids))
        buckets = {key[2]: stats for key, stats in cm.limiter.stats.items()}
    sent = collections.Counter(r.operation for r in fake.requests)
    assert buckets["GetCurrentUserData"].acquired == sent["GetCurrentUserData"] >= 3
    assert "GetCurrentMetricData" not in buckets


async def test_bad_agent_input_fails_before_any_request(
    fake: FakeConnect, instance_id: str
) -> None:
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(InvalidRequestError, match="exactly one of queues"):
            await cm.get_agents()
        with pytest.raises(InvalidRequestError, match="names"):
            await cm.get_agents(queues=["q"], names="yes")  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match="NextToken"):
            await cm.boto.get_current_user_data(Filters={"Queues": ["q"]}, NextToken="x")
    assert fake.requests == []


async def test_metrics_by_every_routing_profile_with_names(
    fake: FakeConnect, instance_id: str
) -> None:
    """routing_profiles="all" in the metrics: every profile's row, labelled with its name."""
    fake.populate(instance_id, queues=120)
    centre = fake.centre(instance_id)
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_current_metrics(
            ["AGENTS_ONLINE", "AGENTS_ON_CONTACT"],
            routing_profiles="all",
            groupings=["ROUTING_PROFILE"],
            names=True,
        )
        plain = await cm.get_current_metrics(
            ["AGENTS_ONLINE", "AGENTS_ON_CONTACT"], queues="all", groupings=["QUEUE"], names=True
        )
    truth = current_truth(
        fake,
        instance_id,
        ["AGENTS_ONLINE", "AGENTS_ON_CONTACT"],
        routing_profiles=list(centre.routing_profiles),
        groupings=["ROUTING_PROFILE"],
    )
    assert {r.routing_profile_id: dict(r.values) for r in result} == {
        k[2]: v for k, v in truth.items()
    }
    for row in result:
        assert row.routing_profile_id is not None
        assert row.routing_profile_name == centre.routing_profiles[row.routing_profile_id].name
        assert row.to_dict()["routing_profile_name"] == row.routing_profile_name
    assert {row.queue_name for row in plain} == {
        centre.queues[row.queue_id].name for row in plain if row.queue_id
    }
    assert fake.counts()[("ListRoutingProfiles", 200)] == 1
