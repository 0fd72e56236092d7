"""A wallboard API with aiohttp, served from one shared ConnectMetrics.

Run: AIOCONNECTMETRICS_INSTANCE_ID=... python -m examples.aiohttp_wallboard
Credentials and region come from the standard AWS chain.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from aiohttp import web

from aioconnectmetrics import ConnectMetrics, ConnectMetricsError, InvalidRequestError

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]
CLIENT = web.AppKey("metrics", ConnectMetrics)


async def metrics_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the app's life (aiohttp's cleanup context)."""
    async with ConnectMetrics(os.environ["AIOCONNECTMETRICS_INSTANCE_ID"]) as metrics:
        app[CLIENT] = metrics
        yield


async def wallboard(request: web.Request) -> web.Response:
    """Per-queue real-time numbers, as JSON."""
    channel = request.query.get("channel")
    try:
        result = await request.app[CLIENT].get_current_metrics(
            METRICS, queues="all", groupings=["QUEUE"], channels=[channel] if channel else None
        )
    except InvalidRequestError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    except ConnectMetricsError as exc:
        raise web.HTTPBadGateway(text=str(exc)) from exc
    snapshot = result.snapshot_time.isoformat() if result.snapshot_time else None
    return web.json_response({"snapshot_time": snapshot, "queues": result.to_dicts()})


def make_app() -> web.Application:
    """The application."""
    app = web.Application()
    app.cleanup_ctx.append(metrics_client)
    app.router.add_get("/wallboard", wallboard)
    return app


if __name__ == "__main__":
    web.run_app(make_app())
