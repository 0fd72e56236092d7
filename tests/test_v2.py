"""GetMetricDataV2 against the fake over HTTP: fan-out, windows, pages, merging, caching."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics import (
    CachePolicy,
    InvalidRequestError,
    Metric,
    PartialResultError,
    RetryPolicy,
    V2Metric,
    V2Result,
)
from aioconnectmetrics._v2.request import parse_v2_metric
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW
from .truth import v2_truth

END = datetime.fromtimestamp(NOW, timezone.utc)
WEEK = timedelta(days=7)


@pytest.fixture(name="light")
def _light(fake: FakeConnect) -> str:
    """An instance with a fifth of the default traffic (fewer contacts to generate)."""
    return fake.add_instance(traffic=0.2)


def rows_by_key(result: V2Result) -> dict[Any, Any]:
    return {
        (
            tuple(sorted(r.dimensions.items())),
            r.interval_start.timestamp(),
            r.interval_end.timestamp(),
        ): r
        for r in result.rows
    }


def v2_calls(fake: FakeConnect) -> list[Mapping[str, Any]]:
    """The parameters of every GetMetricDataV2 call's first page."""
    return [
        r.params
        for r in fake.requests
        if r.operation == "GetMetricDataV2" and "NextToken" not in r.params
    ]


async def test_250_queues_over_7_days_by_hour_grouped_by_queue_equal_the_truth(
    fake: FakeConnect,
) -> None:
    """3 windows of under 3 days times 3 chunks of queues: 9 calls, every row exact."""
    instance_id = fake.add_instance(traffic=0.05)
    queues = fake.add_queues(instance_id, 250)
    names = ["CONTACTS_QUEUED", "CONTACTS_HANDLED", "AVG_HANDLE_TIME", "MAX_QUEUED_TIME"]
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_historical_metrics_v2(
            [*names, "SERVICE_LEVEL_60"],
            start=END - WEEK,
            end=END,
            interval="HOUR",
            queues=queues,
            groupings=["QUEUE"],
        )
    truth = v2_truth(
        fake,
        instance_id,
        [(n, n, None, "") for n in names] + [("SERVICE_LEVEL_60", "SERVICE_LEVEL", 60, "LT")],
        queues=queues,
        start=END - WEEK,
        end=END,
        period=3600,
        groupings=["QUEUE"],
    )
    rows = rows_by_key(result)
    assert len(truth) > 1000
    assert set(rows) == set(truth)
    for key, expected in truth.items():
        row = rows[key]
        assert dict(row.values) == expected, key
        assert all(row.is_exact(m) for m in expected)
    calls = v2_calls(fake)
    assert len(calls) == result.batches == 9
    windows = Counter((c["StartTime"], c["EndTime"]) for c in calls)
    hours = sorted((e - s) / 3600 for s, e in windows)
    assert hours == [26, 71, 71]
    assert set(windows.values()) == {3}
    assert sorted(len(c["Filters"][0]["FilterValues"]) for c in calls) == [50] * 3 + [100] * 6
    assert result.pages > result.batches  # pages were followed


async def test_an_instance_summary_over_250_queues_is_exact_or_bounded(
    fake: FakeConnect, light: str
) -> None:
    """Ungrouped TOTAL over 3 chunks: sums, ratios from parts and maxima exact; rates bounded."""
    queues = fake.add_queues(light, 250)
    names = [
        "CONTACTS_QUEUED",
        "CONTACTS_ABANDONED",
        "AVG_HANDLE_TIME",
        "AVG_INTERACTION_TIME",
        "MAX_QUEUED_TIME",
        "AVG_QUEUE_ANSWER_TIME",
        "ABANDONMENT_RATE",
    ]
    start = END - timedelta(days=3) + timedelta(hours=1)
    async with fake.metrics_client(light) as cm:
        result = await cm.get_historical_metrics_v2(
            [*names, "SERVICE_LEVEL_60"], start=start, end=END, queues=queues
        )
    truth = v2_truth(
        fake,
        light,
        [(n, n, None, "") for n in names] + [("SERVICE_LEVEL_60", "SERVICE_LEVEL", 60, "LT")],
        queues=queues,
        start=start,
        end=END,
        period=None,
    )
    summary = result.summary
    assert summary is not None
    assert len(truth) == 1
    expected = next(iter(truth.values()))
    exact = {m for m in summary if summary.is_exact(m)}
    assert exact == {
        "CONTACTS_QUEUED",
        "CONTACTS_ABANDONED",
        "AVG_HANDLE_TIME",
        "AVG_INTERACTION_TIME",
        "MAX_QUEUED_TIME",
    }
    for metric in summary:
        want = expected[metric]
        assert want is not None
        if metric in exact:
            assert summary[metric] == pytest.approx(want, rel=1e-12), metric
        else:
            bounds = summary.bounds(metric)
            assert bounds is not None, metric
            assert bounds[0] <= want <= bounds[1], (metric, bounds, want)
            assert bounds[0] < bounds[1]
    # The exact averages came from their sums and counts, asked alongside.
    asked = {m["Name"] for m in v2_calls(fake)[0]["Metrics"]}
    assert {"SUM_HANDLE_TIME", "SUM_INTERACTION_TIME", "CONTACTS_HANDLED"} <= asked
    assert "SUM_HANDLE_TIME" not in summary.values  # asked only to combine


