"""ConnectMetrics behaviours against the fake over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import botocore.exceptions
import pytest
from aiobotocore.session import AioSession

from aioconnectmetrics import (
    ConnectMetrics,
    MetricsResult,
    PaginationError,
    PartialResultError,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceUnavailableError,
    SnapshotSpreadError,
)
from aioconnectmetrics._transport import new_session
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW
from .truth import assert_matches_truth, current_truth

END = datetime.fromtimestamp(NOW, timezone.utc)
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


def metric_queues(fake: FakeConnect, operation: str = "GetCurrentMetricData") -> list[list[str]]:
    """The Queues filter of every first page the fake received for `operation`."""
    return [
        r.params["Filters"]["Queues"]
        for r in fake.requests
        if r.operation == operation and "NextToken" not in r.params
    ]


async def test_ids_and_arns_are_normalised_and_deduplicated(
    fake: FakeConnect, instance_id: str
) -> None:
    """The same queue as ID and ARN is fetched once and found by either."""
    q1, q2, q3 = fake.add_queues(instance_id, 3)
    arn1 = fake.centre(instance_id).queues[q1].arn
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_current_metrics(
            ["CONTACTS_IN_QUEUE"], queues=[q1, arn1, q2, q2, q3, arn1], groupings=["QUEUE"]
        )
    assert metric_queues(fake) == [[q1, q2, q3]]
    assert [r.queue_id for r in result.rows] == sorted([q1, q2, q3])
    assert result.by(QUEUE=arn1) == result.by(QUEUE=q1)
    assert result.row(queue=arn1) is result.row(queue=q1)


async def test_all_queues_over_1000(fake: FakeConnect, instance_id: str) -> None:
    """queues="all" pages through ListQueues (1,200 STANDARD queues) and fetches them all."""
    queues = fake.add_queues(instance_id, 1200)
    profile = fake.add_routing_profile(instance_id, queues[:3])
    fake.add_agents(instance_id, profile, 2, agent_queues=True)  # AGENT queues: not by default
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE", "AGENTS_ONLINE"], queues="all")
        with_agents = await cm.list_queues(queue_types=["STANDARD", "AGENT"])
    listed = [r for r in fake.requests if r.operation == "ListQueues"]
    assert len(listed) == 4  # two pages for "all", two for list_queues (other types: not shared)
    # Every queue once, in 12 batches that ask every metric: the one routing profile's
    # queues share a batch (the routing-profile map says so), so its two agents are
    # counted once without a request of their own.
    batches = metric_queues(fake)
    assert len(batches) == 12
    assert sorted(q for batch in batches for q in batch) == sorted(queues)
    assert result.batches == 12
    metrics = ["CONTACTS_IN_QUEUE", "AGENTS_ONLINE"]
    truth = current_truth(fake, instance_id, metrics, queues=queues)[(None, None, None)]
    assert result.summary is not None
    assert {m: result.summary[m] for m in metrics} == truth
    assert truth["AGENTS_ONLINE"] == 2
    assert result.summary.is_exact("AGENTS_ONLINE")
    assert len(with_agents) == 1202


async def test_queue_discovery_is_reused_within_its_ttl(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """A second "all" call within queue_list_ttl lists no queues; after it, lists again."""
    fake.add_queues(instance_id, 5)
    async with fake.metrics_client(instance_id, queue_list_ttl=60) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues="all")
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues="all")
        clock.advance(60)
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues="all")
    assert sum(1 for r in fake.requests if r.operation == "ListQueues") == 2


async def test_drop_in_returns_botocore_shape(fake: FakeConnect, instance_id: str) -> None:
    """The drop-in API returns every row of 250 queues, no NextToken, the oldest snapshot."""
    queues = fake.add_queues(instance_id, 250)
    kwargs: dict[str, Any] = {
        "Filters": {"Queues": queues, "Channels": ["VOICE", "CHAT"]},
        "Groupings": ["QUEUE", "CHANNEL"],
        "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
        "MaxResults": 40,
    }
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_current_metric_data(**kwargs)
    async with fake.client() as raw:
        first = await raw.get_current_metric_data(
            InstanceId=instance_id,
            **kwargs | {"Filters": {"Queues": queues[:100], "Channels": ["VOICE", "CHAT"]}},
        )
    assert "NextToken" not in response
    assert response["DataSnapshotTime"] == END
    truth = current_truth(
        fake,
        instance_id,
        ["CONTACTS_IN_QUEUE"],
        queues=queues,
        channels=["VOICE", "CHAT"],
        groupings=["QUEUE", "CHANNEL"],
    )
    got = {
        (r["Dimensions"]["Queue"]["Id"], r["Dimensions"]["Channel"]): r["Collections"][0]["Value"]
        for r in response["MetricResults"]
    }
    assert got == {(q, c): v["CONTACTS_IN_QUEUE"] for (q, c, _), v in truth.items()}
    assert response["ApproximateTotalCount"] == len(truth)
    # Rows have the service's own shape, down to the dimension dicts.
    by_key = {
        (r["Dimensions"]["Queue"]["Id"], r["Dimensions"]["Channel"]): r
        for r in response["MetricResults"]
    }
    for row in first["MetricResults"]:
        assert by_key[(row["Dimensions"]["Queue"]["Id"], row["Dimensions"]["Channel"])] == row
    assert {r.params["MaxResults"] for r in fake.requests} == {40}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(response["ResponseMetadata"]["RequestIds"]) == 3  # a request per batch


async def test_oldest_contact_age_is_always_seconds(fake: FakeConnect, instance_id: str) -> None:
    """Ungrouped, the service sends milliseconds; both faces answer seconds."""
    q1, q2 = fake.add_queues(instance_id, 2, channels=["VOICE"])
    fake.set_waiting(instance_id, q1, "VOICE", in_queue=1, oldest_age=24.113)
    fake.set_waiting(instance_id, q2, "VOICE", in_queue=1, oldest_age=3.0)
    async with fake.metrics_client(instance_id) as cm:
        rich = await cm.get_current_metrics(["OLDEST_CONTACT_AGE"], queues=[q1, q2])
        grouped = await cm.get_current_metrics(
            ["OLDEST_CONTACT_AGE"], queues=[q1, q2], groupings=["QUEUE"]
        )
        dropped = await cm.boto.get_current_metric_data(
            Filters={"Queues": [q1, q2]},
            CurrentMetrics=[{"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"}],
        )
    assert rich.value("OLDEST_CONTACT_AGE") == pytest.approx(24.113)
    assert grouped.value("OLDEST_CONTACT_AGE", queue=q1) == pytest.approx(24.113)
    assert dropped["MetricResults"][0]["Collections"][0]["Value"] == pytest.approx(24.113)


async def test_null_stays_none_across_batches(fake: FakeConnect) -> None:
    """A mean with no data in any batch is None, never 0; counts are 0."""
    instance_id = fake.add_instance(simulate=False)
    queues = fake.add_queues(instance_id, 150, channels=["VOICE"])
    fake.add_contact(instance_id, queues[0], "VOICE", NOW - 600, outcome="ABANDONED", queue_time=9)
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_historical_metrics(
            ["CONTACTS_HANDLED", "HANDLE_TIME", "ABANDON_TIME"],
            start=END - timedelta(hours=1),
            end=END,
            queues=queues,
        )
    assert result.batches == 2
    assert result.value("CONTACTS_HANDLED") == 0.0
    assert result.value("HANDLE_TIME") is None
    assert result.value("ABANDON_TIME") == 9.0


async def test_routing_profile_batches(fake: FakeConnect, instance_id: str) -> None:
    """Across 150 routing profiles, agent counts are exact (an agent has one profile)."""
    populated = fake.populate(instance_id, queues=300, profiles=150, agents_per_profile=2)
    profiles = populated.routing_profile_ids
    metrics = ["AGENTS_ONLINE", "AGENTS_AVAILABLE", "CONTACTS_IN_QUEUE"]
    async with fake.metrics_client(instance_id) as cm:
        summary = await cm.get_current_metrics(metrics, routing_profiles=profiles)
        grouped = await cm.get_current_metrics(
            ["AGENTS_ONLINE"], routing_profiles=profiles, groupings=["ROUTING_PROFILE"]
        )
    assert summary.batches == 2
    assert summary.summary is not None
    assert summary.summary.is_exact("AGENTS_ONLINE")
    assert not summary.summary.is_exact("CONTACTS_IN_QUEUE")  # queues shared by profiles
    assert_matches_truth(
        summary, current_truth(fake, instance_id, metrics, routing_profiles=profiles)
    )
    assert len(grouped.rows) == 150
    assert_matches_truth(
        grouped,
        current_truth(
            fake,
            instance_id,
            ["AGENTS_ONLINE"],
            routing_profiles=profiles,
            groupings=["ROUTING_PROFILE"],
        ),
    )


async def test_snapshot_drift_restarts_the_batch(fake: FakeConnect, instance_id: str) -> None:
    """A page whose snapshot differs from its chain's restarts the batch from page one."""
    queues = fake.add_queues(instance_id, 30)
    fake.inject_fault("drift", at=[2])
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.boto.get_current_metric_data(
            Filters={"Queues": queues},
            Groupings=["QUEUE"],
            CurrentMetrics=[{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
            MaxResults=10,
        )
        stats = cm.stats
    assert len(result["MetricResults"]) == 30
    assert stats.restarts == 1
    # 2 pages of the abandoned chain, then 3 of the good one.
    assert ["NextToken" in r.params for r in fake.requests] == [False, True, False, True, True]


async def test_expired_token_restarts_then_gives_up(fake: FakeConnect, instance_id: str) -> None:
    """A rejected token restarts the batch; restarts are bounded, then PaginationError."""
    queues = fake.add_queues(instance_id, 30)
    fake.inject_fault("expire", at=[2])
    params: dict[str, Any] = {
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
        "MaxResults": 10,
    }
    async with fake.metrics_client(instance_id, pagination_restarts=2, cache=None) as cm:
        result = await cm.boto.get_current_metric_data(**params)
        assert len(result["MetricResults"]) == 30
        fake.inject_fault("expire", when=lambda p: "NextToken" in p)
        with pytest.raises(PaginationError) as info:
            await cm.boto.get_current_metric_data(**params)
    assert info.value.restarts == 2
    assert info.value.batch == 0


async def test_max_spread_refetches_older_batches(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Batches whose snapshots lie further apart than max_spread are fetched again."""
    queues = fake.add_queues(instance_id, 200)
    seen: list[int] = []

    def second_batch_is_later(operation: str, params: Any) -> None:
        # The first time batch 1 is asked, the service's snapshot moves on.
        if params.get("Filters", {}).get("Queues", [""])[0] == queues[100] and not seen:
            seen.append(1)
            clock.advance(15)

    fake.add_hook(second_batch_is_later)
    async with fake.metrics_client(instance_id, max_concurrency=1) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, max_spread=5)
    assert result.snapshot_spread == timedelta(0)
    assert result.snapshot_time == END + timedelta(seconds=15)
    assert metric_queues(fake) == [queues[:100], queues[100:], queues[:100]]


async def test_spread_reported_and_bounded(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Without max_spread the spread is reported; when it cannot be met, SnapshotSpreadError."""
    queues = fake.add_queues(instance_id, 200)
    fake.add_hook(lambda op, params: clock.advance(15) if op == "GetCurrentMetricData" else None)
    async with fake.metrics_client(instance_id, max_concurrency=1) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        assert result.snapshot_spread == timedelta(seconds=15)
        assert result.snapshot_time == END + timedelta(seconds=15)
        with pytest.raises(SnapshotSpreadError):
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, max_spread=1)


async def test_partial_failure_carries_what_succeeded(fake: FakeConnect, instance_id: str) -> None:
    """One batch failing for good: the error holds the other batches' rows and the split."""
    queues = fake.add_queues(instance_id, 250)
    fake.inject_fault(
        "error", when=lambda p: queues[150] in p.get("Filters", {}).get("Queues", [])
    )
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        with pytest.raises(PartialResultError) as info:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"])
        partial = await cm.get_current_metrics(
            ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"], partial=True
        )
    error = info.value
    assert set(error.failures) == {1}
    assert isinstance(error.failures[1], ServiceUnavailableError)
    assert error.failed_queues == {1: tuple(queues[100:200])}
    assert isinstance(error.partial, MetricsResult)
    assert error.partial.partial is True
    assert sorted(str(r.queue_id) for r in error.partial.rows) == sorted(
        queues[:100] + queues[200:]
    )
    assert partial.partial is True
    assert len(partial.rows) == 150


async def test_whole_failure_raises_the_error_itself(fake: FakeConnect, instance_id: str) -> None:
    """When no batch succeeds, the error is the batch's own (chained to botocore's)."""
    queues = fake.add_queues(instance_id, 2)
    fake.inject_fault("error")
    async with fake.metrics_client(instance_id, retry=FAST) as cm:
        with pytest.raises(ServiceUnavailableError) as info:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert info.value.code == "InternalServiceException"
    assert info.value.status == 500
    assert isinstance(info.value.__cause__, botocore.exceptions.ClientError)


async def test_unknown_instance_is_translated(fake: FakeConnect) -> None:
    """ResourceNotFoundException becomes ResourceNotFoundError, chained."""
    async with fake.metrics_client("no-such-instance") as cm:
        with pytest.raises(ResourceNotFoundError) as info:
            await cm.get_current_metrics(["AGENTS_ONLINE"], queues=["q1", "q2"])
    assert info.value.code == "ResourceNotFoundException"
    assert info.value.operation == "GetCurrentMetricData"
    assert isinstance(info.value.__cause__, botocore.exceptions.ClientError)


async def test_borrowed_client_stays_open(fake: FakeConnect, instance_id: str) -> None:
    """A client given to ConnectMetrics is used and left open."""
    queues = fake.add_queues(instance_id, 1)
    async with fake.client() as raw:
        async with ConnectMetrics(instance_id, client=raw) as cm:
            await cm.get_current_metrics(["AGENTS_ONLINE"], queues=queues)
        response = await raw.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues},
            CurrentMetrics=[{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
        )
    assert len(response["MetricResults"]) == 1


async def test_not_open_is_a_clear_error() -> None:
    """Calling before `async with` says how to open the client."""
    cm = ConnectMetrics("abc", region_name="us-east-1")
    with pytest.raises(RuntimeError, match="async with"):
        await cm.get_current_metrics(["AGENTS_ONLINE"], queues=["q"])


async def test_cancellation_stops_the_call(clock: ManualClock) -> None:
    """A cancelled call returns at once; the client stays usable afterwards."""
    with FakeConnect(clock=clock, quotas=None, latency=0.5) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 300)
        async with fake.metrics_client(instance_id) as cm:
            with anyio.move_on_after(0.1) as scope:
                await cm.get_current_metrics(["AGENTS_ONLINE"], queues=queues)
            assert scope.cancelled_caught
            fake.latency = 0.0
            result = await cm.get_current_metrics(["AGENTS_ONLINE"], queues=queues[:5])
    assert result.summary is not None


async def test_stats_count_calls_pages_and_batches(fake: FakeConnect, instance_id: str) -> None:
    """Stats count HTTP attempts, pages, batches and errors by code."""
    queues = fake.add_queues(instance_id, 150)
    async with fake.metrics_client(instance_id) as cm:
        await cm.get_current_metrics(["AGENTS_ONLINE"], queues=queues, groupings=["QUEUE"])
        stats = cm.stats
    assert (stats.calls, stats.pages, stats.batches, stats.restarts) == (2, 2, 2, 0)
    assert stats.errors == {}


async def test_sessions_the_library_makes_parse_botocores_data_once(
    fake: FakeConnect, instance_id: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One botocore data loader per data path for the library's sessions; yours is yours."""
    one, two = new_session(), new_session()
    assert one is not two
    shared = one.get_component("data_loader")
    assert two.get_component("data_loader") is shared
    mine = AioSession()
    async with fake.metrics_client(instance_id, session=mine) as cm:
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=fake.add_queues(instance_id, 1))
    assert mine.get_component("data_loader") is not shared
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    elsewhere = new_session().get_component("data_loader")
    assert elsewhere is not shared
    assert str(tmp_path) in elsewhere.search_paths
    assert new_session().get_component("data_loader") is elsewhere
