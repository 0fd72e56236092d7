"""The live board: a page and its event stream, served with aiohttp (``board`` command).

``GET /`` is the page (plain HTML, CSS and JavaScript shipped beside this module: no
build step, nothing fetched from elsewhere), ``GET /events`` its server-sent events:
a ``config`` event (metrics, alerts, sort, instance), then each update of one followed
question (`ConnectMetrics.follow`). Every open page is a follower of that question, so
any number of them cost one fan-out per snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

import anyio
from aiohttp import web

from .._alerts import Alert
from .._client import ConnectMetrics
from ..sse import aiohttp_response

#: The files of the page, by URL path: (file name, content type).
FILES: Mapping[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/board.js": ("board.js", "text/javascript; charset=utf-8"),
    "/board.css": ("board.css", "text/css; charset=utf-8"),
}


def _page_file(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def board_app(
    cm: ConnectMetrics,
    metrics: Sequence[str],
    selection: Mapping[str, Any],
    *,
    alerts: Sequence[Alert] = (),
    sort: str | None = None,
    names: bool = True,
    heartbeat: float = 15.0,
    retry: float = 2.0,
) -> web.Application:
    """The board's aiohttp application, on an open client.

    `selection`: `follow`'s arguments besides the metrics (queues, groupings, ...).
    Every page opened follows the same question (checked here, before serving).
    """
    question = {**selection, "names": names, "alerts": [str(a) for a in alerts]}
    cm.follow(list(metrics), **question)  # bad input is said now, not per page
    config = {
        "metrics": list(metrics),
        "alerts": [
            {"metric": a.metric, "op": a.op, "threshold": a.threshold, "text": str(a)}
            for a in alerts
        ],
        "sort": sort,
        "instance": cm.instance_id or "",
    }
    files = {path: (_page_file(name), kind) for path, (name, kind) in FILES.items()}

    async def page(request: web.Request) -> web.Response:
        body, kind = files[request.path]
        return web.Response(body=body, headers={"Content-Type": kind, "Cache-Control": "no-cache"})

    async def events(request: web.Request) -> web.StreamResponse:
        follower = cm.follow(list(metrics), **question)
        return await aiohttp_response(
            request, follower, heartbeat=heartbeat, retry=retry, config=config
        )

    app = web.Application()
    for path in FILES:
        app.router.add_get(path, page)
    app.router.add_get("/events", events)
    return app


async def serve_board(
    app: web.Application,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `app` on host:port until cancelled; `on_ready` is told the page's URL."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        bound = sockets[0].getsockname()[1] if sockets else port
        if on_ready is not None:
            shown = f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{bound}/")
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
