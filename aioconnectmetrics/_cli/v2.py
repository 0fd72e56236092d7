"""``historical --v2``: GetMetricDataV2 from the command line.

``aioconnectmetrics historical --v2 --period HOUR --last 7d --all-queues --group-by QUEUE
CONTACTS_QUEUED AVG_HANDLE_TIME`` asks `get_historical_metrics_v2`; the selection, channels,
groupings, ``--partial``, ``--ids`` and the output formats are the ``historical``
command's. Rows show their dimensions (names where listed, else IDs), their interval,
and each metric, approximate ones marked ``~`` with their bounds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO

from .._client import ConnectMetrics
from .._v2.catalog import INTERVALS
from .._v2.result import V2Result, V2Row
from .output import _cell, _records


def add_v2_options(parser: argparse.ArgumentParser) -> None:
    """The ``historical`` command's GetMetricDataV2 options."""
    group = parser.add_argument_group("GetMetricDataV2 (with --v2)")
    group.add_argument(
        "--v2",
        action="store_true",
        help="ask GetMetricDataV2: 3 months back, intervals, more metrics (docs/metrics.md)",
    )
    group.add_argument(
        "--period",
        choices=tuple(INTERVALS),
        default="TOTAL",
        help="the interval period of each row (default TOTAL: one over the whole range)",
    )
    # Before 0.2 this was --interval, which every other command takes in seconds.
    group.add_argument(
        "--interval", dest="old_period", choices=tuple(INTERVALS), help=argparse.SUPPRESS
    )
    group.add_argument("--time-zone", help="IANA time zone intervals align to (default UTC)")
    group.add_argument("--routing-profiles", nargs="+", metavar="ID")
    group.add_argument("--all-routing-profiles", action="store_true", help="every profile")
    group.add_argument("--agents", nargs="+", metavar="ID", help="user IDs or ARNs")


def _cells(row: V2Row, metrics: list[str]) -> dict[str, str]:
    # Names for people where listed (--ids, or a role that may not list them: IDs).
    cells = {k: row.name(k) or v for k, v in row.dimensions.items() if not k.endswith("_ARN")}
    cells["interval"] = f"{row.interval_start:%Y-%m-%d %H:%M}"
    for metric in metrics:
        text = _cell(row[metric])
        if not row.is_exact(metric):
            bounds = row.bounds(metric)
            text += f" ~ ({_cell(bounds[0])}..{_cell(bounds[1])})" if bounds else " ~"
        cells[metric] = text
    return cells


def render_v2(result: V2Result, fmt: str, out: TextIO) -> None:
    """The rows as a table, JSON (with the bounds of approximate values) or CSV."""
    metrics = [m.key for m in result.metrics]
    if fmt == "json":
        rows = []
        for row in result.rows:
            record: dict[str, Any] = row.to_dict()
            bounds = {m: row.bounds(m) for m in metrics if not row.is_exact(m)}
            if bounds:
                record["approximate"] = bounds
            rows.append(record)
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    cells = [_cells(row, metrics) for row in result.rows]
    dimensions = [k for k in (cells[0] if cells else {}) if k not in metrics]
    title = (
        f"{result.interval} rows from {result.start_time:%Y-%m-%d %H:%M} to "
        f"{result.end_time:%Y-%m-%d %H:%M} UTC, {result.batches} calls"
    )
    _records(cells, [*dimensions, *metrics], title, fmt, out)
    if fmt != "csv" and any(not r.is_exact(m) for r in result.rows for m in metrics):
        out.write("~ approximate (combined across calls): bounds in brackets\n")


def period(args: argparse.Namespace, err: TextIO) -> str:
    """The interval period asked: ``--period``, or the deprecated ``--interval``, noted."""
    if args.old_period is None:
        return str(args.period)
    err.write(
        "note: historical --v2 --interval is deprecated: use --period "
        "(--interval is seconds, as in watch); it goes in 0.3\n"
    )
    return str(args.old_period)


async def run_v2(
    cm: ConnectMetrics,
    args: argparse.Namespace,
    selection: Mapping[str, Any],
    times: tuple[datetime, datetime],
    names: bool,
) -> V2Result:
    """Ask `get_historical_metrics_v2` with the command's arguments."""
    return await cm.get_historical_metrics_v2(
        args.metrics,
        start=times[0],
        end=times[1],
        interval=args.period,
        time_zone=args.time_zone,
        names=names,
        **selection,
    )
