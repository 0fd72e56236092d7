"""Bad input fails before any network call, naming the field and what is allowed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aioconnectmetrics import ConnectMetrics, InvalidRequestError, InvalidSettingError, Metric
from aioconnectmetrics._request import build_request_memo
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

END = datetime.fromtimestamp(NOW, timezone.utc)
START = END - timedelta(hours=1)
NAN, INF = float("nan"), float("inf")
OTHER = "arn:aws:connect:us-east-1:123456789012:instance/other-instance/queue/q1"
WRONG_REGION = "arn:aws:connect:eu-west-2:123456789012:instance/{instance}/queue/q1"

# (case, keyword arguments, the field the error must name)
CURRENT_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown metric", {"metrics": ["AGENTS_BORED"]}, "metrics[0]"),
    ("historical metric in real time", {"metrics": ["HANDLE_TIME"]}, "metrics[0]"),
    ("no metric", {"metrics": []}, "metrics"),
    ("metric twice", {"metrics": ["AGENTS_ONLINE", "AGENTS_ONLINE"]}, "metrics"),
    ("metrics as a bare string", {"metrics": "AGENTS_ONLINE"}, "metrics"),
    (
        "threshold on a real-time metric",
        {"metrics": [Metric("AGENTS_ONLINE", 60)]},
        "metrics[0].threshold",
    ),
    ("neither queues nor profiles", {"queues": None}, "queues"),
    ("queues and profiles", {"routing_profiles": ["rp1"]}, "queues"),
    ("empty queue list", {"queues": []}, "queues"),
    ("queue string not all", {"queues": "q1"}, "queues"),
    ("queue with a slash", {"queues": ["q1/../x"]}, "queues"),
    ("queue ARN of another instance", {"queues": [OTHER]}, "queues"),
    ("queue ARN of another region", {"queues": [WRONG_REGION]}, "queues"),
    (
        "routing profile ARN as queue",
        {
            "queues": [
                "arn:aws:connect:us-east-1:123456789012:instance/{instance}/routing-profile/r"
            ]
        },
        "queues",
    ),
    ("unknown channel", {"channels": ["FAX"]}, "channels"),
    ("channel twice", {"channels": ["VOICE", "VOICE"]}, "channels"),
    (
        "three groupings",
        {"groupings": ["QUEUE", "CHANNEL", "ROUTING_PROFILE"], "channels": ["VOICE"]},
        "groupings",
    ),
    ("unknown grouping", {"groupings": ["AGENT"]}, "groupings"),
    ("grouping twice", {"groupings": ["QUEUE", "QUEUE"]}, "groupings"),
    ("channel grouping without channels", {"groupings": ["CHANNEL"]}, "channels"),
    ("estimated wait ungrouped", {"metrics": ["ESTIMATED_WAIT_TIME"]}, "metrics"),
    (
        "in queue by profile without profile filter",
        {"groupings": ["ROUTING_PROFILE"], "metrics": ["CONTACTS_IN_QUEUE"]},
        "metrics",
    ),
    ("queue types", {"queues": "all", "queue_types": ["VIP"]}, "queue_types"),
    ("max_spread negative", {"max_spread": -1}, "max_spread"),
    ("max_spread NaN (it would switch the bound off)", {"max_spread": NAN}, "max_spread"),
    ("max_spread infinite", {"max_spread": INF}, "max_spread"),
    ("instance with a slash", {"instance_id": "abc/def"}, "instance_id"),
    ("instance empty (not the default)", {"instance_id": ""}, "instance_id"),
    ("partial as a string", {"partial": "no"}, "partial"),
    ("queues as a mapping (its values dropped)", {"queues": {"q1": "a", "q2": "b"}}, "queues"),
    (
        "queue ARN of another partition",
        {"queues": ["arn:aws-cn:connect:us-east-1:123456789012:instance/{instance}/queue/q1"]},
        "queues",
    ),
    (
        "queue ARNs of two accounts",
        {
            "queues": [
                "arn:aws:connect:us-east-1:123456789012:instance/{instance}/queue/q1",
                "arn:aws:connect:us-east-1:210987654321:instance/{instance}/queue/q2",
            ]
        },
        "queues",
    ),
]

HISTORICAL_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("service level without threshold", {"metrics": ["SERVICE_LEVEL"]}, "metrics[0]"),
    ("threshold 0", {"metrics": [Metric.service_level(0)]}, "metrics[0].threshold"),
    ("threshold too large", {"metrics": [Metric.service_level(604801)]}, "metrics[0].threshold"),
    ("threshold NaN", {"metrics": [Metric("SERVICE_LEVEL", NAN)]}, "metrics[0].threshold"),  # type: ignore[arg-type]
    ("threshold infinite", {"metrics": [Metric("SERVICE_LEVEL", INF)]}, "metrics[0].threshold"),  # type: ignore[arg-type]
    ("21 service levels", {"metrics": [f"SERVICE_LEVEL_{t}" for t in range(1, 22)]}, "metrics"),
    ("real-time metric", {"metrics": ["AGENTS_ONLINE"]}, "metrics[0]"),
    ("naive start", {"start": START.replace(tzinfo=None)}, "start"),
    ("start off the 5-minute grid", {"start": START + timedelta(minutes=1)}, "start"),
    ("end with seconds", {"end": END - timedelta(seconds=1)}, "end"),
    ("end before start", {"start": END, "end": START}, "end"),
    ("range of 24 hours", {"start": END - timedelta(hours=24)}, "end"),
    (
        "start over 24 hours ago",
        {"start": END - timedelta(hours=25), "end": END - timedelta(hours=24, minutes=30)},
        "start",
    ),
    ("start as a string", {"start": "2027-01-15T07:00:00Z"}, "start"),
    ("routing profile grouping", {"groupings": ["ROUTING_PROFILE"]}, "groupings"),
    ("no queues", {"queues": None}, "queues"),
]

DROP_IN_CURRENT: list[tuple[str, dict[str, Any], str]] = [
    ("NextToken given", {"NextToken": "abc"}, "NextToken"),
    ("unknown parameter", {"Foo": 1}, "Foo"),
    ("no filters", {"Filters": None}, "Filters"),
    (
        "unsupported filter",
        {"Filters": {"Queues": ["q"], "AgentStatuses": ["x"]}},
        "Filters.AgentStatuses",
    ),
    (
        "wrong unit",
        {"CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "SECONDS"}]},
        "CurrentMetrics[0].Unit",
    ),
    (
        "metric id",
        {"CurrentMetrics": [{"MetricId": "x", "Unit": "COUNT"}]},
        "CurrentMetrics[0].MetricId",
    ),
    ("MaxResults 0", {"MaxResults": 0}, "MaxResults"),
    ("MaxResults 101", {"MaxResults": 101}, "MaxResults"),
    (
        "sort by slots",
        {"SortCriteria": [{"SortByMetric": "SLOTS_ACTIVE", "SortOrder": "ASCENDING"}]},
        "SortCriteria[0].SortByMetric",
    ),
    ("no instance", {"InstanceId": None}, "InstanceId"),
]

DROP_IN_HISTORICAL: list[tuple[str, dict[str, Any], str]] = [
    ("StartTime NaN", {"StartTime": NAN}, "StartTime"),
    ("EndTime infinite", {"EndTime": INF}, "EndTime"),
    (
        "threshold NaN",
        {
            "HistoricalMetrics": [
                {
                    "Name": "SERVICE_LEVEL",
                    "Unit": "PERCENT",
                    "Statistic": "AVG",
                    "Threshold": {"Comparison": "LT", "ThresholdValue": NAN},
                }
            ]
        },
        "HistoricalMetrics[0].Threshold.ThresholdValue",
    ),
    (
        "wrong statistic",
        {"HistoricalMetrics": [{"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "AVG"}]},
        "HistoricalMetrics[0].Statistic",
    ),
    (
        "ABANDON_TIME as a count (2018 note)",
        {"HistoricalMetrics": [{"Name": "ABANDON_TIME", "Unit": "COUNT", "Statistic": "SUM"}]},
        "HistoricalMetrics[0].Unit",
    ),
    (
        "threshold GT",
        {
            "HistoricalMetrics": [
                {
                    "Name": "SERVICE_LEVEL",
                    "Unit": "PERCENT",
                    "Statistic": "AVG",
                    "Threshold": {"Comparison": "GT", "ThresholdValue": 60},
                }
            ]
        },
        "HistoricalMetrics[0].Threshold",
    ),
    (
        "threshold not whole",
        {
            "HistoricalMetrics": [
                {
                    "Name": "SERVICE_LEVEL",
                    "Unit": "PERCENT",
                    "Statistic": "AVG",
                    "Threshold": {"Comparison": "LT", "ThresholdValue": 1.5},
                }
            ]
        },
        "HistoricalMetrics[0].Threshold.ThresholdValue",
    ),
    (
        "threshold on a count",
        {
            "HistoricalMetrics": [
                {
                    "Name": "CONTACTS_HANDLED",
                    "Unit": "COUNT",
                    "Statistic": "SUM",
                    "Threshold": {"Comparison": "LT", "ThresholdValue": 60},
                }
            ]
        },
        "HistoricalMetrics[0].Threshold",
    ),
    (
        "routing profiles",
        {"Filters": {"Queues": ["q"], "RoutingProfiles": ["r"]}},
        "Filters.RoutingProfiles",
    ),
]


@pytest.fixture(name="fake", scope="module")
def _fake() -> Iterator[FakeConnect]:
    """One fake for the module: no test here may reach it."""
    with FakeConnect(clock=ManualClock(NOW), quotas=None) as fake:
        yield fake


@pytest.fixture(name="instance_id", scope="module")
def _instance_id(fake: FakeConnect) -> str:
    return fake.add_instance()


@pytest.fixture(autouse=True)
def _empty_log(fake: FakeConnect) -> None:
    fake.clear_requests()


def _fill(value: Any, instance: str) -> Any:
    if isinstance(value, str):
        return value.replace("{instance}", instance)
    if isinstance(value, list):
        return [_fill(v, instance) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, instance) for k, v in value.items()}
    return value


async def _expect(fake: FakeConnect, call: Any, field: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        await call
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert fake.requests == []  # nothing reached the service
    return info.value


@pytest.mark.parametrize(
    ("case", "kwargs", "field"), CURRENT_CASES, ids=[c[0] for c in CURRENT_CASES]
)
async def test_current_rich(
    fake: FakeConnect, instance_id: str, case: str, kwargs: dict[str, Any], field: str
) -> None:
    """Each real-time rule of the rich API is checked locally."""
    args: dict[str, Any] = {"metrics": ["AGENTS_ONLINE"], "queues": ["q1", "q2"]} | _fill(
        kwargs, instance_id
    )
    async with fake.metrics_client(instance_id) as cm:
        error = await _expect(fake, cm.get_current_metrics(**args), field)
    assert str(error).startswith(f"{field}: got ")
    assert error.allowed in str(error), case


@pytest.mark.parametrize(
    ("case", "kwargs", "field"), HISTORICAL_CASES, ids=[c[0] for c in HISTORICAL_CASES]
)
async def test_historical_rich(
    fake: FakeConnect, instance_id: str, case: str, kwargs: dict[str, Any], field: str
) -> None:
    """Each historical rule of the rich API is checked locally."""
    args: dict[str, Any] = {
        "metrics": ["CONTACTS_HANDLED"],
        "queues": ["q1"],
        "start": START,
        "end": END,
    } | kwargs
    async with fake.metrics_client(instance_id) as cm:
        error = await _expect(fake, cm.get_historical_metrics(**args), field)
    assert str(error).startswith(f"{field}: got ")
    assert error.allowed in str(error), case


@pytest.mark.parametrize(
    ("case", "kwargs", "field"), DROP_IN_CURRENT, ids=[c[0] for c in DROP_IN_CURRENT]
)
async def test_current_drop_in(
    fake: FakeConnect, case: str, kwargs: dict[str, Any], field: str
) -> None:
    """Each rule of the drop-in get_current_metric_data is checked locally."""
    instance_id = fake.add_instance()
    args: dict[str, Any] = {
        "InstanceId": instance_id,
        "Filters": {"Queues": ["q1"]},
        "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
    } | kwargs
    args = {k: v for k, v in args.items() if v is not None}
    async with fake.metrics_client() as cm:
        error = await _expect(fake, cm.boto.get_current_metric_data(**args), field)
    assert str(error).startswith(f"{field}: got ")
    assert error.allowed in str(error), case


@pytest.mark.parametrize(
    ("case", "kwargs", "field"), DROP_IN_HISTORICAL, ids=[c[0] for c in DROP_IN_HISTORICAL]
)
async def test_historical_drop_in(
    fake: FakeConnect, instance_id: str, case: str, kwargs: dict[str, Any], field: str
) -> None:
    """Each rule of the drop-in get_metric_data is checked locally."""
    args: dict[str, Any] = {
        "StartTime": START,
        "EndTime": END,
        "Filters": {"Queues": ["q1"]},
        "HistoricalMetrics": [{"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "SUM"}],
    } | kwargs
    async with fake.metrics_client(instance_id) as cm:
        error = await _expect(fake, cm.boto.get_metric_data(**args), field)
    assert str(error).startswith(f"{field}: got ")
    assert error.allowed in str(error), case


async def test_more_than_100_queues_is_fine_in_the_drop_in(
    fake: FakeConnect, instance_id: str
) -> None:
    """Filters.Queues may hold any number of queues: the library batches them."""
    queues = fake.add_queues(instance_id, 101)
    async with fake.metrics_client(instance_id) as cm:
        response = await cm.boto.get_metric_data(
            StartTime=START,
            EndTime=END,
            Filters={"Queues": queues},
            HistoricalMetrics=[{"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "SUM"}],
        )
    assert len(response["MetricResults"]) == 1
    assert len(fake.requests) == 2


def test_error_message_names_field_value_and_rule() -> None:
    """The message says which field, what was given and what is allowed."""
    error = InvalidRequestError("channels", "FAX", "allowed channels: VOICE, CHAT, TASK, EMAIL")
    assert str(error) == "channels: got 'FAX'; allowed channels: VOICE, CHAT, TASK, EMAIL"


def test_constructor_checks() -> None:
    """Constructor arguments are checked at once, as settings."""
    with pytest.raises(InvalidSettingError, match="max_concurrency"):
        ConnectMetrics(max_concurrency=0)
    with pytest.raises(InvalidSettingError, match="instance_id"):
        ConnectMetrics("bad/instance")


@pytest.mark.parametrize("call", ["get_current_metric_data", "get_metric_data"])
async def test_an_unknown_keyword_is_named_but_its_value_never_repeated(
    fake: FakeConnect, instance_id: str, call: str
) -> None:
    """A secret passed under a wrong name does not land in the error (nor in logs)."""
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(InvalidRequestError) as info:
            await getattr(cm.boto, call)(SecretAccessKey="wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET")
    assert info.value.field == "SecretAccessKey"
    assert info.value.value is None
    assert "SECRET" not in str(info.value)
    assert "SECRET" not in repr(info.value)
    assert fake.requests == []


def test_real_time_requests_are_remembered_by_value() -> None:
    """Equal arguments give the same (immutable) request; new values, a new one.

    A generator is read once, by the builder itself.
    """
    args: dict[str, Any] = {
        "instance_id": "i-1",
        "region": "us-east-1",
        "metrics": ["CONTACTS_IN_QUEUE"],
        "queues": ["q1", "q2"],
    }
    first = build_request_memo("GetCurrentMetricData", **args)
    assert build_request_memo("GetCurrentMetricData", **{**args, "queues": ["q1", "q2"]}) is first
    args["queues"].append("q3")  # the caller's list changed: so does the request
    assert build_request_memo("GetCurrentMetricData", **args).queue_ids == ("q1", "q2", "q3")
    from_generator = build_request_memo(
        "GetCurrentMetricData", **{**args, "queues": (q for q in ["q4", "q4", "q5"])}
    )
    assert from_generator.queue_ids == ("q4", "q5")
    with pytest.raises(InvalidRequestError, match="queues"):
        build_request_memo("GetCurrentMetricData", **{**args, "queues": []})
