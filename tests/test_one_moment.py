"""An answer is of the moments it reports: exact agent counts included (issue 21).

The routing-profile requests behind exact agent counts are requests like any other:
their snapshots count in the answer's `snapshot_time` and `snapshot_spread`, and a
total is exact only when every routing-profile request it adds up answered from one
snapshot. Short snapshots and faults push retries into the next snapshot. (The fake's
agents change status every fourth snapshot: 8 s here.) Both ways of counting agents
once are held to it: with the routing-profile map (the shared profiles asked apart,
issue 27), and without it (a role that may not call SearchRoutingProfiles: each
batch's agents asked apart).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from aioconnectmetrics import RateLimiter, RetryPolicy
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

AGENT_METRICS = ["AGENTS_ONLINE", "AGENTS_AVAILABLE", "AGENTS_ON_CONTACT"]
INTERVAL = 2.0


def distinct_agents(fake: FakeConnect, instance_id: str, queues: list[str], snapshot: int) -> Any:
    """The simulator's own summary at one snapshot: each agent of the queues once."""
    [(_, values)] = fake.centre(instance_id).current_rows(
        snapshot,
        queue_ids=queues,
        routing_profile_ids=None,
        channels=("VOICE", "CHAT", "TASK", "EMAIL"),
        groupings=(),
        metrics=AGENT_METRICS,
    )
    return values


WAYS = ["map", "no map"]


@pytest.mark.parametrize("way", WAYS)
async def test_every_exact_agent_count_is_the_truth_at_a_moment_the_answer_reports(
    way: str,
) -> None:
    """2 s snapshots, 25% faults: each exact count is the truth at a reported snapshot."""
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=9, snapshot_interval=INTERVAL) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=250).queue_ids)
        if way == "no map":
            fake.inject_fault("denied", operation="SearchRoutingProfiles")

        def time_passes(operation: str, params: object) -> None:
            if operation == "GetCurrentMetricData":
                clock.advance(0.3)  # each request lands later: calls straddle snapshots

        fake.add_hook(time_passes)
        fake.inject_fault("error", probability=0.25, operation="GetCurrentMetricData")
        retry = RetryPolicy(attempts=10, base_delay=0.001, max_delay=0.005)
        # The fake's quotas are off; so are ours, not to wait on the real clock.
        unlimited = RateLimiter({"GetCurrentMetricData": (1000, 1000)})
        exact = approximate = 0
        async with fake.metrics_client(
            instance_id, retry=retry, cache=None, limiter=unlimited
        ) as cm:
            for _ in range(16):
                result = await cm.get_current_metrics(
                    ["CONTACTS_IN_QUEUE", *AGENT_METRICS], queues=queues
                )
                assert result.summary is not None
                assert result.snapshot_time is not None
                first = math.ceil(result.snapshot_time.timestamp() / INTERVAL - 1e-9)
                last = math.floor(
                    (result.snapshot_time + result.snapshot_spread).timestamp() / INTERVAL + 1e-9
                )
                moments = [
                    distinct_agents(fake, instance_id, queues, k) for k in range(first, last + 1)
                ]
                for metric in AGENT_METRICS:
                    if result.summary.is_exact(metric):
                        exact += 1
                        truths = {m[metric] for m in moments}
                        assert result.summary[metric] in truths, (metric, truths)
                    else:
                        approximate += 1
    # Both cases happened: answers of one snapshot, and answers across two.
    assert exact > 0
    assert approximate > 0
    assert fake.counts()[("GetCurrentMetricData", 500)] > 0


def asks_profiles_apart(way: str, params: Any) -> bool:
    """Whether a request is one of those that count agents apart, the way `way` does."""
    if way == "map":  # the shared profiles, by routing profile
        return "RoutingProfiles" in params.get("Filters", {})
    return "ROUTING_PROFILE" in params.get("Groupings", [])  # each batch's agents


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("max_spread", [None, 0.0])
async def test_a_routing_profile_request_newer_than_every_batch_counts(
    max_spread: float | None, way: str
) -> None:
    """The last request of agents apart lands a snapshot later than every batch's rows.

    Its snapshot is in the answer's spread; the totals are approximate, or, with
    ``max_spread=0``, every lagging request is fetched again and the totals are exact:
    the truth at the one snapshot the answer reports.
    """
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=9, snapshot_interval=INTERVAL) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=250).queue_ids)
        if way == "no map":
            fake.inject_fault("denied", operation="SearchRoutingProfiles")
        profile_requests = 0
        last = 1 if way == "map" else 3  # one request of shared profiles, or one per batch

        def time_passes(operation: str, params: Any) -> None:
            nonlocal profile_requests
            if asks_profiles_apart(way, params):
                profile_requests += 1
                if profile_requests == last:
                    clock.advance(4 * INTERVAL)  # the agents' next state

        fake.add_hook(time_passes)
        async with fake.metrics_client(instance_id, cache=None, max_concurrency=1) as cm:
            result = await cm.get_current_metrics(
                ["CONTACTS_IN_QUEUE", *AGENT_METRICS], queues=queues, max_spread=max_spread
            )
    assert result.summary is not None
    assert result.snapshot_time is not None
    if max_spread is None:
        assert result.snapshot_spread.total_seconds() == 4 * INTERVAL
        for metric in AGENT_METRICS:
            assert not result.summary.is_exact(metric)
        return
    assert result.snapshot_spread.total_seconds() == 0
    truth = distinct_agents(
        fake, instance_id, queues, round(result.snapshot_time.timestamp() / INTERVAL)
    )
    for metric in AGENT_METRICS:
        assert result.summary.is_exact(metric)
        assert result.summary[metric] == truth[metric]
