"""The wire format: botocore's shapes in and out, both directions in one place.

Out to the service: a metric's request shape, one batch's request parameters. In from
it: ``MetricResults`` parsed into rows (``OLDEST_CONTACT_AGE`` always in seconds). Out
to drop-in callers: rows back into botocore's response shape. Pure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ._merge import Row
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


def parse_rows(
    results: Iterable[Mapping[str, Any]], *, grouped: bool, thresholds: bool = False
) -> list[Row]:
    """Parse botocore's ``MetricResults``; OLDEST_CONTACT_AGE always in seconds.

    Ungrouped, the service sends OLDEST_CONTACT_AGE in milliseconds (documented).
    `thresholds` says whether the request has SERVICE_LEVEL metrics, whose keys carry
    their threshold; without them, a metric's key is its name (the fast path).
    """
    rows = []
    for result in results:
        collections = result.get("Collections", ())
        if thresholds:
            values = {
                _metric_key(
                    c["Metric"]["Name"], c["Metric"].get("Threshold", {}).get("ThresholdValue")
                ): c.get("Value")
                for c in collections
            }
        else:
            values = {c["Metric"]["Name"]: c.get("Value") for c in collections}
        if not grouped and values.get("OLDEST_CONTACT_AGE") is not None:
            values["OLDEST_CONTACT_AGE"] = values["OLDEST_CONTACT_AGE"] / 1000.0
        dims = result.get("Dimensions")
        if dims:
            queue, profile = dims.get("Queue") or {}, dims.get("RoutingProfile") or {}
            key = (queue.get("Id"), dims.get("Channel"), profile.get("Id"))
            rows.append(Row(key, queue.get("Arn"), profile.get("Arn"), values, raw=result))
        else:
            rows.append(Row((None, None, None), None, None, values, raw=result))
    return rows


# -- drop-in answers ----------------------------------------------------------------------
def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def botocore_response(
    request: MetricsRequest,
    merged: Sequence[Row],
    snapshots: Sequence[datetime],
    request_ids: Sequence[str] = (),
    *,
    copy_rows: bool = False,
) -> dict[str, Any]:
    """The drop-in API's answer, in botocore's response shape (no NextToken).

    Approximate values are given as the value the rich API gives (for agent counts,
    the upper bound). ``OLDEST_CONTACT_AGE`` is in seconds, also ungrouped.
    ``ResponseMetadata`` is botocore's, for the whole answer: ``RequestId`` is the first
    batch's, ``RequestIds`` every batch's (the first page of each).
    """
    wire = [(m.key, wire_metric(request, m)) for m in request.metrics]
    results = []
    for row in merged:
        if row.raw is not None:
            # The service's row, unchanged (copied when answers are shared).
            results.append(_copy(row.raw) if copy_rows else row.raw)
            continue
        queue_id, channel, profile_id = row.key
        dims: dict[str, Any] = {}
        if queue_id is not None:
            dims["Queue"] = {"Id": queue_id, "Arn": row.queue_arn}
        if channel is not None:
            dims["Channel"] = channel
        if profile_id is not None:
            dims["RoutingProfile"] = {"Id": profile_id, "Arn": row.routing_profile_arn}
        collections = []
        for key, metric in wire:
            entry: dict[str, Any] = {"Metric": metric}
            value = row.values[key]
            if value is not None:  # botocore leaves out a null Value
                entry["Value"] = value
            collections.append(entry)
        results.append({"Dimensions": dims, "Collections": collections})
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
