"""The ``aioconnectmetrics`` command: queue metrics and agents as a table, JSON or CSV.

Exit codes: 0 done; 2 bad input (the message says which option and what is allowed);
3 the service or the connection failed; 4 some batches failed (the rest is printed with
``--partial``); 130 interrupted (``watch``, ``board``, ``export`` and ``fake`` stop
cleanly with 0).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO, TypeVar

import anyio
import attrs
from aiobotocore.session import AioSession

from .._agents import AgentActivity
from .._client import ConnectMetrics
from .._errors import (
    AccessDeniedError,
    ConfigurationError,
    ConnectMetricsError,
    InvalidRequestError,
)
from .._result import PartialResultError
from .._retry import RetryPolicy
from .board import add_parser as add_board_parser
from .board import board_options, run_board
from .export import add_parser as add_export_parser
from .export import check_otlp, run_export
from .output import agents, listing, render
from .v2 import add_v2_options, period, render_v2, run_v2
from .watch import add_parser as add_watch_parser
from .watch import run_watch

_T = TypeVar("_T")
EXIT_OK, EXIT_USAGE, EXIT_FAILED, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 2, 3, 4, 130
_DURATION = re.compile(r"^(\d+)([mhd])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86_400}
#: The most HTTP attempts per request `--attempts` takes.
MAX_ATTEMPTS = 20


class _UsageError(Exception):
    """Bad command-line input: the message says what to give instead."""


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
            raise _UsageError(f"--last: {args.last!r}; give minutes, hours or days: 30m, 2h, 7d")
        amount = int(match[1]) * _SECONDS[match[2]]
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 5)
        return end - timedelta(seconds=amount), end
    if not (args.start and args.end):
        raise _UsageError("give --last (such as 1h), or both --start and --end")
    return _aware(args.start, "--start"), _aware(args.end, "--end")


#: Who a command is about: (attribute, option, argument); "all" where the option is a flag.
_SELECTIONS = (
    ("queues", "--queues ID [ID ...]", "queues"),
    ("all_queues", "--all-queues", "queues"),
    ("routing_profiles", "--routing-profiles ID [ID ...]", "routing_profiles"),
    ("all_routing_profiles", "--all-routing-profiles", "routing_profiles"),
    ("agents", "--agents ID [ID ...]", "agents"),
)


def _who(args: argparse.Namespace) -> dict[str, Any]:
    """The one selection given, of those the command has."""
    present = [s for s in _SELECTIONS if hasattr(args, s[0])]
    given = [
        (argument, "all" if value is True else value)
        for attribute, _, argument in present
        if (value := getattr(args, attribute))
    ]
    if len(given) != 1:
        raise _UsageError("give one of " + ", ".join(option for _, option, _ in present))
    return dict(given)


def _selection(args: argparse.Namespace) -> dict[str, Any]:
    selection = _who(args)
    selection.update(channels=args.channels, groupings=args.group_by or ())
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
        "--attempts",
        type=int,
        default=None,
        help=(
            "HTTP attempts per request, retries included "
            f"(1 to {MAX_ATTEMPTS}; default {RetryPolicy().attempts})"
        ),
    )
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
    which.add_argument("--ids", action="store_true", help="show IDs, not names (no listing calls)")
    profiles = argparse.ArgumentParser(add_help=False)
    by_profile = profiles.add_argument_group("routing profiles (real time)")
    by_profile.add_argument("--routing-profiles", nargs="+", metavar="ID")
    by_profile.add_argument(
        "--all-routing-profiles", action="store_true", help="every routing profile"
    )

    parser = argparse.ArgumentParser(
        prog="aioconnectmetrics",
        description="Amazon Connect queue metrics for any number of queues.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    current = commands.add_parser(
        "current", parents=[common, select, profiles], help="real-time metrics"
    )
    current.add_argument("metrics", nargs="+", metavar="METRIC")
    historical = commands.add_parser(
        "historical", parents=[common, select], help="historical metrics"
    )
    historical.add_argument(
        "metrics", nargs="+", metavar="METRIC", help="names, or SERVICE_LEVEL_60"
    )
    historical.add_argument(
        "--last", help="the last 30m, 2h, 7d, ... (to the last 5-minute boundary)"
    )
    add_v2_options(historical)
    historical.add_argument("--start", help="ISO time with zone, on a 5-minute boundary")
    historical.add_argument("--end", help="ISO time with zone, on a 5-minute boundary")
    queues = commands.add_parser("queues", parents=[common], help="list the instance's queues")
    queues.add_argument("--types", nargs="+", default=["STANDARD"], choices=("STANDARD", "AGENT"))
    commands.add_parser(
        "routing-profiles", parents=[common], help="list the instance's routing profiles"
    )
    agents = commands.add_parser(
        "agents",
        parents=[common, profiles],
        help="who is available, on contact, in after-contact work, ...",
    )
    team = agents.add_argument_group("agents of")
    team.add_argument("--queues", nargs="+", metavar="ID", help="queue IDs or ARNs")
    team.add_argument("--all-queues", action="store_true", help="every STANDARD queue")
    team.add_argument("--agents", nargs="+", metavar="ID", help="user IDs or ARNs")
    agents.add_argument(
        "--activity",
        nargs="+",
        type=str.upper,
        choices=[a.value for a in AgentActivity],
        metavar="ACTIVITY",
        help="list only agents doing these: " + ", ".join(a.value for a in AgentActivity),
    )
    agents.add_argument(
        "--contact-states", nargs="+", metavar="STATE", help="only agents with such a contact"
    )
    agents.add_argument("--ids", action="store_true", help="show IDs, not names")
    add_watch_parser(commands, [common, select, profiles])
    add_board_parser(commands, [common, select, profiles])
    add_export_parser(commands, [common, select, profiles])
    demo = commands.add_parser("demo", help="a tour against the embedded fake service")
    demo.add_argument("--queues", type=int, default=300, help="queues in the demo centre")
    fake = commands.add_parser(
        "fake", help="serve the fake Amazon Connect, for anything to point at"
    )
    fake.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    fake.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    fake.add_argument("--queues", type=int, default=300, help="queues in the centre")
    fake.add_argument("--seed", type=int, default=0, help="the same seed, the same centre")
    fake.add_argument(
        "--latency", type=float, default=0.0, help="milliseconds added to every answer"
    )
    return parser


# -- commands ------------------------------------------------------------------------
def _client(
    args: argparse.Namespace, on_progress: Callable[[int, int], None] | None, **options: Any
) -> ConnectMetrics:
    session = AioSession(profile=args.profile) if args.profile else None
    if args.attempts is not None:
        options.setdefault("retry", RetryPolicy(attempts=args.attempts))
    return ConnectMetrics(
        args.instance_id,
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        session=session,
        on_progress=on_progress,
        **options,
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
        from .._demo import run_demo  # noqa: PLC0415 - needs the `testing` extra

        await run_demo(lambda line: print(line, file=out), queues=args.queues)
        return EXIT_OK
    if args.command == "fake":
        return await _fake(args, out)
    fmt = args.format or ("table" if out.isatty() else "json")
    if args.attempts is not None and not 1 <= args.attempts <= MAX_ATTEMPTS:
        raise _UsageError(f"--attempts: {args.attempts}; give 1 to {MAX_ATTEMPTS}")
    if not args.instance_id:
        raise _UsageError(
            "--instance-id: give the Connect instance ID (or set $AIOCONNECTMETRICS_INSTANCE_ID)"
        )
    if args.command == "export":
        await run_export(args, _who(args), lambda **kw: _client(args, None, **kw), out)
        return EXIT_OK
    if args.command == "board":
        board_options(args)  # its own options checked before any connection
    if args.command == "export":
        check_otlp(args)
    progress = _Progress(err)
    async with _client(args, progress) as cm:
        if args.command == "queues":
            found = await cm.list_queues(queue_types=args.types)
            rows = [
                {"id": q.id, "name": q.name, "type": q.queue_type, "arn": q.arn} for q in found
            ]
            listing(rows, ("id", "name", "type"), "queues", fmt, out)
            return EXIT_OK
        if args.command == "routing-profiles":
            profiles = await cm.list_routing_profiles()
            rows = [{"id": p.id, "name": p.name, "arn": p.arn} for p in profiles]
            listing(rows, ("id", "name"), "routing profiles", fmt, out)
            return EXIT_OK
        if args.command == "agents":
            return await _agents(cm, args, fmt, out, err)
        if args.command == "watch":
            return await run_watch(cm, args, fmt, out, _selection(args))
        if args.command == "board":
            return await run_board(cm, args, out, _selection(args))
        selection = _selection(args) | {"partial": args.partial}
        if args.command == "historical" and args.v2:
            try:
                times = _interval(args)
                args.period = period(args, err)
                answer = await _named(
                    lambda names: run_v2(cm, args, selection, times, names), args.ids, err
                )
            finally:
                progress.clear()
            render_v2(answer, fmt, out)
            return EXIT_PARTIAL if answer.partial else EXIT_OK
        if args.command == "historical":
            if "routing_profiles" in selection or "agents" in selection:
                raise _UsageError("--routing-profiles and --agents need --v2 for historical")
            selection["start"], selection["end"] = _interval(args)
        ask = cm.get_current_metrics if args.command == "current" else cm.get_historical_metrics
        try:
            result = await _named(
                lambda names: ask(args.metrics, names=names, **selection), args.ids, err
            )
        finally:
            progress.clear()
        render(result, fmt, out)
        if result.partial:
            err.write("warning: some batches failed; the answer covers the others only\n")
            return EXIT_PARTIAL
        return EXIT_OK


async def _fake(args: argparse.Namespace, out: TextIO) -> int:
    from .._demo import serve_fake  # noqa: PLC0415 - needs the `testing` extra

    for option, value, low, high in (
        ("--port", args.port, 0, 65535),
        ("--queues", args.queues, 1, 100_000),
        ("--latency", args.latency, 0, 60_000),
    ):
        if not low <= value <= high:
            raise _UsageError(f"{option}: {value}; give {low} to {high}")

    def say(line: str) -> None:
        print(line, file=out, flush=True)  # a process reading our output sees each line

    try:
        await serve_fake(
            say,
            host=args.host,
            port=args.port,
            queues=args.queues,
            seed=args.seed,
            latency=args.latency / 1000.0,
        )
    except OSError as exc:
        raise _UsageError(f"--port {args.port} on {args.host}: {exc.strerror or exc}") from exc
    return EXIT_OK


async def _named(ask: Callable[[bool], Awaitable[_T]], ids: bool, err: TextIO) -> _T:
    """`ask` with names unless `--ids`; without them where listing them is not allowed.

    Names are for people; a role that may read metrics but not list queues (or users)
    still gets its answer, with IDs, and a note that says why.
    """
    if ids:
        return await ask(False)
    try:
        return await ask(True)
    except AccessDeniedError as exc:
        err.write(f"note: {exc.operation} is not allowed, so IDs are shown (--ids skips names)\n")
        return await ask(False)


async def _agents(
    cm: ConnectMetrics, args: argparse.Namespace, fmt: str, out: TextIO, err: TextIO
) -> int:
    """Every agent of the selection, each once; only the activities asked for."""
    who = _who(args)
    result = await _named(
        lambda names: cm.get_agents(contact_states=args.contact_states, names=names, **who),
        args.ids,
        err,
    )
    if args.activity:
        wanted = {AgentActivity(a) for a in args.activity}
        result = attrs.evolve(result, agents=tuple(a for a in result if a.activity in wanted))
    agents(result, fmt, out)
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
        return (
            EXIT_OK if args.command in ("watch", "board", "fake", "export") else EXIT_INTERRUPTED
        )
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
