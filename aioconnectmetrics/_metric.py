"""Metrics: `Metric`, and the metric meant by what a caller gives (a name, a key, an object).

Checked against the catalog: the name for the operation, and the ``SERVICE_LEVEL``
threshold (whole seconds, 1 to 604,800), at most 20 service levels per request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import attrs

from ._catalog import CURRENT, HISTORICAL, MAX_SERVICE_LEVEL_METRICS, THRESHOLD_RANGE
from ._errors import InvalidRequestError

_SERVICE_LEVEL_KEY = re.compile(r"^SERVICE_LEVEL_(\d+)$")


@attrs.frozen
class Metric:
    """A metric to fetch: its name and, for ``SERVICE_LEVEL``, the threshold in seconds.

    Unit and statistic come from the catalog. ``Metric.service_level(60)`` is the service
    level for "answered in less than 60 seconds"; its key is ``"SERVICE_LEVEL_60"``.
    """

    name: str
    threshold: int | None = None

    @classmethod
    def service_level(cls, seconds: int) -> Metric:
        """The SERVICE_LEVEL metric for a threshold of `seconds` (comparison LT)."""
        return cls("SERVICE_LEVEL", seconds)

    @property
    def key(self) -> str:
        """How results name this metric: its name, or ``SERVICE_LEVEL_<seconds>``."""
        return self.name if self.threshold is None else f"{self.name}_{self.threshold}"

    def __str__(self) -> str:
        return self.key


def check_threshold(value: Any, field: str) -> int:
    low, high = THRESHOLD_RANGE
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise InvalidRequestError(field, value, "whole seconds from 1 to 604800")
    if not low <= value <= high:
        raise InvalidRequestError(field, value, "whole seconds from 1 to 604800")
    return int(value)


def parse_metric(value: Any, *, historical: bool, field: str) -> Metric:
    """A metric from a name, a ``SERVICE_LEVEL_<seconds>`` key or a `Metric`."""
    catalog = HISTORICAL if historical else CURRENT
    if isinstance(value, str):
        match = _SERVICE_LEVEL_KEY.fullmatch(value)
        metric = Metric("SERVICE_LEVEL", int(match[1])) if match else Metric(value)
    elif isinstance(value, Metric):
        metric = value
    else:
        raise InvalidRequestError(field, value, "expected a metric name or a Metric")
    spec = catalog.get(metric.name)
    if spec is None:
        kind = "historical" if historical else "real-time"
        raise InvalidRequestError(
            field, metric.name, f"allowed {kind} metrics: {', '.join(sorted(catalog))}"
        )
    if spec.needs_threshold:
        if metric.threshold is None:
            raise InvalidRequestError(
                field,
                metric.name,
                "SERVICE_LEVEL needs a threshold: Metric.service_level(60) or 'SERVICE_LEVEL_60'",
            )
        check_threshold(metric.threshold, f"{field}.threshold")
    elif metric.threshold is not None:
        raise InvalidRequestError(
            f"{field}.threshold",
            metric.threshold,
            f"only SERVICE_LEVEL takes a threshold, not {metric.name}",
        )
    return metric


def check_metrics(values: Iterable[Any], *, historical: bool, field: str) -> tuple[Metric, ...]:
    if isinstance(values, (str, Metric)) or not isinstance(values, Iterable):
        raise InvalidRequestError(field, values, "expected a list of metrics")
    metrics = [
        parse_metric(v, historical=historical, field=f"{field}[{i}]") for i, v in enumerate(values)
    ]
    if not metrics:
        raise InvalidRequestError(field, [], "give at least one metric")
    seen: set[str] = set()
    for metric in metrics:
        if metric.key in seen:
            raise InvalidRequestError(field, metric.key, "each metric may be asked for once")
        seen.add(metric.key)
    if sum(1 for m in metrics if m.name == "SERVICE_LEVEL") > MAX_SERVICE_LEVEL_METRICS:
        raise InvalidRequestError(field, len(metrics), "at most 20 SERVICE_LEVEL metrics")
    return tuple(metrics)
