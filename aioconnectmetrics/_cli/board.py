"""``aioconnectmetrics board``: a live board in the browser, served by this command.

The page and its event stream come from `_board` (aiohttp, installed with aiobotocore);
every open page follows one question, so any number of them cost one fan-out per
snapshot. The selection options are ``watch``'s.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import attrs

from .._alerts import Alert, parse_alert
from .._client import ConnectMetrics
from .._errors import InvalidRequestError
from .export import listen_address


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The ``board`` command's options."""
    board = commands.add_parser(
        "board", parents=parents, help="a live board in the browser (server-sent events)"
    )
    board.add_argument("metrics", nargs="+", metavar="METRIC")
    board.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="where to serve the page (default 127.0.0.1:8080; port 0: a free one)",
    )
    board.add_argument(
        "--sort",
        metavar="METRIC",
        help="rows by this metric, largest first, after the rows over a threshold "
        "(default OLDEST_CONTACT_AGE if shown)",
    )
    board.add_argument(
        "--alert",
        action="append",
        default=[],
        metavar="EXPR",
        help="colour values that cross it: OLDEST_CONTACT_AGE>120, CONTACTS_IN_QUEUE>=10",
    )


@attrs.frozen
class BoardOptions:
    """The board's own options, checked."""

    metrics: tuple[str, ...]
    host: str
    port: int
    sort: str | None
    alerts: tuple[Alert, ...]


def board_options(args: argparse.Namespace) -> BoardOptions:
    """The options checked, before any connection: `InvalidRequestError` names the bad one."""
    metrics = tuple(args.metrics)
    host, port = listen_address(args.listen)
    sort_by = args.sort or ("OLDEST_CONTACT_AGE" if "OLDEST_CONTACT_AGE" in metrics else None)
    if sort_by is not None and sort_by not in metrics:
        raise InvalidRequestError("--sort", sort_by, f"a metric shown: {', '.join(metrics)}")
    alerts = tuple(parse_alert(text, metrics) for text in args.alert)
    return BoardOptions(metrics, host, port, sort_by, alerts)


async def run_board(
    cm: ConnectMetrics, args: argparse.Namespace, out: TextIO, selection: dict[str, Any]
) -> int:
    """Serve the board until interrupted."""
    from .._board import board_app, serve_board  # noqa: PLC0415 - aiohttp's web, on demand

    options = board_options(args)
    if not selection.get("groupings"):
        selection = {**selection, "groupings": ["QUEUE"]}
    app = board_app(
        cm,
        options.metrics,
        selection,
        alerts=options.alerts,
        sort=options.sort,
        names=not args.ids,
    )

    def ready(url: str) -> None:
        out.write(f"board: {url} (Ctrl-C to stop)\n")
        out.flush()

    await serve_board(app, options.host, options.port, on_ready=ready)
    return 0
