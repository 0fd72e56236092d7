"""Building a `V2Request` from either face: the rich API's arguments, or botocore's kwargs.

Both end in the checks of `_v2/request.py`; each error names the caller's own field
(``queues`` here, ``Filters[0].FilterValues`` there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from .._dropin import check_kwargs
from .._errors import InvalidRequestError
from .._request import check_instance_id, check_page_size
from .catalog import FILTER_KEYS
from .request import (
    V2Request,
    check_filter_values,
    check_time_zone,
    check_v2_instance_arn,
    check_v2_metrics,
    check_v2_shape,
    check_v2_times,
    parse_v2_metric,
)

_KWARGS = frozenset(
    {
        "ResourceArn",
        "StartTime",
        "EndTime",
        "Interval",
        "Filters",
        "Groupings",
        "Metrics",
        "NextToken",
        "MaxResults",
    }
)
#: The rich API's argument for each resource filter key.
_ARGUMENTS = {"QUEUE": "queues", "ROUTING_PROFILE": "routing_profiles", "AGENT": "agents"}


def _instance(instance_id: Any, region: str) -> tuple[str, str | None]:
    if isinstance(instance_id, str) and instance_id.startswith("arn:"):
        arn, instance, arn_region = check_v2_instance_arn(instance_id, "instance_id")
        if arn_region != region:
            raise InvalidRequestError(
                "instance_id", instance_id, f"the instance must be in the client's region {region}"
            )
        return instance, arn
    return check_instance_id(instance_id), None


def build_v2_request(
    *,
    instance_id: Any,
    region: str,
    now: datetime,
    metrics: Any,
    start: Any,
    end: Any,
    interval: Any = "TOTAL",
    time_zone: Any = None,
    queues: Any = None,
    routing_profiles: Any = None,
    agents: Any = None,
    channels: Any = None,
    filters: Any = None,
    groupings: Any = (),
    page_size: Any = None,
) -> V2Request:
    """A request from `get_historical_metrics_v2`'s arguments, every rule checked."""
    instance, arn = _instance(instance_id, region)
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Iterable):
        raise InvalidRequestError("metrics", metrics, "expected a list of metrics")
    parsed = check_v2_metrics(
        (parse_v2_metric(m, f"metrics[{i}]") for i, m in enumerate(metrics)), "metrics"
    )
    start_time, end_time, period = check_v2_times(
        start, end, interval, now, fields=("start", "end", "interval")
    )
    chosen: list[tuple[str, tuple[str, ...] | None]] = []
    for key, argument, values in (
        ("QUEUE", "queues", queues),
        ("ROUTING_PROFILE", "routing_profiles", routing_profiles),
        ("AGENT", "agents", agents),
    ):
        if values is None:
            continue
        if values == "all" and key != "AGENT":
            chosen.append((key, None))
            continue
        if isinstance(values, str):
            raise InvalidRequestError(argument, values, "expected a list of IDs or ARNs")
        chosen.append(
            (key, check_filter_values(key, values, argument, instance_id=instance, region=region))
        )
    if sum(values is None for _, values in chosen) > 1:
        raise InvalidRequestError("queues", "all", "only one of queues and routing_profiles")
    if channels is not None:
        chosen.append(
            (
                "CHANNEL",
                check_filter_values("CHANNEL", channels, "channels", instance_id="", region=""),
            )
        )
    if filters is not None:
        if not isinstance(filters, Mapping):
            raise InvalidRequestError("filters", filters, "a dict: filter key -> values")
        for key, values in filters.items():
            if key in _ARGUMENTS or key == "CHANNEL":
                argument = _ARGUMENTS.get(key, "channels")
                raise InvalidRequestError(f"filters[{key!r}]", values, f"give {argument}= instead")
            if key not in FILTER_KEYS:
                raise InvalidRequestError(f"filters[{key!r}]", values, "a FilterV2 key")
            field = f"filters[{key!r}]"
            chosen.append(
                (key, check_filter_values(key, values, field, instance_id="", region=""))
            )
    grouped = check_v2_shape(
        parsed, tuple(chosen), groupings, fields=("metrics", "filters", "groupings")
    )
    return V2Request(
        instance_id=instance,
        instance_arn=arn,
        metrics=parsed,
        start_time=start_time,
        end_time=end_time,
        interval=period,
        time_zone=check_time_zone(time_zone, "time_zone"),
        filters=tuple(chosen),
        groupings=grouped,
        page_size=check_page_size(page_size, "page_size"),
    )


