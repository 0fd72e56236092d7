"""Requests: validation and normalisation of what callers give, before any network call.

Both faces of the client end here: the rich API (`Metric` objects or names, queue IDs or
ARNs or ``"all"``, aware datetimes) and the drop-in API (the aiobotocore keyword
arguments). Each becomes one immutable `MetricsRequest`. Every rule the service enforces
that can be checked locally is checked here, and the error names the field, the value
and what is allowed. Pure: the caller passes the region and the current time.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

from ._catalog import (
    CHANNELS,
    CURRENT,
    HISTORICAL,
    INTERVAL_SECONDS,
    MAX_GROUPINGS,
    MAX_RESULTS,
    MAX_SERVICE_LEVEL_METRICS,
    RETENTION_SECONDS,
    THRESHOLD_RANGE,
    MetricSpec,
)
from ._errors import InvalidRequestError

Operation = Literal["GetCurrentMetricData", "GetMetricData"]
CURRENT_OP: Operation = "GetCurrentMetricData"
HISTORICAL_OP: Operation = "GetMetricData"

_CURRENT_GROUPINGS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE")
_HISTORICAL_GROUPINGS = ("QUEUE", "CHANNEL")
_NEEDS_PROFILE_FILTER = ("CONTACTS_SCHEDULED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE")
_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):connect:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"instance/(?P<instance>[A-Za-z0-9-]+)/(?P<kind>queue|routing-profile)/(?P<id>[A-Za-z0-9-]+)$"
)
_SERVICE_LEVEL_KEY = re.compile(r"^SERVICE_LEVEL_(\d+)$")
QUEUE_TYPES = ("STANDARD", "AGENT")


@attrs.frozen
class Metric:
    """A metric to fetch: its name and, for ``SERVICE_LEVEL``, the threshold in seconds.

    Unit and statistic come from the catalog. ``Metric.service_level(60)`` is the service
    level for "answered in less than 60 seconds"; its key is ``"SERVICE_LEVEL_60"``.
    """

    name: str
    threshold: int | None = None

    @classmethod
    def service_level(cls, seconds: int) -> Metric:
        """The SERVICE_LEVEL metric for a threshold of `seconds` (comparison LT)."""
        return cls("SERVICE_LEVEL", seconds)

    @property
    def key(self) -> str:
        """How results name this metric: its name, or ``SERVICE_LEVEL_<seconds>``."""
        return self.name if self.threshold is None else f"{self.name}_{self.threshold}"

    def __str__(self) -> str:
        return self.key


@attrs.frozen
class MetricsRequest:
    """One validated, normalised request for either operation."""

    operation: Operation
    instance_id: str
    metrics: tuple[Metric, ...]
    #: Normalised queue IDs, de-duplicated, in the caller's order (None: see below).
    queue_ids: tuple[str, ...] | None = None
    #: Normalised routing profile IDs, when the request filters by routing profile.
    routing_profile_ids: tuple[str, ...] | None = None
    #: ``queues="all"``: the queues are discovered through ListQueues before fetching.
    all_queues: bool = False
    queue_types: tuple[str, ...] = ("STANDARD",)
    channels: tuple[str, ...] | None = None
    groupings: tuple[str, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None
    page_size: int = MAX_RESULTS
    #: (metric name, "ASCENDING" | "DESCENDING") from the drop-in SortCriteria.
    sort: tuple[str, str] | None = None

    @property
    def partition(self) -> str:
        """The dimension that batches cut: QUEUE, or ROUTING_PROFILE."""
        return "ROUTING_PROFILE" if self.routing_profile_ids is not None else "QUEUE"

    @property
    def partition_ids(self) -> tuple[str, ...]:
        """The IDs that batches cut (queue IDs or routing profile IDs)."""
        ids = self.routing_profile_ids if self.routing_profile_ids is not None else self.queue_ids
        if ids is None:
            raise RuntimeError("queues='all' must be resolved before planning")
        return ids

    def spec(self, metric: Metric) -> MetricSpec:
        """The catalog row of a metric of this request."""
        return (CURRENT if self.operation == CURRENT_OP else HISTORICAL)[metric.name]

    def with_queues(self, queue_ids: Iterable[str]) -> MetricsRequest:
        """This request with ``"all"`` resolved to the discovered queue IDs."""
        return attrs.evolve(self, queue_ids=tuple(dict.fromkeys(queue_ids)), all_queues=False)


# -- small checks ----------------------------------------------------------------------
def check_count(field: str, value: object, *, minimum: int) -> int:
    """A whole number (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(field, value, f"a whole number >= {minimum}")
    return value


def check_positive(field: str, value: object) -> float:
    """A finite number (not a bool) greater than zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(field, value, "a positive number")
    if not 0 < value < float("inf"):
        raise InvalidRequestError(field, value, "a positive number")
    return float(value)


def check_non_negative(field: str, value: object, allowed: str = "finite seconds >= 0") -> float:
    """A finite number (not a bool) of zero or more; NaN and infinity are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(field, value, allowed)
    if not 0 <= value < math.inf:  # NaN fails this too
        raise InvalidRequestError(field, value, allowed)
    return float(value)


def check_instance_id(value: Any, field: str = "instance_id") -> str:
    """An instance ID, which reaches a URL path: letters, digits and dashes only."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidRequestError(
            field, value, "expected the instance ID (1-100 letters, digits or dashes)"
        )
    return value


def _strings(value: Any, field: str) -> list[str]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidRequestError(field, value, "expected a list of strings")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidRequestError(field, item, "every item must be a string")
    return items


def partition_of(region: str) -> str:
    """The AWS partition of a region: ``aws``, ``aws-cn``, ``aws-us-gov``, ..."""
    for prefix, partition in (
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
    ):
        if region.startswith(prefix):
            return partition
    return "aws"


def normalise_resources(
    values: Iterable[str], *, field: str, kind: str, instance_id: str, region: str
) -> tuple[str, ...]:
    """IDs and ARNs to IDs, de-duplicated in order; ARNs must be of this instance and region.

    `kind` is ``queue`` or ``routing-profile``. Memoised: a service that asks about the
    same thousand queues every few seconds checks them once.
    """
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        # A mapping would be read as its keys, silently dropping its values.
        raise InvalidRequestError(field, values, "expected a list of strings")
    items = tuple(values)
    try:
        return _normalise_memo(items, field, kind, instance_id, region)
    except TypeError:
        # Unhashable items (not strings): the unmemoised check says which and why.
        return _normalise(items, field, kind, instance_id, region)


def _normalise(
    items: tuple[Any, ...], field: str, kind: str, instance_id: str, region: str
) -> tuple[str, ...]:
    ids: dict[str, None] = {}
    partition = partition_of(region)
    account: str | None = None
    for value in items:
        if not isinstance(value, str):
            raise InvalidRequestError(field, value, "every item must be a string")
        if value.startswith("arn:"):
            match = _ARN.fullmatch(value)
            if match is None or match["kind"] != kind:
                raise InvalidRequestError(field, value, f"expected a {kind} ID or ARN")
            if (
                match["instance"] != instance_id
                or match["region"] != region
                or match["partition"] != partition
            ):
                raise InvalidRequestError(
                    field,
                    value,
                    f"the ARN must belong to instance {instance_id} in region {region} "
                    f"(partition {partition})",
                )
            # One instance lives in one account: ARNs that disagree cannot all be its.
            if account is not None and match["account"] != account:
                raise InvalidRequestError(
                    field, value, f"the ARNs name two accounts ({account} and another)"
                )
            account = match["account"]
            ids[match["id"]] = None
        elif _ID.fullmatch(value):
            ids[value] = None
        else:
            raise InvalidRequestError(field, value, f"expected a {kind} ID or ARN")
    if not ids:
        raise InvalidRequestError(field, [], f"give at least one {kind}")
    return tuple(ids)


_normalise_memo = functools.lru_cache(maxsize=256)(_normalise)


def _channels(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    channels = _strings(value, field)
    for channel in channels:
        if channel not in CHANNELS:
            raise InvalidRequestError(field, channel, f"allowed channels: {', '.join(CHANNELS)}")
    if not channels or len(set(channels)) != len(channels):
        raise InvalidRequestError(field, channels, "give each channel at most once, at least one")
    return tuple(channels)


def _groupings(value: Any, field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    groupings = _strings(value or [], field)
    for grouping in groupings:
        if grouping not in allowed:
            raise InvalidRequestError(field, grouping, f"allowed groupings: {', '.join(allowed)}")
    if len(groupings) > MAX_GROUPINGS or len(set(groupings)) != len(groupings):
        raise InvalidRequestError(field, groupings, "at most 2 groupings, each once")
    return tuple(groupings)


def check_page_size(value: Any, field: str) -> int:
    """A page size: a whole number from 1 to 100 (None: 100)."""
    if value is None:
        return MAX_RESULTS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS:
        raise InvalidRequestError(field, value, "a whole number from 1 to 100")
    return value


def _threshold(value: Any, field: str) -> int:
    low, high = THRESHOLD_RANGE
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise InvalidRequestError(field, value, "whole seconds from 1 to 604800")
    if not low <= value <= high:
        raise InvalidRequestError(field, value, "whole seconds from 1 to 604800")
    return int(value)


def parse_metric(value: Any, *, historical: bool, field: str) -> Metric:
    """A metric from a name, a ``SERVICE_LEVEL_<seconds>`` key or a `Metric`."""
    catalog = HISTORICAL if historical else CURRENT
    if isinstance(value, str):
        match = _SERVICE_LEVEL_KEY.fullmatch(value)
        metric = Metric("SERVICE_LEVEL", int(match[1])) if match else Metric(value)
    elif isinstance(value, Metric):
        metric = value
    else:
        raise InvalidRequestError(field, value, "expected a metric name or a Metric")
    spec = catalog.get(metric.name)
    if spec is None:
        kind = "historical" if historical else "real-time"
        raise InvalidRequestError(
            field, metric.name, f"allowed {kind} metrics: {', '.join(sorted(catalog))}"
        )
    if spec.needs_threshold:
        if metric.threshold is None:
            raise InvalidRequestError(
                field,
                metric.name,
                "SERVICE_LEVEL needs a threshold: Metric.service_level(60) or 'SERVICE_LEVEL_60'",
            )
        _threshold(metric.threshold, f"{field}.threshold")
    elif metric.threshold is not None:
        raise InvalidRequestError(
            f"{field}.threshold",
            metric.threshold,
            f"only SERVICE_LEVEL takes a threshold, not {metric.name}",
        )
    return metric


def _metrics(values: Iterable[Any], *, historical: bool, field: str) -> tuple[Metric, ...]:
    if isinstance(values, (str, Metric)) or not isinstance(values, Iterable):
        raise InvalidRequestError(field, values, "expected a list of metrics")
    metrics = [
        parse_metric(v, historical=historical, field=f"{field}[{i}]") for i, v in enumerate(values)
    ]
    if not metrics:
        raise InvalidRequestError(field, [], "give at least one metric")
    seen: set[str] = set()
    for metric in metrics:
        if metric.key in seen:
            raise InvalidRequestError(field, metric.key, "each metric may be asked for once")
        seen.add(metric.key)
    if sum(1 for m in metrics if m.name == "SERVICE_LEVEL") > MAX_SERVICE_LEVEL_METRICS:
        raise InvalidRequestError(field, len(metrics), "at most 20 SERVICE_LEVEL metrics")
    return tuple(metrics)


def _time(value: Any, field: str) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:  # NaN, infinity, out of range
            raise InvalidRequestError(field, value, "a finite epoch time in range") from exc
    if not isinstance(value, datetime):
        raise InvalidRequestError(field, value, "expected an aware datetime (or epoch seconds)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(field, value, "the datetime must be timezone-aware")
    moment: datetime = value.astimezone(timezone.utc)
    if moment.timestamp() % INTERVAL_SECONDS:
        raise InvalidRequestError(field, moment.isoformat(), "must fall on a 5-minute boundary")
    return moment


def check_interval(
    start: Any, end: Any, now: datetime, *, fields: tuple[str, str]
) -> tuple[datetime, datetime]:
    """Historical time rules: aware, 5-minute boundaries, end after start, under 24 h, recent."""
    start_time, end_time = _time(start, fields[0]), _time(end, fields[1])
    if end_time <= start_time:
        raise InvalidRequestError(fields[1], end_time.isoformat(), f"must be after {fields[0]}")
    if end_time - start_time >= timedelta(seconds=RETENTION_SECONDS):
        raise InvalidRequestError(
            fields[1], end_time.isoformat(), "the range must be shorter than 24 hours"
        )
    if start_time < now - timedelta(seconds=RETENTION_SECONDS):
        raise InvalidRequestError(
            fields[0], start_time.isoformat(), "must be no earlier than 24 hours ago"
        )
    return start_time, end_time


def _check_current_combinations(
    metrics: tuple[Metric, ...],
    groupings: tuple[str, ...],
    channels: tuple[str, ...] | None,
    by_profile: bool,
    field: str,
) -> None:
    if "CHANNEL" in groupings and channels is None:
        raise InvalidRequestError(
            "channels", None, "grouping by CHANNEL needs a channel filter (channels=[...])"
        )
    for metric in metrics:
        if metric.name == "ESTIMATED_WAIT_TIME" and (
            groupings != ("QUEUE", "CHANNEL") or by_profile or channels is None
        ):
            raise InvalidRequestError(
                field,
                metric.name,
                "ESTIMATED_WAIT_TIME needs queue and channel filters, groupings QUEUE, CHANNEL",
            )
        if (
            metric.name in _NEEDS_PROFILE_FILTER
            and "ROUTING_PROFILE" in groupings
            and not by_profile
        ):
            raise InvalidRequestError(
                field,
                metric.name,
                "grouped by ROUTING_PROFILE, this metric needs a routing profile filter",
            )


# -- the rich API ------------------------------------------------------------------------
def _queue_selection(
    queues: Any, *, instance_id: str, region: str, field: str
) -> tuple[tuple[str, ...] | None, bool]:
    if queues == "all":
        return None, True
    if isinstance(queues, str):
        raise InvalidRequestError(field, queues, "expected a list of queue IDs/ARNs, or 'all'")
    ids = normalise_resources(
        queues, field=field, kind="queue", instance_id=instance_id, region=region
    )
    return ids, False


def check_queue_types(value: Any) -> tuple[str, ...]:
    types = _strings(value, "queue_types")
    if not types or any(t not in QUEUE_TYPES for t in types) or len(set(types)) != len(types):
        raise InvalidRequestError("queue_types", types, "STANDARD and/or AGENT, each once")
    return tuple(types)


def current_request(
    *,
    instance_id: str,
    region: str,
    metrics: Iterable[Any],
    queues: Any = None,
    routing_profiles: Any = None,
    channels: Any = None,
    groupings: Any = (),
    queue_types: Any = ("STANDARD",),
) -> MetricsRequest:
    """Validate and normalise a rich-API real-time request."""
    instance_id = check_instance_id(instance_id)
    parsed = _metrics(metrics, historical=False, field="metrics")
    if (queues is None) == (routing_profiles is None):
        raise InvalidRequestError(
            "queues", queues, "give either queues or routing_profiles (not both, not neither)"
        )
    queue_ids, all_queues, profile_ids = None, False, None
    if queues is not None:
        queue_ids, all_queues = _queue_selection(
            queues, instance_id=instance_id, region=region, field="queues"
        )
    else:
        profile_ids = normalise_resources(
            routing_profiles,
            field="routing_profiles",
            kind="routing-profile",
            instance_id=instance_id,
            region=region,
        )
    chans = _channels(channels, "channels")
    groups = _groupings(groupings, "groupings", _CURRENT_GROUPINGS)
    _check_current_combinations(parsed, groups, chans, profile_ids is not None, "metrics")
    return MetricsRequest(
        operation=CURRENT_OP,
        instance_id=instance_id,
        metrics=parsed,
        queue_ids=queue_ids,
        routing_profile_ids=profile_ids,
        all_queues=all_queues,
        queue_types=check_queue_types(queue_types),
        channels=chans,
        groupings=groups,
    )


def historical_request(
    *,
    instance_id: str,
    region: str,
    now: datetime,
    metrics: Iterable[Any],
    start: Any,
    end: Any,
    queues: Any,
    channels: Any = None,
    groupings: Any = (),
    queue_types: Any = ("STANDARD",),
) -> MetricsRequest:
    """Validate and normalise a rich-API historical request."""
    instance_id = check_instance_id(instance_id)
    parsed = _metrics(metrics, historical=True, field="metrics")
    start_time, end_time = check_interval(start, end, now, fields=("start", "end"))
    if queues is None:
        raise InvalidRequestError("queues", None, "give a list of queue IDs/ARNs, or 'all'")
    queue_ids, all_queues = _queue_selection(
        queues, instance_id=instance_id, region=region, field="queues"
    )
    return MetricsRequest(
        operation=HISTORICAL_OP,
        instance_id=instance_id,
        metrics=parsed,
        queue_ids=queue_ids,
        all_queues=all_queues,
        queue_types=check_queue_types(queue_types),
        channels=_channels(channels, "channels"),
        groupings=_groupings(groupings, "groupings", _HISTORICAL_GROUPINGS),
        start_time=start_time,
        end_time=end_time,
    )


# -- the drop-in API -------------------------------------------------------------------
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


def _check_kwargs(kwargs: Mapping[str, Any], allowed: frozenset[str], operation: str) -> None:
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


def _filters(kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> Mapping[str, Any]:
    filters = kwargs.get("Filters")
    if not isinstance(filters, Mapping):
        raise InvalidRequestError(
            "Filters", filters, "required: a dict with Queues (or RoutingProfiles)"
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
        metric_threshold = _threshold(
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
    return _metrics(metrics, historical=historical, field=field)


def current_request_from_kwargs(
    kwargs: Mapping[str, Any], *, default_instance: str | None, region: str
) -> MetricsRequest:
    """Validate the keyword arguments of aiobotocore's ``get_current_metric_data``."""
    _check_kwargs(kwargs, _CURRENT_KWARGS, CURRENT_OP)
    instance_id = check_instance_id(kwargs.get("InstanceId", default_instance), "InstanceId")
    filters = _filters(kwargs, ("Queues", "Channels", "RoutingProfiles"))
    metrics = _wire_metrics(kwargs.get("CurrentMetrics"), historical=False, field="CurrentMetrics")
    queues, profiles = filters.get("Queues"), filters.get("RoutingProfiles")
    if (queues is None) == (profiles is None):
        raise InvalidRequestError(
            "Filters", dict(filters), "give either Queues or RoutingProfiles, not both"
        )
    queue_ids = profile_ids = None
    if queues is not None:
        queue_ids = normalise_resources(
            queues, field="Filters.Queues", kind="queue", instance_id=instance_id, region=region
        )
    elif profiles is not None:
        profile_ids = normalise_resources(
            profiles,
            field="Filters.RoutingProfiles",
            kind="routing-profile",
            instance_id=instance_id,
            region=region,
        )
    channels = _channels(filters.get("Channels"), "Filters.Channels")
    groupings = _groupings(kwargs.get("Groupings"), "Groupings", _CURRENT_GROUPINGS)
    _check_current_combinations(
        metrics, groupings, channels, profile_ids is not None, "CurrentMetrics"
    )
    return MetricsRequest(
        operation=CURRENT_OP,
        instance_id=instance_id,
        metrics=metrics,
        queue_ids=queue_ids,
        routing_profile_ids=profile_ids,
        channels=channels,
        groupings=groupings,
        page_size=check_page_size(kwargs.get("MaxResults"), "MaxResults"),
        sort=_sort(kwargs.get("SortCriteria"), metrics),
    )


def _sort(value: Any, metrics: tuple[Metric, ...]) -> tuple[str, str] | None:
    if value is None or value == []:
        return None
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 1
        or not isinstance(value[0], Mapping)
    ):
        raise InvalidRequestError(
            "SortCriteria", value, "a list with one {'SortByMetric', 'SortOrder'} dict"
        )
    by, order = value[0].get("SortByMetric"), value[0].get("SortOrder", "ASCENDING")
    names = [m.name for m in metrics]
    if by not in names or by in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE"):
        raise InvalidRequestError(
            "SortCriteria[0].SortByMetric",
            by,
            "one of the requested metrics, not SLOTS_ACTIVE/SLOTS_AVAILABLE",
        )
    if order not in ("ASCENDING", "DESCENDING"):
        raise InvalidRequestError("SortCriteria[0].SortOrder", order, "ASCENDING or DESCENDING")
    return (by, order)


