"""``aioconnectmetrics watch``: a live view that never steps back to an older snapshot.

On a terminal with the table format, the view is the wallboard (`_wallboard.py`),
redrawn in place and laid out again when the terminal is resized; elsewhere each new
snapshot is printed as a table, CSV, or one JSON document per line.
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import datetime
from typing import Any, TextIO

import anyio

from .._alerts import parse_alert
from .._client import ConnectMetrics
from .._errors import InvalidRequestError
from .._result import MetricsResult
from .output import render


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The ``watch`` command's options."""
    watch = commands.add_parser(
        "watch", parents=parents, help="a live view of real-time metrics (a wallboard)"
    )
    watch.add_argument("metrics", nargs="+", metavar="METRIC")
    watch.add_argument(
        "--interval",
        type=float,
        default=15.0,
        help="seconds between polls (default 15, the snapshot cadence)",
    )
    watch.add_argument("--count", type=int, default=None, help="stop after this many snapshots")
    watch.add_argument(
        "--sort",
        metavar="METRIC",
        help="rows by this metric, largest first (default OLDEST_CONTACT_AGE if shown)",
    )
    watch.add_argument(
        "--alert",
        action="append",
        default=[],
        metavar="EXPR",
        help="colour values that cross it: OLDEST_CONTACT_AGE>120, CONTACTS_IN_QUEUE>=10",
    )


def _quota(cm: ConnectMetrics) -> str:
    for (_, _, operation), bucket in cm.limiter.stats.items():
        if operation == "GetCurrentMetricData":
            return (
                f"quota {bucket.rate:.1f}/s, waited {bucket.waited_seconds:.1f} s, "
                f"{bucket.throttles} throttled"
            )
    return ""


async def run_watch(
    cm: ConnectMetrics,
    args: argparse.Namespace,
    fmt: str,
    out: TextIO,
    selection: dict[str, Any],
    *,
    console: Any = None,
) -> int:
    """Poll every `args.interval` seconds; show only snapshots newer than the last shown.

    `console`: the rich console of the wallboard (by default one on `out`, when `out`
    is a terminal and the format is a table).
    """
    from .._wallboard import Wallboard  # noqa: PLC0415 - rich: the `cli` extra

    metrics = list(args.metrics)
    sort_by = args.sort or ("OLDEST_CONTACT_AGE" if "OLDEST_CONTACT_AGE" in metrics else None)
    if sort_by is not None and sort_by not in metrics:
        raise InvalidRequestError("--sort", sort_by, f"a metric shown: {', '.join(metrics)}")
    alerts = tuple(parse_alert(text, metrics) for text in args.alert)
    board = fmt == "table" and (console is not None or out.isatty())
    live = None
    if board:
        from rich.console import Console  # noqa: PLC0415 - the `cli` extra
        from rich.live import Live  # noqa: PLC0415

        live = Live(
            console=console or Console(file=out), screen=console is None, auto_refresh=True
        )
        live.start()
    try:
        last: datetime | None = None
        shown = 0
        while args.count is None or shown < args.count:
            result = await cm.get_current_metrics(
                metrics, cache="refresh", names=not args.ids, **selection
            )
            if last is None or (result.snapshot_time is not None and result.snapshot_time > last):
                last = result.snapshot_time
                shown += 1
                if live is not None:
                    summary = result
                    if selection.get("groupings"):
                        ungrouped = {k: v for k, v in selection.items() if k != "groupings"}
                        summary = await cm.get_current_metrics(metrics, **ungrouped)
                    live.update(
                        Wallboard(
                            result if result.groupings else None,
                            summary,
                            sort_by or metrics[0],
                            alerts,
                            instance=cm.instance_id or "",
                            quota=_quota(cm),
                        ),
                        refresh=True,
                    )
                else:
                    _print(result, fmt, out)
            if args.count is not None and shown >= args.count:
                break
            await anyio.sleep(args.interval)
    finally:
        if live is not None:
            live.stop()
    return 0


def _print(result: MetricsResult, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        # One JSON document per line, so that a pipe can read them one by one.
        buffer = io.StringIO()
        render(result, "json", buffer)
        out.write(json.dumps(json.loads(buffer.getvalue())) + "\n")
    else:
        render(result, fmt, out)
    out.flush()
