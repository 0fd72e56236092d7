"""Results: the immutable answers of the rich API, and the error that carries a partial one."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._cache import Answer
from ._errors import ConnectMetricsError, InvalidRequestError
from ._merge import Row
from ._metric import Metric
from ._request import MetricsRequest


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


def _key(metric: str | _Keyed) -> str:
    return metric if isinstance(metric, str) else metric.key


_NO_NAMES: Mapping[str, str] = MappingProxyType({})


class RowValues:
    """A row's values by metric key, and which are exact: what every row type shares."""

    _row: Row

    @property
    def values(self) -> Mapping[str, float | None]:
        """Metric key -> value, read-only."""
        return MappingProxyType(self._row.values)

    @property
    def approximate(self) -> Mapping[str, tuple[float, float] | None]:
        """Metric key -> bounds (or None), for the approximate values only."""
        return self._row.approximate

    def __getitem__(self, metric: str | _Keyed) -> float | None:
        return self._row.values[_key(metric)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._row.values)

    def is_exact(self, metric: str | _Keyed) -> bool:
        """Whether the value is exact (the service's own, or combined exactly)."""
        key = _key(metric)
        if key not in self._row.values:
            raise KeyError(key)
        return key not in self._row.approximate

    def bounds(self, metric: str | _Keyed) -> tuple[float, float] | None:
        """(lower, upper) bounds of an approximate value; None if exact or unknown."""
        return self._row.approximate.get(_key(metric))


