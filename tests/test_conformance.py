"""The fake against botocore's model: every input member, enum value and documented limit.

Cases are derived from the service model of the installed botocore: for each operation
the fake serves, every member of the input shape gets a request that uses it, every enum
value a request that sends it, every documented limit a request at it and one beyond.
Each goes through plain boto3 against the fake. The answer must parse to the output
shape, and the fake must simulate what `testing._coverage` says it simulates and decline
the rest with its one error, ``NotSimulatedByFakeException``; refusals the API reference
documents come with the service's own error code. A new botocore with a member or an
enum value the fake neither simulates nor declines fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.model
import botocore.session
import pytest

from aioconnectmetrics.testing import FakeConnect, ManualClock
from aioconnectmetrics.testing._coverage import DECLINED, DECLINED_VALUES, MEMBERS, SIMULATED
from aioconnectmetrics.testing._userdata import status_resource

from .conftest import NOW

MODEL = botocore.session.get_session().get_service_model("connect")
OPERATIONS = tuple(MEMBERS)
NOT_SIMULATED = "NotSimulatedByFakeException"
INVALID = "InvalidParameterException"
ROOT = Path(__file__).parent.parent

#: Refusals the API reference documents: (operation, member path, value) -> error code.
DOCUMENTED_REFUSALS = {
    # "Sorting on SLOTS_ACTIVE and SLOTS_AVAILABLE is not supported."
    ("GetCurrentMetricData", "SortCriteria[].SortByMetric", "SLOTS_ACTIVE"): INVALID,
    ("GetCurrentMetricData", "SortCriteria[].SortByMetric", "SLOTS_AVAILABLE"): INVALID,
    # No real-time metric is in PERCENT.
    ("GetCurrentMetricData", "CurrentMetrics[].Unit", "PERCENT"): INVALID,
    # "RoutingStepExpression is not a valid filter for GetMetricData."
    ("GetMetricData", "Groupings", "ROUTING_STEP_EXPRESSION"): INVALID,
    ("GetMetricData", "Filters.RoutingStepExpressions", None): INVALID,
}


def model_members(operation: str) -> dict[str, botocore.model.Shape]:
    """Member path -> shape, for every member of the operation's input shape."""
    found: dict[str, botocore.model.Shape] = {}

    def walk(shape: botocore.model.Shape, prefix: str, seen: frozenset[str]) -> None:
        # A shape inside itself (search criteria of criteria) is walked once.
        assert isinstance(shape, botocore.model.StructureShape)
        for name, member in shape.members.items():
            path = f"{prefix}{name}"
            found[path] = member
            if isinstance(member, botocore.model.StructureShape) and member.name not in seen:
                walk(member, f"{path}.", seen | {member.name})
            elif (
                isinstance(member, botocore.model.ListShape)
                and isinstance(member.member, botocore.model.StructureShape)
                and member.member.name not in seen
            ):
                walk(member.member, f"{path}[].", seen | {member.member.name})

    walk(MODEL.operation_model(operation).input_shape, "", frozenset())
    return found


def enum_of(shape: botocore.model.Shape) -> list[str]:
    """The enum values a member takes (of its items, for a list)."""
    if isinstance(shape, botocore.model.ListShape):
        shape = shape.member
    return list(getattr(shape, "enum", None) or [])


