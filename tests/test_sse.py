"""Server-sent events of a followed question: aiohttp over HTTP, Starlette as ASGI.

The fake on a manual clock: the test moves the snapshot on, and the stream's next event
has the fake's new numbers. Hanging up ends the follower (and the question's loop).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web

from aioconnectmetrics import ConnectMetrics, RetryPolicy
from aioconnectmetrics.sse import (
    aiohttp_response,
    event_bytes,
    starlette_response,
    update_event,
    update_json,
)
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import unlimited
from .redis_server import free_port
from .sse_client import Event, asgi_events, read_events
from .test_follow import METRICS, metric_requests, until

ROOT = Path(__file__).parent.parent


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on a free loopback port: its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def answers(events: list[Event]) -> list[Event]:
    return [e for e in events if e.event == "answer"]


def in_queue(event: Event, queue: str) -> float:
    [row] = [r for r in event.data["rows"] if r["queue_id"] == queue]
    return float(row["CONTACTS_IN_QUEUE"])


def test_an_event_is_one_line_of_json_with_its_id() -> None:
    assert event_bytes({"a": [1, None]}, event_id=7) == (
        b'id: 7\nevent: answer\ndata: {"a":[1,null]}\n\n'
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        event_bytes({"a": float("nan")})


async def test_aiohttp_streams_each_new_snapshot_and_a_reconnect_gets_the_newest(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = fake.add_queues(instance_id, 120)  # two batches
    fake.set_waiting(instance_id, queues[0], "VOICE", in_queue=4, oldest_age=50)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:

        async def handler(request: web.Request) -> web.StreamResponse:
            follower = cm.follow(METRICS, queues=queues, groupings=["QUEUE"], names=True)
            return await aiohttp_response(
                request, follower, heartbeat=0.05, config={"metrics": METRICS}
            )

        app = web.Application()
        app.router.add_get("/events", handler)
        async with serving(app) as base:
            result: list[Event] = []

            def two_answers(events: list[Event]) -> bool:
                result[:] = events
                return len(answers(events)) == 2

            async def first_client() -> None:
                _, parser = await read_events(f"{base}/events", two_answers)
                assert parser.retry == 2000

            async with anyio.create_task_group() as group:
                group.start_soon(first_client)
                await until(lambda: len(answers(result)) == 1)
                fake.set_waiting(instance_id, queues[0], "VOICE", in_queue=9, oldest_age=65)
                clock.advance(15)
            await until(lambda: cm._hub.loops == 0)  # hung up: its follower left
            config, first, second = result[0], *answers(result)
            assert config.event == "config"
            assert config.data == {"metrics": METRICS}
            assert (first.id, second.id) == ("1", "2")
            assert (in_queue(first, queues[0]), in_queue(second, queues[0])) == (4.0, 9.0)
            assert first.data["snapshot_time"] == "2027-01-15T08:00:00+00:00"
            assert second.data["snapshot_time"] == "2027-01-15T08:00:15+00:00"
            assert len(second.data["rows"]) == 120
            assert second.data["rows"][0]["queue_name"]
            assert (second.data["missed"], second.data["stale"]) == (0, False)

            # A browser reconnecting after the loop ended: the newest answer at once, from
            # the cache, with no request (its loop is a new one: numbered from 1 again).
            again, _ = await read_events(f"{base}/events", lambda e: len(answers(e)) == 1)
            [newest] = answers(again)
            assert newest.id == "1"
            assert newest.data["snapshot_time"] == "2027-01-15T08:00:15+00:00"
    assert metric_requests(fake) == 2 * 2


async def test_heartbeats_keep_a_quiet_stream_alive(fake: FakeConnect, instance_id: str) -> None:
    queues = fake.add_queues(instance_id, 5)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:

        async def handler(request: web.Request) -> web.StreamResponse:
            return await aiohttp_response(
                request, cm.follow(METRICS, queues=queues), heartbeat=0.02
            )

        app = web.Application()
        app.router.add_get("/events", handler)
        async with serving(app) as base:
            # The clock stands still: one answer, then comments only.
            events, parser = await read_events(f"{base}/events", lambda e: False, comments=5)
            await until(lambda: cm._hub.loops == 0)
    assert [e.id for e in events] == ["1"]
    assert parser.comments == 5
    assert metric_requests(fake) == 1


async def test_an_error_before_the_first_answer_is_an_error_event(
    fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 5)
    fake.inject_fault("denied", operation="GetCurrentMetricData")
    retry = RetryPolicy(attempts=1)
    async with fake.metrics_client(instance_id, limiter=unlimited(), retry=retry) as cm:

        async def handler(request: web.Request) -> web.StreamResponse:
            return await aiohttp_response(request, cm.follow(METRICS, queues=queues))

        app = web.Application()
        app.router.add_get("/events", handler)
        async with serving(app) as base:
            events, _ = await read_events(f"{base}/events", bool)
            await until(lambda: cm._hub.loops == 0)
    [event] = events
    assert event.event == "error"
    assert event.data["error"].startswith("AccessDeniedError")


def fastapi_example() -> str:
    """The FastAPI backend of docs/live.md."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs/live.md").read_text(), re.S)
    [block] = [b for b in blocks if "FastAPI(" in b]
    return str(block)