@attrs.frozen(repr=False)
class MetricRow(RowValues):
    """One row: its dimensions and a value per metric (``None`` = no data).

    Index it by metric name or `Metric`: ``row["AGENTS_ONLINE"]``. Values the library
    had to combine approximately are marked: ``row.is_exact(m)`` is false and
    ``row.bounds(m)`` gives (lower, upper) where known.
    """

    # A view over the merged row: few fields keep building thousands of rows cheap.
    _row: Row
    #: ID -> name of queues and routing profiles, when asked for with ``names=True``.
    _names: Mapping[str, str] = _NO_NAMES

    @property
    def queue_id(self) -> str | None:
        """The queue's ID, when grouped by QUEUE."""
        return self._row.key[0]

    @property
    def queue_arn(self) -> str | None:
        """The queue's ARN, when grouped by QUEUE."""
        return self._row.queue_arn

    @property
    def queue_name(self) -> str | None:
        """The queue's name, when grouped by QUEUE and asked for with ``names=True``."""
        return self._names.get(self._row.key[0] or "")

    @property
    def routing_profile_name(self) -> str | None:
        """The routing profile's name, when grouped by it and asked for with ``names=True``."""
        return self._names.get(self._row.key[2] or "")

    @property
    def channel(self) -> str | None:
        """The channel, when grouped by CHANNEL."""
        return self._row.key[1]

    @property
    def routing_profile_id(self) -> str | None:
        """The routing profile's ID, when grouped by ROUTING_PROFILE."""
        return self._row.key[2]

    @property
    def routing_profile_arn(self) -> str | None:
        """The routing profile's ARN, when grouped by ROUTING_PROFILE."""
        return self._row.routing_profile_arn

    def __repr__(self) -> str:
        dims = ", ".join(f"{k}={v!r}" for k, v in self._dimensions().items())
        return f"MetricRow({dims}{', ' if dims else ''}values={dict(self._row.values)!r})"

    def _dimensions(self) -> dict[str, str]:
        dims = {
            "queue_id": self.queue_id,
            "queue_arn": self.queue_arn,
            "queue_name": self.queue_name,
            "channel": self.channel,
            "routing_profile_id": self.routing_profile_id,
            "routing_profile_arn": self.routing_profile_arn,
            "routing_profile_name": self.routing_profile_name,
        }
        return {k: v for k, v in dims.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        """A flat dict: the dimensions that are set, then one entry per metric."""
        return self._dimensions() | dict(self._row.values)


#: What `MetricsResult.by` matches each grouping against: a queue by ID or ARN.
_BY: Mapping[str, Callable[[MetricRow], tuple[str | None, ...]]] = {
    "QUEUE": lambda r: (r.queue_id, r.queue_arn),
    "CHANNEL": lambda r: (r.channel,),
    "ROUTING_PROFILE": lambda r: (r.routing_profile_id, r.routing_profile_arn),
}


def _accessor_renamed(old: str, new: str) -> None:
    warnings.warn(
        f"MetricsResult.{old} is deprecated: use result.{new}; the old name goes in 0.3",
        DeprecationWarning,
        stacklevel=3,
    )


@attrs.frozen
class MetricsResult:
    """The merged answer of one call.

    Attributes:
        rows: the grouped rows (empty when there is no grouping), in a stable order.
        summary: the instance-level row when there is no grouping (None if no data).
        metrics: the metrics asked for, in order.
        groupings: the groupings asked for.
        snapshot_time: real-time only: the oldest batch's ``DataSnapshotTime`` (UTC).
        snapshot_spread: newest minus oldest batch snapshot (zero for one batch).
        start_time, end_time: historical only: the interval asked for.
        batches: how many batches answered; pages: how many pages they took.
        partial: True when some batches failed and this is what the others gave.
        failed_queues: with `partial`, the queue (or routing profile) IDs of the
            batches that failed, in batch order: what this answer is missing.
    """

    rows: tuple[MetricRow, ...]
    summary: MetricRow | None
    metrics: tuple[Metric, ...]
    groupings: tuple[str, ...]
    snapshot_time: datetime | None
    snapshot_spread: timedelta
    start_time: datetime | None = None
    end_time: datetime | None = None
    batches: int = 0
    pages: int = 0
    partial: bool = False
    failed_queues: tuple[str, ...] = ()
    # Built on the first lookup: many callers only iterate or serialise.
    _index: dict[tuple[str | None, str | None, str | None], MetricRow] = attrs.field(
        init=False, repr=False, eq=False, factory=dict
    )

    def _lookup(self) -> dict[tuple[str | None, str | None, str | None], MetricRow]:
        if not self._index and self.rows:
            for row in self.rows:
                queue_id, channel, profile_id = row._row.key
                self._index[(queue_id, channel, profile_id)] = row
                if row._row.queue_arn:
                    self._index[(row._row.queue_arn, channel, profile_id)] = row
        return self._index

    def __iter__(self) -> Iterator[MetricRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row(
        self,
        *,
        queue: str | None = None,
        channel: str | None = None,
        routing_profile: str | None = None,
    ) -> MetricRow:
        """The row with exactly these dimensions (queue by ID or ARN); KeyError if none."""
        if queue is None and channel is None and routing_profile is None and self.summary:
            return self.summary
        key = (queue, channel, routing_profile)
        index = self._lookup()
        if key not in index:
            raise KeyError(key)
        return index[key]

    def by(self, **dimensions: str) -> tuple[MetricRow, ...]:
        """The rows whose dimensions include these, as `V2Result.by` takes them.

        Keys are grouping names: ``by(QUEUE=queue)`` (an ID or ARN),
        ``by(CHANNEL="CHAT")``, ``by(ROUTING_PROFILE=profile)``, or several at once.
        """
        checks = []
        for grouping, value in dimensions.items():
            if grouping not in _BY:
                raise InvalidRequestError(
                    grouping, value, f"by() takes the groupings {', '.join(_BY)}"
                )
            checks.append((_BY[grouping], value))
        return tuple(r for r in self.rows if all(value in get(r) for get, value in checks))

    def by_queue(self, queue: str) -> tuple[MetricRow, ...]:
        """Deprecated: ``by(QUEUE=queue)``, the accessor both result types share."""
        _accessor_renamed("by_queue(queue)", "by(QUEUE=queue)")
        return self.by(QUEUE=queue)

    def by_channel(self, channel: str) -> tuple[MetricRow, ...]:
        """Deprecated: ``by(CHANNEL=channel)``, the accessor both result types share."""
        _accessor_renamed("by_channel(channel)", "by(CHANNEL=channel)")
        return self.by(CHANNEL=channel)

    def value(
        self,
        metric: str | Metric,
        *,
        queue: str | None = None,
        channel: str | None = None,
        routing_profile: str | None = None,
    ) -> float | None:
        """One value: of the summary when no dimension is given, else of that row."""
        return self.row(queue=queue, channel=channel, routing_profile=routing_profile)[metric]

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts, one per row (the summary when ungrouped): for JSON or a dataframe."""
        if not self.groupings:
            return [self.summary.to_dict()] if self.summary else []
        return [row.to_dict() for row in self.rows]


@attrs.frozen
class MetricsPage:
    """One page of a streamed answer (`ConnectMetrics.iter_current_pages`).

    Attributes:
        batch: the batch's index (batches are the caller's queues, 100 at a time).
        page: the page's index within its batch (0 for the first).
        queue_ids: the queue (or routing profile) IDs of the batch.
        rows: the page's rows.
        snapshot_time: the batch's ``DataSnapshotTime`` (real time).
        restarted: the batch started again from its first page (its token expired or
            the snapshot moved on): rows of this batch received before are void.
    """

    batch: int
    page: int
    queue_ids: tuple[str, ...]
    rows: tuple[MetricRow, ...]
    snapshot_time: datetime | None
    restarted: bool = False


_new = object.__new__
_set_row = MetricRow.__dict__["_row"].__set__  # the slot's own setter: a frozen class
_set_names = MetricRow.__dict__["_names"].__set__


def _unnamed(row: Row) -> MetricRow:
    """``MetricRow(row)``, made without the generated ``__init__`` (rows are many)."""
    made = _new(MetricRow)
    _set_row(made, row)
    _set_names(made, _NO_NAMES)
    return made


def build_result(
    request: MetricsRequest,
    merged: Sequence[Row],
    *,
    snapshots: Sequence[datetime],
    batches: int,
    pages: int,
    partial: bool = False,
    failed_queues: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
) -> MetricsResult:
    """The rich API's answer; `names` (ID -> name) label its rows."""
    rows = tuple(MetricRow(r, names) for r in merged) if names else tuple(map(_unnamed, merged))
    oldest = min(snapshots) if snapshots else None
    spread = (max(snapshots) - min(snapshots)) if snapshots else timedelta(0)
    return MetricsResult(
        rows=rows if request.groupings else (),
        summary=(rows[0] if rows else None) if not request.groupings else None,
        metrics=request.metrics,
        groupings=request.groupings,
        snapshot_time=oldest,
        snapshot_spread=spread,
        start_time=request.start_time,
        end_time=request.end_time,
        batches=batches,
        pages=pages,
        partial=partial,
        failed_queues=failed_queues,
    )


class _Partial(Protocol):
    @property
    def batches(self) -> int: ...


_P = TypeVar("_P", bound=_Partial)


class PartialResultError(ConnectMetricsError, Generic[_P]):
    """Some batches failed after retries; others succeeded.

    Attributes:
        partial: the answer merged from the batches that succeeded (marked partial):
            a `MetricsResult`, or a `V2Result` for `get_historical_metrics_v2`.
        failures: batch index -> the error that batch ended with.
        failed_queues: batch index -> the queue (or routing profile) IDs of that batch.
    """

    def __init__(
        self,
        partial: _P,
        failures: Mapping[int, ConnectMetricsError],
        failed_queues: Mapping[int, Sequence[str]],
    ) -> None:
        self.partial = partial
        self.failures = dict(failures)
        self.failed_queues = {k: tuple(v) for k, v in failed_queues.items()}
        total = len(self.failures) + partial.batches
        first = next(iter(self.failures.values()))
        super().__init__(
            f"{len(self.failures)} of {total} batches failed (first: {first}); "
            "the batches that succeeded are in .partial"
        )


def result_of(
    request: MetricsRequest, answer: Answer, names: Mapping[str, str] | None = None
) -> MetricsResult:
    """The rich API's result of a merged answer, its rows labelled with `names`."""
    return build_result(
        request,
        answer.rows,
        snapshots=answer.snapshots,
        batches=answer.batches,
        pages=answer.pages,
        partial=bool(answer.failures),
        failed_queues=failed_ids(answer),
        names=names,
    )


def failed_ids(answer: Answer) -> tuple[str, ...]:
    """The IDs of the batches (calls) that failed, in batch order."""
    return tuple(i for _, ids in sorted(answer.failed_queues) for i in ids)


def check_failures(
    request: MetricsRequest,
    answer: Answer,
    *,
    allow_partial: bool,
    names: Mapping[str, str] | None = None,
) -> None:
    """Raise for failed batches: the first error if none succeeded, else a partial one."""
    raise_failures(answer, allow_partial, lambda: result_of(request, answer, names))


def raise_failures(answer: Answer, allow_partial: bool, partial: Callable[[], _Partial]) -> None:
    """Raise for failed batches of any operation's answer.

    The first error if no batch succeeded; else, unless `allow_partial`, a
    `PartialResultError` holding `partial()` (the rendered answer of those that did).
    """
    if not answer.failures:
        return
    failures = dict(answer.failures)
    if not answer.batches:
        # Nothing succeeded: the error itself says more than an empty answer.
        raise failures[min(failures)]
    if not allow_partial:
        raise PartialResultError(partial(), failures, dict(answer.failed_queues))