# -- the fake, and what the requests need of it ----------------------------------------------
class Context:
    """A populated fake and plain boto3 clients for it (with and without validation)."""

    def __init__(self, fake: FakeConnect) -> None:
        self.fake = fake
        self.instance_id = fake.add_instance()
        populated = fake.populate(self.instance_id, queues=40, agents_per_profile=4)
        self.queues = list(populated.queue_ids)
        self.profiles = list(populated.routing_profile_ids)
        self.agents = list(populated.agent_ids)
        centre = fake.centre(self.instance_id)
        self.available = status_resource(centre, "Available")[0]
        self.clients = {
            validate: boto3.client(
                "connect",
                region_name=fake.region_name,
                endpoint_url=fake.endpoint_url,
                aws_access_key_id="conformance",
                aws_secret_access_key="conformance-secret",  # noqa: S106 - for the fake
                config=botocore.config.Config(
                    retries={"total_max_attempts": 1}, parameter_validation=validate
                ),
            )
            for validate in (True, False)
        }

    def base(self, operation: str) -> dict[str, Any]:
        """A request of `operation` that the fake answers."""
        q = self.queues
        bases: dict[str, dict[str, Any]] = {
            "GetCurrentMetricData": {
                "Filters": {"Queues": q[:10], "Channels": ["VOICE", "CHAT"]},
                "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
            },
            "GetMetricData": {
                "StartTime": datetime.fromtimestamp(NOW - 3600),
                "EndTime": datetime.fromtimestamp(NOW),
                "Filters": {"Queues": q[:10]},
                "HistoricalMetrics": [
                    {"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "SUM"}
                ],
            },
            "GetCurrentUserData": {"Filters": {"Queues": q[:10]}},
        }
        if operation == "GetMetricDataV2":  # names its instance by ARN, in the body
            return {
                "ResourceArn": self.fake.centre(self.instance_id).instance_arn,
                "StartTime": datetime.fromtimestamp(NOW - 3600),
                "EndTime": datetime.fromtimestamp(NOW),
                "Interval": {"IntervalPeriod": "HOUR"},
                "Filters": [{"FilterKey": "QUEUE", "FilterValues": q[:10]}],
                "Metrics": [{"Name": "CONTACTS_HANDLED"}],
            }
        return bases.get(operation, {}) | {"InstanceId": self.instance_id}

    def call(self, operation: str, params: dict[str, Any], *, validate: bool = True) -> Any:
        """The parsed response, or the ClientError's code."""
        method = getattr(self.clients[validate], botocore.xform_name(operation))
        try:
            return method(**params)
        except botocore.exceptions.ClientError as exc:
            return exc.response["Error"]["Code"]


@pytest.fixture(name="ctx", scope="module")
def _ctx() -> Iterator[Context]:
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=11) as fake:
        yield Context(fake)


def conforms(value: Any, shape: botocore.model.Shape, path: str = "") -> list[str]:
    """Where a parsed response departs from its shape (empty: it conforms)."""
    problems: list[str] = []
    if isinstance(shape, botocore.model.StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: not a structure"]
        for key, item in value.items():
            if key == "ResponseMetadata" and not path:
                continue
            if key not in shape.members:
                problems.append(f"{path}.{key}: not in the shape")
            else:
                problems += conforms(item, shape.members[key], f"{path}.{key}")
        return problems
    if isinstance(shape, botocore.model.ListShape):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        for i, item in enumerate(value):
            problems += conforms(item, shape.member, f"{path}[{i}]")
        return problems
    if isinstance(shape, botocore.model.MapShape):
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        for key, item in value.items():
            problems += conforms(key, shape.key, f"{path}<key>")
            problems += conforms(item, shape.value, f"{path}[{key}]")
        return problems
    kinds: dict[str, Any] = {
        "string": str,
        "integer": int,
        "long": int,
        "double": (int, float),
        "float": (int, float),
        "boolean": bool,
        "timestamp": datetime,
    }
    if not isinstance(value, kinds[shape.type_name]):
        return [f"{path}: {value!r} is not a {shape.type_name}"]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} is not one of its enum"]
    return []


# -- the cases ---------------------------------------------------------------------------------
Build = Callable[[Context, dict[str, Any]], dict[str, Any]]


def _filters(**extra: Any) -> Build:
    return lambda ctx, p: p | {"Filters": {**p["Filters"], **extra}}


