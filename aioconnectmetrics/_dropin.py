"""The drop-in API: aiobotocore's keyword arguments, translated into the rich arguments.

``get_current_metric_data(**kwargs)`` and ``get_metric_data(**kwargs)`` take what the
aiobotocore methods take. What only they have (their key names, the ``Filters`` dict,
metric dicts with ``Unit`` and ``Statistic``, ``SortCriteria``, ``MaxResults``) is
checked here; everything else goes to `build_request`, the rich API's own builder, with
the drop-in names for its errors. So the two faces cannot drift apart.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ._catalog import CURRENT, HISTORICAL
from ._errors import InvalidRequestError
from ._metric import Metric, check_threshold, parse_metric
from ._request import CURRENT_OP, HISTORICAL_OP, FieldNames, MetricsRequest, build_request

_CURRENT_NAMES = FieldNames(
    instance_id="InstanceId",
    metrics="CurrentMetrics",
    queues="Filters.Queues",
    routing_profiles="Filters.RoutingProfiles",
    channels="Filters.Channels",
    groupings="Groupings",
    page_size="MaxResults",
)
_HISTORICAL_NAMES = FieldNames(
    instance_id="InstanceId",
    metrics="HistoricalMetrics",
    queues="Filters.Queues",
    channels="Filters.Channels",
    groupings="Groupings",
    start="StartTime",
    end="EndTime",
    page_size="MaxResults",
)

_CURRENT_KWARGS = frozenset(
    {
        "InstanceId",
        "Filters",
        "Groupings",
        "CurrentMetrics",
        "MaxResults",
        "SortCriteria",
        "NextToken",
    }
)
_HISTORICAL_KWARGS = frozenset(
    {
        "InstanceId",
        "StartTime",
        "EndTime",
        "Filters",
        "Groupings",
        "HistoricalMetrics",
        "MaxResults",
        "NextToken",
    }
)
_UNSUPPORTED_FILTERS = (
    "RoutingStepExpressions",
    "AgentStatuses",
    "Subtypes",
    "ValidationTestTypes",
)


def check_kwargs(kwargs: Mapping[str, Any], allowed: frozenset[str], operation: str) -> None:
    """Every keyword argument is one of `operation`'s; no NextToken (every page is followed)."""
    for key in kwargs:
        if key not in allowed:
            raise InvalidRequestError(
                key,
                kwargs[key],
                f"not a parameter of {operation}: {', '.join(sorted(allowed - {'NextToken'}))}",
                echo=False,
            )
    if "NextToken" in kwargs:
        raise InvalidRequestError(
            "NextToken", kwargs["NextToken"], "the library follows every page itself; leave it out"
        )


