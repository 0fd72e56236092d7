"""GetMetricDataV2 planning and merging, pure: the 100-value budget, parts, refusals, rules."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics import InvalidRequestError, MetricFilter, V2Metric
from aioconnectmetrics._merge import Row
from aioconnectmetrics._v2.build import build_v2_request
from aioconnectmetrics._v2.merge import merge_v2, parse_v2_rows
from aioconnectmetrics._v2.plan import (
    call_params,
    chunk_sizes,
    combined_dimensions,
    fetched_metrics,
    plan_calls,
)
from aioconnectmetrics._v2.request import V2Request

END = datetime(2027, 1, 15, 8, tzinfo=timezone.utc)


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(n)]


def request(**changes: Any) -> V2Request:
    args: dict[str, Any] = {
        "instance_id": "abc",
        "region": "us-east-1",
        "now": END,
        "metrics": ["CONTACTS_QUEUED"],
        "start": END - timedelta(days=1),
        "end": END,
        "interval": "TOTAL",
        "queues": ids("q", 250),
    }
    return build_v2_request(**(args | changes))


@pytest.mark.parametrize(
    ("filters", "sizes"),
    [
        ({"QUEUE": 250}, {"QUEUE": 100}),
        (
            {"QUEUE": 50, "AGENT": 35, "ROUTING_PROFILE": 15},
            {"QUEUE": 50, "AGENT": 35, "ROUTING_PROFILE": 15},
        ),
        ({"QUEUE": 150, "AGENT": 80}, {"QUEUE": 50, "AGENT": 50}),
        ({"QUEUE": 300, "AGENT": 10, "CHANNEL": 4}, {"QUEUE": 90, "AGENT": 10}),
        (
            {"QUEUE": 99, "AGENT": 99, "ROUTING_PROFILE": 99},
            {"QUEUE": 33, "AGENT": 33, "ROUTING_PROFILE": 34},
        ),
    ],
)
def test_the_100_values_are_shared_small_keys_whole(
    filters: dict[str, int], sizes: dict[str, int]
) -> None:
    given = [(key, tuple(ids(key, n))) for key, n in filters.items()]
    assert chunk_sizes(given) == sizes
    assert sum(sizes.values()) <= 100


def test_calls_partition_every_combination_of_values_once() -> None:
    queues, agents = ids("q", 150), ids("a", 80)
    planned = request(agents=agents, queues=queues, channels=["VOICE", "CHAT"])
    calls = plan_calls(planned)
    assert len(calls) == 3 * 2
    seen: list[tuple[str, str]] = []
    for call in calls:
        values = dict(call.filters)
        assert sum(len(v) for k, v in values.items() if k != "CHANNEL") <= 100
        assert values["CHANNEL"] == ("VOICE", "CHAT")  # never cut: it does not count
        seen += itertools.product(values["QUEUE"], values["AGENT"])
    assert sorted(seen) == sorted(itertools.product(queues, agents))


def test_a_call_is_what_botocore_takes() -> None:
    planned = request(metrics=["SERVICE_LEVEL_LTE_45"], interval="HOUR", time_zone="Europe/Paris")
    call = plan_calls(planned)[2]
    params = call_params(planned, call, planned.metrics, "arn:instance")
    assert params == {
        "ResourceArn": "arn:instance",
        "StartTime": END - timedelta(days=1),
        "EndTime": END,
        "Interval": {"IntervalPeriod": "HOUR", "TimeZone": "Europe/Paris"},
        "Filters": [{"FilterKey": "QUEUE", "FilterValues": ids("q", 250)[200:]}],
        "Metrics": [
            {"Name": "SERVICE_LEVEL", "Threshold": [{"Comparison": "LTE", "ThresholdValue": 45.0}]}
        ],
        "MaxResults": 100,
    }


def test_rows_combine_only_where_a_cut_key_is_not_grouped() -> None:
    assert combined_dimensions(request()) == {"QUEUE"}
    assert combined_dimensions(request(groupings=["QUEUE"])) == frozenset()
    assert combined_dimensions(request(queues=ids("q", 100))) == frozenset()
    assert combined_dimensions(request(interval="HOUR", start=END - timedelta(days=7))) == {
        "QUEUE"
    }


def test_parts_are_asked_alongside_only_when_combining() -> None:
    names = ["AVG_HANDLE_TIME", "AVG_AFTER_CONTACT_WORK_TIME", "CONTACTS_HANDLED"]
    combining = fetched_metrics(request(metrics=names))
    assert [m.key for m in combining] == [*names, "SUM_HANDLE_TIME", "SUM_AFTER_CONTACT_WORK_TIME"]
    assert fetched_metrics(request(metrics=names, groupings=["QUEUE"])) == tuple(
        V2Metric(n) for n in names
    )
    filtered = V2Metric(
        "AVG_AFTER_CONTACT_WORK_TIME", filters=(MetricFilter("INITIATION_METHOD", ("INBOUND",)),)
    )
    assert fetched_metrics(request(metrics=[filtered])) == (filtered,)  # parts cannot carry it


@pytest.mark.parametrize(
    ("metric", "reason"),
    [
        ("FAITHFULNESS_SCORE", "score with no count"),
        ("AGENT_SCHEDULE_ADHERENCE", "about agents"),
    ],
)
def test_metrics_with_no_honest_combination_are_refused_before_any_call(
    metric: str, reason: str
) -> None:
    with pytest.raises(InvalidRequestError, match=reason) as info:
        fetched_metrics(request(metrics=["CONTACTS_QUEUED", metric]))
    assert info.value.field == "metrics[1]"
    assert "group by QUEUE" in str(info.value)
    fetched_metrics(request(metrics=[metric], groupings=["QUEUE"]))  # one call per row


def row(values: dict[str, float | None], dims: dict[str, str] | None = None) -> Row:
    return Row((None, None, None), None, None, values, dims=dims or {}, interval=(0.0, 60.0))


def merged(metrics: list[Any], *parts: dict[str, float | None], **ask: Any) -> Row:
    planned = request(metrics=metrics, **ask)
    rows = merge_v2(planned, [[row(p)] for p in parts], combined_dimensions(planned))
    assert len(rows) == 1
    return rows[0]


def test_sums_maxima_minima_and_ratios_from_parts_are_exact() -> None:
    result = merged(
        ["CONTACTS_QUEUED", "MAX_QUEUED_TIME", "AVG_HANDLE_TIME"],
        {
            "CONTACTS_QUEUED": 3,
            "MAX_QUEUED_TIME": 40,
            "AVG_HANDLE_TIME": 100,
            "SUM_HANDLE_TIME": 200,
            "CONTACTS_HANDLED": 2,
        },
        {
            "CONTACTS_QUEUED": 5,
            "MAX_QUEUED_TIME": 90,
            "AVG_HANDLE_TIME": 400,
            "SUM_HANDLE_TIME": 1200,
            "CONTACTS_HANDLED": 3,
        },
        {
            "CONTACTS_QUEUED": 0,
            "MAX_QUEUED_TIME": None,
            "AVG_HANDLE_TIME": None,
            "SUM_HANDLE_TIME": 0,
            "CONTACTS_HANDLED": 0,
        },
    )
    assert result.values == {"CONTACTS_QUEUED": 8, "MAX_QUEUED_TIME": 90, "AVG_HANDLE_TIME": 280}
    assert not result.approximate  # 1400 / 5, not the mean of 100 and 400


def test_rates_and_plain_averages_are_bounded_and_marked() -> None:
    result = merged(
        ["SERVICE_LEVEL_60", "AVG_QUEUE_ANSWER_TIME"],
        {"SERVICE_LEVEL_60": 80.0, "AVG_QUEUE_ANSWER_TIME": 10.0},
        {"SERVICE_LEVEL_60": 60.0, "AVG_QUEUE_ANSWER_TIME": None},
        {"SERVICE_LEVEL_60": 70.0, "AVG_QUEUE_ANSWER_TIME": None},
    )
    assert result.values["SERVICE_LEVEL_60"] == 70.0
    assert result.approximate == {"SERVICE_LEVEL_60": (60.0, 80.0)}
    # One part with data, the others with none to weigh: that part is the value, exact.
    assert result.values["AVG_QUEUE_ANSWER_TIME"] == 10.0


def test_agent_time_across_queue_chunks_is_bounded_by_the_largest_part_and_the_sum() -> None:
    agent = {"AGENT": "a-1"}
    planned = request(
        metrics=["SUM_CONTACT_TIME_AGENT"], queues=None, routing_profiles=ids("r", 120)
    )
    rows = merge_v2(
        planned,
        [
            [row({"SUM_CONTACT_TIME_AGENT": 50}, agent)],
            [row({"SUM_CONTACT_TIME_AGENT": 70}, agent)],
        ],
        combined_dimensions(planned),
    )
    assert rows[0].values == {"SUM_CONTACT_TIME_AGENT": 120}
    assert not rows[0].approximate  # profiles hold disjoint agents
    planned = request(metrics=["AGENT_ADHERENT_TIME"])  # cut by queue: agents overlap
    rows = merge_v2(
        planned,
        [[row({"AGENT_ADHERENT_TIME": 50}, agent)], [row({"AGENT_ADHERENT_TIME": 70}, agent)]],
        combined_dimensions(planned),
    )
    assert rows[0].values == {"AGENT_ADHERENT_TIME": 120}
    assert rows[0].approximate == {"AGENT_ADHERENT_TIME": (70, 120)}


def test_rows_of_one_call_are_the_services_own() -> None:
    planned = request(metrics=["SERVICE_LEVEL_60"], groupings=["QUEUE"])
    one = row({"SERVICE_LEVEL_60": 55.0}, {"QUEUE": "q-0001"})
    other = row({"SERVICE_LEVEL_60": 65.0}, {"QUEUE": "q-0150"})
    rows = merge_v2(planned, [[one], [other]], combined_dimensions(planned))
    assert [r.values for r in rows] == [{"SERVICE_LEVEL_60": 55.0}, {"SERVICE_LEVEL_60": 65.0}]
    assert not any(r.approximate for r in rows)


def test_values_are_keyed_by_the_metric_asked_when_the_echo_leaves_out_its_threshold() -> None:
    asked = [V2Metric("SERVICE_LEVEL", 60, "LT"), V2Metric("CONTACTS_QUEUED")]
    echo = {
        "Dimensions": {"QUEUE": "q-1"},
        "MetricInterval": {"Interval": "TOTAL", "StartTime": 0, "EndTime": 60},
        "Collections": [
            {"Metric": {"Name": "SERVICE_LEVEL"}, "Value": 80.0},
            {"Metric": {"Name": "CONTACTS_QUEUED"}, "Value": 5},
        ],
    }
    [parsed] = parse_v2_rows([echo], asked)
    assert parsed.values == {"SERVICE_LEVEL_60": 80.0, "CONTACTS_QUEUED": 5.0}
    # Two service levels, echoed without thresholds: the position says which is which.
    two = [V2Metric("SERVICE_LEVEL", 60, "LT"), V2Metric("SERVICE_LEVEL", 120, "LT")]
    echo["Collections"] = [
        {"Metric": {"Name": "SERVICE_LEVEL"}, "Value": 70.0},
        {"Metric": {"Name": "SERVICE_LEVEL"}, "Value": 90.0},
    ]
    [parsed] = parse_v2_rows([echo], two)
    assert parsed.values == {"SERVICE_LEVEL_60": 70.0, "SERVICE_LEVEL_120": 90.0}
    assert parsed.dims == {"QUEUE": "q-1"}
    assert parsed.interval == (0.0, 60.0)


def test_a_metric_the_service_left_out_of_a_row_is_none_there() -> None:
    planned = request(metrics=["CONTACTS_QUEUED", "MAX_QUEUED_TIME"], groupings=["QUEUE"])
    rows = merge_v2(planned, [[row({"CONTACTS_QUEUED": 2.0}, {"QUEUE": "q"})]], frozenset())
    assert list(rows[0].values.items()) == [("CONTACTS_QUEUED", 2.0), ("MAX_QUEUED_TIME", None)]