async def test_week_totals_of_get_metric_data_and_v2_agree() -> None:
    """A week seen through GetMetricData (half-days, as the clock moves) and through V2."""
    clock = ManualClock(NOW - 7 * 86_400)
    with FakeConnect(clock=clock, quotas=None, seed=7) as fake:
        instance_id = fake.add_instance(traffic=0.2)
        queues = fake.add_queues(instance_id, 250)
        v1 = ["CONTACTS_QUEUED", "CONTACTS_HANDLED", "CONTACTS_ABANDONED", "HANDLE_TIME"]
        v1 += ["QUEUED_TIME", "CONTACTS_TRANSFERRED_OUT"]
        sums: dict[str, float] = dict.fromkeys(
            [
                "CONTACTS_QUEUED",
                "CONTACTS_HANDLED",
                "CONTACTS_ABANDONED",
                "CONTACTS_TRANSFERRED_OUT",
            ],
            0.0,
        )
        handle, queued_time = 0.0, 0.0
        async with fake.metrics_client(instance_id) as cm:
            for _ in range(14):  # half-days
                clock.advance(43_200)
                window_end = datetime.fromtimestamp(clock(), timezone.utc)
                part = await cm.get_historical_metrics(
                    v1, start=window_end - timedelta(hours=12), end=window_end, queues=queues
                )
                assert part.summary is not None
                values = part.summary.values
                for name in ("CONTACTS_QUEUED", "CONTACTS_HANDLED", "CONTACTS_ABANDONED"):
                    sums[name] += values[name] or 0
                sums["CONTACTS_TRANSFERRED_OUT"] += values["CONTACTS_TRANSFERRED_OUT"] or 0
                handle += (values["HANDLE_TIME"] or 0) * (values["CONTACTS_HANDLED"] or 0)
                queued_time = max(queued_time, values["QUEUED_TIME"] or 0)
            assert clock() == NOW
            week = await cm.get_historical_metrics_v2(
                [
                    "CONTACTS_QUEUED",
                    "CONTACTS_HANDLED",
                    "CONTACTS_ABANDONED",
                    "CONTACTS_TRANSFERRED_OUT",
                    "AVG_HANDLE_TIME",
                    "MAX_QUEUED_TIME",
                ],
                start=END - WEEK,
                end=END,
                queues=queues,
            )
    total = week.summary
    assert total is not None
    assert all(total.is_exact(m) for m in total)
    assert sums["CONTACTS_QUEUED"] > 10_000
    for name in ("CONTACTS_QUEUED", "CONTACTS_HANDLED", "CONTACTS_ABANDONED"):
        assert total[name] == sums[name], name
    assert total["CONTACTS_TRANSFERRED_OUT"] == sums["CONTACTS_TRANSFERRED_OUT"]
    assert total["AVG_HANDLE_TIME"] == pytest.approx(handle / sums["CONTACTS_HANDLED"])
    assert total["MAX_QUEUED_TIME"] == queued_time


async def test_the_drop_in_takes_any_number_of_values_and_answers_in_botocore_shape(
    fake: FakeConnect, light: str
) -> None:
    """150 queues by QUEUE and CHANNEL, service level by threshold: every row, no token."""
    queues = fake.add_queues(light, 150)
    arn = fake.centre(light).instance_arn
    kwargs: dict[str, Any] = {
        "ResourceArn": arn,
        "StartTime": END - timedelta(hours=6),
        "EndTime": END,
        "Interval": {"IntervalPeriod": "HOUR", "TimeZone": "UTC"},
        "Filters": [{"FilterKey": "QUEUE", "FilterValues": queues}],
        "Groupings": ["QUEUE", "CHANNEL"],
        "Metrics": [
            {"Name": "CONTACTS_HANDLED"},
            {"Name": "SERVICE_LEVEL", "Threshold": [{"Comparison": "LTE", "ThresholdValue": 30}]},
        ],
        "MaxResults": 40,
    }
    async with fake.metrics_client(light) as cm:
        response = await cm.boto.get_metric_data_v2(**kwargs)
    assert "NextToken" not in response
    assert len(response["ResponseMetadata"]["RequestIds"]) == 2  # one per call
    truth = v2_truth(
        fake,
        light,
        [
            ("CONTACTS_HANDLED", "CONTACTS_HANDLED", None, ""),
            ("SL", "SERVICE_LEVEL", 30, "LTE"),
        ],
        queues=queues,
        start=kwargs["StartTime"],
        end=END,
        period=3600,
        groupings=["QUEUE", "CHANNEL"],
    )
    got = {}
    for row in response["MetricResults"]:
        interval = row["MetricInterval"]
        assert interval["Interval"] == "HOUR"
        key = (
            tuple(sorted(row["Dimensions"].items())),
            interval["StartTime"].timestamp(),
            interval["EndTime"].timestamp(),
        )
        values = [c.get("Value") for c in row["Collections"]]
        assert row["Collections"][1]["Metric"]["Threshold"][0]["Comparison"] == "LTE"
        got[key] = {"CONTACTS_HANDLED": values[0], "SL": values[1]}
    assert got == truth
    # Pages of 40 were followed in each call.
    assert sum(1 for r in fake.requests if "NextToken" in r.params) > 0


