"""Reading server-sent events in tests: a parser, an aiohttp reader, an ASGI harness."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import attrs


@attrs.frozen
class Event:
    """One server-sent event as a browser's EventSource sees it."""

    event: str
    data: Any
    id: str | None = None


class Parser:
    """Bytes in, events out (comments and the retry field skipped), as EventSource parses."""

    def __init__(self) -> None:
        self._buffer = b""
        self.comments = 0
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        """The events completed by `chunk`."""
        self._buffer += chunk
        events = []
        while b"\n\n" in self._buffer:
            block, self._buffer = self._buffer.split(b"\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                    continue
                name, _, value = line.partition(": ")
                fields[name] = value
            if "retry" in fields:
                self.retry = int(fields["retry"])
            if "data" in fields:
                events.append(
                    Event(
                        fields.get("event", "message"),
                        json.loads(fields["data"]),
                        fields.get("id"),
                    )
                )
        return events


async def read_events(
    url: str,
    wanted: Callable[[list[Event]], bool],
    *,
    comments: int | None = None,
    seconds: float = 10.0,
) -> tuple[list[Event], Parser]:
    """GET `url` and read its events until `wanted(events)` (or that many comments)."""
    parser = Parser()
    events: list[Event] = []
    with anyio.fail_after(seconds):
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            async for chunk in response.content.iter_any():
                events.extend(parser.feed(chunk))
                if wanted(events) or (comments is not None and parser.comments >= comments):
                    break
    return events, parser


async def asgi_events(
    app: Callable[..., Awaitable[None]],
    path: str,
    wanted: Callable[[list[Event]], bool],
    *,
    seconds: float = 10.0,
) -> tuple[list[Event], dict[str, Any]]:
    """Call an ASGI app as a server would, read events until `wanted`, then disconnect.

    Returns the events and the response's start message. The app must return after the
    disconnect (as Starlette's StreamingResponse does: it cancels the stream).
    """
    parser = Parser()
    events: list[Event] = []
    start: dict[str, Any] = {}
    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            events.extend(parser.feed(message.get("body", b"")))
            if wanted(events):
                gone.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    with anyio.fail_after(seconds):
        await app(scope, receive, send)
    return events, start
