"""The fake's metrics operations: GetCurrentMetricData and GetMetricData.

Validation mirrors what the API reference says the service rejects; it is deliberately
independent of the library's own, so that tests of the library against the fake check
one against the other. What the fake does not simulate never reaches here
(`_coverage.decline_unsimulated`).

Order: real-time rows come as the reference says, by ``SortCriteria``, by default
``AGENTS_ONLINE`` descending (computed for the order even when not asked for); rows
without a value come last; ties are in the order of their dimension IDs. Historical
rows, whose order the reference does not give, come in the order of their dimension IDs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._catalog import (
    CHANNELS,
    CURRENT,
    HISTORICAL,
    INTERVAL_SECONDS,
    MAX_GROUPINGS,
    MAX_QUEUES_PER_REQUEST,
    MAX_SERVICE_LEVEL_METRICS,
    RETENTION_SECONDS,
    THRESHOLD_RANGE,
)
from ._coverage import not_simulated
from ._faults import invalid
from ._sim import ContactCentre, RowKey
from ._sim_history import historical_rows
from ._userdata import agent_status_counts, status_resource

_CURRENT_GROUPINGS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE", "AGENT_STATUS")
_HISTORICAL_GROUPINGS = ("QUEUE", "CHANNEL")
_NEEDS_PROFILE_FILTER = ("CONTACTS_SCHEDULED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE")
_MAX_METRIC_IDS = 10
_MAX_AGENT_STATUSES = 50
#: A built-in metric by ARN: arn:PARTITION:connect:REGION:aws:metric/NAME.
_BUILT_IN = re.compile(r"^arn:[a-z0-9-]+:connect:[a-z0-9-]+:aws:metric/(?P<name>[A-Z_]+)$")
#: One row: the key its ties are ordered by, its dimensions, its values by metric name.
Result = tuple[tuple[str, ...], dict[str, Any], dict[str, float | None]]


@attrs.frozen
class Ask:
    """One request to answer, with what answering it needs of the service."""

    centre: ContactCentre
    params: Mapping[str, Any]
    now: float
    snapshot: int
    snapshot_interval: float
    #: (a resource ID or ARN of this instance, its kind) -> its ID.
    resource_id: Callable[[str, str], str]

    @property
    def filters(self) -> Mapping[str, Any]:
        """The request's filters (required by both operations)."""
        filters = self.params.get("Filters")
        if not isinstance(filters, Mapping):
            raise invalid("Filters is required")
        return filters

    def ids(self, name: str, kind: str, upper: int = MAX_QUEUES_PER_REQUEST) -> list[str] | None:
        """The IDs of one filter (1 to `upper` of them), or None when absent."""
        values = self.filters.get(name)
        if values is None:
            return None
        if not isinstance(values, list) or not 1 <= len(values) <= upper:
            raise invalid(f"Filters.{name} must hold 1 to {upper} items")
        return [self.resource_id(v, kind) for v in values]


def _channels(filters: Mapping[str, Any]) -> list[str]:
    channels = filters.get("Channels")
    if channels is None:
        return list(CHANNELS)
    if len(channels) > len(CHANNELS):
        raise invalid(f"Filters.Channels holds at most {len(CHANNELS)} items")
    for channel in channels:
        if channel not in CHANNELS:
            raise invalid(f"Invalid channel {channel!r}")
    return list(channels)


