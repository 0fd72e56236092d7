"""Merging: pages into batches, batches into one answer. Pure.

Rows are keyed by their dimensions (queue, channel, routing profile). A key that only one
batch returned is taken as the service gave it: exact. A key that several batches
returned (the ungrouped summary, or rows grouped by CHANNEL alone, when the batches cut
queues) is combined metric by metric, by the catalog:

* sums: exact when the batches hold disjoint things for that metric (contacts when
  batches cut queues; agents when batches cut routing profiles). Otherwise an agent (or
  a queue shared by routing profiles) is counted in several batches: the true value lies
  between the largest batch and the sum; the value given is the sum (the upper bound),
  marked approximate, with both bounds.
* maxima: the maximum of the batches: exact.
* means: weighted by the catalog's weight metric, fetched with each batch; exact where
  that weight is the metric's true denominator, else approximate with bounds (the
  smallest and largest batch value, which the true mean lies between, since batches hold
  disjoint contacts).
* OCCUPANCY: the mean of the batch values, approximate, no bounds (agents overlap).

``None`` means "no data": never read as 0, left out of sums and weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ._catalog import Combine, MetricSpec, Scope
from ._request import Metric, MetricsRequest

#: (queue ID, channel, routing profile ID)
RowKey = tuple[str | None, str | None, str | None]


@attrs.frozen
class ParsedRow:
    """One row of a response, with values keyed by metric key and in the catalog's units."""

    key: RowKey
    queue_arn: str | None
    routing_profile_arn: str | None
    values: Mapping[str, float | None]


@attrs.frozen
class BatchAnswer:
    """Every page of one batch, parsed, with the batch's one snapshot time."""

    index: int
    ids: tuple[str, ...]
    rows: tuple[ParsedRow, ...]
    snapshot_time: datetime | None
    pages: int
    restarts: int = 0


@attrs.frozen
class Combined:
    """A combined value: exact, or approximate with optional bounds."""

    value: float | None
    exact: bool = True
    bounds: tuple[float, float] | None = None


@attrs.frozen
class MergedRow:
    """One row of the merged answer."""

    key: RowKey
    queue_arn: str | None
    routing_profile_arn: str | None
    values: Mapping[str, Combined]


def _metric_key(metric: Mapping[str, Any]) -> str:
    threshold = (metric.get("Threshold") or {}).get("ThresholdValue")
    return Metric(metric["Name"], None if threshold is None else int(threshold)).key


def parse_rows(results: Iterable[Mapping[str, Any]], *, grouped: bool) -> list[ParsedRow]:
    """Parse botocore's ``MetricResults``; OLDEST_CONTACT_AGE always in seconds.

    Ungrouped, the service sends OLDEST_CONTACT_AGE in milliseconds (documented).
    """
    rows = []
    for result in results:
        dims = result.get("Dimensions") or {}
        queue, profile = dims.get("Queue") or {}, dims.get("RoutingProfile") or {}
        values: dict[str, float | None] = {}
        for collection in result.get("Collections") or ():
            value = collection.get("Value")
            name = collection["Metric"]["Name"]
            if value is not None and name == "OLDEST_CONTACT_AGE" and not grouped:
                value = value / 1000.0
            values[_metric_key(collection["Metric"])] = value
        rows.append(
            ParsedRow(
                key=(queue.get("Id"), dims.get("Channel"), profile.get("Id")),
                queue_arn=queue.get("Arn"),
                routing_profile_arn=profile.get("Arn"),
                values=values,
            )
        )
    return rows


def _disjoint(spec: MetricSpec, partition: str) -> bool:
    """Whether batches that cut `partition` hold disjoint things for this metric."""
    return (spec.scope is Scope.CONTACT) == (partition == "QUEUE")


def combine(
    spec: MetricSpec, partition: str, entries: Sequence[tuple[float | None, float | None]]
) -> Combined:
    """Combine one metric's values from several batches: (value, weight) per batch."""
    present = [(v, w) for v, w in entries if v is not None]
    if not present:
        return Combined(None, exact=spec.combine is not Combine.NONE)
    values = [v for v, _ in present]
    low, high = min(values), max(values)
    if spec.combine is Combine.SUM:
        if _disjoint(spec, partition):
            return Combined(float(sum(values)))
        return Combined(float(sum(values)), exact=False, bounds=(high, float(sum(values))))
    if spec.combine is Combine.MAX:
        return Combined(high)
    if spec.combine is Combine.WEIGHTED_MEAN:
        weighted = [(v, w) for v, w in present if w is not None and w > 0]
        total = sum(w for _, w in weighted)
        exact = spec.weight_exact and len(weighted) == len(present) and _disjoint(spec, partition)
        if total > 0:
            mean = sum(v * w for v, w in weighted) / total
        else:
            mean, exact = sum(values) / len(values), False
        return Combined(mean) if exact else Combined(mean, exact=False, bounds=(low, high))
    if spec.combine is Combine.AGENT_RATIO:
        return Combined(sum(values) / len(values), exact=False)
    return Combined(None, exact=False)


def merge(request: MetricsRequest, answers: Sequence[BatchAnswer]) -> list[MergedRow]:
    """Merge batch answers into rows: concatenated, and combined where keys repeat.

    Order is stable: batches in order, rows in the service's order within a batch, a
    combined row where its key first appeared.
    """
    seen: dict[RowKey, list[ParsedRow]] = {}
    for answer in answers:
        for row in answer.rows:
            seen.setdefault(row.key, []).append(row)
    wanted = [(m.key, request.spec(m)) for m in request.metrics]
    merged = []
    for key, rows in seen.items():
        first = rows[0]
        if len(rows) == 1:
            values = {k: Combined(first.values.get(k)) for k, _ in wanted}
        else:
            values = {
                k: combine(
                    spec,
                    request.partition,
                    [
                        (r.values.get(k), r.values.get(spec.weight) if spec.weight else None)
                        for r in rows
                    ],
                )
                for k, spec in wanted
            }
        merged.append(MergedRow(key, first.queue_arn, first.routing_profile_arn, values))
    if request.sort is not None:
        by, order = request.sort
        merged.sort(
            key=lambda r: (r.values[by].value is None, r.values[by].value or 0.0),
            reverse=order == "DESCENDING",
        )
    return merged
