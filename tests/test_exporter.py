"""The Prometheus exporter: the command over HTTP, its cost per scrape, mounting it."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from aioconnectmetrics import RetryPolicy
from aioconnectmetrics.prometheus import (
    CONTENT_TYPE_LATEST,
    Exporter,
    aiohttp_handler,
    asgi_app,
    metric_name,
)
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]


def samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Prometheus's own parser: family sample name -> sorted labels -> value."""
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found


def truth_at(fake: FakeConnect, instance_id: str, snapshot_time: float, **kwargs: Any) -> Any:
    """The fake's own values at the snapshot an answer came from."""
    index = round(snapshot_time / fake.service.snapshot_interval)
    return dict(
        fake.centre(instance_id).current_rows(
            index, channels=("VOICE", "CHAT", "TASK", "EMAIL"), metrics=METRICS, **kwargs
        )
    )


@pytest.fixture(name="served")
def _served() -> Iterator[tuple[FakeConnect, str, list[str], str]]:
    """A fake in this process and `aioconnectmetrics export` in another, pointed at it."""
    with FakeConnect(quotas=None, seed=21) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=150).queue_ids)
        env = os.environ | {"AWS_ACCESS_KEY_ID": "exporter", "AWS_SECRET_ACCESS_KEY": "x"}
        argv = [sys.executable, "-m", "aioconnectmetrics", "export", *METRICS, "--all-queues"]
        argv += ["--instance-id", instance_id, "--endpoint-url", fake.endpoint_url]
        argv += ["--region", fake.region_name, "--listen", "127.0.0.1:0"]
        argv += ["--historical", "CONTACTS_HANDLED"]
        with subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        ) as process:
            try:
                assert process.stdout is not None
                line = process.stdout.readline()
                assert line.startswith("serving "), line
                yield fake, instance_id, queues, line.split()[1]
            finally:
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=30) == 0


async def test_the_export_command_serves_the_fakes_values(
    served: tuple[FakeConnect, str, list[str], str],
) -> None:
    """Scraped over HTTP and read by prometheus-client's parser: the fake's truth."""
    fake, instance_id, queues, url = served
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPE_LATEST
        found = samples(response.text)
        snapshot = found["amazon_connect_snapshot_timestamp_seconds"][(("instance", instance_id),)]
        rows = truth_at(
            fake,
            instance_id,
            snapshot,
            queue_ids=queues,
            routing_profile_ids=None,
            groupings=["QUEUE"],
        )
        summary = truth_at(
            fake, instance_id, snapshot, queue_ids=queues, routing_profile_ids=None, groupings=[]
        )
        centre = fake.centre(instance_id)
        for metric in METRICS:
            name = metric_name(metric, "SECONDS" if metric == "OLDEST_CONTACT_AGE" else "COUNT")
            got = found[name]
            assert len(got) == len(queues)
            for (queue_id, _, _), values in rows.items():
                assert queue_id is not None
                labels = (
                    ("instance", instance_id),
                    ("queue_id", queue_id),
                    ("queue_name", centre.queues[queue_id].name),
                )
                assert got[labels] == values[metric], (metric, queue_id)
            instance_name = metric_name(
                metric, "SECONDS" if metric == "OLDEST_CONTACT_AGE" else "COUNT", "instance_"
            )
            [value] = found[instance_name].values()
            assert value == summary[(None, None, None)][metric]
        assert found["amazon_connect_last_5m_contacts_handled"]
        before = found["aioconnectmetrics_fetches_total"][()]
        fake.clear_requests()
        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(http.get, url)
        after = samples((await http.get(url)).text)["aioconnectmetrics_fetches_total"][()]
    # At most one fan-out per question (rows, summary, last interval), however many scrape.
    assert after - before <= 3
    first_pages = [
        r
        for r in fake.requests
        if r.operation == "GetCurrentMetricData" and "NextToken" not in r.params
    ]
    assert len(first_pages) <= 2 + 4  # rows: 2 batches; summary: 2, and 2 by profile


@pytest.fixture(name="exporter_fake")
def _exporter_fake() -> Iterator[tuple[FakeConnect, ManualClock, str]]:
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=22) as fake:
        instance_id = fake.add_instance()
        fake.populate(instance_id, queues=250)
        yield fake, clock, instance_id


