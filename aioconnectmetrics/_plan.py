"""Planning: cut a request into batches of at most 100, and what each batch asks for.

Pure. When batches must be combined (more than one batch, and the rows do not carry the
dimension the batches cut), each batch also asks for the weight metrics the catalog
names, so that means can be combined exactly; `_merge.py` leaves them out of the answer.
"""

from __future__ import annotations

import attrs

from ._catalog import MAX_QUEUES_PER_REQUEST, Combine
from ._metric import Metric
from ._request import MetricsRequest


@attrs.frozen
class Batch:
    """One request's worth of queues (or routing profiles): at most 100 IDs."""

    index: int
    ids: tuple[str, ...]


def plan_batches(request: MetricsRequest, size: int = MAX_QUEUES_PER_REQUEST) -> tuple[Batch, ...]:
    """Cut the request's queue (or routing profile) IDs into batches, in order."""
    ids = request.partition_ids
    return tuple(
        Batch(i, ids[start : start + size]) for i, start in enumerate(range(0, len(ids), size))
    )


def needs_combining(request: MetricsRequest, batches: int) -> bool:
    """Whether rows from different batches can share a key and must be combined."""
    return batches > 1 and request.partition not in request.groupings


def fetch_metrics(request: MetricsRequest, batches: int) -> tuple[Metric, ...]:
    """The metrics each batch asks for: the caller's, plus weights when combining."""
    metrics = list(request.metrics)
    if needs_combining(request, batches):
        keys = {m.key for m in metrics}
        for metric in request.metrics:
            spec = request.spec(metric)
            if spec.combine is Combine.WEIGHTED_MEAN and spec.weight and spec.weight not in keys:
                metrics.append(Metric(spec.weight))
                keys.add(spec.weight)
    return tuple(metrics)