def _queues_replaced(name: str, ids: Callable[[Context], list[str]]) -> Build:
    def build(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        filters = {k: v for k, v in p["Filters"].items() if k != "Queues"}
        return p | {"Filters": {**filters, name: ids(ctx)}}

    return build


def _agent_status(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return _filters(AgentStatuses=[ctx.available])(ctx, p) | {
        "Groupings": ["QUEUE", "AGENT_STATUS"]
    }


def _current_metric(name: str, unit: str) -> Build:
    def build(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        extra = {"Groupings": ["QUEUE", "CHANNEL"]} if name == "ESTIMATED_WAIT_TIME" else {}
        return p | {"CurrentMetrics": [{"Name": name, "Unit": unit}]} | extra

    return build


def _historical_metric(name: str) -> Build:
    spec = {m.name: m for m in _catalog_historical()}[name]
    metric: dict[str, Any] = {"Name": name, "Unit": spec.unit, "Statistic": spec.statistic}
    if spec.needs_threshold:
        metric["Threshold"] = {"Comparison": "LT", "ThresholdValue": 60.0}
    return lambda ctx, p: p | {"HistoricalMetrics": [metric]}


def _catalog_historical() -> list[Any]:
    from aioconnectmetrics._catalog import HISTORICAL  # noqa: PLC0415

    return list(HISTORICAL.values())


def _sort(by: str, order: str = "DESCENDING") -> Build:
    return lambda ctx, p: p | {"SortCriteria": [{"SortByMetric": by, "SortOrder": order}]}


#: A value for each member (besides what the base request already has).
MEMBER_VALUES: dict[tuple[str, str], Build] = {
    ("GetCurrentMetricData", "Filters.RoutingProfiles"): _queues_replaced(
        "RoutingProfiles", lambda ctx: ctx.profiles[:3]
    ),
    ("GetCurrentMetricData", "Filters.RoutingStepExpressions"): _filters(
        RoutingStepExpressions=['{"AndExpression":[]}']
    ),
    ("GetCurrentMetricData", "Filters.AgentStatuses"): _agent_status,
    ("GetCurrentMetricData", "Filters.Subtypes"): _filters(Subtypes=["connect:Chat"]),
    ("GetCurrentMetricData", "Filters.ValidationTestTypes"): _filters(ValidationTestTypes=["X"]),
    ("GetCurrentMetricData", "Groupings"): lambda ctx, p: p | {"Groupings": ["QUEUE"]},
    ("GetCurrentMetricData", "CurrentMetrics[].MetricId"): lambda ctx, p: (
        p
        | {
            "CurrentMetrics": [
                {"MetricId": "arn:aws:connect:us-east-1:aws:metric/AGENTS_ONLINE", "Unit": "COUNT"}
            ]
        }
    ),
    ("GetCurrentMetricData", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("GetCurrentMetricData", "SortCriteria"): _sort("AGENTS_ONLINE"),
    ("GetCurrentMetricData", "SortCriteria[].SortByMetric"): _sort("CONTACTS_IN_QUEUE"),
    ("GetCurrentMetricData", "SortCriteria[].SortOrder"): _sort("AGENTS_ONLINE", "ASCENDING"),
    ("GetMetricData", "Filters.Channels"): _filters(Channels=["VOICE"]),
    ("GetMetricData", "Filters.RoutingProfiles"): _filters(RoutingProfiles=["p"]),
    ("GetMetricData", "Filters.RoutingStepExpressions"): _filters(
        RoutingStepExpressions=['{"AndExpression":[]}']
    ),
    ("GetMetricData", "Filters.AgentStatuses"): _filters(AgentStatuses=["s"]),
    ("GetMetricData", "Filters.Subtypes"): _filters(Subtypes=["connect:Chat"]),
    ("GetMetricData", "Filters.ValidationTestTypes"): _filters(ValidationTestTypes=["X"]),
    ("GetMetricData", "Groupings"): lambda ctx, p: p | {"Groupings": ["QUEUE", "CHANNEL"]},
    ("GetMetricData", "HistoricalMetrics[].Threshold"): _historical_metric("SERVICE_LEVEL"),
    ("GetMetricData", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("GetCurrentUserData", "Filters.ContactFilter"): _filters(
        ContactFilter={"ContactStates": ["CONNECTED"]}
    ),
    ("GetCurrentUserData", "Filters.RoutingProfiles"): _queues_replaced(
        "RoutingProfiles", lambda ctx: ctx.profiles[:3]
    ),
    ("GetCurrentUserData", "Filters.Agents"): _queues_replaced(
        "Agents", lambda ctx: ctx.agents[:5]
    ),
    ("GetCurrentUserData", "Filters.UserHierarchyGroups"): _queues_replaced(
        "UserHierarchyGroups", lambda ctx: ["g"]
    ),
    ("GetCurrentUserData", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("ListQueues", "QueueTypes"): lambda ctx, p: p | {"QueueTypes": ["STANDARD"]},
    ("ListQueues", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("ListRoutingProfiles", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("ListUsers", "MaxResults"): lambda ctx, p: p | {"MaxResults": 5},
    ("SearchRoutingProfiles", "MaxResults"): lambda ctx, p: p | {"MaxResults": 500},
}
_NAME_CONTAINS = {"FieldName": "name", "Value": "profile", "ComparisonType": "CONTAINS"}
_TAG = {"TagKey": "team", "TagValue": "sales"}
_SEARCHES: dict[str, dict[str, Any]] = {
    "SearchCriteria": {"StringCondition": _NAME_CONTAINS},
    "SearchCriteria.OrConditions": {"OrConditions": [{"StringCondition": _NAME_CONTAINS}]},
    "SearchCriteria.AndConditions": {"AndConditions": [{"StringCondition": _NAME_CONTAINS}]},
    "SearchFilter": {"TagFilter": {"TagCondition": _TAG}},
    "SearchFilter.TagFilter.OrConditions": {"TagFilter": {"OrConditions": [[_TAG]]}},
    "SearchFilter.TagFilter.AndConditions": {"TagFilter": {"AndConditions": [_TAG]}},
}


def _search(path: str) -> Build:
    """A SearchRoutingProfiles request that uses the member at `path`."""
    prefix = next(
        p
        for p in sorted(_SEARCHES, key=len, reverse=True)
        if path == p or path.startswith((p + ".", p + "["))
    )
    top = prefix.split(".", maxsplit=1)[0]
    return lambda ctx, p: p | {top: _SEARCHES[prefix]}


for _path in (
    p for p in MEMBERS["SearchRoutingProfiles"] if p.startswith(("SearchCriteria", "SearchFilter"))
):
    MEMBER_VALUES[("SearchRoutingProfiles", _path)] = _search(_path)


def _v2(**changes: Any) -> Build:
    return lambda ctx, p: p | changes


def _v2_interval(**changes: Any) -> Build:
    return lambda ctx, p: p | {"Interval": {**p["Interval"], **changes}}


_V2_SERVICE_LEVEL = _v2(
    Metrics=[{"Name": "SERVICE_LEVEL", "Threshold": [{"Comparison": "LT", "ThresholdValue": 60}]}]
)
_V2_METRIC_FILTER = _v2(
    Metrics=[
        {
            "Name": "CONTACTS_HANDLED",
            "MetricFilters": [
                {
                    "MetricFilterKey": "INITIATION_METHOD",
                    "MetricFilterValues": ["INBOUND"],
                    "Negate": False,
                }
            ],
        }
    ]
)
MEMBER_VALUES |= {
    ("GetMetricDataV2", "Interval.TimeZone"): _v2_interval(TimeZone="Europe/Paris"),
    ("GetMetricDataV2", "Filters[].StringCondition"): _v2(
        Filters=[{"FilterKey": "QUEUE", "StringCondition": {"Comparison": "NOT_EXISTS"}}]
    ),
    ("GetMetricDataV2", "Groupings"): _v2(Groupings=["QUEUE", "CHANNEL"]),
    ("GetMetricDataV2", "Metrics[].Threshold"): _V2_SERVICE_LEVEL,
    ("GetMetricDataV2", "Metrics[].Threshold[].Comparison"): _V2_SERVICE_LEVEL,
    ("GetMetricDataV2", "Metrics[].Threshold[].ThresholdValue"): _V2_SERVICE_LEVEL,
    ("GetMetricDataV2", "Metrics[].MetricId"): _v2(
        Metrics=[{"MetricId": "arn:aws:connect:us-east-1:aws:metric/CONTACTS_HANDLED"}]
    ),
    ("GetMetricDataV2", "MaxResults"): _v2(MaxResults=5),
}
MEMBER_VALUES[("GetMetricDataV2", "Filters[].StringCondition.Comparison")] = MEMBER_VALUES[
    ("GetMetricDataV2", "Filters[].StringCondition")
]
for _path in ("", "[].MetricFilterKey", "[].MetricFilterValues", "[].Negate"):
    MEMBER_VALUES[("GetMetricDataV2", f"Metrics[].MetricFilters{_path}")] = _V2_METRIC_FILTER
MEMBER_VALUES[("GetCurrentMetricData", "Filters.ContactFilter")] = MEMBER_VALUES[
    ("GetCurrentUserData", "Filters.ContactFilter")
]
MEMBER_VALUES[("GetCurrentUserData", "Filters.ContactFilter.ContactStates")] = MEMBER_VALUES[
    ("GetCurrentUserData", "Filters.ContactFilter")
]
for _path in ("Threshold.Comparison", "Threshold.ThresholdValue"):
    MEMBER_VALUES[("GetMetricData", f"HistoricalMetrics[].{_path}")] = _historical_metric(
        "SERVICE_LEVEL"
    )


def _enum_value(operation: str, path: str, value: str) -> Build:
    """A request that sends `value` in the member at `path`."""
    if path == "Groupings":
        if value == "AGENT_STATUS":
            return lambda ctx, p: p | {"Groupings": ["QUEUE", "AGENT_STATUS"]}
        return lambda ctx, p: p | {"Groupings": [value]}
    if path.endswith("Channels"):
        return _filters(Channels=[value])
    if path == "CurrentMetrics[].Name":
        return _current_metric(value, _current_unit(value))
    if path == "CurrentMetrics[].Unit":
        by_unit = {"COUNT": "AGENTS_ONLINE", "SECONDS": "OLDEST_CONTACT_AGE"}
        return _current_metric(by_unit.get(value, "AGENTS_ONLINE"), value)
    if path == "SortCriteria[].SortByMetric":
        return _sort(value)
    if path == "SortCriteria[].SortOrder":
        return _sort("AGENTS_ONLINE", value)
    if path == "HistoricalMetrics[].Name":
        return _historical_metric(value)
    if path == "HistoricalMetrics[].Statistic":
        by_statistic = {"SUM": "CONTACTS_HANDLED", "MAX": "QUEUED_TIME", "AVG": "HANDLE_TIME"}
        return _historical_metric(by_statistic[value])
    if path == "HistoricalMetrics[].Unit":
        by_unit = {"COUNT": "CONTACTS_HANDLED", "SECONDS": "HANDLE_TIME", "PERCENT": "OCCUPANCY"}
        return _historical_metric(by_unit[value])
    if path == "HistoricalMetrics[].Threshold.Comparison":
        return _historical_metric("SERVICE_LEVEL")
    if path == "Filters.ContactFilter.ContactStates":
        return _filters(ContactFilter={"ContactStates": [value]})
    if path == "QueueTypes":
        return lambda ctx, p: p | {"QueueTypes": [value]}
    if path == "Interval.IntervalPeriod":
        return _v2_interval(IntervalPeriod=value)
    if path == "Filters[].StringCondition.Comparison":
        return MEMBER_VALUES[(operation, "Filters[].StringCondition")]
    if path == "SearchCriteria.StringCondition.ComparisonType":
        condition = {**_NAME_CONTAINS, "ComparisonType": value}
        return lambda ctx, p: p | {"SearchCriteria": {"StringCondition": condition}}
    raise AssertionError(f"no request for {operation} {path}={value}: add one here")


def _current_unit(name: str) -> str:
    from aioconnectmetrics._catalog import CURRENT  # noqa: PLC0415

    return CURRENT[name].unit if name in CURRENT else "COUNT"


def expected(operation: str, path: str, value: str | None = None) -> str:
    """What the fake must do: "ok", or the error code it must answer."""
    if MEMBERS[operation].get(path) == DECLINED:
        return NOT_SIMULATED
    if value is not None and value in DECLINED_VALUES.get((operation, path), ()):
        return NOT_SIMULATED
    return DOCUMENTED_REFUSALS.get((operation, path, value), "ok")


def member_cases() -> Iterator[tuple[str, str, str | None]]:
    for operation in OPERATIONS:
        for path, shape in model_members(operation).items():
            yield operation, path, None
            for value in enum_of(shape):
                yield operation, path, value


def _check(ctx: Context, operation: str, params: dict[str, Any], want: str) -> None:
    got = ctx.call(operation, params, validate=False)
    if want == "ok":
        assert not isinstance(got, str), f"{operation} {params}: {got}"
        output = MODEL.operation_model(operation).output_shape
        assert conforms(got, output) == []
    else:
        assert got == want, f"{operation} {params}"


# -- the tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_model_member_is_simulated_or_declined(operation: str) -> None:
    """The model's members and the fake's table agree, both ways."""
    members = model_members(operation)
    table = MEMBERS[operation]
    assert sorted(set(members) - set(table)) == [], "neither simulated nor declined"
    assert sorted(set(table) - set(members)) == [], "in the table, not in the model"
    for (op, path), values in DECLINED_VALUES.items():
        if op == operation:
            assert values <= set(enum_of(members[path]))


def test_the_counts_in_the_docs_are_the_models() -> None:
    """docs/testing.md's table of members, simulated and declined, is this botocore's."""
    text = (ROOT / "docs" / "testing.md").read_text()
    for operation in OPERATIONS:
        members = model_members(operation)
        how = [MEMBERS[operation][path] for path in members]
        values = sum(len(enum_of(shape)) for shape in members.values())
        declined_values = sum(len(v) for (op, _), v in DECLINED_VALUES.items() if op == operation)
        row = (
            f"| `{operation}` | {len(members)} | {how.count(SIMULATED)} | {how.count(DECLINED)}"
            f" | {values} | {declined_values} |"
        )
        assert row in text, row


@pytest.mark.parametrize(("operation", "path", "value"), list(member_cases()))
def test_each_member_and_value(ctx: Context, operation: str, path: str, value: str | None) -> None:
    """A request using the member (with that enum value) is answered or declined."""
    params = ctx.base(operation)
    if value is not None:
        params = _enum_value(operation, path, value)(ctx, params)
    elif (operation, path) in MEMBER_VALUES:
        params = MEMBER_VALUES[(operation, path)](ctx, params)
    elif path == "NextToken":
        params = _with_token(ctx, operation, params)
    _check(ctx, operation, params, expected(operation, path, value))


def _with_token(ctx: Context, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    if operation == "GetCurrentMetricData":
        params = params | {"Groupings": ["QUEUE"]}
    if operation in ("GetMetricData", "GetMetricDataV2"):
        params = params | {"Groupings": ["QUEUE"]}
    first = ctx.call(operation, params | {"MaxResults": 1})
    assert isinstance(first, dict), first
    assert "NextToken" in first
    return params | {"MaxResults": 1, "NextToken": first["NextToken"]}


def limit_cases() -> Iterator[tuple[str, str, int, bool]]:
    """(operation, member, length or value, within the limit) for each documented limit."""
    for operation in OPERATIONS:
        for path, shape in model_members(operation).items():
            if path in ("InstanceId", "NextToken") or "[]" in path:
                continue
            low, high = shape.metadata.get("min"), shape.metadata.get("max")
            if path.endswith("AgentStatuses"):
                high = 50  # the reference's limit ("AgentStatuses: 50"), not in the model
            if high is not None:
                yield operation, path, high, True
                yield operation, path, high + 1, False
            if low is not None and low > 0:
                yield operation, path, low - 1, False


def _sized(ctx: Context, operation: str, path: str, size: int) -> dict[str, Any]:
    params = ctx.base(operation)
    member = model_members(operation)[path]
    if not isinstance(member, botocore.model.ListShape):
        return params | {path: size}  # an integer: MaxResults
    values = enum_of(member) or [f"id-{i}" for i in range(size)]
    items: list[Any] = [values[i % len(values)] for i in range(size)]
    if operation == "GetMetricDataV2":
        return params | {path: _v2_items(ctx, path, size)}
    if path == "Groupings":
        items = ["QUEUE", "CHANNEL", "QUEUE"][:size]
    if path == "SortCriteria":
        items = [{"SortByMetric": "AGENTS_ONLINE", "SortOrder": "ASCENDING"}] * size
    if path.endswith("AgentStatuses"):
        params = _agent_status(ctx, params)
        items = [ctx.available] * size
    if not path.startswith("Filters."):
        return params | {path: items}
    name = path.removeprefix("Filters.")
    if name == "ContactFilter.ContactStates":
        return _filters(ContactFilter={"ContactStates": items})(ctx, params)
    if name in ("RoutingProfiles", "Agents", "UserHierarchyGroups") or (
        operation == "GetCurrentUserData" and name == "Queues"
    ):
        return _queues_replaced(name, lambda ctx: items)(ctx, params)
    return _filters(**{name: items})(ctx, params)


def _v2_items(ctx: Context, path: str, size: int) -> list[Any]:
    """`size` distinct filters or groupings the fake simulates (and one more beyond)."""
    keys = ["QUEUE", "CHANNEL", "ROUTING_PROFILE", "AGENT", "INITIATION_METHOD", "FEATURE"]
    if path == "Groupings":
        return keys[:size]
    values = {
        "QUEUE": ctx.queues[:10],
        "CHANNEL": ["VOICE", "CHAT"],
        "ROUTING_PROFILE": ctx.profiles[:3],
        "AGENT": ctx.agents[:5],
        "INITIATION_METHOD": ["INBOUND"],
        "FEATURE": ["contact_lens_conversational_analytics"],
    }
    return [{"FilterKey": k, "FilterValues": values[k]} for k in keys[:size]]


@pytest.mark.parametrize(("operation", "path", "size", "within"), list(limit_cases()))
def test_each_documented_limit(
    ctx: Context, operation: str, path: str, size: int, within: bool
) -> None:
    """At a limit the fake answers; beyond it, it refuses as the service does."""
    params = _sized(ctx, operation, path, size)
    if MEMBERS[operation][path] == DECLINED:
        want = NOT_SIMULATED
    elif (operation, path, None) in DOCUMENTED_REFUSALS and size > 0:
        want = DOCUMENTED_REFUSALS[(operation, path, None)]
    else:
        want = "ok" if within else INVALID
    _check(ctx, operation, params, want)


def test_a_custom_metric_by_id_is_declined(ctx: Context) -> None:
    params = ctx.base("GetCurrentMetricData") | {
        "CurrentMetrics": [{"MetricId": "0b1e2a66-1f2b-4b1c-9f41-0c6a2b5d4e7f", "Unit": "COUNT"}]
    }
    assert ctx.call("GetCurrentMetricData", params) == NOT_SIMULATED


def test_no_member_is_ignored_in_silence(ctx: Context) -> None:
    """51 agent statuses, or Subtypes, never return the rows of the unfiltered request."""
    params = _filters(AgentStatuses=[ctx.available] * 51)(ctx, ctx.base("GetCurrentMetricData"))
    assert ctx.call("GetCurrentMetricData", params, validate=False) == NOT_SIMULATED
    params = _agent_status(ctx, ctx.base("GetCurrentMetricData"))
    params["Filters"]["AgentStatuses"] = [ctx.available] * 51
    assert ctx.call("GetCurrentMetricData", params, validate=False) == INVALID