def check_filters(kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> Mapping[str, Any]:
    """``Filters``: a dict with only `allowed` keys (the unsupported ones said so)."""
    filters = kwargs.get("Filters")
    if not isinstance(filters, Mapping):
        raise InvalidRequestError(
            "Filters", filters, f"required: a dict of filters ({', '.join(allowed)})"
        )
    for key in filters:
        if key in _UNSUPPORTED_FILTERS:
            raise InvalidRequestError(
                f"Filters.{key}",
                filters[key],
                "not supported by aioconnectmetrics; use aiobotocore directly",
            )
        if key not in allowed:
            raise InvalidRequestError(
                f"Filters.{key}", filters[key], f"allowed filters: {', '.join(allowed)}"
            )
    return filters


def _wire_metric(value: Any, *, historical: bool, field: str) -> Metric:
    if not isinstance(value, Mapping):
        raise InvalidRequestError(field, value, "expected a dict with Name and Unit")
    if "MetricId" in value:
        raise InvalidRequestError(
            f"{field}.MetricId", value["MetricId"], "not supported by aioconnectmetrics"
        )
    allowed = {"Name", "Unit", "Statistic", "Threshold"} if historical else {"Name", "Unit"}
    for key in value:
        if key not in allowed:
            raise InvalidRequestError(
                f"{field}.{key}", value[key], f"allowed keys: {', '.join(sorted(allowed))}"
            )
    name = value.get("Name")
    threshold = value.get("Threshold")
    metric_threshold: int | None = None
    if threshold is not None:
        if not isinstance(threshold, Mapping) or threshold.get("Comparison") != "LT":
            raise InvalidRequestError(
                f"{field}.Threshold",
                threshold,
                "expected {'Comparison': 'LT', 'ThresholdValue': seconds}",
            )
        metric_threshold = check_threshold(
            threshold.get("ThresholdValue"), f"{field}.Threshold.ThresholdValue"
        )
    if not isinstance(name, str):
        raise InvalidRequestError(f"{field}.Name", name, "expected a metric name")
    if threshold is not None and name != "SERVICE_LEVEL":
        raise InvalidRequestError(f"{field}.Threshold", threshold, "only SERVICE_LEVEL takes one")
    metric = parse_metric(
        Metric(name, metric_threshold), historical=historical, field=f"{field}.Name"
    )
    spec = (HISTORICAL if historical else CURRENT)[name]
    if value.get("Unit") != spec.unit:
        raise InvalidRequestError(
            f"{field}.Unit", value.get("Unit"), f"{name} takes Unit {spec.unit}"
        )
    if historical and value.get("Statistic") != spec.statistic:
        raise InvalidRequestError(
            f"{field}.Statistic",
            value.get("Statistic"),
            f"{name} takes Statistic {spec.statistic}",
        )
    return metric


def _wire_metrics(values: Any, *, historical: bool, field: str) -> tuple[Metric, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise InvalidRequestError(field, values, "a non-empty list of metric dicts")
    metrics = [
        _wire_metric(v, historical=historical, field=f"{field}[{i}]") for i, v in enumerate(values)
    ]
    return tuple(metrics)


def botocore_time(value: Any, field: str) -> Any:
    """A timestamp as botocore takes one, for the rich checks: strings and naive UTC.

    botocore accepts a datetime (naive ones are UTC), epoch seconds (also as a string), an
    ISO 8601 string (a date alone too) or an RFC 822 one. Numbers and aware datetimes
    pass as they are; what cannot be read is left for the rich check to refuse by name.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(
                field, value, "a datetime, epoch seconds, or an ISO 8601 or RFC 822 time"
            ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _sort(value: Any, groupings: Any) -> tuple[str, str] | None:
    """SortCriteria, or the service's default order for grouped rows (AGENTS_ONLINE down)."""
    if value is None or value == []:
        grouped = isinstance(groupings, (list, tuple)) and len(groupings) > 0
        return ("AGENTS_ONLINE", "DESCENDING") if grouped else None
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 1
        or not isinstance(value[0], Mapping)
    ):
        raise InvalidRequestError(
            "SortCriteria", value, "a list with one {'SortByMetric', 'SortOrder'} dict"
        )
    by, order = value[0].get("SortByMetric"), value[0].get("SortOrder", "ASCENDING")
    if by not in CURRENT or by in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE"):
        raise InvalidRequestError(
            "SortCriteria[0].SortByMetric",
            by,
            "a real-time metric name, not SLOTS_ACTIVE or SLOTS_AVAILABLE",
        )
    if order not in ("ASCENDING", "DESCENDING"):
        raise InvalidRequestError("SortCriteria[0].SortOrder", order, "ASCENDING or DESCENDING")
    return (str(by), str(order))


def current_request_from_kwargs(
    kwargs: Mapping[str, Any], *, default_instance: str | None, region: str
) -> MetricsRequest:
    """Validate the keyword arguments of aiobotocore's ``get_current_metric_data``."""
    check_kwargs(kwargs, _CURRENT_KWARGS, CURRENT_OP)
    filters = check_filters(kwargs, ("Queues", "Channels", "RoutingProfiles"))
    metrics = _wire_metrics(kwargs.get("CurrentMetrics"), historical=False, field="CurrentMetrics")
    return build_request(
        CURRENT_OP,
        instance_id=kwargs.get("InstanceId", default_instance),
        region=region,
        metrics=metrics,
        queues=filters.get("Queues"),
        routing_profiles=filters.get("RoutingProfiles"),
        channels=filters.get("Channels"),
        groupings=kwargs.get("Groupings"),
        page_size=kwargs.get("MaxResults"),
        sort=_sort(kwargs.get("SortCriteria"), kwargs.get("Groupings")),
        names=_CURRENT_NAMES,
        allow_all=False,
    )


def historical_request_from_kwargs(
    kwargs: Mapping[str, Any], *, default_instance: str | None, region: str, now: datetime
) -> MetricsRequest:
    """Validate the keyword arguments of aiobotocore's ``get_metric_data``."""
    check_kwargs(kwargs, _HISTORICAL_KWARGS, HISTORICAL_OP)
    filters = check_filters(kwargs, ("Queues", "Channels"))
    metrics = _wire_metrics(
        kwargs.get("HistoricalMetrics"), historical=True, field="HistoricalMetrics"
    )
    return build_request(
        HISTORICAL_OP,
        instance_id=kwargs.get("InstanceId", default_instance),
        region=region,
        metrics=metrics,
        queues=filters.get("Queues"),
        channels=filters.get("Channels"),
        groupings=kwargs.get("Groupings"),
        start=botocore_time(kwargs.get("StartTime"), "StartTime"),
        end=botocore_time(kwargs.get("EndTime"), "EndTime"),
        now=now,
        page_size=kwargs.get("MaxResults"),
        names=_HISTORICAL_NAMES,
        allow_all=False,
    )
