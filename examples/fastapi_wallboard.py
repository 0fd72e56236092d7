"""A wallboard API with FastAPI, served from one shared ConnectMetrics.

Run: AIOCONNECTMETRICS_INSTANCE_ID=... uvicorn examples.fastapi_wallboard:app
Credentials and region come from the standard AWS chain.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from aioconnectmetrics import ConnectMetrics, ConnectMetricsError, InvalidRequestError

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One client for the whole app: its cache and single-flight make every concurrent
    # dashboard refresh share one fetch, and its limiter keeps the app under the quota.
    async with ConnectMetrics(os.environ["AIOCONNECTMETRICS_INSTANCE_ID"]) as metrics:
        app.state.metrics = metrics
        yield


app = FastAPI(title="Wallboard", lifespan=lifespan)


@app.get("/wallboard")
async def wallboard(channel: str | None = None) -> dict[str, Any]:
    """Per-queue real-time numbers, and the instance summary with its exactness."""
    metrics: ConnectMetrics = app.state.metrics
    channels = [channel] if channel else None
    try:
        queues = await metrics.get_current_metrics(
            METRICS, queues="all", groupings=["QUEUE"], channels=channels
        )
        total = await metrics.get_current_metrics(METRICS, queues="all", channels=channels)
    except InvalidRequestError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    except ConnectMetricsError as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from exc
    summary = total.summary
    return {
        "snapshot_time": queues.snapshot_time.isoformat() if queues.snapshot_time else None,
        "queues": queues.to_dicts(),
        "summary": summary.to_dict() if summary else None,
        "approximate": sorted(summary.approximate) if summary else [],
    }
