"""Server-sent events of a followed question, for Starlette/FastAPI and aiohttp.

Each `Update` of a `Follower` becomes one event: ``id`` its number, ``event: answer``,
``data`` one line of JSON (`update_json`). A connection's stream starts with a
``retry`` hint and, if given, a ``config`` event; a comment every `heartbeat` seconds
keeps proxies from closing a quiet stream and finds a closed connection. The stream
owns its follower: when the client goes (the server cancels the stream, or a write
fails) the follower leaves, and the question's loop ends with its last follower. A
client that reconnects gets the newest answer at once (its new follower joins the
running loop). No dependency of its own: Starlette (``StreamingResponse``) and aiohttp
(``web.StreamResponse``) are imported only by their helpers. See ``docs/live.md``.

FastAPI::

    @app.get("/events")
    async def events() -> StreamingResponse:
        return starlette_response(cm.follow(["CONTACTS_IN_QUEUE"], queues="all"))

aiohttp::

    async def events(request: web.Request) -> web.StreamResponse:
        return await aiohttp_response(request, cm.follow(["CONTACTS_IN_QUEUE"], queues="all"))
"""

from __future__ import annotations

import collections
import json
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio

from ._follow import Follower, Update
from ._result import MetricRow, MetricsResult
from ._v2.result import V2Result

if TYPE_CHECKING:
    from aiohttp import web
    from starlette.responses import StreamingResponse

__all__ = [
    "HEADERS",
    "MEDIA_TYPE",
    "aiohttp_response",
    "event_bytes",
    "result_json",
    "row_json",
    "sse_stream",
    "starlette_response",
    "update_event",
    "update_json",
]

#: Response headers of an event stream: not cached, not buffered by a proxy (nginx).
HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
MEDIA_TYPE = "text/event-stream"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def row_json(row: MetricRow) -> dict[str, Any]:
    """A row as `MetricRow.to_dict`, with ``approximate``: the bounds of its inexact values."""
    out = row.to_dict()
    if row.approximate:
        out["approximate"] = {
            key: list(bounds) if bounds is not None else None
            for key, bounds in row.approximate.items()
        }
    return out


def result_json(result: MetricsResult | V2Result) -> dict[str, Any]:
    """A result as plain JSON types: times in ISO 8601, rows as `row_json`.

    A `V2Result`: its interval, range and rows (`V2Row.to_dict`: dimensions, interval
    start and end, values).
    """
    if isinstance(result, V2Result):
        return {
            "metrics": [m.key for m in result.metrics],
            "groupings": list(result.groupings),
            "interval": result.interval,
            "snapshot_time": None,
            "start_time": _iso(result.start_time),
            "end_time": _iso(result.end_time),
            "partial": result.partial,
            "failed_queues": list(result.failed_queues),
            "rows": result.to_dicts(),
        }
    return {
        "metrics": [m.key for m in result.metrics],
        "groupings": list(result.groupings),
        "snapshot_time": _iso(result.snapshot_time),
        "snapshot_spread": result.snapshot_spread.total_seconds(),
        "start_time": _iso(result.start_time),
        "end_time": _iso(result.end_time),
        "partial": result.partial,
        "failed_queues": list(result.failed_queues),
        "summary": row_json(result.summary) if result.summary is not None else None,
        "rows": [row_json(row) for row in result.rows],
    }


def _head(update: Update[Any]) -> dict[str, Any]:
    error = update.error
    return {
        "number": update.number,
        "missed": update.missed,
        "stale": update.stale,
        "error": None if error is None else f"{type(error).__name__}: {error}",
        "failed_at": _iso(update.failed_at),
        "events": [event.to_dict() for event in update.events],
    }


def update_json(update: Update[Any]) -> dict[str, Any]:
    """An update as plain JSON types: the result, and how it came (`Update`'s fields)."""
    return {**_head(update), **result_json(update.result)}


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


