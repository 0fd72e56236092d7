"""The FastAPI and aiohttp wallboard examples, served against the fake."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from aioconnectmetrics.testing import FakeConnect
from examples import aiohttp_wallboard, fastapi_wallboard


@pytest.fixture(name="wallboard_env")
def _wallboard_env(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FakeConnect, str, list[str]]]:
    """A fake with 150 queues; the standard AWS chain (as the apps use it) points at it."""
    with FakeConnect(quotas=None, seed=5) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=150).queue_ids)
        monkeypatch.setenv("AIOCONNECTMETRICS_INSTANCE_ID", instance_id)
        monkeypatch.setenv("AWS_ENDPOINT_URL_CONNECT", fake.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wallboard")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wallboard-secret")
        monkeypatch.setenv("AWS_DEFAULT_REGION", fake.region_name)
        yield fake, instance_id, queues


def metric_fetches(fake: FakeConnect) -> int:
    return sum(1 for r in fake.requests if r.operation == "GetCurrentMetricData")


async def test_fastapi_wallboard(wallboard_env: tuple[FakeConnect, str, list[str]]) -> None:
    """The FastAPI app serves every queue and a summary; a second request hits the cache."""
    fake, _, queues = wallboard_env
    app = fastapi_wallboard.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wallboard") as http:
            first = (await http.get("/wallboard")).json()
            requests = metric_fetches(fake)
            second = (await http.get("/wallboard")).json()
            bad = await http.get("/wallboard", params={"channel": "FAX"})
    assert sorted(row["queue_id"] for row in first["queues"]) == sorted(queues)
    assert "AGENTS_ONLINE" not in first["approximate"]  # two batches, each agent once
    assert first["summary"]["CONTACTS_IN_QUEUE"] == sum(
        r["CONTACTS_IN_QUEUE"] for r in first["queues"]
    )
    assert second == first
    # Two fan-outs of two batches, once: by queue, and the summary, whose routing
    # profiles with queues in both batches are asked apart, in one more request (so that
    # each agent counts once).
    assert metric_fetches(fake) == requests == 5
    assert bad.status_code == 400
    assert "FAX" in bad.json()["detail"]


async def test_aiohttp_wallboard(wallboard_env: tuple[FakeConnect, str, list[str]]) -> None:
    """The aiohttp app serves every queue, and a bad channel is a 400."""
    _, _, queues = wallboard_env
    async with TestClient(TestServer(aiohttp_wallboard.make_app())) as client:
        response = await client.get("/wallboard")
        body = await response.json()
        bad = await client.get("/wallboard", params={"channel": "FAX"})
    assert response.status == 200
    assert sorted(row["queue_id"] for row in body["queues"]) == sorted(queues)
    assert bad.status == 400
