"""Planning: cut a request into batches of at most 100, and what each batch asks for.

Pure. When batches must be combined (more than one batch, and the rows do not carry the
dimension the batches cut), each batch also asks for the weight metrics the catalog
names, so that means can be combined exactly; `_merge.py` leaves them out of the answer.
"""

from __future__ import annotations

import attrs

from ._catalog import MAX_QUEUES_PER_REQUEST, Combine, Scope
from ._metric import Metric
from ._request import CURRENT_OP, MetricsRequest


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
    """The metrics each batch asks for: the caller's, plus exact weights when combining.

    A weight is added only where it is the metric's own denominator (`weight_exact`):
    the mean has a value exactly when its count is not zero, so asking the count adds
    no row the caller's own request would not return, even from a service that leaves
    out rows with no data. A merely close count could have data where the mean has
    none, and add rows: those means combine unweighted, approximate with bounds.
    """
    metrics = list(request.metrics)
    if needs_combining(request, batches):
        keys = {m.key for m in metrics}
        for metric in request.metrics:
            spec = request.spec(metric)
            if (
                spec.combine is Combine.WEIGHTED_MEAN
                and spec.weight
                and spec.weight_exact
                and spec.weight not in keys
            ):
                metrics.append(Metric(spec.weight))
                keys.add(spec.weight)
    return tuple(metrics)


@attrs.frozen
class AgentSplit:
    """Agent metrics asked apart, grouped by routing profile, to be counted exactly.

    An agent serves every queue of their one routing profile, so when batches cut
    queues, an agent is in every batch that holds one of those queues. Grouped by
    ROUTING_PROFILE (allowed under a queue filter), a profile's row is the same in every
    batch that touches it: combined across batches by maximum, then summed over
    profiles, it counts each agent once.
    """

    #: The request the batches ask for agent metrics with.
    request: MetricsRequest
    #: The caller's other metrics (asked as before), with weights; empty: none.
    others: tuple[Metric, ...]


def agent_split(request: MetricsRequest, batches: int) -> AgentSplit | None:
    """The split, when real-time agent metrics over several queue batches need one."""
    if (
        request.operation != CURRENT_OP
        or not needs_combining(request, batches)
        or request.partition != "QUEUE"
        or "ROUTING_PROFILE" in request.groupings
    ):
        return None
    agents = tuple(m for m in request.metrics if request.spec(m).scope is Scope.AGENT)
    if not agents:
        return None
    groupings = ("ROUTING_PROFILE", *(("CHANNEL",) if "CHANNEL" in request.groupings else ()))
    others = tuple(m for m in fetch_metrics(request, batches) if m not in agents)
    return AgentSplit(attrs.evolve(request, metrics=agents, groupings=groupings), others)
