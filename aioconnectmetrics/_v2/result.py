"""GetMetricDataV2 results: `V2Row` and `V2Result`, the rich API's immutable answer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import attrs

from .._cache import Answer
from .._merge import Row
from .._result import RowValues, failed_ids, raise_failures
from .request import V2Metric, V2Request


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


@attrs.frozen(repr=False)
class V2Row(RowValues):
    """One row: its dimensions, its interval, and a value per metric key (None: no data).

    ``row["AVG_HANDLE_TIME"]``; ``row.dimensions["QUEUE"]``; ``row.is_exact(m)`` is
    false for a value combined approximately, whose ``row.bounds(m)`` hold the truth.
    """

    _row: Row
    _request: V2Request
    #: ID -> name of queues, routing profiles and agents, with ``names=True``.
    _names: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def dimensions(self) -> Mapping[str, str]:
        """Grouping key -> value (``QUEUE`` -> its ID, ``QUEUE_ARN``, ...), read-only."""
        return MappingProxyType(dict(self._row.dims or {}))

    def name(self, dimension: str) -> str | None:
        """The name of the row's QUEUE, ROUTING_PROFILE or AGENT (with ``names=True``)."""
        value = (self._row.dims or {}).get(dimension)
        return None if value is None else self._names.get(value)

    @property
    def interval_start(self) -> datetime:
        """The start of the row's interval (UTC)."""
        interval = self._row.interval
        return _time(interval[0]) if interval else self._request.start_time

    @property
    def interval_end(self) -> datetime:
        """The end of the row's interval (UTC)."""
        interval = self._row.interval
        return _time(interval[1]) if interval else self._request.end_time

    def __repr__(self) -> str:
        return (
            f"V2Row({dict(self._row.dims or {})!r}, {self.interval_start.isoformat()}, "
            f"values={dict(self._row.values)!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A flat dict: dimensions (and their names), interval start and end, the values."""
        dims = dict(self._row.dims or {})
        named = {f"{k}_NAME": self._names[v] for k, v in dims.items() if v in self._names}
        return (
            dims
            | named
            | {
                "interval_start": self.interval_start.isoformat(),
                "interval_end": self.interval_end.isoformat(),
            }
            | dict(self._row.values)
        )


@attrs.frozen
class V2Result:
    """The merged answer of one `get_historical_metrics_v2` call.

    Attributes:
        rows: one per dimensions and interval, in interval then dimension order.
        metrics: the metrics asked for, in order.
        groupings: the groupings asked for.
        interval: the interval period (``HOUR``, ``TOTAL``, ...).
        start_time, end_time: the range asked for (UTC).
        batches: API calls that answered; pages: pages they took.
        partial: True when some calls failed and this is what the others gave.
        failed_queues: with `partial`, the filter values (queue, routing profile or
            agent IDs) of the calls that failed, in call order, as
            `PartialResultError.failed_queues` names them.
    """

    rows: tuple[V2Row, ...]
    metrics: tuple[V2Metric, ...]
    groupings: tuple[str, ...]
    interval: str
    start_time: datetime
    end_time: datetime
    batches: int = 0
    pages: int = 0
    partial: bool = False
    failed_queues: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[V2Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def summary(self) -> V2Row | None:
        """The one row of an ungrouped TOTAL request (the instance summary), else None."""
        if self.groupings or len(self.rows) != 1:
            return None
        return self.rows[0]

    def by(self, **dimensions: str) -> tuple[V2Row, ...]:
        """The rows whose dimensions include these (``by(QUEUE=queue_id)``)."""
        return tuple(
            r for r in self.rows if all(r.dimensions.get(k) == v for k, v in dimensions.items())
        )

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts, one per row: for JSON or a dataframe."""
        return [row.to_dict() for row in self.rows]


def v2_result_of(
    request: V2Request, answer: Answer, names: Mapping[str, str] | None = None
) -> V2Result:
    """The rich API's result of a merged answer, its rows named by `names` (ID -> name)."""
    return V2Result(
        rows=tuple(V2Row(r, request, names or {}) for r in answer.rows),
        metrics=request.metrics,
        groupings=request.groupings,
        interval=request.interval,
        start_time=request.start_time,
        end_time=request.end_time,
        batches=answer.batches,
        pages=answer.pages,
        partial=bool(answer.failures),
        failed_queues=failed_ids(answer),
    )


def check_v2_failures(request: V2Request, answer: Answer, *, allow_partial: bool) -> None:
    """Raise for failed calls: the first error if none succeeded, else a partial one."""
    raise_failures(answer, allow_partial, lambda: v2_result_of(request, answer))
