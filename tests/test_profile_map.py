"""Agents counted once with the routing-profile map (issue 27).

Pure planning and counting first (no server), then against the fake over HTTP: exact
agent counts at one request per batch plus one per 100 shared profiles, a profile whose
queues change between the map and an answer, queues the map does not know, and
credentials that may not read the map.
"""

from __future__ import annotations

import logging
import math
import random
from datetime import datetime, timezone
from types import MappingProxyType

import pytest

from aioconnectmetrics import RetryPolicy
from aioconnectmetrics._merge import BatchAnswer, Row, merge
from aioconnectmetrics._plan import Batch
from aioconnectmetrics._profiles import (
    AgentPlan,
    ProfileMap,
    counted_once,
    plan_agents,
    shared_profiles_request,
)
from aioconnectmetrics._request import CURRENT_OP, MetricsRequest, build_request
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW, unlimited
from .truth import current_truth

REGION = "us-east-1"
INSTANCE = "11111111-2222-3333-4444-555555555555"
METRICS = ["CONTACTS_IN_QUEUE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"]
AGENTS = ["AGENTS_ONLINE", "AGENTS_AVAILABLE"]
CHANNELS = ["VOICE", "CHAT", "TASK"]


def request_of(queues: list[str], groupings: tuple[str, ...] = ()) -> MetricsRequest:
    return build_request(
        CURRENT_OP,
        instance_id=INSTANCE,
        region=REGION,
        metrics=METRICS,
        queues=queues,
        groupings=groupings,
        channels=CHANNELS if groupings else None,
    )


def profile_map(queues_of: dict[str, list[str]], standard: list[str]) -> ProfileMap:
    return ProfileMap(
        instance_id=INSTANCE,
        queues_of=MappingProxyType({p: tuple(q) for p, q in queues_of.items()}),
        standard=frozenset(standard),
        versions=MappingProxyType(dict.fromkeys(queues_of, 0.0)),
    )


# -- planning, without a server -----------------------------------------------------------------
def test_groups_that_fit_a_batch_are_kept_together() -> None:
    """Departments of 50 queues, listed interleaved: regrouped, no profile is shared."""
    queues = [f"q{i:03d}" for i in range(200)]
    departments = [queues[d::4] for d in range(4)]  # every fourth queue: interleaved
    profiles = {
        f"d{d}p{k}": dept[k * 15 : k * 15 + 20]
        for d, dept in enumerate(departments)
        for k in range(3)
    }
    plan = plan_agents(request_of(queues), profile_map(profiles, queues))
    assert plan is not None
    assert plan.how == "grouped"
    assert len(plan.batches) == 2
    assert plan.profile_batches == ()
    assert sorted(q for b in plan.batches for q in b.ids) == queues
    for department in departments:
        assert len({b.index for b in plan.batches if set(b.ids) & set(department)}) == 1


def test_profiles_across_batches_are_asked_apart_by_the_hundred() -> None:
    """150 profiles reach two batches or three, whatever the order: 2 profile requests.

    A supervisors' profile serves every queue; 149 more each serve two queues 150 apart.
    """
    queues = [f"q{i:03d}" for i in range(300)]
    profiles = {f"p{i:03d}": [queues[i], queues[i + 150]] for i in range(149)}
    profiles["supervisors"] = queues
    plan = plan_agents(request_of(queues), profile_map(profiles, queues))
    assert plan is not None
    assert [len(b.ids) for b in plan.batches] == [100, 100, 100]
    assert [len(ids) for ids in plan.profile_batches] == [100, 50]
    assert plan.requests == 5  # asking each batch's agents apart: 6


def test_no_plan_where_asking_each_batch_apart_is_no_dearer() -> None:
    """500 profiles over 3 queues from anywhere: hundreds shared, whatever the order."""
    queues = [f"q{i:03d}" for i in range(200)]
    rng = random.Random(1)
    profiles = {f"p{i:03d}": rng.sample(queues, 3) for i in range(500)}
    assert plan_agents(request_of(queues), profile_map(profiles, queues)) is None


def test_a_queue_the_map_does_not_know_means_no_plan() -> None:
    """An AGENT queue (or one made after the map) may bring agents of any profile."""
    queues = [f"q{i:03d}" for i in range(200)]
    profiles = {"p": queues[:10]}
    assert plan_agents(request_of([*queues, "agent-queue"]), profile_map(profiles, queues)) is None
    assert plan_agents(request_of(queues), profile_map(profiles, queues)) is not None