async def test_the_fastapi_example_of_the_docs_streams_and_lets_go(
    fake: FakeConnect, instance_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs' example as written, served as ASGI: answers, then the disconnect ends it."""
    queues = fake.add_queues(instance_id, 30)
    fake.set_waiting(instance_id, queues[3], "CHAT", in_queue=6, oldest_age=10)
    monkeypatch.setenv("CONNECT_INSTANCE_ID", instance_id)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CONNECT", fake.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", fake.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "live-example")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "live-example-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", fake.region_name)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    code = fastapi_example()
    assert len(code.strip().splitlines()) <= 30  # "about twenty lines"
    namespace: dict[str, Any] = {"__name__": "live_example"}
    exec(compile(code, "<docs/live.md>", "exec"), namespace)  # noqa: S102 - our own docs
    app = namespace["app"]
    async with app.router.lifespan_context(app):
        cm: ConnectMetrics = app.state.cm
        events, start = await asgi_events(app, "/events", lambda e: len(answers(e)) == 1)
        await until(lambda: cm._hub.loops == 0)  # disconnected: the follower left
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    [answer] = answers(events)
    rows = {r["queue_id"]: r for r in answer.data["rows"]}
    assert set(rows) == set(queues)
    assert rows[queues[3]]["CONTACTS_IN_QUEUE"] == 6
    assert rows[queues[3]]["queue_name"]


async def test_starlette_response_sends_the_config_first(
    fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 5)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        response = starlette_response(cm.follow(METRICS, queues=queues), config={"board": 1})
        events, start = await asgi_events(response, "/", lambda e: len(e) == 2)
        await until(lambda: cm._hub.loops == 0)
    assert [e.event for e in events] == ["config", "answer"]
    assert events[0].data == {"board": 1}
    assert events[1].data["summary"]["CONTACTS_IN_QUEUE"] is not None
    assert start["status"] == 200


async def test_an_answer_event_is_its_update_as_json(fake: FakeConnect, instance_id: str) -> None:
    """The event's data (its result's JSON made once, shared) equals `update_json`."""
    queues = fake.add_queues(instance_id, 4)
    for queue in queues:
        fake.set_waiting(instance_id, queue, "VOICE", in_queue=1, oldest_age=10)
    fake.set_waiting(instance_id, queues[2], "VOICE", in_queue=3, oldest_age=500)
    async with (
        fake.metrics_client(instance_id, limiter=unlimited()) as cm,
        cm.follow(
            METRICS,
            queues=queues,
            channels=["VOICE"],
            groupings=["QUEUE"],
            alerts=["OLDEST_CONTACT_AGE>120"],
        ) as one,
        cm.follow(METRICS, queues=queues, channels=["VOICE"], groupings=["QUEUE"]) as other,
    ):
        first, second = await anext(one), await anext(other)
    assert first.result is second.result
    for update in (first, second):
        event_id, kind, data, *rest = update_event(update).decode().split("\n")
        assert (event_id, kind, rest) == ("id: 1", "event: answer", ["", ""])
        assert json.loads(data.removeprefix("data: ")) == update_json(update)
    assert update_json(first)["events"] == [
        {"alert": "OLDEST_CONTACT_AGE>120", "state": "entered", "queue_id": queues[2],
         "value": 500.0}
    ]  # fmt: skip
    assert update_json(second)["events"] == []
