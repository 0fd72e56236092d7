"""Planning a GetMetricDataV2 request into API calls. Pure.

A request may hold any number of filter values and, for FIFTEEN_MIN, THIRTY_MIN and HOUR,
any range within the 3 months the service keeps. One API call holds at most 100 filter
values across its filter keys (CHANNEL values not counted) and, for those intervals, a
range under 3 days. So:

* `windows`: the range is cut into windows of whole intervals (3 days less one interval);
  every interval lies in one window, so no row is ever in two windows;
* `chunk_sizes`: the 100 values are shared out: keys that fit in an equal share keep all
  their values, and what they leave goes to the larger keys, which are cut into chunks;
* `plan_calls`: one call per window and per combination of chunks (their product: a
  row matches one chunk of each cut key).

A row can come from several calls only when a cut key is not a grouping
(`combined_dimensions`); then each metric combines by the catalog (`_v2/catalog.py`),
parts are asked alongside (`fetched_metrics`), and a metric with no honest combination is
refused here, before any call.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._errors import InvalidRequestError
from .catalog import INTERVALS, MAX_FILTER_VALUES, V2_METRICS, V2Combine
from .request import V2Metric, V2Request

#: The filter key whose values do not count towards the 100.
UNCOUNTED = "CHANNEL"


@attrs.frozen
class V2Call:
    """One API call of a plan: its window and its filters."""

    index: int
    start: datetime
    end: datetime
    filters: tuple[tuple[str, tuple[str, ...]], ...]


def windows(request: V2Request) -> tuple[tuple[datetime, datetime], ...]:
    """The request's range, cut into windows of whole intervals that one call may span."""
    period, longest = INTERVALS[request.interval]
    start, end = request.start_time, request.end_time
    if period is None or period >= 86_400 or end - start < timedelta(seconds=longest):
        return ((start, end),)
    step = timedelta(seconds=longest - period)
    cuts = []
    while start < end:
        cuts.append((start, min(start + step, end)))
        start += step
    return tuple(cuts)


def chunk_sizes(filters: Sequence[tuple[str, Sequence[str]]]) -> dict[str, int]:
    """Values per call for each counted key: small keys whole, the rest share the remainder."""
    counted = sorted(
        ((key, len(values)) for key, values in filters if key != UNCOUNTED), key=lambda kv: kv[1]
    )
    budget, sizes = MAX_FILTER_VALUES, {}
    for i, (key, count) in enumerate(counted):
        share = max(1, budget // (len(counted) - i))
        sizes[key] = min(count, share)
        budget -= sizes[key]
    return sizes


def _resolved(request: V2Request) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for key, values in request.filters:
        if values is None:
            raise RuntimeError("'all' must be resolved before planning")
        found.append((key, values))
    return tuple(found)


def plan_calls(request: V2Request) -> tuple[V2Call, ...]:
    """Every call of the request: windows times chunk combinations."""
    filters = _resolved(request)
    sizes = chunk_sizes(filters)
    per_key = []
    for key, values in filters:
        size = sizes.get(key, len(values))
        per_key.append(
            [(key, values[i : i + size]) for i in range(0, len(values), size)] or [(key, ())]
        )
    calls: list[V2Call] = []
    for start, end in windows(request):
        for combination in itertools.product(*per_key):
            calls.append(V2Call(len(calls), start, end, tuple(combination)))
    return tuple(calls)


def cut_keys(request: V2Request) -> frozenset[str]:
    """The filter keys whose values are spread over several calls."""
    filters = _resolved(request)
    sizes = chunk_sizes(filters)
    return frozenset(key for key, values in filters if len(values) > sizes.get(key, len(values)))


def combined_dimensions(request: V2Request) -> frozenset[str]:
    """The cut keys that are not groupings: rows that several calls give and combine."""
    return frozenset(cut_keys(request) - set(request.groupings))


def _refusal(metric: V2Metric, combined: frozenset[str]) -> str | None:
    spec = V2_METRICS[metric.name]
    if spec.combine is V2Combine.SCORE:
        return f"{metric.name} (unit {spec.unit}) is a score with no count behind it"
    if spec.agent_scope and "QUEUE" in combined and spec.combine is V2Combine.MEAN:
        return f"{metric.name} is about agents, who serve several queues: the parts overlap"
    return None


def fetched_metrics(request: V2Request) -> tuple[V2Metric, ...]:
    """The metrics to ask each call for: the request's, then any parts it needs.

    Raises `InvalidRequestError` for a metric that cannot be combined honestly.
    """
    combined = combined_dimensions(request)
    if not combined:
        return request.metrics
    for i, metric in enumerate(request.metrics):
        reason = _refusal(metric, combined)
        if reason is not None:
            cut = ", ".join(sorted(combined))
            raise InvalidRequestError(
                f"metrics[{i}]",
                metric.key,
                f"{reason}, so its values from the several calls this request needs cannot "
                f"be combined (their {cut} values are cut into 100s): group by {cut}, "
                f"or ask for fewer values",
            )
    fetched = list(request.metrics)
    keys = {m.key for m in fetched}
    for metric in request.metrics:
        parts = V2_METRICS[metric.name].parts
        if parts is None or metric.filters:
            continue
        for name in parts:
            if name not in keys:
                fetched.append(V2Metric(name))
                keys.add(name)
    return tuple(fetched)


def call_params(
    request: V2Request, call: V2Call, metrics: Sequence[V2Metric], resource_arn: str
) -> dict[str, Any]:
    """The keyword arguments of one call, as botocore takes them."""
    interval: dict[str, Any] = {"IntervalPeriod": request.interval}
    if request.time_zone is not None:
        interval["TimeZone"] = request.time_zone
    params: dict[str, Any] = {
        "ResourceArn": resource_arn,
        "StartTime": call.start,
        "EndTime": call.end,
        "Interval": interval,
        "Filters": [{"FilterKey": k, "FilterValues": list(v)} for k, v in call.filters],
        "Metrics": [m.wire() for m in metrics],
        "MaxResults": request.page_size,
    }
    if request.groupings:
        params["Groupings"] = list(request.groupings)
    return params