def test_one_batch_or_rows_by_queue_need_no_plan() -> None:
    queues = [f"q{i:03d}" for i in range(200)]
    known = profile_map({"p": queues[:150]}, queues)
    assert plan_agents(request_of(queues[:100]), known) is None
    assert plan_agents(request_of(queues, ("QUEUE",)), known) is None


def test_the_shared_profiles_are_asked_for_agents_by_routing_profile() -> None:
    asked = shared_profiles_request(request_of(["q1", "q2"], ("CHANNEL",)))
    assert asked.partition == "ROUTING_PROFILE"
    assert asked.groupings == ("ROUTING_PROFILE", "CHANNEL")
    assert [m.name for m in asked.metrics] == AGENTS
    assert asked.channels == tuple(CHANNELS)


# -- counting, without a server -----------------------------------------------------------------
T0 = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
T1 = datetime(2027, 1, 15, 8, 0, 15, tzinfo=timezone.utc)


def answer(
    index: int, values: dict[str, float], at: datetime = T0, profile: str | None = None
) -> BatchAnswer:
    row = Row((None, None, profile), None, None, dict(values))
    return BatchAnswer(index, (), (row,), at, pages=1)


#: Two batches; profile "a" serves both (5 agents online), "b" only batch 0 (2), "c" only
#: batch 1 (3): 10 distinct agents, where the batches say 7 and 8.
PLAN = AgentPlan(
    batches=(Batch(0, ("q1",)), Batch(1, ("q2",))),
    touching=(frozenset({"a", "b"}), frozenset({"a", "c"})),
    profile_batches=(("a",),),
    how="as asked",
)
REQUEST = request_of(["q1", "q2"])


def count(batches: list[BatchAnswer], profiles: list[BatchAnswer] | None) -> tuple[Row, bool]:
    merged = merge(REQUEST, batches)
    counted = counted_once(REQUEST, merged, batches, profiles, PLAN)
    [row] = counted.rows
    return row, counted.contradicted


def test_shared_profiles_are_subtracted_once_per_extra_batch() -> None:
    batches = [
        answer(0, {"CONTACTS_IN_QUEUE": 4, "AGENTS_ONLINE": 7, "AGENTS_AVAILABLE": 3}),
        answer(1, {"CONTACTS_IN_QUEUE": 6, "AGENTS_ONLINE": 8, "AGENTS_AVAILABLE": 1}),
    ]
    shared = [answer(2, {"AGENTS_ONLINE": 5, "AGENTS_AVAILABLE": 1}, profile="a")]
    row, contradicted = count(batches, shared)
    assert not contradicted
    assert row.values == {"CONTACTS_IN_QUEUE": 10, "AGENTS_ONLINE": 10, "AGENTS_AVAILABLE": 3}
    assert dict(row.approximate) == {}


def test_parts_of_two_moments_are_approximate_without_bounds() -> None:
    batches = [
        answer(0, {"CONTACTS_IN_QUEUE": 4, "AGENTS_ONLINE": 7, "AGENTS_AVAILABLE": 3}),
        answer(1, {"CONTACTS_IN_QUEUE": 6, "AGENTS_ONLINE": 8, "AGENTS_AVAILABLE": 1}),
    ]
    shared = [answer(2, {"AGENTS_ONLINE": 5, "AGENTS_AVAILABLE": 1}, T1, profile="a")]
    row, contradicted = count(batches, shared)
    assert not contradicted
    assert row.values["AGENTS_ONLINE"] == 10
    assert row.approximate["AGENTS_ONLINE"] is None


def test_a_failed_profile_request_leaves_the_sum_with_its_bounds() -> None:
    batches = [
        answer(0, {"CONTACTS_IN_QUEUE": 4, "AGENTS_ONLINE": 7, "AGENTS_AVAILABLE": 3}),
        answer(1, {"CONTACTS_IN_QUEUE": 6, "AGENTS_ONLINE": 8, "AGENTS_AVAILABLE": 1}),
    ]
    row, contradicted = count(batches, None)
    assert not contradicted
    assert row.values["AGENTS_ONLINE"] == 15
    assert row.approximate["AGENTS_ONLINE"] == (8.0, 15.0)
    assert "CONTACTS_IN_QUEUE" not in row.approximate


