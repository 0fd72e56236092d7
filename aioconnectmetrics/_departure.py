"""When a request leaves: the moment its connection is ready, set-up included.

The service's quota bucket starts refilling when our first request reaches it, and a
request on a new connection reaches it only after the connection's set-up (TCP and the
TLS handshake: one or two round trips). The limiter's model of that bucket (`_quota.py`)
therefore needs each request's departure, not its grant. aiohttp, under aiobotocore,
asks its connector for a connection just before it writes the request: `watch` wraps
that call on a client's HTTP session, and the request's task learns, through a context
variable, how long after its grant the connection was there.

This reaches into aiobotocore's HTTP session (``_endpoint.http_session``, its aiohttp
sessions and its connector factory), which no public interface exposes. Where that shape
is not found (another HTTP session class, a future aiobotocore), `watch` says so and the
limiter keeps its fixed estimate (`Adaptation.slack`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio

logger = logging.getLogger("aioconnectmetrics.quota")  # by concern: docs/observability.md

#: The request being sent in this task: told the seconds from its grant to departure.
_DEPARTING: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "aioconnectmetrics_departing", default=None
)
_WATCHED = "_aioconnectmetrics_departures"


@contextlib.contextmanager
def departing(tell: Callable[[float], None]) -> Iterator[None]:
    """While the block sends a request, `tell(seconds since now)` when it leaves.

    Told at most once, from inside the request's task, as its connection is handed over.
    """
    start = anyio.current_time()
    told = False

    def departed() -> None:
        nonlocal told
        if not told:
            told = True
            tell(anyio.current_time() - start)

    token = _DEPARTING.set(departed)
    try:
        yield
    finally:
        _DEPARTING.reset(token)


def _connected() -> None:
    departed = _DEPARTING.get()
    if departed is not None:
        departed()


def _watch_connector(connector: Any) -> None:
    if getattr(connector, _WATCHED, False):
        return
    connect = connector.connect

    @functools.wraps(connect)
    async def timed_connect(*args: Any, **kwargs: Any) -> Any:
        connection = await connect(*args, **kwargs)
        _connected()
        return connection

    connector.connect = timed_connect
    setattr(connector, _WATCHED, True)


def watch(client: object) -> bool:
    """Time the departures of `client`'s requests; False if it cannot (nothing changed).

    It cannot when the client's HTTP session has not the shape this knows.
    """
    http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    sessions = getattr(http_session, "_sessions", None)
    create = getattr(http_session, "_create_connector", None)
    if not isinstance(sessions, dict) or create is None:
        logger.debug("departures not timed: %r has no aiohttp session to watch", client)
        return False
    if getattr(http_session, _WATCHED, False):
        return True
    for session in list(sessions.values()):
        connector = getattr(session, "connector", None)
        if connector is None or not callable(getattr(connector, "connect", None)):
            return False
        _watch_connector(connector)

    @functools.wraps(create)
    async def create_watched(*args: Any, **kwargs: Any) -> Any:
        connector = await create(*args, **kwargs)
        _watch_connector(connector)
        return connector

    http_session._create_connector = create_watched  # type: ignore[union-attr]
    setattr(http_session, _WATCHED, True)
    return True
