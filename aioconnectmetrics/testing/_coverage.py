"""What the fake simulates of each operation it serves, and what it declines.

Every member of each operation's input shape in botocore's model is listed here, as
simulated or declined; so are the enum values the fake declines. A request that uses a
declined member or value gets one distinct error, ``NotSimulatedByFakeException``
(HTTP 400), never a real service error code and never a silent answer to another
question. ``tests/test_conformance.py`` derives its cases from botocore's model and
fails on any member or enum value this table does not account for.

Member paths: ``Filters.Queues``; list members of structures with ``[]``, such as
``CurrentMetrics[].Name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._faults import ServiceError

SIMULATED = "simulated"
DECLINED = "declined"

_LISTING = {"InstanceId": SIMULATED, "NextToken": SIMULATED, "MaxResults": SIMULATED}
_METRIC_FILTERS = {
    "Filters": SIMULATED,
    "Filters.Queues": SIMULATED,
    "Filters.Channels": SIMULATED,
    "Filters.RoutingProfiles": SIMULATED,
    "Filters.RoutingStepExpressions": DECLINED,
    "Filters.AgentStatuses": SIMULATED,
    "Filters.Subtypes": DECLINED,
    "Filters.ValidationTestTypes": DECLINED,
}

#: Operation -> member path -> SIMULATED or DECLINED.
MEMBERS: Mapping[str, Mapping[str, str]] = {
    "GetCurrentMetricData": {
        "InstanceId": SIMULATED,
        **_METRIC_FILTERS,
        "Groupings": SIMULATED,
        "CurrentMetrics": SIMULATED,
        "CurrentMetrics[].Name": SIMULATED,
        # Built-in metrics by ARN (arn:aws:connect:REGION:aws:metric/NAME); custom
        # metrics are declined when asked for.
        "CurrentMetrics[].MetricId": SIMULATED,
        "CurrentMetrics[].Unit": SIMULATED,
        "NextToken": SIMULATED,
        "MaxResults": SIMULATED,
        "SortCriteria": SIMULATED,
        "SortCriteria[].SortByMetric": SIMULATED,
        "SortCriteria[].SortOrder": SIMULATED,
    },
    "GetMetricData": {
        "InstanceId": SIMULATED,
        "StartTime": SIMULATED,
        "EndTime": SIMULATED,
        **_METRIC_FILTERS,
        # The reference says GetMetricData filters by queues and channels; what the
        # service does with these is not documented.
        "Filters.RoutingProfiles": DECLINED,
        "Filters.AgentStatuses": DECLINED,
        # "RoutingStepExpression is not a valid filter for GetMetricData": refused with
        # the service's InvalidParameterException, as documented.
        "Filters.RoutingStepExpressions": SIMULATED,
        "Groupings": SIMULATED,
        "HistoricalMetrics": SIMULATED,
        "HistoricalMetrics[].Name": SIMULATED,
        "HistoricalMetrics[].Threshold": SIMULATED,
        "HistoricalMetrics[].Threshold.Comparison": SIMULATED,
        "HistoricalMetrics[].Threshold.ThresholdValue": SIMULATED,
        "HistoricalMetrics[].Statistic": SIMULATED,
        "HistoricalMetrics[].Unit": SIMULATED,
        "NextToken": SIMULATED,
        "MaxResults": SIMULATED,
    },
    "GetCurrentUserData": {
        "InstanceId": SIMULATED,
        "Filters": SIMULATED,
        "Filters.Queues": SIMULATED,
        "Filters.ContactFilter": SIMULATED,
        "Filters.ContactFilter.ContactStates": SIMULATED,
        "Filters.RoutingProfiles": SIMULATED,
        "Filters.Agents": SIMULATED,
        "Filters.UserHierarchyGroups": DECLINED,
        "NextToken": SIMULATED,
        "MaxResults": SIMULATED,
    },
    "GetMetricDataV2": {
        "ResourceArn": SIMULATED,
        "StartTime": SIMULATED,
        "EndTime": SIMULATED,
        "Interval": SIMULATED,
        # Checked, not applied: intervals follow each other from StartTime.
        "Interval.TimeZone": SIMULATED,
        "Interval.IntervalPeriod": SIMULATED,
        # Filter keys QUEUE, CHANNEL, ROUTING_PROFILE, AGENT and INITIATION_METHOD; other
        # keys are declined when asked for (`_metrics_v2.py`).
        "Filters": SIMULATED,
        "Filters[].FilterKey": SIMULATED,
        "Filters[].FilterValues": SIMULATED,
        "Filters[].StringCondition": DECLINED,
        "Filters[].StringCondition.Comparison": DECLINED,
        "Groupings": SIMULATED,
        # The metrics of `_metrics_v2.V2_SIMULATED`; others are declined when asked for.
        "Metrics": SIMULATED,
        "Metrics[].Name": SIMULATED,
        "Metrics[].Threshold": SIMULATED,
        "Metrics[].Threshold[].Comparison": SIMULATED,
        "Metrics[].Threshold[].ThresholdValue": SIMULATED,
        "Metrics[].MetricId": DECLINED,
        "Metrics[].MetricFilters": DECLINED,
        "Metrics[].MetricFilters[].MetricFilterKey": DECLINED,
        "Metrics[].MetricFilters[].MetricFilterValues": DECLINED,
        "Metrics[].MetricFilters[].Negate": DECLINED,
        "NextToken": SIMULATED,
        "MaxResults": SIMULATED,
    },
    "ListQueues": {**_LISTING, "QueueTypes": SIMULATED},
    "ListRoutingProfiles": _LISTING,
    "ListUsers": _LISTING,
    # Every profile with its queues; searching by name, description or tag is declined.
    "SearchRoutingProfiles": {
        **_LISTING,
        "SearchFilter": DECLINED,
        "SearchFilter.TagFilter": DECLINED,
        "SearchFilter.TagFilter.OrConditions": DECLINED,
        "SearchFilter.TagFilter.AndConditions": DECLINED,
        "SearchFilter.TagFilter.AndConditions[].TagKey": DECLINED,
        "SearchFilter.TagFilter.AndConditions[].TagValue": DECLINED,
        "SearchFilter.TagFilter.TagCondition": DECLINED,
        "SearchFilter.TagFilter.TagCondition.TagKey": DECLINED,
        "SearchFilter.TagFilter.TagCondition.TagValue": DECLINED,
        "SearchCriteria": DECLINED,
        "SearchCriteria.OrConditions": DECLINED,
        "SearchCriteria.AndConditions": DECLINED,
        "SearchCriteria.StringCondition": DECLINED,
        "SearchCriteria.StringCondition.FieldName": DECLINED,
        "SearchCriteria.StringCondition.Value": DECLINED,
        "SearchCriteria.StringCondition.ComparisonType": DECLINED,
    },
}

#: (operation, member path) -> the enum values the fake declines.
DECLINED_VALUES: Mapping[tuple[str, str], frozenset[str]] = {
    ("GetCurrentMetricData", "Groupings"): frozenset(
        {"ROUTING_STEP_EXPRESSION", "SUBTYPE", "VALIDATION_TEST_TYPE"}
    ),
    # ROUTING_STEP_EXPRESSION is refused as the reference says ("not valid for
    # GetMetricData"); the others are not documented for GetMetricData.
    ("GetMetricData", "Groupings"): frozenset(
        {"ROUTING_PROFILE", "AGENT_STATUS", "SUBTYPE", "VALIDATION_TEST_TYPE"}
    ),
}


def not_simulated(what: str) -> ServiceError:
    """The one error for what the fake does not simulate (see docs/testing.md)."""
    return ServiceError(
        400,
        "NotSimulatedByFakeException",
        f"{what} is not simulated by the aioconnectmetrics fake"
        " (see docs/testing.md, 'What the fake does not simulate')",
    )


def _present(params: Mapping[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    listed = head.endswith("[]")
    value = params.get(head.removesuffix("[]"))
    if value is None:
        return False
    if not rest:
        return True
    items = value if listed and isinstance(value, list) else [value]
    return any(isinstance(item, Mapping) and _present(item, rest) for item in items)


def decline_unsimulated(operation: str, params: Mapping[str, Any]) -> None:
    """Raise `not_simulated` for a declined member or enum value in `params`."""
    for path, how in MEMBERS.get(operation, {}).items():
        if how == DECLINED and _present(params, path):
            raise not_simulated(f"{operation} {path}")
    for (op, path), values in DECLINED_VALUES.items():
        given = params.get(path) if op == operation else None
        for value in given if isinstance(given, list) else ():
            if value in values:
                raise not_simulated(f"{operation} {path} {value}")
