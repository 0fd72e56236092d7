"""An answer's rows are the rows the caller's own requests would return (issue 21).

Against a fake that leaves out rows with no data for the asked metrics, as the
reference describes ("MetricResult list is empty: the request cannot find any data"):
a metric added by the library would decide which rows come back. The drop-in asks
nothing to order rows, so it sends what the rich API sends and returns what the
caller's own per-100 requests return.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import boto3
import botocore.config
import pytest

from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW, unlimited

CHANNELS = ["VOICE", "CHAT", "TASK"]
IN_QUEUE = [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}]


@pytest.fixture(name="sparse", scope="module")
def _sparse() -> Iterator[tuple[FakeConnect, str, list[str]]]:
    """3,000 queues, rows with no data left out, on a frozen clock (one snapshot)."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=21, omit_empty_rows=True) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=3000).queue_ids)
        yield fake, instance_id, queues


def dropin(fake: FakeConnect, instance_id: str, **kwargs: Any) -> dict[str, Any]:
    async def ask() -> dict[str, Any]:
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            return await cm.boto.get_current_metric_data(**kwargs)

    return anyio.run(ask)


def test_grouped_by_channel_the_drop_in_sends_what_the_rich_api_sends(
    sparse: tuple[FakeConnect, str, list[str]],
) -> None:
    """3,000 queues by CHANNEL: 30 requests for either face, CONTACTS_IN_QUEUE alone."""
    fake, instance_id, queues = sparse
    fake.clear_requests()
    response = dropin(
        fake,
        instance_id,
        Filters={"Queues": queues, "Channels": CHANNELS},
        Groupings=["CHANNEL"],
        CurrentMetrics=IN_QUEUE,
    )
    dropin_requests = list(fake.requests)

    async def rich() -> None:
        async with fake.metrics_client(instance_id, cache=None, limiter=unlimited()) as cm:
            await cm.get_current_metrics(
                ["CONTACTS_IN_QUEUE"], queues=queues, channels=CHANNELS, groupings=["CHANNEL"]
            )

    fake.clear_requests()
    anyio.run(rich)
    assert len(dropin_requests) == len(fake.requests) == 30
    asked = {m["Name"] for r in dropin_requests for m in r.params["CurrentMetrics"]}
    assert asked == {"CONTACTS_IN_QUEUE"}
    assert {r["Dimensions"]["Channel"] for r in response["MetricResults"]} <= set(CHANNELS)


def test_grouped_by_queue_the_rows_are_those_of_the_callers_own_requests(
    sparse: tuple[FakeConnect, str, list[str]],
) -> None:
    """Its queue IDs are the union of plain boto3 calls, 100 queues each, same parameters."""
    fake, instance_id, queues = sparse
    params: dict[str, Any] = {
        "Groupings": ["QUEUE"],
        "CurrentMetrics": IN_QUEUE,
    }
    response = dropin(
        fake, instance_id, Filters={"Queues": queues, "Channels": CHANNELS}, **params
    )
    client = boto3.client(
        "connect",
        endpoint_url=fake.endpoint_url,
        region_name=fake.region_name,
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",  # noqa: S106 - the fake's dummy key
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    own: set[str] = set()
    for start in range(0, len(queues), 100):
        answer = client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues[start : start + 100], "Channels": CHANNELS},
            **params,
        )
        assert "NextToken" not in answer
        own |= {r["Dimensions"]["Queue"]["Id"] for r in answer["MetricResults"]}
    got = [r["Dimensions"]["Queue"]["Id"] for r in response["MetricResults"]]
    assert len(got) == len(set(got))
    assert set(got) == own
    assert 0 < len(own) < len(queues)  # rows really were left out
