"""GetMetricDataV2 rows: parsed from pages, and combined across calls. Pure.

A row is keyed by its dimensions and its ``MetricInterval``. A key that one call gave is
the service's own row: exact. A key that several calls gave (a cut filter key that is not
a grouping, `plan.combined_dimensions`) combines metric by metric, by the catalog:

* ``SUM``: the sum; exact, except for agent metrics across queue chunks: bounds (the
  largest part, the sum), the sum given.
* ``MAX``, ``MIN``: exact.
* ``RATIO``: the sum of its sum part over the sum of its count part: exact.
* ``MEAN``: bounds (the smallest part, the largest part), the parts' mean given.

``None`` is "no data" (the service's null: nothing to count, or a zero denominator): left
out of every combination. One part with data is the value itself, exact: the others had
nothing to weigh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from .._merge import NOTHING_APPROXIMATE, Row
from .catalog import V2_METRICS, V2Combine
from .request import MetricFilter, V2Metric, V2Request

#: A V2 row's identity: its dimensions, sorted, and its interval.
V2Key = tuple[tuple[tuple[str, str], ...], tuple[float, float] | None]


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def metric_key(metric: Mapping[str, Any]) -> str:
    """The key (`V2Metric.key`) of a ``Collections[].Metric`` the service echoes."""
    thresholds = metric.get("Threshold") or [{}]
    threshold, comparison = thresholds[0].get("ThresholdValue"), thresholds[0].get("Comparison")
    filters = tuple(
        MetricFilter(f["MetricFilterKey"], tuple(f["MetricFilterValues"]), bool(f.get("Negate")))
        for f in metric.get("MetricFilters") or ()
    )
    whole = None if threshold is None else int(threshold)
    return V2Metric(str(metric.get("Name")), whole, comparison, filters).key


def parse_v2_rows(
    results: Iterable[Mapping[str, Any]],
    metrics: Sequence[V2Metric] = (),
    shared: dict[Any, Any] | None = None,
) -> tuple[Row, ...]:
    """A page's ``MetricResults`` as rows (values by metric key, dimensions, interval).

    A value is keyed by the metric the service echoes with it. When the echo leaves out
    something the key needs (a threshold, say), the value is that of the one metric asked
    with its name, or, when several were, of the metric asked in its position.

    `shared` (one per call, across its pages) holds one read-only dimensions mapping per
    distinct set of dimensions and one tuple per interval, which rows share: a queue's
    rows over a week of hours hold one of each, not 168.
    """
    seen = {} if shared is None else shared
    asked = {m.key for m in metrics}
    by_name: dict[str, list[str]] = {}
    for metric in metrics:
        by_name.setdefault(metric.name, []).append(metric.key)
    rows = []
    for result in results:
        items = tuple((str(k), str(v)) for k, v in (result.get("Dimensions") or {}).items())
        dims = seen.get(("dims", items))
        if dims is None:
            dims = seen[("dims", items)] = MappingProxyType(dict(items))
        found = result.get("MetricInterval")
        interval = None
        if found and "StartTime" in found:
            pair = (_seconds(found["StartTime"]), _seconds(found["EndTime"]))
            interval = seen.setdefault(("interval", pair), pair)
        values: dict[str, float | None] = {}
        collections = result.get("Collections") or ()
        for i, collection in enumerate(collections):
            echoed = collection.get("Metric") or {}
            key = metric_key(echoed)
            named = by_name.get(str(echoed.get("Name")), [])
            if key not in asked and len(named) == 1:
                key = named[0]
            elif key not in asked and named and len(collections) == len(metrics):
                key = metrics[i].key
            value = collection.get("Value")
            values[key] = None if value is None else float(value)
        rows.append(
            Row(
                (dims.get("QUEUE"), dims.get("CHANNEL"), dims.get("ROUTING_PROFILE")),
                dims.get("QUEUE_ARN"),
                dims.get("ROUTING_PROFILE_ARN"),
                values,
                dims=dims,
                interval=interval,
            )
        )
    return tuple(rows)


def v2_key(row: Row) -> V2Key:
    """What makes a V2 row one row."""
    return (tuple(sorted((row.dims or {}).items())), row.interval)


def _combine(
    metric: V2Metric, parts: Sequence[Row], *, agents_overlap: bool
) -> tuple[float | None, tuple[float, float] | None, bool]:
    """(value, bounds, exact) of one metric over the parts of one row."""
    spec = V2_METRICS[metric.name]
    present = [v for v in (p.values.get(metric.key) for p in parts) if v is not None]
    if not present:
        return None, None, True
    if spec.combine is V2Combine.RATIO and not metric.filters and spec.parts:
        numerator, denominator = spec.parts
        total = sum(p.values.get(numerator) or 0.0 for p in parts)
        count = sum(p.values.get(denominator) or 0.0 for p in parts)
        return (total / count if count else None), None, True
    if len(present) == 1:
        return present[0], None, True
    if spec.combine is V2Combine.MAX:
        return max(present), None, True
    if spec.combine is V2Combine.MIN:
        return min(present), None, True
    if spec.combine is V2Combine.SUM:
        total = sum(present)
        if spec.agent_scope and agents_overlap:
            return total, (max(present), total), False
        return total, None, True
    # MEAN (and a RATIO with metric filters, whose parts cannot carry them).
    return sum(present) / len(present), (min(present), max(present)), False


def merge_v2(
    request: V2Request, answers: Iterable[Sequence[Row]], combined: frozenset[str]
) -> list[Row]:
    """The rows of every call, one per key, in interval then dimension order.

    Metrics fetched only as parts are left out of the rows.
    """
    groups: dict[V2Key, list[Row]] = {}
    for rows in answers:
        for row in rows:
            groups.setdefault(v2_key(row), []).append(row)
    wanted = [m.key for m in request.metrics]
    merged = []
    overlap = "QUEUE" in combined
    for key in sorted(groups, key=lambda k: (k[1] or (0.0, 0.0), k[0])):
        parts = groups[key]
        first = parts[0]
        if len(parts) == 1:
            # Every metric asked, in the order asked (None where the service left one out).
            merged.append(first._replace(values={k: first.values.get(k) for k in wanted}))
            continue
        values, approximate = {}, {}
        for metric in request.metrics:
            value, bounds, exact = _combine(metric, parts, agents_overlap=overlap)
            values[metric.key] = value
            if not exact:
                approximate[metric.key] = bounds
        merged.append(
            first._replace(
                values=values,
                approximate=MappingProxyType(approximate) if approximate else NOTHING_APPROXIMATE,
            )
        )
    return merged


def wire_rows(request: V2Request, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows in botocore's ``MetricResults`` shape (every value, none marked)."""
    found = []
    for row in rows:
        start, end = row.interval or (request.start_time.timestamp(), request.end_time.timestamp())
        found.append(
            {
                "Dimensions": dict(row.dims or {}),
                "MetricInterval": {
                    "Interval": request.interval,
                    "StartTime": datetime.fromtimestamp(start, timezone.utc),
                    "EndTime": datetime.fromtimestamp(end, timezone.utc),
                },
                "Collections": [
                    {"Metric": m.wire()}
                    | ({} if row.values.get(m.key) is None else {"Value": row.values[m.key]})
                    for m in request.metrics
                ],
            }
        )
    return found
