"""The wire format: botocore's shapes in and out, both directions in one place.

Out to the service: a metric's request shape, one batch's request parameters. In from
it: ``MetricResults`` parsed into rows (``OLDEST_CONTACT_AGE`` always in seconds). Out
to drop-in callers: rows back into botocore's response shape. Pure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from sys import intern
from typing import Any, Literal

from ._merge import NOTHING_APPROXIMATE, Layout, Row, copied, dimensions
from ._metric import Metric
from ._plan import Batch
from ._request import CURRENT_OP, MetricsRequest


# -- requests -----------------------------------------------------------------------------
def wire_metric(request: MetricsRequest, metric: Metric) -> dict[str, Any]:
    """A metric in the service's request shape."""
    spec = request.spec(metric)
    wire: dict[str, Any] = {"Name": metric.name, "Unit": spec.unit}
    if request.operation != CURRENT_OP:
        wire["Statistic"] = spec.statistic
    if metric.threshold is not None:
        wire["Threshold"] = {"Comparison": "LT", "ThresholdValue": metric.threshold}
    return wire


def batch_params(
    request: MetricsRequest, batch: Batch, metrics: tuple[Metric, ...]
) -> dict[str, Any]:
    """The keyword arguments of one batch's first page."""
    key = "RoutingProfiles" if request.partition == "ROUTING_PROFILE" else "Queues"
    filters: dict[str, Any] = {key: list(batch.ids)}
    if request.channels is not None:
        filters["Channels"] = list(request.channels)
    params: dict[str, Any] = {"InstanceId": request.instance_id, "Filters": filters}
    if request.groupings:
        params["Groupings"] = list(request.groupings)
    wire = [wire_metric(request, m) for m in metrics]
    if request.operation == CURRENT_OP:
        params["CurrentMetrics"] = wire
    else:
        assert isinstance(request.start_time, datetime)
        assert isinstance(request.end_time, datetime)
        params["HistoricalMetrics"] = wire
        params["StartTime"] = request.start_time
        params["EndTime"] = request.end_time
    params["MaxResults"] = request.page_size
    return params


# -- responses ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=512)
def _metric_key(name: str, threshold: float | None) -> str:
    return Metric(name, None if threshold is None else int(threshold)).key


def _key_of(metric: Mapping[str, Any], thresholds: bool) -> str:
    if not thresholds:
        return str(metric["Name"])
    return _metric_key(metric["Name"], metric.get("Threshold", {}).get("ThresholdValue"))


def _layout_of(collections: Sequence[Mapping[str, Any]], thresholds: bool) -> Layout:
    metrics = tuple(c["Metric"] for c in collections)
    return Layout(
        tuple(_key_of(m, thresholds) for m in metrics),
        metrics,
        any(isinstance(v, dict) for m in metrics for v in m.values()),
    )


_new_row = tuple.__new__  # a Row without NamedTuple's __new__ (rows are many)
_NONE = NOTHING_APPROXIMATE


#: What parsed rows keep so that the drop-in API can give them back as the service sent
#: them: "layout" (compact: a shared `Layout`, the row rebuilt from its own fields; what
#: a cached answer keeps), "service" (the service's row dicts, as they came: a drop-in
#: answer that nothing keeps), "none" (a rich answer that nothing keeps).
Origins = Literal["layout", "service", "none"]


