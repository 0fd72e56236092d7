"""The command line's output: metrics, queues and agents as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO

from .._agents import Agent, AgentActivity, AgentsResult
from .._result import MetricRow, MetricsResult

_DIMENSIONS = (
    "queue_id",
    "queue_name",
    "channel",
    "routing_profile_id",
    "routing_profile_name",
)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{int(value):,}" if value == int(value) else f"{value:,.2f}"
    return str(value)


def _columns(result: MetricsResult, fmt: str) -> tuple[list[str], list[MetricRow]]:
    """The columns: dimensions (a table shows names where known, CSV IDs and names), metrics."""
    rows = list(result.rows) if result.groupings else ([result.summary] if result.summary else [])
    named = any(r.queue_name or r.routing_profile_name for r in rows)
    dims = []
    for grouping, column in (
        ("QUEUE", "queue"),
        ("CHANNEL", "channel"),
        ("ROUTING_PROFILE", "routing_profile"),
    ):
        if grouping not in result.groupings:
            continue
        if column == "channel":
            dims.append(column)
        elif not named:
            dims.append(f"{column}_id")
        else:
            dims += [f"{column}_name"] if fmt == "table" else [f"{column}_id", f"{column}_name"]
    return dims + [m.key for m in result.metrics], rows


def _row_values(row: MetricRow, columns: list[str]) -> list[object]:
    values = row.to_dict()
    return [values.get(column) for column in columns]


def render(result: MetricsResult, fmt: str, out: TextIO) -> None:
    """Write a result as a table, JSON or CSV."""
    columns, rows = _columns(result, fmt)
    if fmt == "json":
        document: dict[str, Any] = {
            "snapshot_time": result.snapshot_time.isoformat() if result.snapshot_time else None,
            "snapshot_spread_seconds": result.snapshot_spread.total_seconds(),
            "start_time": result.start_time.isoformat() if result.start_time else None,
            "end_time": result.end_time.isoformat() if result.end_time else None,
            "batches": result.batches,
            "partial": result.partial,
            "rows": [row.to_dict() for row in rows],
            "approximate": [
                {k: list(v) if v else None for k, v in row.approximate.items()} for row in rows
            ],
        }
        json.dump(document, out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in _row_values(row, columns)])
    else:
        _table(result, columns, rows, out)


def _table(result: MetricsResult, columns: list[str], rows: list[MetricRow], out: TextIO) -> None:
    from rich.console import Console  # noqa: PLC0415 - the optional `cli` extra
    from rich.table import Table  # noqa: PLC0415

    when = (
        f"snapshot {result.snapshot_time:%Y-%m-%d %H:%M:%S} UTC"
        if result.snapshot_time
        else f"{result.start_time:%Y-%m-%d %H:%M} to {result.end_time:%H:%M} UTC"
    )
    table = Table()
    for column in columns:
        table.add_column(
            column,
            justify="left" if column in _DIMENSIONS else "right",
        )
    for row in rows:
        cells = []
        for column, value in zip(columns, _row_values(row, columns), strict=True):
            text = _cell(value)
            if column in row.approximate:
                bounds = row.bounds(column)
                text += f" ~ ({_cell(bounds[0])}..{_cell(bounds[1])})" if bounds else " ~"
            cells.append(text)
        table.add_row(*cells)
    console = Console(file=out, width=max(100, len(columns) * 18))
    console.print(f"{when}, {result.batches} batches")
    console.print(table)
    if any(row.approximate for row in rows):
        console.print("~ approximate (agents serve queues in several batches): bounds in brackets")


def _records(
    rows: list[dict[str, str]], columns: Sequence[str], title: str, fmt: str, out: TextIO
) -> None:
    """Rows of text as CSV or as a table under `title` (JSON is each caller's own)."""
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else list(columns))
        writer.writeheader()
        writer.writerows(rows)
        return
    from rich.console import Console  # noqa: PLC0415 - the optional `cli` extra
    from rich.table import Table  # noqa: PLC0415

    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(row[column] for column in columns))
    console = Console(file=out, width=max(120, 22 * len(columns)))
    console.print(title)
    console.print(table)


def listing(
    rows: list[dict[str, str]], shown: Sequence[str], what: str, fmt: str, out: TextIO
) -> None:
    """Write a listing (queues, routing profiles): one dict per item; `shown` in a table."""
    if fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        _records(rows, shown, f"{len(rows)} {what}", fmt, out)


def _activity_label(activity: AgentActivity) -> str:
    return activity.value.lower().replace("_", " ")


def _agent_cells(agent: Agent) -> dict[str, str]:
    contacts = ", ".join(
        f"{c.channel} {c.state.lower()} @ {c.queue_name or c.queue_id or '-'}"
        for c in agent.contacts
    )
    return {
        "activity": _activity_label(agent.activity),
        "agent": agent.username or agent.user_id,
        "status": agent.status_name or "-",
        "since": f"{agent.status_since:%H:%M:%S}" if agent.status_since else "-",
        "routing_profile": agent.routing_profile_name or agent.routing_profile_id,
        "contacts": contacts or "-",
        "available_slots": " ".join(
            f"{channel}:{n}" for channel, n in sorted(agent.available_slots.items()) if n
        )
        or "-",
    }


def agents(result: AgentsResult, fmt: str, out: TextIO) -> None:
    """Write agents, by activity (then by name): a count per activity, then one row each."""
    order = {activity: i for i, activity in enumerate(AgentActivity)}
    listed = sorted(result, key=lambda a: (order[a.activity], a.username or a.user_id))
    if fmt == "json":
        document = {
            "fetched_at": result.fetched_at.isoformat(),
            "agents_listed": len(result),
            "counts": {a.value: n for a, n in result.counts().items()},
            "agents": [agent.to_dict() for agent in listed],
        }
        json.dump(document, out, indent=2)
        out.write("\n")
        return
    summary = ", ".join(f"{n} {_activity_label(a)}" for a, n in result.counts().items() if n)
    title = f"{len(result)} agents at {result.fetched_at:%Y-%m-%d %H:%M:%S} UTC"
    rows = [_agent_cells(agent) for agent in listed]
    columns = ["activity", "agent", "status", "since", "routing_profile", "contacts"]
    columns.append("available_slots")
    _records(rows, columns, f"{title}: {summary}" if summary else title, fmt, out)
