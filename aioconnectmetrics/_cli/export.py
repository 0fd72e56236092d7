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
        "export",
        parents=parents,
        help="serve the metrics to Prometheus at /metrics, or push them over OTLP",
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
    export.add_argument(
        "--otlp",
        metavar="URL",
        help="push to this OTLP/HTTP endpoint instead of serving /metrics "
        "(http://collector:4318; the `otlp` extra)",
    )
    export.add_argument(
        "--interval",
        type=float,
        default=15.0,
        help="with --otlp: seconds between pushes (default 15, the snapshot cadence)",
    )


def check_otlp(args: argparse.Namespace) -> None:
    """--otlp and --interval, checked before any connection."""
    if args.otlp is None:
        return
    try:
        from ..otlp import metrics_url  # noqa: PLC0415 - the `otlp` extra
    except ImportError as exc:
        raise InvalidRequestError(
            "--otlp", args.otlp, "the otlp extra installed: pip install 'aioconnectmetrics[otlp]'"
        ) from exc
    try:
        metrics_url(args.otlp)
    except InvalidRequestError as exc:
        raise InvalidRequestError("--otlp", args.otlp, exc.allowed) from exc
    if not args.interval > 0:
        raise InvalidRequestError("--interval", args.interval, "a positive number of seconds")


def listen_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``:PORT``: on 127.0.0.1; ``[::1]:PORT`` for IPv6; port 0: a free one).

    As (host, port), or `InvalidRequestError` naming ``--listen``.
    """
    host, sep, port = value.rpartition(":")
    allowed = "HOST:PORT, such as 127.0.0.1:9464 (port 0 to 65535; 0: a free one)"
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InvalidRequestError("--listen", value, allowed)
    return host.strip("[]") or "127.0.0.1", int(port)


async def run_export(
    args: argparse.Namespace,
    who: dict[str, Any],
    client: Callable[..., ConnectMetrics],
    out: TextIO,
) -> None:
    """Serve until SIGINT or SIGTERM; one line on `out` says where."""
    from aiohttp import web  # noqa: PLC0415 - comes with aiobotocore

    from ..prometheus import Exporter, aiohttp_handler  # noqa: PLC0415

    check_otlp(args)
    host, port = listen_address(args.listen)
    async with client(cache=CachePolicy(stale_grace=args.stale_grace)) as cm:
        if args.otlp is not None:
            await _push(cm, args, who, out)
            return
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


async def _push(
    cm: ConnectMetrics, args: argparse.Namespace, who: dict[str, Any], out: TextIO
) -> None:
    """Push to the OTLP endpoint every --interval seconds, until SIGINT or SIGTERM."""
    from ..otlp import OtlpPusher  # noqa: PLC0415 - the `otlp` extra

    pusher = OtlpPusher(
        cm,
        args.metrics,
        endpoint=args.otlp,
        channels=args.channels,
        groupings=args.group_by or ("QUEUE",),
        names=not args.ids,
        **who,
    )
    first = await pusher.push()  # a wrong question fails here, before the loop
    print(
        f"pushing to {pusher.url} every {args.interval:g} s ({first.points} points"
        f"{'' if first.delivered else f'; the endpoint answered {first.status}'})",
        file=out,
        flush=True,
    )
    async with anyio.create_task_group() as group:

        async def every() -> None:
            await anyio.sleep(args.interval)
            await pusher.run(args.interval)

        group.start_soon(every)
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                group.cancel_scope.cancel()
                return