def test_an_answer_the_map_cannot_explain_contradicts_it() -> None:
    """Profile "a" counts 9 agents where batch 0 counts 7: "a" cannot serve batch 0."""
    batches = [
        answer(0, {"CONTACTS_IN_QUEUE": 4, "AGENTS_ONLINE": 7, "AGENTS_AVAILABLE": 3}),
        answer(1, {"CONTACTS_IN_QUEUE": 6, "AGENTS_ONLINE": 9, "AGENTS_AVAILABLE": 1}),
    ]
    shared = [answer(2, {"AGENTS_ONLINE": 9, "AGENTS_AVAILABLE": 1}, profile="a")]
    row, contradicted = count(batches, shared)
    assert contradicted
    assert row.values["AGENTS_ONLINE"] == 16
    assert row.approximate["AGENTS_ONLINE"] == (9.0, 16.0)


def test_a_batch_that_failed_is_not_subtracted_for() -> None:
    """Only batch 1 answered: "a" reaches one answered batch, nothing to subtract."""
    batches = [answer(1, {"CONTACTS_IN_QUEUE": 6, "AGENTS_ONLINE": 8, "AGENTS_AVAILABLE": 1})]
    shared = [answer(2, {"AGENTS_ONLINE": 5, "AGENTS_AVAILABLE": 1}, profile="a")]
    row, contradicted = count(batches, shared)
    assert not contradicted
    assert row.values["AGENTS_ONLINE"] == 8
    assert dict(row.approximate) == {}


# -- against the fake, over HTTP ----------------------------------------------------------------
def first_pages(fake: FakeConnect, since: int = 0) -> list[dict[str, object]]:
    return [
        dict(r.params)
        for r in fake.requests[since:]
        if r.operation == "GetCurrentMetricData" and "NextToken" not in r.params
    ]


async def test_3000_queues_exact_at_batches_plus_shared_profiles_by_the_hundred() -> None:
    """Over 3,000 queues: the summary's agents are the fake's distinct agents, exactly.

    Once the map is known, the call costs 30 batches + ceil(750 profiles / 100) first
    pages (the fake's populated centre: every profile reaches two batches or more),
    against 60 when each batch's agents are asked apart. By CHANNEL too.
    """
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=11) as fake:
        instance_id = fake.add_instance()
        populated = fake.populate(instance_id, queues=3000)
        queues = list(populated.queue_ids)
        profiles = len(populated.routing_profile_ids)
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            await cm.get_current_metrics(METRICS, queues=queues[:200])  # the map, made
            since = len(fake.requests)
            result = await cm.get_current_metrics(METRICS, queues=queues)
            summary_pages = first_pages(fake, since)
            by_channel = await cm.get_current_metrics(
                METRICS, queues=queues, groupings=["CHANNEL"], channels=CHANNELS
            )
        truth = current_truth(fake, instance_id, METRICS, queues=queues)
        channel_truth = current_truth(
            fake, instance_id, METRICS, queues=queues, channels=CHANNELS, groupings=["CHANNEL"]
        )
    assert result.summary is not None
    assert {m: result.summary[m] for m in METRICS} == truth[(None, None, None)]
    assert all(result.summary.is_exact(m) for m in METRICS)
    assert result.batches == 30
    assert len(summary_pages) <= 30 + math.ceil(profiles / 100)
    assert sum("RoutingProfiles" in p["Filters"] for p in summary_pages) == 8  # type: ignore[operator]
    assert {(None, r.channel, None): {m: r[m] for m in METRICS} for r in by_channel.rows} == (
        channel_truth
    )
    assert all(r.is_exact(m) for r in by_channel.rows for m in METRICS)


async def test_a_profile_whose_queues_change_between_map_and_answer() -> None:
    """Profiles change queues after the map is made: the next call sees it, counts anew.

    Past the map's check interval, their new LastModifiedTime makes the map again, and
    the answer counts the truth of now.
    """
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=5) as fake:
        instance_id = fake.add_instance()
        populated = fake.populate(instance_id, queues=300)
        queues = list(populated.queue_ids)
        asked = queues[:250]
        newcomer = fake.add_routing_profile(instance_id, queues[250:252])  # serves none asked
        fake.add_agents(instance_id, newcomer, 7)
        centre = fake.centre(instance_id)
        leaver = next(
            p
            for p in populated.routing_profile_ids
            if set(centre.routing_profiles[p].queue_ids) & set(asked)
        )
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            before = await cm.get_current_metrics(METRICS, queues=asked)
            truth_before = current_truth(fake, instance_id, METRICS, queues=asked)
            clock.advance(5)
            # One profile now serves a queue in each batch; one serves none of them.
            fake.set_routing_profile_queues(
                instance_id, newcomer, [asked[5], asked[105], asked[205]]
            )
            fake.set_routing_profile_queues(instance_id, leaver, queues[260:262])
            after = await cm.get_current_metrics(METRICS, queues=asked)
            truth_after = current_truth(fake, instance_id, METRICS, queues=asked)
    assert before.summary is not None
    assert after.summary is not None
    assert {m: before.summary[m] for m in METRICS} == truth_before[(None, None, None)]
    assert {m: after.summary[m] for m in METRICS} == truth_after[(None, None, None)]
    assert truth_after != truth_before
    assert all(after.summary.is_exact(m) for m in METRICS)
    assert fake.counts()[("SearchRoutingProfiles", 200)] == 2


