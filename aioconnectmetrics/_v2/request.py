"""GetMetricDataV2 requests: `V2Metric`, `V2Request`, and their checks. Pure.

Both faces build the same `V2Request` (`_v2/build.py`): the rich API from
`get_historical_metrics_v2`'s arguments (`build_v2_request`), the drop-in from botocore's
keyword arguments (`v2_request_from_kwargs`). Every rule is checked here, before any
request, and an error names the caller's field and what is allowed:

* times: aware, end after start, end not in the future, start within 3 months; DAY,
  WEEK and TOTAL ranges under 35 days (the API's limit, which the library does not cut:
  a day in a time zone is not always 24 hours). A FIFTEEN_MIN, THIRTY_MIN or HOUR range
  of 3 days or more is cut into windows of whole intervals (`plan.windows`).
* filters: at most 5 keys, one of them a resource (queue, profile, agent, ...); any
  number of values (planned into calls of 100, `plan.chunk_sizes`).
* groupings: at most 4; every metric must allow each resource dimension asked.
* metrics: from the catalog, each once; a threshold exactly where the metric takes one,
  with a comparison it allows; at most 2 metric filters of the keys it allows; at most
  20 SERVICE_LEVEL metrics.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._catalog import CHANNELS, MAX_RESULTS, THRESHOLD_RANGE
from .._checks import check_strings
from .._errors import InvalidRequestError
from .._metric import check_threshold
from .._request import aware_time, normalise_resources
from .catalog import (
    GROUPING_KEYS,
    INTERVALS,
    MAX_FILTER_KEYS,
    MAX_GROUPINGS_V2,
    MAX_METRIC_FILTER_VALUES,
    MAX_METRIC_FILTERS,
    MAX_SERVICE_LEVELS_V2,
    RESOURCE_DIMENSIONS,
    RESOURCE_FILTER_KEYS,
    RETENTION_MONTHS,
    V2_METRICS,
    V2Spec,
)

#: Filter keys whose values are resources of the instance, given by ID or ARN.
RESOURCE_KINDS = {"QUEUE": "queue", "ROUTING_PROFILE": "routing-profile", "AGENT": "agent"}
_MAX_VALUE_LENGTH = 250
_TIME_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
_KEYED = re.compile(r"^(?P<name>[A-Z_]+?)(?:_(?P<comparison>LTE|LT|GT))?_(?P<seconds>\d+)$")


@attrs.frozen
class MetricFilter:
    """A metric-level filter: the metric counts only contacts whose `key` is in `values`."""

    key: str
    values: tuple[str, ...]
    negate: bool = False


@attrs.frozen
class V2Metric:
    """A GetMetricDataV2 metric: its name, threshold (with comparison) and filters.

    ``V2Metric("SERVICE_LEVEL", threshold=60)`` is the service level for "removed from
    the queue in less than 60 seconds" (comparison LT, the default where allowed); its
    key is ``"SERVICE_LEVEL_60"``; with ``comparison="LTE"``, ``"SERVICE_LEVEL_LTE_60"``.
    Metric filters add ``[KEY=V1|V2]`` (``!=`` when negated) to the key.
    """

    name: str
    threshold: int | None = None
    comparison: str | None = None
    filters: tuple[MetricFilter, ...] = ()

    @property
    def key(self) -> str:
        """How results name this metric."""
        key = self.name
        if self.threshold is not None:
            spec = V2_METRICS.get(self.name)
            default = spec.comparisons[0] if spec and spec.comparisons else "LT"
            shown = "" if self.comparison in (None, default) else f"_{self.comparison}"
            key = f"{key}{shown}_{self.threshold}"
        for f in self.filters:
            key += f"[{f.key}{'!=' if f.negate else '='}{'|'.join(f.values)}]"
        return key

    def __str__(self) -> str:
        return self.key

    def wire(self) -> dict[str, Any]:
        """The metric as the API takes it (``MetricV2``)."""
        metric: dict[str, Any] = {"Name": self.name}
        if self.threshold is not None:
            metric["Threshold"] = [
                {"Comparison": self.comparison, "ThresholdValue": float(self.threshold)}
            ]
        if self.filters:
            metric["MetricFilters"] = [
                {
                    "MetricFilterKey": f.key,
                    "MetricFilterValues": list(f.values),
                    "Negate": f.negate,
                }
                for f in self.filters
            ]
        return metric


@attrs.frozen(cache_hash=True)
class V2Request:
    """One validated GetMetricDataV2 request, any number of filter values, any range.

    `filters` holds (key, values) in the caller's order; a None value is ``"all"`` (the
    instance's queues or routing profiles, listed before planning). `instance_arn` is
    None until learned (from an ARN the caller gave, or the instance's queue listing).
    """

    instance_id: str
    instance_arn: str | None
    metrics: tuple[V2Metric, ...]
    start_time: datetime
    end_time: datetime
    interval: str
    time_zone: str | None
    filters: tuple[tuple[str, tuple[str, ...] | None], ...]
    groupings: tuple[str, ...] = ()
    page_size: int = MAX_RESULTS

    operation = "GetMetricDataV2"

    @property
    def unresolved(self) -> str | None:
        """The filter key given as ``"all"``, if any."""
        return next((key for key, values in self.filters if values is None), None)

    def resolved(self, key: str, ids: Iterable[str]) -> V2Request:
        """This request with ``"all"`` of `key` replaced by `ids`."""
        filters = tuple((k, tuple(ids) if k == key else v) for k, v in self.filters)
        return attrs.evolve(self, filters=filters)


# -- times ---------------------------------------------------------------------------------
def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (clamped to month end)."""
    month = moment.month - 1 - months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def check_v2_times(
    start: Any, end: Any, interval: Any, now: datetime, *, fields: tuple[str, str, str]
) -> tuple[datetime, datetime, str]:
    """The interval and range rules of GetMetricDataV2 (see the module docstring)."""
    start_field, end_field, interval_field = fields
    if not isinstance(interval, str) or interval not in INTERVALS:
        raise InvalidRequestError(interval_field, interval, f"one of {', '.join(INTERVALS)}")
    start_time, end_time = aware_time(start, start_field), aware_time(end, end_field)
    if end_time <= start_time:
        raise InvalidRequestError(end_field, end_time.isoformat(), f"must be after {start_field}")
    if end_time > now:
        raise InvalidRequestError(
            end_field, end_time.isoformat(), f"must not be in the future (now: {now.isoformat()})"
        )
    oldest = months_before(now, RETENTION_MONTHS)
    if start_time < oldest:
        raise InvalidRequestError(
            start_field,
            start_time.isoformat(),
            f"must be within the last 3 months (no earlier than {oldest.isoformat()})",
        )
    period, longest = INTERVALS[interval]
    if (period is None or period >= 86_400) and end_time - start_time >= timedelta(
        seconds=longest
    ):
        raise InvalidRequestError(
            end_field,
            end_time.isoformat(),
            f"with interval {interval} the range must be shorter than 35 days",
        )
    return start_time, end_time, interval


def check_time_zone(value: Any, field: str) -> str | None:
    """An IANA time zone name (``Europe/Paris``), or None for UTC."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64 or not _TIME_ZONE.fullmatch(value):
        raise InvalidRequestError(field, value, "an IANA time zone name such as Europe/Paris")
    return value


# -- metrics -------------------------------------------------------------------------------
def _metric_filters(value: Any, spec: V2Spec, field: str) -> tuple[MetricFilter, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidRequestError(field, value, "expected a list of metric filters")
    items = list(value)
    if len(items) > MAX_METRIC_FILTERS:
        raise InvalidRequestError(field, len(items), f"at most {MAX_METRIC_FILTERS} filters")
    found = []
    for i, item in enumerate(items):
        here = f"{field}[{i}]"
        key: Any
        values: Any
        negate: Any
        names = ("key", "values", "negate")
        if isinstance(item, MetricFilter):
            key, values, negate = item.key, item.values, item.negate
        elif isinstance(item, Mapping):  # botocore's MetricFilterV2, and its names
            names = ("MetricFilterKey", "MetricFilterValues", "Negate")
            key = item.get("MetricFilterKey")
            values, negate = item.get("MetricFilterValues"), item.get("Negate", False)
        else:
            raise InvalidRequestError(here, item, "a MetricFilter or a MetricFilterKey mapping")
        if key not in spec.metric_filter_keys:
            allowed = ", ".join(spec.metric_filter_keys) or "none"
            raise InvalidRequestError(
                f"{here}.{names[0]}", key, f"metric filter keys {spec.name} allows: {allowed}"
            )
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise InvalidRequestError(f"{here}.{names[1]}", values, "1 to 10 non-empty strings")
        strings = tuple(values)
        if not 1 <= len(strings) <= MAX_METRIC_FILTER_VALUES or not all(
            isinstance(v, str) and v for v in strings
        ):
            raise InvalidRequestError(f"{here}.{names[1]}", strings, "1 to 10 non-empty strings")
        if not isinstance(negate, bool):
            raise InvalidRequestError(f"{here}.{names[2]}", negate, "True or False")
        found.append(MetricFilter(key, strings, negate))
    return tuple(found)


def parse_v2_metric(
    value: Any,
    field: str,
    *,
    threshold: Any = None,
    comparison: Any = None,
    filters: Any = None,
    parts: tuple[str, str, str] = ("threshold", "comparison", "filters"),
) -> V2Metric:
    """A V2 metric from a name, a key (``SERVICE_LEVEL_60``) or a `V2Metric`.

    Errors name `field`, or its `parts` (what the caller calls its threshold, comparison
    and filters) under it.
    """
    at_threshold, at_comparison, at_filters = (f"{field}.{part}" for part in parts)
    if isinstance(value, V2Metric):
        name, threshold, comparison = value.name, value.threshold, value.comparison
        filters = value.filters or None
    elif isinstance(value, str):
        name = value
        match = _KEYED.fullmatch(value)
        if match and value not in V2_METRICS and match["name"] in V2_METRICS:
            name, comparison, threshold = match["name"], match["comparison"], int(match["seconds"])
    else:
        raise InvalidRequestError(field, value, "expected a metric name or a V2Metric")
    spec = V2_METRICS.get(name)
    if spec is None:
        raise InvalidRequestError(
            field, name, "a GetMetricDataV2 metric (see docs/metrics.md#getmetricdatav2-metrics)"
        )
    if not spec.comparisons:
        if threshold is not None or comparison is not None:
            raise InvalidRequestError(at_threshold, threshold, f"{name} takes none")
    else:
        if threshold is None:
            raise InvalidRequestError(
                at_threshold,
                None,
                f"{name} needs a threshold: whole seconds from {THRESHOLD_RANGE[0]} to "
                f"{THRESHOLD_RANGE[1]} (for example '{name}_60')",
            )
        threshold = check_threshold(threshold, at_threshold)
        comparison = spec.comparisons[0] if comparison is None else comparison
        if comparison not in spec.comparisons:
            raise InvalidRequestError(
                at_comparison, comparison, f"{name} allows {', '.join(spec.comparisons)}"
            )
    return V2Metric(name, threshold, comparison, _metric_filters(filters, spec, at_filters))


def check_v2_metrics(metrics: Iterable[V2Metric], field: str) -> tuple[V2Metric, ...]:
    """At least one metric, each once, at most 20 service levels."""
    found = tuple(metrics)
    if not found:
        raise InvalidRequestError(field, [], "give at least one metric")
    keys = [m.key for m in found]
    for key in keys:
        if keys.count(key) > 1:
            raise InvalidRequestError(field, key, "each metric may be asked for once")
    if sum(m.name == "SERVICE_LEVEL" for m in found) > MAX_SERVICE_LEVELS_V2:
        raise InvalidRequestError(field, len(found), "at most 20 SERVICE_LEVEL metrics")
    return found


# -- filters and groupings -------------------------------------------------------------
def check_filter_values(
    key: str, values: Any, field: str, *, instance_id: str, region: str
) -> tuple[str, ...]:
    """One filter's values: resources by ID or ARN (of this instance), else strings."""
    if key in RESOURCE_KINDS:
        return normalise_resources(
            values, field=field, kind=RESOURCE_KINDS[key], instance_id=instance_id, region=region
        )
    items = tuple(dict.fromkeys(check_strings(field, values)))
    if not items:
        raise InvalidRequestError(field, [], "give at least one value")
    for item in items:
        if not 1 <= len(item) <= _MAX_VALUE_LENGTH:
            raise InvalidRequestError(field, item, "strings of 1 to 250 characters")
        if key == "CHANNEL" and item not in CHANNELS:
            raise InvalidRequestError(field, item, f"channels: {', '.join(CHANNELS)}")
    return items


def check_v2_shape(
    metrics: tuple[V2Metric, ...],
    filters: tuple[tuple[str, tuple[str, ...] | None], ...],
    groupings: Any,
    *,
    fields: tuple[str, str, str],
) -> tuple[str, ...]:
    """Filter keys, groupings, and each metric against both; the groupings."""
    metrics_field, filters_field, groupings_field = fields
    keys = [key for key, _ in filters]
    if len(keys) > MAX_FILTER_KEYS:
        raise InvalidRequestError(filters_field, keys, f"at most {MAX_FILTER_KEYS} filter keys")
    if not any(key in RESOURCE_FILTER_KEYS for key in keys):
        raise InvalidRequestError(
            filters_field,
            keys,
            "filter by at least one resource: " + ", ".join(RESOURCE_FILTER_KEYS),
        )
    if isinstance(groupings, (str, bytes, Mapping)) or not isinstance(groupings, Iterable):
        raise InvalidRequestError(groupings_field, groupings, "expected a list of groupings")
    grouped = tuple(groupings)
    for grouping in grouped:
        if grouping not in GROUPING_KEYS:
            raise InvalidRequestError(
                groupings_field, grouping, "a GroupingV2 key: QUEUE, CHANNEL, AGENT, ..."
            )
    if len(grouped) > MAX_GROUPINGS_V2 or len(set(grouped)) != len(grouped):
        raise InvalidRequestError(groupings_field, list(grouped), "at most 4 groupings, each once")
    for i, metric in enumerate(metrics):
        spec = V2_METRICS[metric.name]
        for what, dimension in [("filtered", k) for k in keys] + [("grouped", g) for g in grouped]:
            if dimension in RESOURCE_DIMENSIONS and dimension not in spec.dimensions:
                allowed = ", ".join(sorted(spec.dimensions)) or "none of them"
                raise InvalidRequestError(
                    f"{metrics_field}[{i}]",
                    metric.key,
                    f"cannot be {what} by {dimension}; of the resource dimensions it "
                    f"allows {allowed}",
                )
    return grouped


def check_v2_instance_arn(value: Any, field: str) -> tuple[str, str, str]:
    """An instance ARN: (the ARN, its instance ID, its region)."""
    match = re.fullmatch(
        r"arn:aws[a-z-]*:connect:(?P<region>[a-z0-9-]+):\d{12}:instance/(?P<id>[A-Za-z0-9-]{1,100})",
        value if isinstance(value, str) else "",
    )
    if match is None:
        raise InvalidRequestError(
            field, value, "an instance ARN: arn:aws:connect:REGION:ACCOUNT:instance/ID"
        )
    return value, match["id"], match["region"]
