"""The ``aioconnectmetrics`` command: queue metrics as a table, JSON or CSV.

Exit codes: 0 done; 2 bad input (the message says which option and what is allowed);
3 the service or the connection failed; 4 some batches failed (the rest is printed with
``--partial``); 130 interrupted (``watch`` stops cleanly with 0).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

import anyio
from aiobotocore.session import AioSession

from ._client import ConnectMetrics
from ._errors import (
    ConfigurationError,
    ConnectMetricsError,
    InvalidRequestError,
)
from ._result import MetricRow, MetricsResult, PartialResultError

EXIT_OK, EXIT_USAGE, EXIT_FAILED, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 2, 3, 4, 130
_DURATION = re.compile(r"^(\d+)([mh])$")


class _UsageError(Exception):
    """Bad command-line input: the message says what to give instead."""


# -- output ------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{int(value):,}" if value == int(value) else f"{value:,.2f}"
    return str(value)


def _columns(result: MetricsResult) -> tuple[list[str], list[MetricRow]]:
    rows = list(result.rows) if result.groupings else ([result.summary] if result.summary else [])
    dims = []
    if "QUEUE" in result.groupings:
        dims.append("queue_id")
    if "CHANNEL" in result.groupings:
        dims.append("channel")
    if "ROUTING_PROFILE" in result.groupings:
        dims.append("routing_profile_id")
    return dims + [m.key for m in result.metrics], rows


def _row_values(row: MetricRow, columns: list[str]) -> list[object]:
    values = row.to_dict()
    return [values.get(column) for column in columns]


def render(result: MetricsResult, fmt: str, out: TextIO) -> None:
    """Write a result as a table, JSON or CSV."""
    columns, rows = _columns(result)
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
            justify="left" if column in ("queue_id", "channel", "routing_profile_id") else "right",
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


# -- arguments --------------------------------------------------------------------------
def _aware(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _UsageError(
            f"{option}: {text!r} is not an ISO time such as 2026-11-24T08:00Z"
        ) from exc
    if moment.tzinfo is None:
        raise _UsageError(f"{option}: {text!r} has no time zone; add Z or +00:00")
    return moment


def _interval(args: argparse.Namespace) -> tuple[datetime, datetime]:
    if args.last:
        match = _DURATION.fullmatch(args.last)
        if not match:
            raise _UsageError(f"--last: {args.last!r}; give minutes or hours, such as 30m or 2h")
        amount = int(match[1]) * (60 if match[2] == "m" else 3600)
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 5)
        return end - timedelta(seconds=amount), end
    if not (args.start and args.end):
        raise _UsageError("give --last (such as 1h), or both --start and --end")
    return _aware(args.start, "--start"), _aware(args.end, "--end")


def _selection(args: argparse.Namespace) -> dict[str, Any]:
    chosen = [bool(args.queues), args.all_queues, bool(getattr(args, "routing_profiles", None))]
    if sum(chosen) != 1:
        raise _UsageError(
            "give one of --queues ID [ID ...], --all-queues or --routing-profiles ID [...]"
        )
    selection: dict[str, Any] = {"channels": args.channels, "groupings": args.group_by or ()}
    if args.all_queues:
        selection["queues"] = "all"
    elif args.queues:
        selection["queues"] = args.queues
    else:
        selection["routing_profiles"] = args.routing_profiles
    return selection


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--instance-id",
        default=os.environ.get("AIOCONNECTMETRICS_INSTANCE_ID"),
        help="the Connect instance (or $AIOCONNECTMETRICS_INSTANCE_ID)",
    )
    common.add_argument("--profile", help="an AWS profile of your shared config")
    common.add_argument("--region", help="the AWS region (default: from the AWS config)")
    common.add_argument("--endpoint-url", help="another endpoint, such as a fake service")
    common.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="output format (default: table on a terminal, else json)",
    )

    select = argparse.ArgumentParser(add_help=False)
    which = select.add_argument_group("queues")
    which.add_argument("--queues", nargs="+", metavar="ID", help="queue IDs or ARNs")
    which.add_argument("--all-queues", action="store_true", help="every STANDARD queue")
    which.add_argument("--channels", nargs="+", choices=("VOICE", "CHAT", "TASK", "EMAIL"))
    which.add_argument(
        "--group-by",
        nargs="+",
        metavar="DIMENSION",
        help="QUEUE, CHANNEL (and ROUTING_PROFILE in real time)",
    )
    which.add_argument(
        "--partial",
        action="store_true",
        help="print what succeeded when some batches fail (exit code 4)",
    )

    parser = argparse.ArgumentParser(
        prog="aioconnectmetrics",
        description="Amazon Connect queue metrics for any number of queues.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    current = commands.add_parser("current", parents=[common, select], help="real-time metrics")
    current.add_argument("metrics", nargs="+", metavar="METRIC")
    current.add_argument("--routing-profiles", nargs="+", metavar="ID")
    historical = commands.add_parser(
        "historical", parents=[common, select], help="historical metrics"
    )
    historical.add_argument(
        "metrics", nargs="+", metavar="METRIC", help="names, or SERVICE_LEVEL_60"
    )
    historical.add_argument("--last", help="the last 30m, 2h, ... (to the last 5-minute boundary)")
    historical.add_argument("--start", help="ISO time with zone, on a 5-minute boundary")
    historical.add_argument("--end", help="ISO time with zone, on a 5-minute boundary")
    queues = commands.add_parser("queues", parents=[common], help="list the instance's queues")
    queues.add_argument("--types", nargs="+", default=["STANDARD"], choices=("STANDARD", "AGENT"))
    watch = commands.add_parser(
        "watch", parents=[common, select], help="a live view of real-time metrics"
    )
    watch.add_argument("metrics", nargs="+", metavar="METRIC")
    watch.add_argument("--routing-profiles", nargs="+", metavar="ID")
    watch.add_argument(
        "--interval",
        type=float,
        default=15.0,
        help="seconds between polls (default 15, the snapshot cadence)",
    )
    watch.add_argument("--count", type=int, default=None, help="stop after this many snapshots")
    demo = commands.add_parser("demo", help="a tour against the embedded fake service")
    demo.add_argument("--queues", type=int, default=300, help="queues in the demo centre")
    return parser


# -- commands ------------------------------------------------------------------------
def _client(
    args: argparse.Namespace, on_progress: Callable[[int, int], None] | None
) -> ConnectMetrics:
    session = AioSession(profile=args.profile) if args.profile else None
    return ConnectMetrics(
        args.instance_id,
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        session=session,
        on_progress=on_progress,
    )


class _Progress:
    """Batches done, on stderr, when a person is watching and the fetch is long."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if total < 3 or not self._stream.isatty():
            return
        note = " (paced to stay under the API quota)" if total > 8 else ""
        self._stream.write(f"\r{done}/{total} batches{note}")
        self._stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self._stream.write("\r" + " " * 60 + "\r")
            self._shown = False


