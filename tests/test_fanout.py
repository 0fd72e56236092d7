"""The fan-out client against the fake over HTTP: every row equals the fake's ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from aioconnectmetrics import Metric
from aioconnectmetrics._catalog import CURRENT, Scope
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW, unlimited
from .truth import assert_matches_truth, current_truth, historical_truth

SIZES = (1, 100, 101, 250, 1000)
GROUPINGS = ((), ("QUEUE",), ("CHANNEL",), ("QUEUE", "CHANNEL"))
CURRENT_METRICS = (
    "AGENTS_ONLINE",
    "AGENTS_AVAILABLE",
    "AGENTS_ON_CONTACT",
    "SLOTS_ACTIVE",
    "CONTACTS_IN_QUEUE",
    "CONTACTS_SCHEDULED",
    "OLDEST_CONTACT_AGE",
)
HISTORICAL_METRICS = (
    Metric("CONTACTS_QUEUED"),
    Metric("CONTACTS_HANDLED"),
    Metric("CONTACTS_ABANDONED"),
    Metric("HANDLE_TIME"),
    Metric("AFTER_CONTACT_WORK_TIME"),
    Metric("QUEUED_TIME"),
    Metric("HOLD_TIME"),
    Metric("ABANDON_TIME"),
    Metric("QUEUE_ANSWER_TIME"),
    Metric("OCCUPANCY"),
    Metric.service_level(60),
)
CHANNELS = ("VOICE", "CHAT", "TASK")
END = datetime.fromtimestamp(NOW, timezone.utc)
START = END - timedelta(hours=1)


@pytest.fixture(name="centres", scope="module")
def _centres() -> Iterator[tuple[FakeConnect, dict[int, tuple[str, tuple[str, ...]]]]]:
    """One fake with an instance per size, populated once for the module."""
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=11) as fake:
        instances = {}
        for size in SIZES:
            instance_id = fake.add_instance()
            populated = fake.populate(instance_id, queues=size, profiles=max(1, size // 4))
            instances[size] = (instance_id, populated.queue_ids)
        yield fake, instances


@pytest.mark.parametrize("groupings", GROUPINGS, ids=lambda g: "+".join(g) or "summary")
@pytest.mark.parametrize("size", SIZES)
async def test_current_rows_equal_truth(
    centres: tuple[FakeConnect, dict[int, tuple[str, tuple[str, ...]]]],
    size: int,
    groupings: tuple[str, ...],
) -> None:
    """Real-time rows and summaries equal the truth (exact) or bracket it (approximate)."""
    fake, instances = centres
    instance_id, queues = instances[size]
    channels = CHANNELS if "CHANNEL" in groupings else None
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        result = await cm.get_current_metrics(
            CURRENT_METRICS, queues=queues, channels=channels, groupings=groupings
        )
    truth = current_truth(
        fake, instance_id, CURRENT_METRICS, queues=queues, channels=channels, groupings=groupings
    )
    assert_matches_truth(result, truth)
    assert result.batches == (size + 99) // 100
    assert result.snapshot_time == END
    # Every value is exact: agent counts too, over batches that share agents (each agent
    # is counted once, through its routing profile); contact counts and maxima always are.
    rows = list(result.rows) if groupings else [result.summary]
    assert all(r.is_exact(m) for r in rows if r for m in CURRENT_METRICS)


@pytest.mark.parametrize("groupings", GROUPINGS, ids=lambda g: "+".join(g) or "summary")
@pytest.mark.parametrize("size", [1, 101, 250])
async def test_historical_rows_equal_truth(
    centres: tuple[FakeConnect, dict[int, tuple[str, tuple[str, ...]]]],
    size: int,
    groupings: tuple[str, ...],
) -> None:
    """Historical rows: sums, maxima and exact means equal the truth; the rest bracket it."""
    fake, instances = centres
    instance_id, queues = instances[size]
    channels = CHANNELS if "CHANNEL" in groupings else None
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        result = await cm.get_historical_metrics(
            HISTORICAL_METRICS,
            start=START,
            end=END,
            queues=queues,
            channels=channels,
            groupings=groupings,
        )
    truth = historical_truth(
        fake,
        instance_id,
        HISTORICAL_METRICS,
        queues=queues,
        start=START,
        end=END,
        channels=channels,
        groupings=groupings,
    )
    assert_matches_truth(result, truth)
    rows = list(result.rows) if groupings else [result.summary]
    combined = result.batches > 1 and "QUEUE" not in groupings
    assert all(r.is_exact("HANDLE_TIME") and r.is_exact("CONTACTS_HANDLED") for r in rows if r)
    assert any(not r.is_exact("HOLD_TIME") for r in rows if r) is combined
    assert any(not r.is_exact("SERVICE_LEVEL_60") for r in rows if r) is combined
    assert result.snapshot_time is None
    assert (result.start_time, result.end_time) == (START, END)


AGENT_METRICS = tuple(name for name, spec in CURRENT.items() if spec.scope is Scope.AGENT)


@pytest.mark.parametrize("size", [300, 3000])
async def test_agent_summary_is_exact_over_many_batches(size: int) -> None:
    """Every agent metric of the instance summary counts each agent once, exactly.

    Routing profiles serve neighbouring queues and two from anywhere, so most profiles
    reach several batches; the truth is the simulator's own count of distinct agents.
    The drop-in summary gives the same numbers.
    """
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=11) as fake:
        instance_id = fake.add_instance()
        populated = fake.populate(instance_id, queues=size)
        queues = list(populated.queue_ids)
        centre = fake.centre(instance_id)
        batch_of = {q: i // 100 for i, q in enumerate(queues)}
        spanning = [
            p
            for p in populated.routing_profile_ids
            if len({batch_of[q] for q in centre.routing_profiles[p].queue_ids}) > 1
        ]
        assert len(spanning) > len(populated.routing_profile_ids) // 10
        async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
            result = await cm.get_current_metrics(AGENT_METRICS, queues="all")
            response = await cm.boto.get_current_metric_data(
                Filters={"Queues": queues},
                CurrentMetrics=[{"Name": n, "Unit": CURRENT[n].unit} for n in AGENT_METRICS],
            )
        [truth] = current_truth(fake, instance_id, AGENT_METRICS, queues=queues).values()
    summary = result.summary
    assert summary is not None
    assert result.batches == size // 100
    assert {m: summary[m] for m in AGENT_METRICS} == truth
    assert all(summary.is_exact(m) for m in AGENT_METRICS)
    [row] = response["MetricResults"]
    assert {c["Metric"]["Name"]: c.get("Value", 0.0) for c in row["Collections"]} == truth


async def test_rows_by_routing_profile_over_queue_batches_are_exact() -> None:
    """Grouped by routing profile over 300 queues, each profile counts its agents once.

    However many batches a profile reaches, its row is the same in each.
    """
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=12) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=300).queue_ids)
        async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
            result = await cm.get_current_metrics(
                AGENT_METRICS, queues=queues, groupings=["ROUTING_PROFILE"]
            )
        truth = current_truth(
            fake, instance_id, AGENT_METRICS, queues=queues, groupings=["ROUTING_PROFILE"]
        )
    assert_matches_truth(result, truth)
    assert all(row.is_exact(m) for row in result.rows for m in AGENT_METRICS)