def historical_request_from_kwargs(
    kwargs: Mapping[str, Any], *, default_instance: str | None, region: str, now: datetime
) -> MetricsRequest:
    """Validate the keyword arguments of aiobotocore's ``get_metric_data``."""
    _check_kwargs(kwargs, _HISTORICAL_KWARGS, HISTORICAL_OP)
    instance_id = check_instance_id(kwargs.get("InstanceId", default_instance), "InstanceId")
    filters = _filters(kwargs, ("Queues", "Channels"))
    metrics = _wire_metrics(
        kwargs.get("HistoricalMetrics"), historical=True, field="HistoricalMetrics"
    )
    start_time, end_time = check_interval(
        kwargs.get("StartTime"), kwargs.get("EndTime"), now, fields=("StartTime", "EndTime")
    )
    if filters.get("Queues") is None:
        raise InvalidRequestError(
            "Filters.Queues", None, "GetMetricData needs a list of queue IDs/ARNs"
        )
    return MetricsRequest(
        operation=HISTORICAL_OP,
        instance_id=instance_id,
        metrics=metrics,
        queue_ids=normalise_resources(
            filters["Queues"],
            field="Filters.Queues",
            kind="queue",
            instance_id=instance_id,
            region=region,
        ),
        channels=_channels(filters.get("Channels"), "Filters.Channels"),
        groupings=_groupings(kwargs.get("Groupings"), "Groupings", _HISTORICAL_GROUPINGS),
        start_time=start_time,
        end_time=end_time,
        page_size=check_page_size(kwargs.get("MaxResults"), "MaxResults"),
    )
