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

import operator
import warnings
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


@attrs.frozen
class Layout:
    """How the service gave the metrics of a page's rows: shared by every row that fits it.

    `metrics` are the service's own ``Metric`` dicts, in the service's order, and `keys`
    the metric key of each. A row that fits its page's layout keeps no dict of the
    service's: the drop-in API builds the row again from its IDs, ARNs and values and
    the layout, equal to what the service sent, key order included (docs/memory.md).
    """

    keys: tuple[str, ...]
    metrics: tuple[Mapping[str, Any], ...]
    #: Whether a Metric dict holds a dict (a Threshold): copied deeply when rendered.
    nested: bool

    def write(self, row: Row) -> dict[str, Any]:
        """`row` (which fits this layout) as the service sent it, in dicts of its own.

        The dimensions, then an entry per metric of the layout, ``Value`` left out
        where the service left it out: docs/memory.md says why that is exact.
        """
        values = row.values
        pairs = zip(self.keys, self.metrics, strict=True)
        if self.nested:  # a Threshold's dict in a Metric: every level the caller's own
            collections = [
                {"Metric": copied(metric)}
                if (value := values[key]) is None
                else {"Metric": copied(metric), "Value": value}
                for key, metric in pairs
            ]
        else:
            collections = [
                {"Metric": {**metric}}
                if (value := values[key]) is None
                else {"Metric": {**metric}, "Value": value}
                for key, metric in pairs
            ]
        return {"Dimensions": dimensions(row), "Collections": collections}


def dimensions(row: Row) -> dict[str, Any]:
    """A row's ``Dimensions`` in botocore's shape and member order."""
    queue_id, channel, profile_id = row.key
    dims: dict[str, Any] = {}
    if queue_id is not None:
        dims["Queue"] = {"Id": queue_id, "Arn": row.queue_arn}
    if channel is not None:
        dims["Channel"] = channel
    if profile_id is not None:
        dims["RoutingProfile"] = {"Id": profile_id, "Arn": row.routing_profile_arn}
    return dims


def copied(value: Any) -> Any:
    """`value` with every dict and list in it copied (what JSON-like data holds)."""
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copied(v) for v in value]
    return value


class Row(NamedTuple):
    """One row, as parsed from a page and as merged: values keyed by metric key.

    `approximate` holds only the metrics whose value is approximate, with their bounds
    (or None). `origin` says how the drop-in API gives the row back while it is the
    service's, unchanged: a `Layout` (the row is rebuilt from its own fields), or the
    service's row dict itself for the rare row that cannot be rebuilt exactly; None once
    the library changed the row (combined, converted, completed).
    """

    key: RowKey
    queue_arn: str | None
    routing_profile_arn: str | None
    values: dict[str, float | None]
    approximate: Mapping[str, tuple[float, float] | None] = NOTHING_APPROXIMATE
    origin: Layout | Mapping[str, Any] | None = None
    #: GetMetricDataV2 only: every dimension of the row (grouping key -> value).
    dims: Mapping[str, str] | None = None
    #: GetMetricDataV2 only: the row's interval, (start, end) in epoch seconds.
    interval: tuple[float, float] | None = None

    @property
    def raw(self) -> Mapping[str, Any] | None:
        """Deprecated (0.3 removes it): the service's row while unchanged, else None.

        Rows no longer keep the service's dict (docs/memory.md); this writes it again.
        """
        warnings.warn(
            "Row.raw is deprecated: rows keep an `origin` (docs/memory.md); "
            "the old name goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        if isinstance(self.origin, Layout):
            return self.origin.write(self)
        return None if self.origin is None else copied(self.origin)


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
    firsts: dict[RowKey, Row] = {}
    repeated: dict[RowKey, list[Row]] = {}
    for answer in answers:
        for row in answer.rows:
            first = firsts.setdefault(row.key, row)
            if first is not row:
                repeated.setdefault(row.key, [first]).append(row)
    wanted = [(m.key, request.spec(m)) for m in request.metrics]
    keys = [k for k, _ in wanted]
    # A lone row passes through as the service sent it, unless it carries weight metrics
    # we added or an ungrouped OLDEST_CONTACT_AGE that we converted to seconds.
    converted = not request.groupings and "OLDEST_CONTACT_AGE" in keys
    merged = []
    width = len(keys)
    for key, first in firsts.items():
        rows = repeated.get(key)
        if rows is None:
            if len(first.values) != width:
                values = {k: first.values.get(k) for k in keys}
                merged.append(first._replace(values=values, origin=None))
            else:
                merged.append(first._replace(origin=None) if converted else first)
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
    documented; the testing fake uses this one), a missing dimension first. Values
    repeat a lot (counts of a few dozen at most): rows are grouped by value, the values
    sorted, and only rows that tie sorted by their IDs.
    """
    by_value: dict[float, list[Row]] = {}
    absent = []
    for row in rows:
        value = row.values.get(by)
        if value is None:
            absent.append(row)
        elif (tied := by_value.get(value)) is None:
            by_value[value] = [row]
        else:
            tied.append(row)
    out: list[Row] = []
    for value in sorted(by_value, reverse=order == "DESCENDING"):
        tied = by_value[value]
        if len(tied) > 1:
            _by_ids(tied)
        out += tied
    _by_ids(absent)
    return out + absent


def _by_ids(rows: list[Row]) -> None:
    try:
        # Keys compared as they are: a dimension is set in every row or in none.
        rows.sort(key=_KEY)
    except TypeError:  # one row has a dimension another has not
        rows.sort(key=_ids)


def _ids(row: Row) -> tuple[str, ...]:
    return tuple(part or "" for part in row.key)


_KEY = operator.itemgetter(0)


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
            row._replace(values=values, approximate=MappingProxyType(approximate), origin=None)
        )
    return out
