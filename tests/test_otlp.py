"""Connect's numbers over OTLP/HTTP: `OtlpPusher` and ``export --otlp``, read back.

A local OTLP/HTTP receiver (aiohttp) keeps each body; opentelemetry-proto decodes it,
and the gauges are compared with the fake's own per-queue truth.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from aioconnectmetrics import InvalidRequestError, RetryPolicy
from aioconnectmetrics._cli import _parser, _run, main
from aioconnectmetrics.otlp import OtlpPusher, metric_name, metrics_url
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import unlimited
from .redis_server import free_port
from .test_follow import until
from .truth import current_truth

METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[tuple[str, list[ExportMetricsServiceRequest]]]:
    """An OTLP/HTTP metrics receiver on loopback: its base URL, and what it received."""
    received: list[ExportMetricsServiceRequest] = []

    async def metrics(request: web.Request) -> web.Response:
        assert request.headers["Content-Type"] == "application/x-protobuf"
        received.append(ExportMetricsServiceRequest.FromString(await request.read()))
        body = ExportMetricsServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


def gauges(
    request: ExportMetricsServiceRequest,
) -> dict[str, dict[str, tuple[float, dict[str, Any]]]]:
    """Metric name -> queue ID -> (value, the point's attributes)."""
    [resource] = request.resource_metrics
    [scope] = resource.scope_metrics
    found: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}
    for metric in scope.metrics:
        for point in metric.gauge.data_points:
            attributes = {
                a.key: getattr(a.value, a.value.WhichOneof("value")) for a in point.attributes
            }
            queue = str(attributes.get("aws.connect.queue.id", ""))
            found.setdefault(metric.name, {})[queue] = (point.as_double, attributes)
    return found


def resource_of(request: ExportMetricsServiceRequest) -> dict[str, Any]:
    return {
        a.key: getattr(a.value, a.value.WhichOneof("value"))
        for a in request.resource_metrics[0].resource.attributes
    }


def test_endpoints_and_names() -> None:
    assert metrics_url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/metrics"
    assert metrics_url("https://otlp.example/v1/metrics") == "https://otlp.example/v1/metrics"
    for bad in ("127.0.0.1:4318", "ftp://x", "", None):
        with pytest.raises(InvalidRequestError) as caught:
            metrics_url(bad)
        assert caught.value.field == "endpoint"
    assert metric_name("OLDEST_CONTACT_AGE") == "aws.connect.queue.oldest_contact_age"


async def test_pushed_gauges_equal_the_fake_s_truth_per_queue_and_go_stale_on_failure(
    fake: FakeConnect, instance_id: str, clock: ManualClock
) -> None:
    queues = list(fake.populate(instance_id, queues=30).queue_ids)
    retry = RetryPolicy(attempts=1)
    async with (
        receiver() as (url, received),
        fake.metrics_client(instance_id, limiter=unlimited(), retry=retry) as cm,
    ):
        pusher = OtlpPusher(cm, METRICS, endpoint=url, queues=queues)
        first = await pusher.push()
        truth = current_truth(fake, instance_id, METRICS, queues=queues, groupings=["QUEUE"])
        fake.inject_fault("error", operation="GetCurrentMetricData")
        clock.advance(15)
        second = await pusher.push()
    assert (first.delivered, first.stale, second.delivered, second.stale) == (
        True,
        False,
        True,
        True,
    )
    one, two = (gauges(r) for r in received)
    for metric in METRICS:
        values = {queue: value for queue, (value, _) in one[metric_name(metric)].items()}
        expected = {key[0]: row[metric] for key, row in truth.items() if row[metric] is not None}
        assert values == expected, metric
        # The failed fetch: the same numbers again, every point marked stale.
        assert {q: v for q, (v, _) in two[metric_name(metric)].items()} == values
        assert all(
            a["aioconnectmetrics.stale"] is True for _, a in two[metric_name(metric)].values()
        )
    some_queue = queues[0]
    _, attributes = one[metric_name("CONTACTS_IN_QUEUE")][some_queue]
    assert attributes["aws.connect.queue.name"] == fake.centre(instance_id).queues[some_queue].name
    assert "aioconnectmetrics.stale" not in attributes
    [(age, _)] = one["aws.connect.snapshot.age"].values()
    [(older, _)] = two["aws.connect.snapshot.age"].values()
    assert older == age + 15  # the stale answer's snapshot is 15 s older
    assert resource_of(received[0])["aws.connect.instance.id"] == instance_id
    assert resource_of(received[0])["cloud.region"] == fake.region_name
    assert first.points == sum(len(v) for v in one.values())


async def test_export_otlp_pushes_the_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    """``aioconnectmetrics export --otlp URL --interval S`` as typed, against the fake."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "otlp")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "otlp-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with FakeConnect(quotas=None, seed=4, snapshot_interval=3600.0) as fake:
        instance_id = fake.add_instance()
        queues = list(fake.populate(instance_id, queues=20).queue_ids)
        async with receiver() as (url, received):
            args = _parser().parse_args(
                ["export", *METRICS, "--queues", *queues, "--instance-id", instance_id,
                 "--endpoint-url", fake.endpoint_url, "--region", fake.region_name,
                 "--otlp", url, "--interval", "0.2"]
            )  # fmt: skip
            out = io.StringIO()
            async with anyio.create_task_group() as group:
                group.start_soon(_run, args, out, io.StringIO())
                await until(lambda: len(received) >= 3)
                group.cancel_scope.cancel()
        truth = current_truth(fake, instance_id, METRICS, queues=queues, groupings=["QUEUE"])
        requests = [r for r in fake.requests if r.operation == "GetCurrentMetricData"]
    assert out.getvalue().startswith(f"pushing to {url}/v1/metrics every 0.2 s (")
    latest = gauges(received[-1])
    for metric in METRICS:
        got = {q: v for q, (v, _) in latest[metric_name(metric)].items()}
        assert got == {k[0]: r[metric] for k, r in truth.items() if r[metric] is not None}
    # Three pushes of one snapshot: one fan-out, the others from the cache.
    assert len(requests) == 1


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--otlp", "collector:4318"], "--otlp: got 'collector:4318'"),
        (["--otlp", "http://127.0.0.1:4318", "--interval", "0"], "--interval"),
    ],
)
def test_bad_otlp_options_are_refused_before_any_connection(
    argv: list[str], said: str, fake: FakeConnect, instance_id: str
) -> None:
    err = io.StringIO()
    code = main(
        ["export", "CONTACTS_IN_QUEUE", "--all-queues", "--instance-id", instance_id,
         "--endpoint-url", fake.endpoint_url, "--region", fake.region_name, *argv],
        out=io.StringIO(),
        err=err,
    )  # fmt: skip
    assert code == 2
    assert said in err.getvalue()
    assert fake.requests == []