async def test_a_score_with_no_count_is_refused_where_it_would_be_combined(
    fake: FakeConnect, light: str
) -> None:
    queues = fake.add_queues(light, 101)
    async with fake.metrics_client(light) as cm:
        with pytest.raises(InvalidRequestError, match=r"metrics\[1\].*score with no count"):
            await cm.get_historical_metrics_v2(
                ["CONTACTS_QUEUED", "FAITHFULNESS_SCORE"],
                start=END - timedelta(days=1),
                end=END,
                queues=queues,
            )
        assert fake.requests == []  # not even the listing that learns the instance ARN
        # Grouped by the cut key, each row comes from one call: no combining, no refusal
        # (the fake then declines a metric it does not simulate, which says it was asked).
        with pytest.raises(Exception, match="NotSimulatedByFake"):
            await cm.get_historical_metrics_v2(
                ["FAITHFULNESS_SCORE"],
                start=END - timedelta(days=1),
                end=END,
                queues=queues,
                groupings=["QUEUE"],
            )
    assert len(v2_calls(fake)) >= 1
    assert all({m["Name"] for m in c["Metrics"]} == {"FAITHFULNESS_SCORE"} for c in v2_calls(fake))


async def test_a_final_range_is_cached_long_and_an_open_one_briefly(
    fake: FakeConnect, light: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(light, 20)
    ask: dict[str, Any] = {"queues": queues, "interval": "HOUR"}
    async with fake.metrics_client(light, cache=CachePolicy()) as cm:
        closed = await cm.get_historical_metrics_v2(
            ["CONTACTS_QUEUED"],
            start=END - timedelta(hours=5),
            end=END - timedelta(hours=1),
            **ask,
        )
        opened = await cm.get_historical_metrics_v2(
            ["CONTACTS_QUEUED"], start=END - timedelta(hours=4), end=END, **ask
        )
        assert len(v2_calls(fake)) == 2
        clock.advance(331)  # past the open range's 5-minute boundary and publishing lag
        again_closed = await cm.get_historical_metrics_v2(
            ["CONTACTS_QUEUED"],
            start=END - timedelta(hours=5),
            end=END - timedelta(hours=1),
            **ask,
        )
        assert len(v2_calls(fake)) == 2
        assert again_closed == closed
        again_open = await cm.get_historical_metrics_v2(
            ["CONTACTS_QUEUED"], start=END - timedelta(hours=4), end=END, **ask
        )
        assert len(v2_calls(fake)) == 3
        assert again_open.rows == opened.rows
        clock.advance(3600 - 331)  # the final answer's hour is up
        await cm.get_historical_metrics_v2(
            ["CONTACTS_QUEUED"],
            start=END - timedelta(hours=5),
            end=END - timedelta(hours=1),
            **ask,
        )
        assert len(v2_calls(fake)) == 4


async def test_all_queues_and_the_instance_arn_come_from_the_listing(
    fake: FakeConnect, light: str
) -> None:
    fake.add_queues(light, 130)
    async with fake.metrics_client(light) as cm:
        result = await cm.get_historical_metrics_v2(
            [V2Metric("CONTACTS_QUEUED")],
            start=END - timedelta(days=1),
            end=END,
            queues="all",
            groupings=["QUEUE"],
        )
    listings = [r for r in fake.requests if r.operation == "ListQueues"]
    assert listings
    assert result.batches == 2
    arn = fake.centre(light).instance_arn
    assert {c["ResourceArn"] for c in v2_calls(fake)} == {arn}
    assert {r.dimensions["QUEUE"] for r in result} <= set(fake.centre(light).queues)


async def test_a_failed_call_is_a_partial_answer_or_an_error(
    fake: FakeConnect, light: str
) -> None:
    queues = fake.add_queues(light, 200)
    fake.inject_fault(
        "error",
        operation="GetMetricDataV2",
        when=lambda p: any(queues[150] in f["FilterValues"] for f in p.get("Filters", ())),
    )
    async with fake.metrics_client(light, retry=RetryPolicy(attempts=1)) as cm:
        with pytest.raises(PartialResultError) as info:
            await cm.get_historical_metrics_v2(
                ["CONTACTS_QUEUED"], start=END - timedelta(days=1), end=END, queues=queues
            )
        partial = info.value.partial
        assert isinstance(partial, V2Result)
        assert partial.partial
        assert partial.batches == 1
        assert list(info.value.failures) == [1]


def test_v2_metrics_are_their_own_type() -> None:
    """A GetMetricData `Metric` is not a V2 metric: it says so."""
    with pytest.raises(InvalidRequestError, match=r"metrics\[0\]"):
        parse_v2_metric(Metric("CONTACTS_QUEUED"), "metrics[0]")


async def test_a_rejected_token_restarts_its_call_and_the_quota_is_its_own(
    fake: FakeConnect, light: str
) -> None:
    """A page whose token the service rejects starts its call again; one token per attempt."""
    queues = fake.add_queues(light, 30)
    fake.inject_fault("expire", operation="GetMetricDataV2", at=[3])  # the third page
    kwargs: dict[str, Any] = {
        "ResourceArn": fake.centre(light).instance_arn,
        "StartTime": END - timedelta(hours=3),
        "EndTime": END,
        "Interval": {"IntervalPeriod": "HOUR"},
        "Filters": [{"FilterKey": "QUEUE", "FilterValues": queues}],
        "Groupings": ["QUEUE"],
        "Metrics": [{"Name": "CONTACTS_QUEUED"}],
        "MaxResults": 20,
    }
    async with fake.metrics_client(light) as cm:
        response = await cm.boto.get_metric_data_v2(**kwargs)
        stats = cm.stats
        buckets = {key[2]: s for key, s in cm.limiter.stats.items()}
    truth = v2_truth(
        fake,
        light,
        [("CONTACTS_QUEUED", "CONTACTS_QUEUED", None, "")],
        queues=queues,
        start=kwargs["StartTime"],
        end=END,
        period=3600,
        groupings=["QUEUE"],
    )
    got = {
        (
            tuple(sorted(r["Dimensions"].items())),
            r["MetricInterval"]["StartTime"].timestamp(),
            r["MetricInterval"]["EndTime"].timestamp(),
        ): {"CONTACTS_QUEUED": r["Collections"][0].get("Value")}
        for r in response["MetricResults"]
    }
    assert got == truth
    assert len(truth) > 40  # more than two pages of 20
    assert stats.restarts == 1
    sent = [r for r in fake.requests if r.operation == "GetMetricDataV2"]
    assert buckets["GetMetricDataV2"].acquired == len(sent)
    assert "GetMetricData" not in buckets


async def test_names_label_queues_profiles_and_agents(fake: FakeConnect, light: str) -> None:
    populated = fake.populate(light, queues=20)
    async with fake.metrics_client(light) as cm:
        result = await cm.get_historical_metrics_v2(
            ["CONTACTS_HANDLED"],
            start=END - timedelta(days=1),
            end=END,
            queues=list(populated.queue_ids),
            groupings=["QUEUE", "ROUTING_PROFILE", "AGENT"],
            names=True,
        )
    centre = fake.centre(light)
    assert len(result) > 20
    for row in result:
        agent = centre.agents[row.dimensions["AGENT"]]
        assert row.name("AGENT") == agent.username
        assert row.name("QUEUE") == centre.queues[row.dimensions["QUEUE"]].name
        assert (
            row.name("ROUTING_PROFILE") == centre.routing_profiles[agent.routing_profile_id].name
        )
        assert row.to_dict()["QUEUE_NAME"] == row.name("QUEUE")
        assert row.name("CHANNEL") is None
    listed = {r.operation for r in fake.requests} - {"GetMetricDataV2"}
    assert listed == {"ListQueues", "ListRoutingProfiles", "ListUsers"}


async def test_a_names_flag_that_is_not_a_bool_is_refused_before_any_request(
    fake: FakeConnect, light: str
) -> None:
    """``names="yes"`` is refused as every other bad argument is: before the fetch."""
    queues = fake.add_queues(light, 2)
    async with fake.metrics_client(light) as cm:
        with pytest.raises(InvalidRequestError) as info:
            await cm.get_historical_metrics_v2(
                ["CONTACTS_HANDLED"],
                start=END - timedelta(days=1),
                end=END,
                queues=queues,
                names="yes",  # type: ignore[arg-type]
            )
    assert info.value.field == "names"
    assert [r.operation for r in fake.requests if r.operation == "GetMetricDataV2"] == []
