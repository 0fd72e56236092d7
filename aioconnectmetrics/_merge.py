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

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

import attrs

from ._catalog import Combine, MetricSpec, Scope
from ._request import MetricsRequest

#: (queue ID, channel, routing profile ID)
RowKey = tuple[str | None, str | None, str | None]


NOTHING_APPROXIMATE: Mapping[str, tuple[float, float] | None] = MappingProxyType({})


class Row(NamedTuple):
    """One row, as parsed from a page and as merged: values keyed by metric key.

    `approximate` holds only the metrics whose value is approximate, with their bounds
    (or None). `raw` is the service's own row while it is unchanged, so that the
    drop-in API can pass it through.
    """

    key: RowKey
    queue_arn: str | None
    routing_profile_arn: str | None
    values: dict[str, float | None]
    approximate: Mapping[str, tuple[float, float] | None] = NOTHING_APPROXIMATE
    raw: Mapping[str, Any] | None = None
    #: GetMetricDataV2 only: every dimension of the row (grouping key -> value).
    dims: Mapping[str, str] | None = None
    #: GetMetricDataV2 only: the row's interval, (start, end) in epoch seconds.
    interval: tuple[float, float] | None = None


@attrs.frozen
class BatchAnswer:
    """Every page of one batch, parsed, with the snapshot time of each of its requests."""

    index: int
    ids: tuple[str, ...]
    rows: tuple[Row, ...]
    #: The snapshot of the batch's rows (None: its request asked nothing but agents).
    snapshot_time: datetime | None
    pages: int
    restarts: int = 0
    #: Agent metrics of this batch grouped by routing profile (an `AgentSplit`); None:
    #: not asked that way.
    profile_rows: tuple[Row, ...] | None = None
    #: The snapshot of the routing-profile request those rows came from.
    profile_snapshot: datetime | None = None
    #: The service's request ID of the batch's first page.
    request_id: str | None = None

    @property
    def snapshots(self) -> tuple[datetime, ...]:
        """The snapshot of every request the batch is made of."""
        return tuple(t for t in (self.snapshot_time, self.profile_snapshot) if t is not None)


@attrs.frozen
class Combined:
    """A combined value: exact, or approximate with optional bounds."""

    value: float | None
    exact: bool = True
    bounds: tuple[float, float] | None = None


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


def per_profile(values: Sequence[float | None]) -> Combined:
    """One routing profile's agent value from the batches that returned it.

    The same in every batch (one snapshot): exact. Otherwise (the batches' snapshots
    differ, or agents of the profile reach a batch through queues of their own) the true
    count lies between the smallest value and the sum: the largest is given, approximate.
    """
    present = [v for v in values if v is not None]
    if not present:
        return Combined(None)
    low, high = min(present), max(present)
    if low == high:
        return Combined(high)
    return Combined(high, exact=False, bounds=(low, float(sum(present))))


def _agents_by_profile(answers: Sequence[BatchAnswer]) -> dict[RowKey, dict[str, Combined]]:
    """Agent metrics per (channel) key: each profile once (`per_profile`), then summed.

    A sum is of one moment only when every routing-profile request it adds up answered
    from one snapshot: profiles counted at different snapshots add up to a number that
    may have been true at none of them, so such a total is approximate (and has no
    bounds that would hold the truth: agents log in and out between snapshots).
    """
    moments = {a.profile_snapshot for a in answers if a.profile_rows is not None}
    per_key: dict[tuple[str | None, str | None], dict[str, list[float]]] = {}
    for answer in answers:
        for row in answer.profile_rows or ():
            _, channel, profile = row.key
            values = per_key.setdefault((channel, profile), {})
            for metric, value in row.values.items():
                if value is not None:
                    values.setdefault(metric, []).append(value)
    totals: dict[RowKey, dict[str, list[Combined]]] = {}
    for (channel, _), values in per_key.items():
        into = totals.setdefault((None, channel, None), {})
        for metric, found in values.items():
            into.setdefault(metric, []).append(per_profile(found))
    return {
        key: {metric: _of_moments(_sum(parts), len(moments)) for metric, parts in metrics.items()}
        for key, metrics in totals.items()
    }


def _of_moments(total: Combined, moments: int) -> Combined:
    """`total`, no longer exact when its parts come from more than one snapshot."""
    if moments <= 1 or not total.exact:
        return total
    return Combined(total.value, exact=False)


