"""The drop-in API keeps botocore's conventions: timestamps, order, nulls, ResponseMetadata."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics._dropin import botocore_time
from aioconnectmetrics._merge import Row, ordered
from aioconnectmetrics.testing import FakeConnect

from .conftest import NOW
from .truth import current_truth

END = datetime.fromtimestamp(NOW, timezone.utc)
START = END - timedelta(hours=1)
BY_QUEUE: dict[str, Any] = {
    "Groupings": ["QUEUE"],
    "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
}
SORT = [{"SortByMetric": "CONTACTS_IN_QUEUE", "SortOrder": "DESCENDING"}]


@pytest.mark.parametrize(
    "given",
    [
        START,
        START.replace(tzinfo=None),  # naive: UTC, as botocore takes it
        START.astimezone(timezone(timedelta(hours=-5))),
        START.timestamp(),
        int(START.timestamp()),
        str(int(START.timestamp())),
        START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        START.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        START.strftime("%a, %d %b %Y %H:%M:%S GMT"),  # RFC 822
    ],
)
async def test_timestamps_as_botocore_takes_them(
    fake: FakeConnect, instance_id: str, given: Any
) -> None:
    """Every form botocore accepts for StartTime asks for the same interval."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_metric_data(
            StartTime=given,
            EndTime=END,
            Filters={"Queues": queues},
            HistoricalMetrics=[{"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "SUM"}],
        )
    [sent] = [r for r in fake.requests if r.operation == "GetMetricData"]
    assert sent.params["StartTime"] == START.timestamp()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_unreadable_timestamp_names_its_field() -> None:
    with pytest.raises(ValueError, match=r"StartTime.*ISO 8601 or RFC 822"):
        botocore_time("yesterday at noon", "StartTime")


def _row(queue: str, value: float | None) -> Row:
    return Row((queue, None, None), None, None, {"CONTACTS_IN_QUEUE": value})


@pytest.mark.parametrize("order", ["ASCENDING", "DESCENDING"])
def test_rows_without_a_value_come_last_either_way(order: str) -> None:
    """As docs/decisions.md says: no data last, ascending and descending alike."""
    rows = [_row("q3", None), _row("q1", 2.0), _row("q2", 5.0), _row("q0", 2.0)]
    got = [r.key[0] for r in ordered(rows, "CONTACTS_IN_QUEUE", order)]
    expected = ["q0", "q1", "q2"] if order == "ASCENDING" else ["q2", "q0", "q1"]
    assert got == [*expected, "q3"]  # ties in the order of their IDs


def _fake_order(rows: dict[Any, dict[str, float | None]], by: str) -> list[str]:
    """One request's order, as the fake gives it: by `by` descending, ties by ID."""
    keys = sorted(rows, key=lambda k: tuple(part or "" for part in k))
    keys.sort(key=lambda k: rows[k][by] or 0.0, reverse=True)
    return [k[0] for k in keys]


async def test_rows_of_250_queues_come_batch_by_batch_when_ordered_by_a_metric_not_asked(
    fake: FakeConnect, instance_id: str
) -> None:
    """Ordered by default by AGENTS_ONLINE, which the caller did not ask: not asked either.

    Each batch's rows in the service's order, batches in the caller's order: the
    concatenation of the caller's own three requests, and nothing else sent.
    """
    queues = list(fake.populate(instance_id, queues=250).queue_ids)
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_current_metric_data(**BY_QUEUE, Filters={"Queues": queues})
    asked = {m["Name"] for r in fake.requests for m in r.params["CurrentMetrics"]}
    assert asked == {"CONTACTS_IN_QUEUE"}
    assert len(fake.requests) == 3
    async with fake.client() as raw:
        own = [
            await raw.get_current_metric_data(
                **BY_QUEUE, InstanceId=instance_id, Filters={"Queues": queues[i : i + 100]}
            )
            for i in range(0, 250, 100)
        ]
    assert response["MetricResults"] == [r for page in own for r in page["MetricResults"]]


async def test_sort_criteria_over_batches_orders_the_whole_answer(
    fake: FakeConnect, instance_id: str
) -> None:
    """SortCriteria by a metric asked for: one order over every batch, as one request."""
    queues = list(fake.populate(instance_id, queues=250).queue_ids)
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_current_metric_data(
            **BY_QUEUE, Filters={"Queues": queues}, SortCriteria=SORT
        )
    truth = current_truth(
        fake, instance_id, ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"]
    )
    got = [r["Dimensions"]["Queue"]["Id"] for r in response["MetricResults"]]
    assert got == _fake_order(truth, "CONTACTS_IN_QUEUE")
    # One batch's answer is the service's own order, which the fake gives the same way.
    async with fake.client() as raw:
        one = await raw.get_current_metric_data(
            **BY_QUEUE, InstanceId=instance_id, Filters={"Queues": queues[:100]}, SortCriteria=SORT
        )
    first = set(queues[:100])
    assert [r["Dimensions"]["Queue"]["Id"] for r in one["MetricResults"]] == [
        q for q in got if q in first
    ]