def _items(value: Any, name: str, shape: str, refused: str, instead: str) -> Iterator[Any]:
    """(field, dict) of each item of a list of `shape` dicts; `refused` named as such."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidRequestError(name, value, f"required: a list of {shape} dicts")
    for i, item in enumerate(value):
        field = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidRequestError(field, item, f"a {shape} dict")
        if refused in item:
            raise InvalidRequestError(
                f"{field}.{refused}",
                item[refused],
                f"not supported by aioconnectmetrics; {instead}",
            )
        yield field, item


def _wire_metrics(value: Any) -> list[Any]:
    found = []
    for field, metric in _items(
        value,
        "Metrics",
        "MetricV2",
        "MetricId",
        "give Name (a custom metric's merge rule is unknown)",
    ):
        unknown = set(metric) - {"Name", "Threshold", "MetricFilters"}
        if unknown:
            raise InvalidRequestError(field, sorted(unknown), "Name, Threshold, MetricFilters")
        threshold = comparison = None
        thresholds = metric.get("Threshold")
        if thresholds is not None:
            if not isinstance(thresholds, list) or len(thresholds) != 1:
                raise InvalidRequestError(f"{field}.Threshold", thresholds, "a list of one")
            only = thresholds[0]
            if not isinstance(only, Mapping):
                raise InvalidRequestError(f"{field}.Threshold[0]", only, "Comparison, Value")
            threshold, comparison = only.get("ThresholdValue"), only.get("Comparison")
        found.append(
            parse_v2_metric(
                metric.get("Name"),
                field,
                threshold=threshold,
                comparison=comparison,
                filters=metric.get("MetricFilters"),
                parts=("Threshold", "Threshold[0].Comparison", "MetricFilters"),
            )
        )
    return found


def _wire_filters(value: Any, instance: str, region: str) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = []
    for field, item in _items(
        value, "Filters", "FilterV2", "StringCondition", "give FilterValues"
    ):
        key = item.get("FilterKey")
        if key not in FILTER_KEYS:
            raise InvalidRequestError(f"{field}.FilterKey", key, "a FilterV2 key (QUEUE, ...)")
        if any(k == key for k, _ in found):
            raise InvalidRequestError(f"{field}.FilterKey", key, "each filter key once")
        values = check_filter_values(
            key,
            item.get("FilterValues"),
            f"{field}.FilterValues",
            instance_id=instance,
            region=region,
        )
        found.append((key, values))
    return found


def v2_request_from_kwargs(kwargs: Mapping[str, Any], *, region: str, now: datetime) -> V2Request:
    """A request from aiobotocore's ``get_metric_data_v2`` keyword arguments."""
    check_kwargs(kwargs, _KWARGS, "GetMetricDataV2")
    arn, instance, arn_region = check_v2_instance_arn(kwargs.get("ResourceArn"), "ResourceArn")
    if arn_region != region:
        raise InvalidRequestError("ResourceArn", arn, f"the client's region is {region}")
    interval = kwargs.get("Interval") or {}
    if not isinstance(interval, Mapping) or set(interval) - {"IntervalPeriod", "TimeZone"}:
        raise InvalidRequestError("Interval", interval, "a dict of IntervalPeriod, TimeZone")
    metrics = check_v2_metrics(_wire_metrics(kwargs.get("Metrics")), "Metrics")
    start_time, end_time, period = check_v2_times(
        kwargs.get("StartTime"),
        kwargs.get("EndTime"),
        interval.get("IntervalPeriod", "TOTAL"),
        now,
        fields=("StartTime", "EndTime", "Interval.IntervalPeriod"),
    )
    filters = tuple(_wire_filters(kwargs.get("Filters"), instance, region))
    grouped = check_v2_shape(
        metrics, filters, kwargs.get("Groupings") or [], fields=("Metrics", "Filters", "Groupings")
    )
    return V2Request(
        instance_id=instance,
        instance_arn=arn,
        metrics=metrics,
        start_time=start_time,
        end_time=end_time,
        interval=period,
        time_zone=check_time_zone(interval.get("TimeZone"), "Interval.TimeZone"),
        filters=filters,
        groupings=grouped,
        page_size=check_page_size(kwargs.get("MaxResults"), "MaxResults"),
    )