def _groupings(params: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    groupings = list(params.get("Groupings") or [])
    if len(groupings) > MAX_GROUPINGS:
        raise invalid("At most 2 groupings are allowed")
    if len(set(groupings)) != len(groupings):
        raise invalid("Groupings must not repeat")
    for grouping in groupings:
        if grouping not in allowed:
            raise invalid(f"Grouping {grouping} is not valid for this operation")
    return groupings


def dimensions(centre: ContactCentre, key: RowKey) -> dict[str, Any]:
    """A row's ``Dimensions`` from its (queue, channel, routing profile) key."""
    queue_id, channel, profile_id = key
    dims: dict[str, Any] = {}
    if queue_id is not None:
        dims["Queue"] = {"Id": queue_id, "Arn": centre.queues[queue_id].arn}
    if channel is not None:
        dims["Channel"] = channel
    if profile_id is not None:
        dims["RoutingProfile"] = {"Id": profile_id, "Arn": centre.routing_profiles[profile_id].arn}
    return dims


# -- GetCurrentMetricData ------------------------------------------------------------------
def _metric_name(metric: Mapping[str, Any], metric_ids: list[str]) -> str:
    """The built-in metric a request names, by Name or by MetricId."""
    name, metric_id = metric.get("Name"), metric.get("MetricId")
    if metric_id is not None:
        metric_ids.append(metric_id)
        match = _BUILT_IN.fullmatch(str(metric_id))
        if match is None or match["name"] not in CURRENT:
            raise not_simulated("GetCurrentMetricData a custom metric by MetricId")
        if name is not None and name != match["name"]:
            raise invalid(f"Name {name} and MetricId {metric_id} name different metrics")
        name = match["name"]
    spec = CURRENT.get(str(name))
    if spec is None:
        raise invalid(f"Invalid metric name {name!r}")
    if metric.get("Unit") != spec.unit:
        raise invalid(f"Metric {spec.name} must use unit {spec.unit}")
    return spec.name


def _check_current(ask: Ask, groupings: list[str], names: list[str]) -> None:
    filters = ask.filters
    by_queue = "Queues" in filters
    for name in names:
        if name == "ESTIMATED_WAIT_TIME" and (
            groupings != ["QUEUE", "CHANNEL"] or not by_queue or "Channels" not in filters
        ):
            raise invalid(
                "ESTIMATED_WAIT_TIME needs Queues and Channels filters"
                " and groupings [QUEUE, CHANNEL]"
            )
        if name in _NEEDS_PROFILE_FILTER and "ROUTING_PROFILE" in groupings and by_queue:
            raise invalid(f"{name} grouped by ROUTING_PROFILE needs a RoutingProfiles filter")
    if "AGENT_STATUS" in groupings:
        if groupings[0] != "QUEUE" or not by_queue:
            raise invalid("Grouping by AGENT_STATUS needs QUEUE as the primary grouping")
        if set(names) != {"AGENTS_ONLINE"}:
            raise invalid("Grouped by AGENT_STATUS, the only metric available is AGENTS_ONLINE")
    if "AgentStatuses" in filters:
        if not by_queue:
            raise invalid("Filtering by AgentStatuses needs Queues as the primary filter")
        if "AGENT_STATUS" not in groupings:
            raise not_simulated("GetCurrentMetricData Filters.AgentStatuses without AGENT_STATUS")


def _sort_criteria(params: Mapping[str, Any]) -> tuple[str, bool]:
    """(metric, descending): the request's SortCriteria, or AGENTS_ONLINE descending."""
    sort = params.get("SortCriteria") or []
    if len(sort) > 1:
        raise invalid("SortCriteria takes one criterion")
    if not sort:
        return "AGENTS_ONLINE", True
    by = sort[0].get("SortByMetric")
    if by in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE") or by not in CURRENT:
        raise invalid(f"Sorting by {by} is not supported")
    return str(by), sort[0].get("SortOrder", "ASCENDING") == "DESCENDING"


def _ordered(rows: list[Result], by: str, descending: bool) -> list[Result]:
    rows = sorted(rows, key=lambda r: r[0])
    present = [r for r in rows if r[2].get(by) is not None]
    present.sort(key=lambda r: r[2][by] or 0.0, reverse=descending)
    return present + [r for r in rows if r[2].get(by) is None]


def _agent_status_rows(ask: Ask, queue_ids: list[str], channels: list[str]) -> list[Result]:
    statuses = ask.ids("AgentStatuses", "agent-state", _MAX_AGENT_STATUSES)
    counts = agent_status_counts(
        ask.centre, ask.snapshot, queue_ids, channels, set(statuses) if statuses else None
    )
    rows: list[Result] = []
    for (queue_id, name), count in counts.items():
        status_id, arn = status_resource(ask.centre, name)
        dims = dimensions(ask.centre, (queue_id, None, None))
        dims["AgentStatus"] = {"Id": status_id, "Arn": arn}
        rows.append(((queue_id, status_id), dims, {"AGENTS_ONLINE": float(count)}))
    return rows


def current(ask: Ask) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GetCurrentMetricData's rows, in the service's order, and its extra members."""
    params, filters = ask.params, ask.filters
    queue_ids = ask.ids("Queues", "queue")
    profile_ids = ask.ids("RoutingProfiles", "routing-profile")
    if (queue_ids is None) == (profile_ids is None):
        raise invalid("Filters must hold either Queues or RoutingProfiles, not both")
    channels = _channels(filters)
    groupings = _groupings(params, _CURRENT_GROUPINGS)
    if "CHANNEL" in groupings and "Channels" not in filters:
        raise invalid("Grouping by CHANNEL requires a Channels filter")
    metrics = params.get("CurrentMetrics") or []
    if not metrics:
        raise invalid("CurrentMetrics must not be empty")
    metric_ids: list[str] = []
    names = [_metric_name(m, metric_ids) for m in metrics]
    if len(metric_ids) > _MAX_METRIC_IDS:
        raise invalid(f"At most {_MAX_METRIC_IDS} metrics by MetricId")
    _check_current(ask, groupings, names)
    by, descending = _sort_criteria(params)
    if "AGENT_STATUS" in groupings:
        assert queue_ids is not None
        rows = _agent_status_rows(ask, queue_ids, channels)
    else:
        computed = ask.centre.current_rows(
            ask.snapshot,
            queue_ids=queue_ids,
            routing_profile_ids=profile_ids,
            channels=channels,
            groupings=groupings,
            metrics=list(dict.fromkeys([*names, by])),
        )
        rows = [
            (tuple(part or "" for part in key), dimensions(ask.centre, key), values)
            for key, values in computed
        ]
    results = []
    for _, dims, values in _ordered(rows, by, descending):
        collections = []
        for metric, name in zip(metrics, names, strict=True):
            value = values[name]
            if name == "OLDEST_CONTACT_AGE" and not groupings and value is not None:
                value *= 1000.0  # the documented quirk: milliseconds when ungrouped
            echoed = {k: metric[k] for k in ("Name", "MetricId", "Unit") if k in metric}
            collections.append({"Metric": echoed, "Value": value})
        results.append({"Dimensions": dims, "Collections": collections})
    extra = {
        "DataSnapshotTime": ask.snapshot * ask.snapshot_interval,
        "ApproximateTotalCount": len(results),
    }
    return results, extra


# -- GetMetricData -------------------------------------------------------------------------
def _metric_key(metric: Mapping[str, Any]) -> tuple[str, float | None]:
    threshold = metric.get("Threshold") or {}
    return (metric["Name"], threshold.get("ThresholdValue"))


def _check_times(params: Mapping[str, Any], now: float) -> tuple[float, float]:
    start, end = params.get("StartTime"), params.get("EndTime")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
        raise invalid("StartTime and EndTime are required")
    if start % INTERVAL_SECONDS or end % INTERVAL_SECONDS:
        raise invalid("StartTime and EndTime must be multiples of 5 minutes")
    if end <= start:
        raise invalid("EndTime must be later than StartTime")
    if end - start >= RETENTION_SECONDS:
        raise invalid("The time range must be less than 24 hours")
    if start < now - RETENTION_SECONDS:
        raise invalid("StartTime cannot be earlier than 24 hours before the request")
    return float(start), float(end)


def _check_historical_metric(metric: Mapping[str, Any]) -> bool:
    """Check one metric; whether it is a SERVICE_LEVEL (which counts to a limit)."""
    spec = HISTORICAL.get(metric.get("Name", ""))
    if spec is None:
        raise invalid(f"Invalid metric name {metric.get('Name')!r}")
    if metric.get("Unit") != spec.unit:
        raise invalid(f"Metric {spec.name} must use unit {spec.unit}")
    if metric.get("Statistic") != spec.statistic:
        raise invalid(f"Metric {spec.name} must use statistic {spec.statistic}")
    threshold = metric.get("Threshold")
    if spec.needs_threshold:
        low, high = THRESHOLD_RANGE
        if (
            not threshold
            or threshold.get("Comparison") != "LT"
            or not isinstance(threshold.get("ThresholdValue"), (int, float))
            or threshold["ThresholdValue"] != int(threshold["ThresholdValue"])
            or not low <= threshold["ThresholdValue"] <= high
        ):
            raise invalid("SERVICE_LEVEL needs a threshold LT, whole seconds 1 to 604800")
    elif threshold is not None:
        raise invalid(f"Metric {spec.name} does not take a threshold")
    return spec.needs_threshold


def historical(ask: Ask) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GetMetricData's rows, in the order of their dimension IDs."""
    params, filters = ask.params, ask.filters
    start, end = _check_times(params, ask.now)
    if "RoutingStepExpressions" in filters:
        raise invalid("RoutingStepExpression is not a valid filter for GetMetricData")
    if "ROUTING_STEP_EXPRESSION" in (params.get("Groupings") or []):
        raise invalid("RoutingStepExpression is not a valid grouping for GetMetricData")
    queue_ids = ask.ids("Queues", "queue")
    if queue_ids is None:
        raise invalid("Filters.Queues is required")
    channels = _channels(filters)
    groupings = _groupings(params, _HISTORICAL_GROUPINGS)
    metrics = params.get("HistoricalMetrics") or []
    if not metrics:
        raise invalid("HistoricalMetrics must not be empty")
    if sum(map(_check_historical_metric, metrics)) > MAX_SERVICE_LEVEL_METRICS:
        raise invalid("At most 20 SERVICE_LEVEL metrics are allowed")
    keys = [_metric_key(m) for m in metrics]
    rows = historical_rows(
        ask.centre,
        queue_ids=queue_ids,
        channels=channels,
        groupings=groupings,
        metrics=keys,
        start=start,
        end=end,
        now=ask.now,
    )
    results = [
        {
            "Dimensions": dimensions(ask.centre, key),
            "Collections": [
                {"Metric": metric, "Value": values[mkey]}
                for metric, mkey in zip(metrics, keys, strict=True)
            ],
        }
        for key, values in rows
    ]
    return results, {}