async def test_queues_the_map_does_not_know_are_counted_without_it() -> None:
    """AGENT queues among the asked ones: each batch's agents are asked apart, exact."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=3) as fake:
        instance_id = fake.add_instance()
        populated = fake.populate(instance_id, queues=150, agents_per_profile=2, agent_queues=True)
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            listed = await cm.list_queues(queue_types=["STANDARD", "AGENT"])
            queues = [q.id for q in listed]
            result = await cm.get_current_metrics(METRICS, queues=queues)
        truth = current_truth(fake, instance_id, METRICS, queues=queues)
    assert len(queues) > len(populated.queue_ids)
    assert result.summary is not None
    assert {m: result.summary[m] for m in METRICS} == truth[(None, None, None)]
    grouped = [p for p in first_pages(fake) if p.get("Groupings") == ["ROUTING_PROFILE"]]
    assert len(grouped) == result.batches  # each batch's agents, apart


async def test_without_permission_for_the_map_a_warning_and_the_exact_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=3) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=300).queue_ids)
        fake.inject_fault("denied", operation="SearchRoutingProfiles")
        with caplog.at_level(logging.WARNING, "aioconnectmetrics"):
            async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
                for _ in range(2):
                    result = await cm.get_current_metrics(METRICS, queues=queues)
        truth = current_truth(fake, instance_id, METRICS, queues=queues)
    assert result.summary is not None
    assert {m: result.summary[m] for m in METRICS} == truth[(None, None, None)]
    warnings = [r for r in caplog.records if "routing-profile map" in r.getMessage()]
    assert len(warnings) == 1
    assert "AccessDenied" in warnings[0].getMessage()
    assert fake.counts()[("SearchRoutingProfiles", 403)] == 1  # not asked again within the ttl


async def test_departments_listed_interleaved_cost_what_the_loop_costs() -> None:
    """Profiles stay within departments of 50 queues; the caller's list interleaves them.

    Regrouped, every profile's queues share a batch: 3 batches, no other request, exact.
    """
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=8) as fake:
        instance_id = fake.add_instance()
        rng = random.Random(8)
        queues: list[str] = []
        for _ in range(6):
            department = fake.add_queues(instance_id, 50)
            queues += department
            for _ in range(4):
                profile = fake.add_routing_profile(instance_id, rng.sample(department, 20))
                fake.add_agents(instance_id, profile, 5)
        rng.shuffle(queues)
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            await cm.get_current_metrics(METRICS, queues=queues)
            since = len(fake.requests)
            result = await cm.get_current_metrics(METRICS, queues=queues)
        truth = current_truth(fake, instance_id, METRICS, queues=queues)
    assert result.summary is not None
    assert {m: result.summary[m] for m in METRICS} == truth[(None, None, None)]
    assert all(result.summary.is_exact(m) for m in METRICS)
    pages = first_pages(fake, since)
    assert len(pages) == result.batches == 3
    assert all("Queues" in p["Filters"] for p in pages)  # type: ignore[operator]


async def test_a_failed_shared_profile_request_leaves_agents_approximate() -> None:
    """Contacts stay exact and complete; agents are the batches' sum, with bounds."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=4) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=300).queue_ids)
        async with fake.metrics_client(
            instance_id, cache=None, retry=RetryPolicy(attempts=1)
        ) as cm:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues[:10])
            fake.inject_fault(
                "error",
                operation="GetCurrentMetricData",
                when=lambda params: "RoutingProfiles" in params.get("Filters", {}),
            )
            result = await cm.get_current_metrics(METRICS, queues=queues)
        truth = current_truth(fake, instance_id, METRICS, queues=queues)[(None, None, None)]
    summary = result.summary
    assert summary is not None
    assert not result.partial
    assert summary["CONTACTS_IN_QUEUE"] == truth["CONTACTS_IN_QUEUE"]
    assert summary.is_exact("CONTACTS_IN_QUEUE")
    for metric in AGENTS:
        assert not summary.is_exact(metric)
        low, high = summary.bounds(metric) or (0.0, 0.0)
        value = truth[metric]
        assert value is not None
        assert low <= value <= high == summary[metric]