class _ResultTexts:
    """The JSON of the last few results, by identity: written once for every follower.

    A thousand streams of one question receive the same result object; its JSON (the
    bulk of each event) is made once and shared. Held: the `size` latest results.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._texts: collections.OrderedDict[int, tuple[object, str]] = collections.OrderedDict()

    def __call__(self, result: MetricsResult | V2Result) -> str:
        hit = self._texts.get(id(result))
        if hit is not None and hit[0] is result:
            return hit[1]
        text = _dumps(result_json(result))
        self._texts[id(result)] = (result, text)
        while len(self._texts) > self._size:
            self._texts.popitem(last=False)
        return text


_result_text = _ResultTexts()


def update_event(update: Update[Any]) -> bytes:
    """The ``answer`` event of an update (`update_json` as one line, its number the id)."""
    result = _result_text(update.result)
    body = _dumps(_head(update))[:-1] + "," + result[1:]
    return f"id: {update.number}\nevent: answer\ndata: {body}\n\n".encode()


def event_bytes(data: Any, *, event: str = "answer", event_id: int | None = None) -> bytes:
    """One server-sent event: `data` as one line of JSON."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {_dumps(data)}\n\n".encode()


async def sse_stream(
    follower: Follower[Any],
    *,
    heartbeat: float = 15.0,
    retry: float = 2.0,
    config: Mapping[str, Any] | None = None,
) -> AsyncGenerator[bytes, None]:
    """The event stream of `follower`'s updates, as bytes to write; it owns `follower`.

    `retry`: seconds a browser waits before it reconnects (the ``retry`` field).
    `config`: sent first as a ``config`` event (what a page needs to draw the answers).
    The follower leaves when the stream is closed or cancelled. An error before the
    first answer ends the stream with an ``error`` event.
    """
    async with follower:
        yield f"retry: {round(retry * 1000)}\n\n".encode()
        if config is not None:
            yield event_bytes(dict(config), event="config")
        while True:
            update: Update[Any] | None = None
            failure: Exception | None = None
            with anyio.move_on_after(heartbeat):
                try:
                    update = await anext(follower)
                except StopAsyncIteration:
                    return
                except Exception as exc:  # noqa: BLE001 - told to the client, then the end
                    failure = exc
            if failure is not None:
                yield event_bytes({"error": f"{type(failure).__name__}: {failure}"}, event="error")
                return
            if update is None:
                yield b": keep-alive\n\n"
            else:
                yield update_event(update)


def starlette_response(
    follower: Follower[Any],
    *,
    heartbeat: float = 15.0,
    retry: float = 2.0,
    config: Mapping[str, Any] | None = None,
) -> StreamingResponse:
    """A Starlette (FastAPI) response streaming `follower`'s updates (`sse_stream`).

    Starlette cancels the stream when the client disconnects: the follower leaves then.
    """
    from starlette.responses import StreamingResponse  # noqa: PLC0415 - the user's framework

    stream = sse_stream(follower, heartbeat=heartbeat, retry=retry, config=config)
    return StreamingResponse(stream, media_type=MEDIA_TYPE, headers=dict(HEADERS))


async def aiohttp_response(
    request: web.Request,
    follower: Follower[Any],
    *,
    heartbeat: float = 15.0,
    retry: float = 2.0,
    config: Mapping[str, Any] | None = None,
) -> web.StreamResponse:
    """Stream `follower`'s updates to an aiohttp request (`sse_stream`); returns when done.

    A write to a closed connection ends the stream (at the latest at the next
    heartbeat), and the follower leaves.
    """
    from aiohttp import web  # noqa: PLC0415 - installed with aiobotocore

    response = web.StreamResponse(headers={"Content-Type": MEDIA_TYPE, **HEADERS})
    stream = sse_stream(follower, heartbeat=heartbeat, retry=retry, config=config)
    try:
        await response.prepare(request)
        async for chunk in stream:
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client went away (aiohttp says so with either)
    finally:
        await stream.aclose()
    return response