async def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "demo":
        from ._demo import run_demo  # noqa: PLC0415 - needs the `testing` extra

        await run_demo(lambda line: print(line, file=out), queues=args.queues)
        return EXIT_OK
    fmt = args.format or ("table" if out.isatty() else "json")
    if not args.instance_id:
        raise _UsageError(
            "--instance-id: give the Connect instance ID (or set $AIOCONNECTMETRICS_INSTANCE_ID)"
        )
    progress = _Progress(err)
    async with _client(args, progress) as cm:
        if args.command == "queues":
            listed = await cm.list_queues(queue_types=args.types)
            _queues(listed, fmt, out)
            return EXIT_OK
        if args.command == "watch":
            return await _watch(cm, args, fmt, out)
        selection = _selection(args)
        try:
            if args.command == "current":
                result = await cm.get_current_metrics(
                    args.metrics, partial=args.partial, **selection
                )
            else:
                start, end = _interval(args)
                result = await cm.get_historical_metrics(
                    args.metrics, start=start, end=end, partial=args.partial, **selection
                )
        finally:
            progress.clear()
        render(result, fmt, out)
        if result.partial:
            err.write("warning: some batches failed; the answer covers the others only\n")
            return EXIT_PARTIAL
        return EXIT_OK


def _queues(listed: Sequence[Any], fmt: str, out: TextIO) -> None:
    rows = [{"id": q.id, "name": q.name, "type": q.queue_type, "arn": q.arn} for q in listed]
    if fmt == "json":
        json.dump(rows, out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=["id", "name", "type", "arn"])
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.console import Console  # noqa: PLC0415 - the optional `cli` extra
        from rich.table import Table  # noqa: PLC0415

        table = Table()
        for column in ("id", "name", "type"):
            table.add_column(column)
        for row in rows:
            table.add_row(row["id"], row["name"], row["type"])
        console = Console(file=out, width=120)
        console.print(f"{len(rows)} queues")
        console.print(table)


async def _watch(cm: ConnectMetrics, args: argparse.Namespace, fmt: str, out: TextIO) -> int:
    """Poll at the snapshot cadence; print only snapshots newer than the last printed."""
    selection = _selection(args)
    last: datetime | None = None
    shown = 0
    while args.count is None or shown < args.count:
        result = await cm.get_current_metrics(args.metrics, cache="refresh", **selection)
        if last is None or (result.snapshot_time is not None and result.snapshot_time > last):
            last = result.snapshot_time
            shown += 1
            if fmt == "table" and out.isatty():
                out.write("\x1b[2J\x1b[H")  # a live view: clear the screen, draw again
            if fmt == "json":
                # One JSON document per line, so that a pipe can read them one by one.
                buffer = io.StringIO()
                render(result, "json", buffer)
                out.write(json.dumps(json.loads(buffer.getvalue())) + "\n")
            else:
                render(result, fmt, out)
            out.flush()
        if args.count is not None and shown >= args.count:
            break
        await anyio.sleep(args.interval)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message
        return int(exc.code or 0)
    try:
        return anyio.run(_run, args, out, err)
    except KeyboardInterrupt:
        err.write("\nstopped\n")
        return EXIT_OK if args.command == "watch" else EXIT_INTERRUPTED
    except (_UsageError, InvalidRequestError) as exc:
        err.write(f"aioconnectmetrics {args.command}: {exc}\n")
        return EXIT_USAGE
    except PartialResultError as exc:
        err.write(
            f"aioconnectmetrics {args.command}: {exc}\n(use --partial to print what succeeded)\n"
        )
        return EXIT_PARTIAL
    except ConfigurationError as exc:
        err.write(
            f"aioconnectmetrics {args.command}: {exc}\n"
            "(set up credentials and a region: aws configure, or --profile and --region)\n"
        )
        return EXIT_FAILED
    except ConnectMetricsError as exc:
        err.write(f"aioconnectmetrics {args.command}: {exc}\n")
        return EXIT_FAILED


def entry_point() -> None:
    """The console script."""
    sys.exit(main())