async def test_fifty_concurrent_scrapes_cost_one_fan_out(
    exporter_fake: tuple[FakeConnect, ManualClock, str],
) -> None:
    """A new snapshot, 50 scrapes at once: one fan-out, the same as for one scrape."""
    fake, clock, instance_id = exporter_fake
    async with fake.metrics_client(instance_id) as cm:
        app = asgi_app(Exporter(cm, METRICS, groupings=["QUEUE"]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://exporter") as http:
            fake.clear_requests()
            assert (await http.get("/metrics")).status_code == 200
            one_scrape = fake.counts()[("GetCurrentMetricData", 200)]
            clock.advance(15.0)  # the next snapshot: every cached answer is stale
            fake.clear_requests()
            async with anyio.create_task_group() as group:
                for _ in range(50):
                    group.start_soon(http.get, "/metrics")
            fifty_scrapes = fake.counts()[("GetCurrentMetricData", 200)]
        assert cm.cache_stats.coalesced >= 2 * 49  # rows and summary, each shared
    assert fifty_scrapes == one_scrape == 3 + 3 + 1  # rows; summary; its shared profiles


async def test_a_failed_refresh_keeps_the_last_answer(
    exporter_fake: tuple[FakeConnect, ManualClock, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service fails: the scrape has the last values, a failure count and a log line."""
    fake, clock, instance_id = exporter_fake
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)  # fails for good soon
    async with fake.metrics_client(instance_id, retry=retry) as cm:
        exporter = Exporter(cm, METRICS, groupings=["QUEUE"], summary=False)
        first = samples((await exporter.render()).decode())
        fake.inject_fault("error", operation="GetCurrentMetricData")
        clock.advance(15.0)
        with caplog.at_level(logging.WARNING, logger="aioconnectmetrics"):
            second = samples((await exporter.render()).decode())
    name = "amazon_connect_contacts_in_queue"
    assert second[name] == first[name]
    assert second["aioconnectmetrics_refresh_failures_total"][()] == 1.0
    assert first["aioconnectmetrics_refresh_failures_total"][()] == 0.0
    assert any("exporter: rows refresh failed" in r.getMessage() for r in caplog.records)


async def test_mounted_in_fastapi_and_in_aiohttp(
    exporter_fake: tuple[FakeConnect, ManualClock, str],
) -> None:
    """Beside a service's own routes, sharing its client."""
    fake, _, instance_id = exporter_fake
    async with fake.metrics_client(instance_id) as cm:
        exporter = Exporter(cm, ["AGENTS_ONLINE"], groupings=["QUEUE"], summary=False)
        api = FastAPI()
        api.mount("/metrics", asgi_app(exporter))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://service", follow_redirects=True
        ) as http:
            mounted = await http.get("/metrics")  # to /metrics/, as Prometheus follows
        app = web.Application()
        app.router.add_get("/metrics", aiohttp_handler(exporter))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            host, port = runner.addresses[0][:2]
            async with httpx.AsyncClient() as http:
                handled = await http.get(f"http://{host}:{port}/metrics")
        finally:
            await runner.cleanup()
    for response in (mounted, handled):
        assert response.status_code == 200
        assert len(samples(response.text)["amazon_connect_agents_online"]) == 250


async def test_the_grafana_example_uses_the_exported_names(
    exporter_fake: tuple[FakeConnect, ManualClock, str],
) -> None:
    """Every metric examples/grafana-dashboard.json queries is one the exporter serves."""
    fake, _, instance_id = exporter_fake
    async with fake.metrics_client(instance_id) as cm:
        exporter = Exporter(
            cm, [*METRICS, "AGENTS_ONLINE"], groupings=["QUEUE"], historical=["CONTACTS_HANDLED"]
        )
        served = set(samples((await exporter.render()).decode()))
    dashboard = json.loads(
        (Path(__file__).parent.parent / "examples" / "grafana-dashboard.json").read_text()
    )
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:amazon_connect|aioconnectmetrics)_\w+", target["expr"])
    }
    assert len(queried) >= 10
    assert queried <= served


async def test_a_queue_newer_than_the_listing_keeps_each_value_under_its_own_label() -> None:
    """A row with no name yet: empty queue_name, its channel still under channel."""
    with FakeConnect(quotas=None, seed=5) as fake:
        instance_id = fake.add_instance(simulate=False)
        known = fake.add_queues(instance_id, 2, channels=["VOICE", "CHAT"])
        async with fake.metrics_client(instance_id) as cm:
            selection: dict[str, Any] = {
                "channels": ["VOICE", "CHAT"],
                "groupings": ["QUEUE", "CHANNEL"],
                "summary": False,
            }
            await Exporter(cm, ["CONTACTS_IN_QUEUE"], queues=known, **selection).render()
            names = {q.id: q.name for q in await cm.list_queues()}  # before the new queue
            new = fake.add_queues(instance_id, 1, channels=["VOICE", "CHAT"])[0]
            for queue in (*known, new):
                fake.set_waiting(instance_id, queue, "CHAT", in_queue=3, oldest_age=9)
            fake.set_waiting(instance_id, new, "VOICE", in_queue=7, oldest_age=11)
            # The unnamed queue first: under the old code its row set the labels.
            exporter = Exporter(cm, ["CONTACTS_IN_QUEUE"], queues=[new, *known], **selection)
            scraped = samples((await exporter.render()).decode())
    in_queue = scraped["amazon_connect_contacts_in_queue"]
    expected = {
        (
            ("channel", "VOICE"),
            ("instance", instance_id),
            ("queue_id", new),
            ("queue_name", ""),
        ): 7.0,
        (
            ("channel", "CHAT"),
            ("instance", instance_id),
            ("queue_id", new),
            ("queue_name", ""),
        ): 3.0,
    }
    for queue in known:
        labels = (("instance", instance_id), ("queue_id", queue), ("queue_name", names[queue]))
        key = (("channel", "CHAT"), *labels)
        expected[key] = 3.0
    assert {k: v for k, v in in_queue.items() if v} == expected