def _sum(parts: Sequence[Combined]) -> Combined:
    total = float(sum(p.value or 0.0 for p in parts))
    if all(p.exact for p in parts):
        return Combined(total)
    low = sum(p.bounds[0] if p.bounds else (p.value or 0.0) for p in parts)
    high = sum(p.bounds[1] if p.bounds else (p.value or 0.0) for p in parts)
    return Combined(total, exact=False, bounds=(float(low), float(high)))


def merge(request: MetricsRequest, answers: Sequence[BatchAnswer]) -> list[Row]:
    """Merge batch answers into rows: concatenated, and combined where keys repeat.

    Order is stable: batches in order, rows in the service's order within a batch, a
    combined row where its key first appeared. A drop-in request's order (its `sort`)
    is applied over all batches when it sorts by a metric the caller asked for; by any
    other metric, that order is the batches' own (docs/decisions.md, "Answers"): the
    library never asks a metric only to order rows.
    """
    seen: dict[RowKey, list[Row]] = {}
    for answer in answers:
        for row in answer.rows:
            found = seen.get(row.key)
            if found is None:
                seen[row.key] = [row]
            else:
                found.append(row)
    wanted = [(m.key, request.spec(m)) for m in request.metrics]
    keys = [k for k, _ in wanted]
    # A lone row passes through as the service sent it, unless it carries weight metrics
    # we added or an ungrouped OLDEST_CONTACT_AGE that we converted to seconds.
    converted = not request.groupings and "OLDEST_CONTACT_AGE" in keys
    merged = []
    for key, rows in seen.items():
        first = rows[0]
        if len(rows) == 1:
            if len(first.values) != len(keys):
                values = {k: first.values.get(k) for k in keys}
                merged.append(first._replace(values=values, raw=None))
            else:
                merged.append(first._replace(raw=None) if converted else first)
            continue
        # A routing profile's row repeats in every batch of queues that touches it.
        profile_of_queues = request.partition == "QUEUE" and key[2] is not None
        combined = {
            k: per_profile([v for r in rows if (v := r.values.get(k)) is not None] or [None])
            if profile_of_queues and spec.scope is Scope.AGENT
            else combine(
                spec,
                request.partition,
                [
                    (r.values.get(k), r.values.get(spec.weight) if spec.weight else None)
                    for r in rows
                ],
            )
            for k, spec in wanted
        }
        merged.append(
            Row(
                key,
                first.queue_arn,
                first.routing_profile_arn,
                {k: c.value for k, c in combined.items()},
                MappingProxyType({k: c.bounds for k, c in combined.items() if not c.exact}),
            )
        )
    if any(a.profile_rows is not None for a in answers):
        merged = _with_agents(request, merged, _agents_by_profile(answers))
    if len(answers) > 1 and request.sort is not None and request.sort[0] in keys:
        merged = ordered(merged, *request.sort)
    return merged


def ordered(rows: Sequence[Row], by: str, order: str) -> list[Row]:
    """Rows as the service orders one request's: by `by` in `order`, no data last.

    Ties keep the order of their dimension IDs (the service's own order of ties is not
    documented; the testing fake uses this one).
    """
    by_ids = sorted(rows, key=lambda r: tuple(part or "" for part in r.key))
    present = [r for r in by_ids if r.values.get(by) is not None]
    present.sort(key=lambda r: r.values[by] or 0.0, reverse=order == "DESCENDING")
    return present + [r for r in by_ids if r.values.get(by) is None]


def _with_agents(
    request: MetricsRequest, merged: list[Row], agents: dict[RowKey, dict[str, Combined]]
) -> list[Row]:
    """The merged rows with their agent metrics from `_agents_by_profile`."""
    keys = [m.key for m in request.metrics]
    agent_keys = [m.key for m in request.metrics if request.spec(m).scope is Scope.AGENT]
    by_key = {row.key: row for row in merged}
    missing = [k for k in agents if k not in by_key]  # only agent metrics asked, say
    if not request.groupings and not by_key:
        missing.append((None, None, None))  # a summary always has its row
    for key in missing:
        by_key[key] = Row(key, None, None, dict.fromkeys(keys))
    out = []
    for key, row in by_key.items():
        found = agents.get(key, {})
        values = dict(row.values)
        approximate = dict(row.approximate)
        for metric in agent_keys:
            # No profile row for this key: no agent serves these queues here, so 0.
            combined = found.get(metric, Combined(None if key in agents else 0.0))
            values[metric] = combined.value
            approximate.pop(metric, None)
            if not combined.exact:
                approximate[metric] = combined.bounds
        out.append(
            row._replace(values=values, approximate=MappingProxyType(approximate), raw=None)
        )
    return out
