"""The terminal wallboard of ``watch``: what needs attention, on one screen.

A rich renderable laid out for the console it is drawn on, each time it is drawn (so a
resized terminal gets a new layout): a header line (instance, snapshot time and age,
spread, batches, quota use, how many rows alert), the instance summary, then the rows
that matter most first (sorted by one metric, largest first), as many as fit, and
"+N more" for the rest. Alerts (``OLDEST_CONTACT_AGE>120``) colour the cells that cross
them; approximate values are marked ``~`` as in the other tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import attrs
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from ._alerts import Alert
from ._result import MetricRow, MetricsResult

#: Lines besides the rows: header, summary, a blank line, the table's head and rule, "+N".
_FIXED_LINES = 6
ALERT_STYLE = "bold white on red"


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def _value(row: MetricRow, key: str, alerts: Sequence[Alert]) -> Text:
    value = row[key]
    text = _cell(value)
    if not row.is_exact(key):
        bounds = row.bounds(key)
        text += f" ~({_cell(bounds[0])}..{_cell(bounds[1])})" if bounds else " ~"
    firing = any(a.metric == key and a.fires(value) for a in alerts)
    return Text(text, style=ALERT_STYLE if firing else "")


def _ordered(rows: Iterable[MetricRow], key: str) -> list[MetricRow]:
    rows = list(rows)
    present = sorted((r for r in rows if r[key] is not None), key=lambda r: -(r[key] or 0.0))
    return present + [r for r in rows if r[key] is None]


def _label(row: MetricRow) -> str:
    parts = [
        row.queue_name or row.queue_id,
        row.channel,
        row.routing_profile_name or row.routing_profile_id,
    ]
    return " / ".join(p for p in parts if p)


@attrs.frozen
class Wallboard:
    """One screen of ``watch``, drawn for the console's size when rendered.

    Attributes:
        rows: the grouped answer (None: ungrouped, the summary only).
        summary: the instance summary.
        sort_by: the metric the rows are sorted by, largest first.
        alerts: thresholds that colour cells.
        instance: the instance ID, for the header.
        quota: a few words on quota use, for the header.
        clock: seconds since the epoch, for the snapshot's age.
    """

    rows: MetricsResult | None
    summary: MetricsResult | None
    sort_by: str
    alerts: tuple[Alert, ...] = ()
    instance: str = ""
    quota: str = ""
    clock: Callable[[], float] = time.time

    def alerting(self) -> int:
        """Rows with a value that crosses an alert."""
        rows = self.rows.rows if self.rows is not None else ()
        return sum(1 for r in rows if any(a.fires(r[a.metric]) for a in self.alerts))

    def _header(self) -> Text:
        answer = self.rows or self.summary
        header = Text(self.instance or "Amazon Connect", style="bold")
        if answer is not None and answer.snapshot_time is not None:
            age = max(0.0, self.clock() - answer.snapshot_time.timestamp())
            header.append(f"  snapshot {answer.snapshot_time:%H:%M:%S} UTC ({age:.0f} s ago)")
            header.append(f"  spread {answer.snapshot_spread.total_seconds():.0f} s")
            header.append(f"  {answer.batches} batches")
        if self.quota:
            header.append(f"  {self.quota}")
        if self.alerts:
            count = self.alerting()
            style = ALERT_STYLE if count else "green"
            header.append("  ")
            header.append(f"{count} alerting", style=style)
        return header

    def _summary(self) -> Text:
        line = Text("instance: ", style="bold")
        row = self.summary.summary if self.summary is not None else None
        if row is None:
            return line + Text("no data")
        for i, key in enumerate(row):
            if i:
                line.append("   ")
            line.append(f"{key} ")
            line.append_text(_value(row, key, self.alerts))
        return line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Laid out for the space there is now."""
        yield self._header()
        yield self._summary()
        if self.rows is None:
            return
        yield Text("")
        height = options.height or console.size.height
        room = max(1, height - _FIXED_LINES)
        rows = _ordered(self.rows.rows, self.sort_by)
        shown, rest = rows[:room], len(rows) - min(room, len(rows))
        table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
        table.add_column(" / ".join(g.lower() for g in self.rows.groupings), no_wrap=True)
        for metric in self.rows.metrics:
            marker = " v" if metric.key == self.sort_by else ""
            table.add_column(metric.key + marker, justify="right", no_wrap=True)
        for row in shown:
            values = (_value(row, m.key, self.alerts) for m in self.rows.metrics)
            table.add_row(_label(row), *values)
        yield table
        if rest:
            yield Text(f"+{rest} more (sorted by {self.sort_by}, largest first)", style="dim")
