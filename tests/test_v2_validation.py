"""GetMetricDataV2 input rules: every interval and range rule, filters, groupings, metrics.

Pure checks of both faces' builders, then the client against the fake: every refusal
names the caller's field and what is allowed, and no request is sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics import InvalidRequestError, MetricFilter, V2Metric
from aioconnectmetrics._v2.build import build_v2_request, v2_request_from_kwargs
from aioconnectmetrics._v2.plan import windows
from aioconnectmetrics._v2.request import months_before
from aioconnectmetrics.testing import FakeConnect

from .conftest import NOW

END = datetime.fromtimestamp(NOW, timezone.utc)
QUEUE = "11111111-2222-3333-4444-555555555555"
ARN = "arn:aws:connect:us-east-1:123456789012:instance/abc-123"


def rich(**changes: Any) -> Any:
    args: dict[str, Any] = {
        "instance_id": "abc-123",
        "region": "us-east-1",
        "now": END,
        "metrics": ["CONTACTS_QUEUED"],
        "start": END - timedelta(days=1),
        "end": END,
        "interval": "HOUR",
        "queues": [QUEUE],
    }
    return build_v2_request(**(args | changes))


def drop_in(**changes: Any) -> Any:
    kwargs: dict[str, Any] = {
        "ResourceArn": ARN,
        "StartTime": END - timedelta(days=1),
        "EndTime": END,
        "Interval": {"IntervalPeriod": "HOUR"},
        "Filters": [{"FilterKey": "QUEUE", "FilterValues": [QUEUE]}],
        "Metrics": [{"Name": "CONTACTS_QUEUED"}],
    }
    return v2_request_from_kwargs(kwargs | changes, region="us-east-1", now=END)


DAY = timedelta(days=1)
RICH_REFUSALS = [
    # -- the interval and range rules ----------------------------------------------------
    ({"interval": "MINUTE"}, "interval", "FIFTEEN_MIN, THIRTY_MIN, HOUR, DAY, WEEK, TOTAL"),
    ({"start": END, "end": END}, "end", "must be after start"),
    ({"start": END, "end": END - DAY}, "end", "must be after start"),
    ({"end": END + timedelta(seconds=1)}, "end", "must not be in the future"),
    ({"start": months_before(END, 3) - timedelta(seconds=1)}, "start", "last 3 months"),
    ({"start": END - timedelta(days=35), "interval": "DAY"}, "end", "shorter than 35 days"),
    ({"start": END - timedelta(days=35), "interval": "WEEK"}, "end", "shorter than 35 days"),
    ({"start": END - timedelta(days=35), "interval": "TOTAL"}, "end", "shorter than 35 days"),
    ({"start": datetime(2027, 1, 14)}, "start", "timezone-aware"),
    ({"end": "yesterday"}, "end", "aware datetime"),
    ({"time_zone": "Not a zone!"}, "time_zone", "IANA time zone"),
    # -- metrics ------------------------------------------------------------------------
    ({"metrics": []}, "metrics", "at least one metric"),
    ({"metrics": ["NOT_A_METRIC"]}, "metrics[0]", "GetMetricDataV2 metric"),
    ({"metrics": ["SERVICE_LEVEL"]}, "metrics[0].threshold", "needs a threshold"),
    ({"metrics": ["SERVICE_LEVEL_0"]}, "metrics[0].threshold", "1 to 604800"),
    ({"metrics": ["SERVICE_LEVEL_604801"]}, "metrics[0].threshold", "1 to 604800"),
    ({"metrics": [V2Metric("SERVICE_LEVEL", 60, "GT")]}, "metrics[0].comparison", "LT, LTE"),
    ({"metrics": [V2Metric("CONTACTS_QUEUED", 60)]}, "metrics[0].threshold", "takes none"),
    (
        {"metrics": [f"SERVICE_LEVEL_{s}" for s in range(1, 22)]},
        "metrics",
        "at most 20 SERVICE_LEVEL",
    ),
    ({"metrics": ["CONTACTS_QUEUED", "CONTACTS_QUEUED"]}, "metrics", "once"),
    (
        {"metrics": [V2Metric("CONTACTS_QUEUED", filters=(MetricFilter("X", ("a",)),))]},
        "metrics[0].filters[0].key",
        "allows: none",
    ),
    (
        {
            "metrics": [
                V2Metric(
                    "CONTACTS_HANDLED",
                    filters=(MetricFilter("INITIATION_METHOD", tuple("abcdefghijk")),),
                )
            ]
        },
        "metrics[0].filters[0].values",
        "1 to 10",
    ),
    # -- filters and groupings ------------------------------------------------------------
    ({"queues": None, "channels": ["VOICE"]}, "filters", "at least one resource"),
    ({"channels": ["FAX"]}, "channels", "VOICE, CHAT, TASK, EMAIL"),
    ({"filters": {"NOT_A_KEY": ["x"]}}, "filters['NOT_A_KEY']", "FilterV2 key"),
    ({"filters": {"QUEUE": [QUEUE]}}, "filters['QUEUE']", "give queues= instead"),
    (
        {
            "filters": {
                "AGENT_HIERARCHY_LEVEL_ONE": ["a"],
                "AGENT_HIERARCHY_LEVEL_TWO": ["b"],
                "FEATURE": ["c"],
                "INITIATION_METHOD": ["d"],
                "DISCONNECT_REASON": ["e"],
            }
        },
        "filters",
        "at most 5 filter keys",
    ),
    ({"groupings": ["QUEUE", "CHANNEL", "AGENT", "ROUTING_PROFILE", "FEATURE"]}, "groupings", ""),
    ({"groupings": ["QUEUE", "QUEUE"]}, "groupings", "each once"),
    ({"groupings": ["NOT_A_GROUPING"]}, "groupings", "GroupingV2 key"),
    ({"metrics": ["AGENT_OCCUPANCY"]}, "metrics[0]", "cannot be filtered by QUEUE"),
    (
        {"metrics": ["SERVICE_LEVEL_60"], "agents": [QUEUE], "groupings": ["AGENT"]},
        "metrics[0]",
        "cannot be filtered by AGENT",
    ),
    ({"queues": "q1"}, "queues", "list of IDs or ARNs"),
    (
        {"queues": ["arn:aws:connect:us-east-1:123456789012:instance/other/queue/q1"]},
        "queues",
        "must belong to instance abc-123",
    ),
    ({"instance_id": "arn:aws:connect:eu-west-2:123456789012:instance/x"}, "instance_id", ""),
]


DROP_IN_REFUSALS = [
    ({"ResourceArn": "abc-123"}, "ResourceArn", "an instance ARN"),
    (
        {"ResourceArn": "arn:aws:connect:eu-west-2:123456789012:instance/abc"},
        "ResourceArn",
        "region is us-east-1",
    ),
    ({"NextToken": "t"}, "NextToken", "follows every page"),
    ({"Interval": {"IntervalPeriod": "YEAR"}}, "Interval.IntervalPeriod", "HOUR"),
    ({"Interval": {"Period": "HOUR"}}, "Interval", "IntervalPeriod, TimeZone"),
    ({"Interval": {"IntervalPeriod": "HOUR", "TimeZone": "??"}}, "Interval.TimeZone", "IANA"),
    ({"EndTime": END + DAY}, "EndTime", "must not be in the future"),
    ({"StartTime": END - timedelta(days=100)}, "StartTime", "within the last 3 months"),
    (
        {"StartTime": END - timedelta(days=35), "Interval": {"IntervalPeriod": "TOTAL"}},
        "EndTime",
        "shorter than 35 days",
    ),
    ({"Metrics": [{"MetricId": "arn:x"}]}, "Metrics[0].MetricId", "give Name"),
    ({"Metrics": [{"Name": "SERVICE_LEVEL"}]}, "Metrics[0].Threshold", "needs a threshold"),
    ({"Metrics": [{"Name": "NOT_A_METRIC"}]}, "Metrics[0]", "GetMetricDataV2 metric"),
    (
        {
            "Metrics": [
                {"Name": "SERVICE_LEVEL", "Threshold": [{"Comparison": "GT", "ThresholdValue": 9}]}
            ]
        },
        "Metrics[0].Threshold[0].Comparison",
        "LT, LTE",
    ),
    (
        {
            "Metrics": [
                {
                    "Name": "CONTACTS_QUEUED",
                    "MetricFilters": [{"MetricFilterKey": "X", "MetricFilterValues": ["a"]}],
                }
            ]
        },
        "Metrics[0].MetricFilters[0].MetricFilterKey",
        "allows: none",
    ),
    (
        {
            "Metrics": [
                {
                    "Name": "SERVICE_LEVEL",
                    "Threshold": [
                        {"Comparison": "LT", "ThresholdValue": 60},
                        {"Comparison": "LT", "ThresholdValue": 30},
                    ],
                }
            ]
        },
        "Metrics[0].Threshold",
        "a list of one",
    ),
    (
        {"Filters": [{"FilterKey": "QUEUE", "StringCondition": {"Comparison": "STARTS_WITH"}}]},
        "Filters[0].StringCondition",
        "give FilterValues",
    ),
    (
        {
            "Filters": [
                {"FilterKey": "QUEUE", "FilterValues": [QUEUE]},
                {"FilterKey": "QUEUE", "FilterValues": [QUEUE]},
            ]
        },
        "Filters[1].FilterKey",
        "once",
    ),
    ({"Filters": [{"FilterKey": "CHANNEL", "FilterValues": ["VOICE"]}]}, "Filters", "resource"),
    ({"Groupings": ["QUEUE"] * 5}, "Groupings", "at most 4"),
    ({"MaxResults": 101}, "MaxResults", "1 to 100"),
    ({"Colour": "blue"}, "Colour", "not a parameter of GetMetricDataV2"),
]


@pytest.mark.parametrize(
    ("build", "changes", "field", "allowed"),
    [(rich, *case) for case in RICH_REFUSALS] + [(drop_in, *case) for case in DROP_IN_REFUSALS],
)
def test_a_refusal_names_the_callers_field_and_what_is_allowed(
    build: Callable[..., Any], changes: dict[str, Any], field: str, allowed: str
) -> None:
    """The rich API's names (``queues``), or botocore's (``Filters[0].FilterValues``)."""
    with pytest.raises(InvalidRequestError) as info:
        build(**changes)
    assert info.value.field == field
    assert allowed in str(info.value)


def test_three_months_back_is_allowed_to_the_second() -> None:
    oldest = months_before(END, 3)
    assert oldest == datetime(2026, 10, 15, 8, tzinfo=timezone.utc)
    assert rich(start=oldest, interval="HOUR").start_time == oldest
    assert months_before(datetime(2027, 5, 31, tzinfo=timezone.utc), 3).day == 28  # February


@pytest.mark.parametrize("interval", ["DAY", "WEEK", "TOTAL"])
def test_day_week_and_total_take_just_under_35_days_in_one_call(interval: str) -> None:
    request = rich(start=END - timedelta(days=35) + timedelta(seconds=1), interval=interval)
    assert len(windows(request)) == 1


@pytest.mark.parametrize(
    ("interval", "days", "cuts"),
    [
        ("FIFTEEN_MIN", 2.99, [2.99]),
        ("FIFTEEN_MIN", 3, [3 - 1 / 96, 1 / 96]),
        ("THIRTY_MIN", 7, [3 - 1 / 48, 3 - 1 / 48, 1 + 2 / 48]),
        ("HOUR", 7, [71 / 24, 71 / 24, 26 / 24]),
        ("HOUR", 90, None),
    ],
)
def test_sub_day_intervals_take_any_range_cut_into_windows_of_whole_intervals(
    interval: str, days: float, cuts: list[float] | None
) -> None:
    request = rich(start=END - timedelta(days=days), interval=interval)
    found = windows(request)
    lengths = [(e - s).total_seconds() / 86_400 for s, e in found]
    if cuts is not None:
        assert lengths == pytest.approx(cuts)
    assert all(length < 3 for length in lengths)
    assert found[0][0] == request.start_time
    assert found[-1][1] == request.end_time
    assert all(a[1] == b[0] for a, b in itertools.pairwise(found))


def test_keys_name_thresholds_comparisons_and_filters() -> None:
    request = rich(
        metrics=[
            "SERVICE_LEVEL_60",
            "SERVICE_LEVEL_LTE_60",
            V2Metric(
                "CONTACTS_HANDLED", filters=(MetricFilter("INITIATION_METHOD", ("INBOUND",)),)
            ),
        ]
    )
    assert [m.key for m in request.metrics] == [
        "SERVICE_LEVEL_60",
        "SERVICE_LEVEL_LTE_60",
        "CONTACTS_HANDLED[INITIATION_METHOD=INBOUND]",
    ]
    by_agent = rich(
        metrics=["CAMPAIGN_CONTACTS_ABANDONED_AFTER_X_30"], queues=None, agents=[QUEUE]
    )
    assert by_agent.metrics[0].comparison == "GT"  # the only comparison it allows
    assert by_agent.metrics[0].key == "CAMPAIGN_CONTACTS_ABANDONED_AFTER_X_30"


async def test_refusals_through_the_client_send_nothing(fake: FakeConnect) -> None:
    instance_id = fake.add_instance()
    queues = fake.add_queues(instance_id, 3)
    cases: list[dict[str, Any]] = [
        {"interval": "MINUTE"},
        {"end": END + DAY},
        {"start": END - timedelta(days=120)},
        {"start": END - timedelta(days=40), "interval": "DAY"},
        {"metrics": ["SERVICE_LEVEL"]},
        {"groupings": ["AGENT_STATUS"]},
    ]
    async with fake.metrics_client(instance_id) as cm:
        for case in cases:
            args: dict[str, Any] = {
                "start": END - DAY,
                "end": END,
                "interval": "HOUR",
                "queues": queues,
            } | case
            metrics = args.pop("metrics", ["CONTACTS_QUEUED"])
            with pytest.raises(InvalidRequestError):
                await cm.get_historical_metrics_v2(metrics, **args)
        with pytest.raises(InvalidRequestError, match="Metrics"):
            await cm.boto.get_metric_data_v2(
                ResourceArn=fake.centre(instance_id).instance_arn,
                StartTime=END - DAY,
                EndTime=END,
                Filters=[{"FilterKey": "QUEUE", "FilterValues": queues}],
                Metrics=[{"Name": "CONTACTS_QUEUED", "MetricId": "x"}],
            )
    assert fake.requests == []