def parse_rows(
    results: Iterable[Mapping[str, Any]],
    *,
    grouped: bool,
    thresholds: bool = False,
    strings: dict[str, str] | None = None,
    origins: Origins = "layout",
) -> list[Row]:
    """Parse botocore's ``MetricResults``; OLDEST_CONTACT_AGE always in seconds.

    Ungrouped, the service sends OLDEST_CONTACT_AGE in milliseconds (documented).
    `thresholds` says whether the request has SERVICE_LEVEL metrics, whose keys carry
    their threshold; without them, a metric's key is its name. `strings` (one per
    batch) makes every row of a queue, a profile or a channel hold one string object
    for its ID, ARN and channel, where the parsed response held one per row.

    With `origins` "layout", a grouped row that fits the page's `Layout` (its first
    row's metrics: the same ``Metric`` dicts in the same order, nothing else in an
    entry or the row, both parts of each reference) keeps the layout as its origin;
    any other row keeps the service's dict (docs/memory.md).
    """
    shared = ({} if strings is None else strings).setdefault
    check, keep, share = origins == "layout", origins != "none", origins != "service"
    rows: list[Row] = []
    layout: Layout | None = None
    expected: list[Mapping[str, Any]] = []
    for result in results:
        collections = result.get("Collections", ())
        dims = result.get("Dimensions")
        origin: Layout | Mapping[str, Any] | None = result if keep else None
        values: dict[str, float | None] | None = None
        if check and dims and len(result) == 2 and collections:
            if layout is None:
                layout = _layout_of(collections, thresholds)
                expected = list(layout.metrics)
            found = [c.get("Value") for c in collections]
            if (
                len(found) == len(expected)
                and [c["Metric"] for c in collections] == expected
                # Nothing in an entry but Metric and its Value (when it has one).
                and sum(map(len, collections)) == 2 * len(found) - found.count(None)
            ):
                values = dict(zip(layout.keys, found))  # noqa: B905 - lengths checked; strict= costs
                origin = layout
        if values is None:
            if thresholds:
                values = {_key_of(c["Metric"], True): c.get("Value") for c in collections}
            elif share:  # kept: every row's keys the same string objects, not its own
                values = {intern(c["Metric"]["Name"]): c.get("Value") for c in collections}
            else:
                values = {c["Metric"]["Name"]: c.get("Value") for c in collections}
        if not grouped and (age := values.get("OLDEST_CONTACT_AGE")) is not None:
            values["OLDEST_CONTACT_AGE"] = age / 1000.0
        if not dims:
            origin = result if keep else None
            rows.append(
                _new_row(Row, ((None, None, None), None, None, values, _NONE, origin, None, None))
            )
            continue
        queue, channel, profile = (
            dims.get("Queue"),
            dims.get("Channel"),
            dims.get("RoutingProfile"),
        )
        queue_id = queue_arn = profile_id = profile_arn = None
        if queue is not None:
            queue_id, queue_arn = queue.get("Id"), queue.get("Arn")
        if profile is not None:
            profile_id, profile_arn = profile.get("Id"), profile.get("Arn")
        # Written back as it came only if each reference has its ID and ARN, nothing else.
        if (
            origin is not None
            and origin is layout
            and not (
                len(dims) == (queue is not None) + (channel is not None) + (profile is not None)
                and (queue is None or (len(queue) == 2 and None not in (queue_id, queue_arn)))
                and (
                    profile is None
                    or (len(profile) == 2 and None not in (profile_id, profile_arn))
                )
            )
        ):
            origin = result  # a dimension this module would not write back as it came
        if share:  # a kept answer: one string object per ID, ARN and channel
            if queue_id is not None:
                queue_id = shared(queue_id, queue_id)
                queue_arn = shared(queue_arn, queue_arn) if queue_arn is not None else None
            if channel is not None:
                channel = shared(channel, channel)
            if profile_id is not None:
                profile_id = shared(profile_id, profile_id)
                profile_arn = shared(profile_arn, profile_arn) if profile_arn is not None else None
        key = (queue_id, channel, profile_id)
        rows.append(
            _new_row(Row, (key, queue_arn, profile_arn, values, _NONE, origin, None, None))
        )
    return rows


# -- drop-in answers ----------------------------------------------------------------------
def botocore_response(
    request: MetricsRequest,
    merged: Sequence[Row],
    snapshots: Sequence[datetime],
    request_ids: Sequence[str] = (),
    *,
    copy_rows: bool = False,
) -> dict[str, Any]:
    """The drop-in API's answer, in botocore's response shape (no NextToken).

    A row the library did not change is the service's, as it came: rebuilt from its
    layout, or (rarely) the service's dict, copied when answers are shared
    (`copy_rows`). Other rows are written from the request's metrics; approximate
    values are given as the rich API gives them (for agent counts, the upper bound).
    ``OLDEST_CONTACT_AGE`` is in seconds, also ungrouped. ``ResponseMetadata`` is
    botocore's, for the whole answer: ``RequestId`` is the first batch's,
    ``RequestIds`` every batch's (the first page of each).
    """
    wire = [(m.key, wire_metric(request, m)) for m in request.metrics]
    results: list[Any] = []
    for row in merged:
        origin = row.origin
        if isinstance(origin, Layout):
            results.append(origin.write(row))
            continue
        if origin is not None:
            results.append(copied(origin) if copy_rows else origin)
            continue
        collections = []
        for key, metric in wire:
            entry: dict[str, Any] = {"Metric": metric}
            value = row.values[key]
            if value is not None:  # botocore leaves out a null Value
                entry["Value"] = value
            collections.append(entry)
        results.append({"Dimensions": dimensions(row), "Collections": collections})
    response: dict[str, Any] = {"MetricResults": results}
    if request.operation == "GetCurrentMetricData":
        if snapshots:
            response["DataSnapshotTime"] = min(snapshots)
        response["ApproximateTotalCount"] = len(results)
    response["ResponseMetadata"] = response_metadata(request_ids)
    return response


def response_metadata(request_ids: Sequence[str]) -> dict[str, Any]:
    """Botocore's ``ResponseMetadata`` for an answer made of several requests."""
    return {
        "RequestId": request_ids[0] if request_ids else "",
        "RequestIds": list(request_ids),
        "HTTPStatusCode": 200,
        "HTTPHeaders": {},
        "RetryAttempts": 0,
    }
