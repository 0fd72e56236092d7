"""``aioconnectmetrics export``: the Prometheus exporter, served with aiohttp."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import Any, TextIO

import anyio

from .._cache import CachePolicy
from .._client import ConnectMetrics
from .._errors import InvalidRequestError


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The ``export`` command's options."""
    export = commands.add_parser(
        "export", parents=parents, help="serve the metrics to Prometheus at /metrics"
    )
    export.add_argument("metrics", nargs="+", metavar="METRIC")
    export.add_argument(
        "--listen", default="127.0.0.1:9464", help="HOST:PORT to serve on (default 127.0.0.1:9464)"
    )
    export.add_argument(
        "--historical",
        nargs="+",
        default=(),
        metavar="METRIC",
        help="historical metrics of the last closed 5-minute interval",
    )
    export.add_argument("--no-summary", action="store_true", help="leave out the instance summary")
    export.add_argument(
        "--stale-grace",
        type=float,
        default=30.0,
        help="seconds a scrape may get the last answer while it is refreshed (default 30)",
    )


def listen_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, on 127.0.0.1; port 0: a free one) as (host, port)."""
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise InvalidRequestError("--listen", value, "HOST:PORT, such as 127.0.0.1:9464")
    return host or "127.0.0.1", int(port)


async def run_export(
    args: argparse.Namespace,
    who: dict[str, Any],
    client: Callable[..., ConnectMetrics],
    out: TextIO,
) -> None:
    """Serve until SIGINT or SIGTERM; one line on `out` says where."""
    from aiohttp import web  # noqa: PLC0415 - comes with aiobotocore

    from ..prometheus import Exporter, aiohttp_handler  # noqa: PLC0415

    host, port = listen_address(args.listen)
    async with client(cache=CachePolicy(stale_grace=args.stale_grace)) as cm:
        exporter = Exporter(
            cm,
            args.metrics,
            channels=args.channels,
            groupings=args.group_by or ("QUEUE",),
            summary=not args.no_summary,
            historical=args.historical,
            names=not args.ids,
            **who,
        )
        await exporter.render()  # a wrong question fails here, before serving
        app = web.Application()
        app.router.add_get("/metrics", aiohttp_handler(exporter))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0]
            print(f"serving http://{bound[0]}:{bound[1]}/metrics", file=out, flush=True)
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    return
        finally:
            await runner.cleanup()
