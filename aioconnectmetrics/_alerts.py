"""Thresholds on metrics (``OLDEST_CONTACT_AGE>120``), and when rows cross them.

Pure: the syntax (shared by ``watch --alert``, ``board --alert`` and ``follow(alerts=)``),
which rows of a result are over a threshold (`firing`), and the crossings between two
results (`crossings`): a row that is over and was not has *entered*; one that was and is
no longer (or is gone) has *cleared*. Each crossing is told once: a row that stays over
says nothing more.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import attrs

from ._errors import InvalidRequestError
from ._result import MetricRow, MetricsResult

_ALERT = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*(>=|<=|>|<|==)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}
#: A row's dimensions: (queue ID, channel, routing profile ID); all None for the summary.
RowKey = tuple[str | None, str | None, str | None]
SUMMARY: RowKey = (None, None, None)


@attrs.frozen
class Alert:
    """A threshold on one metric: ``OLDEST_CONTACT_AGE>120``."""

    metric: str
    op: str
    threshold: float

    def fires(self, value: float | None) -> bool:
        """Whether `value` crosses the threshold (no data never does)."""
        return value is not None and _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"


def parse_alert(text: object, metrics: Sequence[str], *, field: str = "--alert") -> Alert:
    """``METRIC>N`` (or >=, <, <=, ==) on one of `metrics`, or `InvalidRequestError`.

    `field` names the option or argument in the error (``--alert``, ``alerts``).
    """
    match = _ALERT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidRequestError(field, text, "METRIC>N, >=, <, <= or ==, such as X>120")
    metric, op, threshold = match.groups()
    if metric not in metrics:
        raise InvalidRequestError(field, text, f"a metric asked for: {', '.join(metrics)}")
    return Alert(metric, op, float(threshold))


def parse_alerts(texts: object, metrics: Sequence[str], *, field: str) -> tuple[Alert, ...]:
    """Each of `texts` parsed (`parse_alert`); a lone string is refused, not split."""
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise InvalidRequestError(field, texts, "a list of thresholds, such as ['X>120']")
    return tuple(parse_alert(text, metrics, field=field) for text in texts)


def row_key(row: MetricRow) -> RowKey:
    """The dimensions that name `row` among its result's rows."""
    return (row.queue_id, row.channel, row.routing_profile_id)


def rows_of(result: MetricsResult) -> Iterable[MetricRow]:
    """The rows alerts are checked on: the grouped rows, or the summary."""
    if result.groupings:
        return result.rows
    return (result.summary,) if result.summary is not None else ()


#: Which (alert, row) pairs are over their threshold.
Firing = frozenset[tuple[Alert, RowKey]]


def firing(result: MetricsResult, alerts: Sequence[Alert]) -> Firing:
    """The (alert, row) pairs of `result` over their threshold."""
    if not alerts:
        return frozenset()
    return frozenset(
        (alert, row_key(row))
        for row in rows_of(result)
        for alert in alerts
        if alert.fires(row[alert.metric])
    )


@attrs.frozen
class AlertEvent:
    """A row crossing a threshold: ``entered`` (now over it) or ``cleared`` (no longer).

    Attributes:
        alert: the threshold.
        state: ``"entered"`` or ``"cleared"``.
        queue_id, channel, routing_profile_id: the row's dimensions (all None for the
            instance summary).
        name: the row's queue or routing profile name, when the answer has names.
        value: the row's value now (None when the row has no data, or is gone).
    """

    alert: Alert
    state: Literal["entered", "cleared"]
    queue_id: str | None
    channel: str | None
    routing_profile_id: str | None
    name: str | None
    value: float | None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: the alert as text, the dimensions that are set."""
        out: dict[str, object] = {"alert": str(self.alert), "state": self.state}
        for key in ("queue_id", "channel", "routing_profile_id", "name"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["value"] = self.value
        return out


def crossings(before: Firing, after: Firing, result: MetricsResult) -> tuple[AlertEvent, ...]:
    """The crossings from `before` to `after` (`result` is the answer `after` is of).

    Entered first, then cleared; each in the order of the result's rows, then alerts.
    """
    if before == after:
        return ()
    rows: Mapping[RowKey, MetricRow] = {row_key(r): r for r in rows_of(result)}

    def event(alert: Alert, key: RowKey, state: Literal["entered", "cleared"]) -> AlertEvent:
        row = rows.get(key)
        return AlertEvent(
            alert=alert,
            state=state,
            queue_id=key[0],
            channel=key[1],
            routing_profile_id=key[2],
            name=(row.queue_name or row.routing_profile_name) if row is not None else None,
            value=row[alert.metric] if row is not None else None,
        )

    order = {key: i for i, key in enumerate(rows)}

    def ranked(pairs: Iterable[tuple[Alert, RowKey]]) -> list[tuple[Alert, RowKey]]:
        return sorted(pairs, key=lambda p: (order.get(p[1], len(order)), str(p[1]), str(p[0])))

    entered = [event(a, k, "entered") for a, k in ranked(after - before)]
    cleared = [event(a, k, "cleared") for a, k in ranked(before - after)]
    return (*entered, *cleared)
