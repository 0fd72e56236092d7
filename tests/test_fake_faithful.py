"""The fake answers as the reference describes: order, agent statuses, metrics by ID."""

from __future__ import annotations

from typing import Any

import pytest

from aioconnectmetrics.testing import FakeConnect
from aioconnectmetrics.testing._userdata import status_resource

from .truth import current_truth


def ids(response: dict[str, Any]) -> list[str]:
    return [r["Dimensions"]["Queue"]["Id"] for r in response["MetricResults"]]


def value(row: dict[str, Any], index: int = 0) -> float | None:
    found: float | None = row["Collections"][index].get("Value")
    return found


async def test_rows_come_by_agents_online_descending(fake: FakeConnect, instance_id: str) -> None:
    """The reference: "By default resources are sorted based on AGENTS_ONLINE, DESCENDING"."""
    queues = list(fake.populate(instance_id, queues=60).queue_ids)
    async with fake.client() as client:
        response = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues},
            Groupings=["QUEUE"],
            CurrentMetrics=[{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
        )
    truth = current_truth(fake, instance_id, ["AGENTS_ONLINE"], queues=queues, groupings=["QUEUE"])
    online = [truth[(q, None, None)]["AGENTS_ONLINE"] or 0.0 for q in ids(response)]
    assert online == sorted(online, reverse=True)
    assert len(set(online)) > 3  # the order says something
    for a, b, x, y in zip(ids(response), ids(response)[1:], online, online[1:], strict=False):
        assert x > y or a < b  # ties in the order of their IDs


@pytest.mark.parametrize("order", ["ASCENDING", "DESCENDING"])
async def test_sorting_puts_rows_without_a_value_last(
    fake: FakeConnect, instance_id: str, order: str
) -> None:
    """ESTIMATED_WAIT_TIME is null where no agent serves the channel: last, either way."""
    queues = fake.add_queues(instance_id, 6, channels=["VOICE"])
    profile = fake.add_routing_profile(instance_id, queues[:3])
    fake.add_agents(instance_id, profile, 2)
    async with fake.client() as client:
        response = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues, "Channels": ["VOICE"]},
            Groupings=["QUEUE", "CHANNEL"],
            CurrentMetrics=[{"Name": "ESTIMATED_WAIT_TIME", "Unit": "SECONDS"}],
            SortCriteria=[{"SortByMetric": "ESTIMATED_WAIT_TIME", "SortOrder": order}],
        )
    values = [value(r) for r in response["MetricResults"]]
    present = [v for v in values if v is not None]
    assert values == [*sorted(present, reverse=order == "DESCENDING"), None, None, None]


async def test_agents_online_by_agent_status(fake: FakeConnect, instance_id: str) -> None:
    """QUEUE, AGENT_STATUS: each queue's online agents by status; they add up per queue."""
    queues = list(fake.populate(instance_id, queues=30).queue_ids)
    centre = fake.centre(instance_id)
    available, available_arn = status_resource(centre, "Available")
    brk = status_resource(centre, "Break")[0]
    request: dict[str, Any] = {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE", "AGENT_STATUS"],
        "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
    }
    async with fake.client() as client:
        everyone = await client.get_current_metric_data(**request)
        request["Filters"]["AgentStatuses"] = [available_arn]
        only_available = await client.get_current_metric_data(**request)
    per_queue: dict[str, float] = {}
    for row in everyone["MetricResults"]:
        assert row["Dimensions"]["AgentStatus"]["Id"] in (available, brk)
        queue = row["Dimensions"]["Queue"]["Id"]
        per_queue[queue] = per_queue.get(queue, 0.0) + (value(row) or 0.0)
    truth = current_truth(fake, instance_id, ["AGENTS_ONLINE"], queues=queues, groupings=["QUEUE"])
    assert per_queue == {k[0]: v["AGENTS_ONLINE"] for k, v in truth.items() if v["AGENTS_ONLINE"]}
    assert {r["Dimensions"]["AgentStatus"]["Id"] for r in only_available["MetricResults"]} == {
        available
    }


async def test_a_built_in_metric_by_id_is_the_metric_by_name(
    fake: FakeConnect, instance_id: str
) -> None:
    queues = list(fake.populate(instance_id, queues=20).queue_ids)
    by_id = {"MetricId": "arn:aws:connect:us-east-1:aws:metric/AGENTS_ONLINE", "Unit": "COUNT"}
    async with fake.client() as client:
        response = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues},
            CurrentMetrics=[by_id, {"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
        )
    [row] = response["MetricResults"]
    assert row["Collections"][0]["Metric"] == by_id  # echoed as asked
    assert value(row, 0) == value(row, 1)
    assert (value(row, 0) or 0) > 0
    assert response["ResponseMetadata"]["RequestId"]  # every answer names its request
