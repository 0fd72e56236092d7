"""OpenTelemetry: the spans and the instruments of the library's work, read back.

The SDK's in-memory span exporter and metric reader, set as this process's providers
once (the API allows one provider per process); each test reads what its own calls made.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.botocore import AiobotocoreInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aioconnectmetrics import _telemetry
from aioconnectmetrics.testing import FakeConnect

from .conftest import unlimited

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()
INSTRUMENTS = {
    "aioconnectmetrics.requests": "{request}",
    "aioconnectmetrics.throttles": "{request}",
    "aioconnectmetrics.limiter.wait": "s",
    "aioconnectmetrics.limiter.rate": "{request}/s",
    "aioconnectmetrics.cache.lookups": "{lookup}",
    "aioconnectmetrics.fetch.duration": "s",
    "aioconnectmetrics.snapshot.age": "s",
}
_installed: list[bool] = []


@pytest.fixture(name="spans")
def _spans() -> Iterator[InMemorySpanExporter]:
    """This process's providers (set once), the span exporter emptied for the test."""
    if not _installed:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
        _installed.append(True)
    _telemetry.recheck()  # the providers seen at once, not within the second
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def points() -> dict[str, list[Any]]:
    """Every instrument's data points so far (cumulative), by name."""
    data = READER.get_metrics_data()
    found: dict[str, list[Any]] = {}
    if data is None:  # nothing recorded yet in this process
        return found
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            if scope.scope.name != "aioconnectmetrics":
                continue
            for metric in scope.metrics:
                assert metric.unit == INSTRUMENTS[metric.name], metric.name
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def total(name: str, **attributes: str) -> float:
    return float(
        sum(
            p.value
            for p in points().get(name, [])
            if all(p.attributes.get(k) == v for k, v in attributes.items())
        )
    )


def attributes_of(span: ReadableSpan) -> dict[str, Any]:
    """A span's attributes, as plain values."""
    return dict(span.attributes or {})


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_a_three_batch_call_is_a_span_with_a_child_per_batch_and_its_throttle(
    spans: InMemorySpanExporter, fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 250)
    fake.inject_fault("throttle", operation="GetCurrentMetricData", at=[2])
    throttled_before = total("aioconnectmetrics.throttles")
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert (result.batches, again.batches) == (3, 3)
    finished = list(spans.get_finished_spans())
    parent, hit = named(finished, "aioconnectmetrics GetCurrentMetricData")
    batches = named(finished, "GetCurrentMetricData batch")
    assert len(batches) == 3
    assert parent.context is not None
    assert {b.parent.span_id for b in batches if b.parent} == {parent.context.span_id}
    assert parent.kind == trace.SpanKind.CLIENT
    attributes = attributes_of(parent)
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "Connect"
    assert attributes["rpc.method"] == "GetCurrentMetricData"
    assert attributes["cloud.region"] == fake.region_name
    assert attributes["aioconnectmetrics.instance_id"] == instance_id
    assert attributes["aioconnectmetrics.queues"] == 250
    assert attributes["aioconnectmetrics.batches"] == 3
    assert attributes["aioconnectmetrics.rows"] == 1  # no grouping: one row, the summary
    assert attributes["aioconnectmetrics.cache"] == "fetched"
    assert attributes["aioconnectmetrics.exact"] is True
    assert attributes["aioconnectmetrics.snapshot_age_s"] >= 0
    assert sorted(attributes_of(b)["aioconnectmetrics.batch.index"] for b in batches) == [0, 1, 2]
    assert sorted(attributes_of(b)["aioconnectmetrics.batch.ids"] for b in batches) == [
        50,
        100,
        100,
    ]
    assert all(attributes_of(b)["aioconnectmetrics.pages"] == 1 for b in batches)
    # The service's request ID of each batch's first page (semantic conventions: aws.*).
    assert all(attributes_of(b)["aws.request_id"] for b in batches)
    # The second request was refused: its batch's span tells the throttle and the retry.
    events = [
        (e.name, attributes_of(b)["aioconnectmetrics.batch.index"])
        for b in batches
        for e in b.events
    ]
    [(_, throttled_batch)] = [e for e in events if e[0] == "throttle"]
    assert ("retry", throttled_batch) in events
    # The second call was a hit: a span of its own, no children.
    assert attributes_of(hit)["aioconnectmetrics.cache"] == "hit"
    assert hit.context is not None
    assert not [s for s in finished if s.parent and s.parent.span_id == hit.context.span_id]
    assert total("aioconnectmetrics.throttles") - throttled_before == 1


async def test_every_instrument_has_a_point(
    spans: InMemorySpanExporter, fake: FakeConnect, instance_id: str
) -> None:
    queues = fake.add_queues(instance_id, 120)
    fake.inject_fault("throttle", operation="GetCurrentMetricData", at=[1])
    before = {name: len(found) for name, found in points().items()}
    ok_before = total("aioconnectmetrics.requests", outcome="ok")
    async with fake.metrics_client(instance_id) as cm:  # the real limiter: its waits
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    found = points()
    assert set(found) == set(INSTRUMENTS)
    assert all(len(found[name]) >= before.get(name, 0) for name in INSTRUMENTS)
    # Two batches answered, after one throttled attempt.
    assert total("aioconnectmetrics.requests", outcome="ok") - ok_before == 2
    assert (
        total("aioconnectmetrics.cache.lookups", **{"aioconnectmetrics.cache.outcome": "hit"}) >= 1
    )
    [rate] = [
        p
        for p in found["aioconnectmetrics.limiter.rate"]
        if p.attributes["rpc.method"] == "GetCurrentMetricData"
    ]
    assert 0 < rate.value <= 5.0  # the quota's rate, or what the throttle taught


async def test_without_opentelemetry_nothing_is_recorded_and_calls_work(
    spans: InMemorySpanExporter,
    fake: FakeConnect,
    instance_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_telemetry, "AVAILABLE", False)
    queues = fake.add_queues(instance_id, 120)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert result.batches == 2
    assert list(spans.get_finished_spans()) == []


async def test_botocore_instrumentation_nests_under_the_batch_spans(
    spans: InMemorySpanExporter, fake: FakeConnect, instance_id: str
) -> None:
    """opentelemetry-instrumentation-botocore's aiobotocore spans are the batches' children."""
    queues = fake.add_queues(instance_id, 150)  # two batches
    instrumentor = AiobotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument()
    try:
        async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
            await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, cache="bypass")
    finally:
        instrumentor.uninstrument()
    finished = list(spans.get_finished_spans())
    batches = named(finished, "GetCurrentMetricData batch")
    calls = named(finished, "Connect.GetCurrentMetricData")
    assert len(batches) == len(calls) == 2
    assert {c.parent.span_id for c in calls if c.parent} == {
        b.context.span_id for b in batches if b.context
    }
    assert all(attributes_of(c)["rpc.method"] == "GetCurrentMetricData" for c in calls)


async def test_v2_and_agents_calls_have_their_spans(
    spans: InMemorySpanExporter, fake: FakeConnect, instance_id: str
) -> None:
    queues = list(fake.populate(instance_id, queues=120).queue_ids)
    end = datetime.fromtimestamp(fake.clock(), timezone.utc).replace(second=0, microsecond=0)
    async with fake.metrics_client(instance_id, limiter=unlimited()) as cm:
        v2 = await cm.get_historical_metrics_v2(
            ["CONTACTS_HANDLED"], start=end - timedelta(hours=2), end=end, queues=queues
        )
        agents = await cm.get_agents(queues=queues)
    finished = list(spans.get_finished_spans())
    [v2_span] = named(finished, "aioconnectmetrics GetMetricDataV2")
    [agents_span] = named(finished, "aioconnectmetrics GetCurrentUserData")
    assert attributes_of(v2_span)["aioconnectmetrics.batches"] == v2.batches == 2
    assert attributes_of(v2_span)["aioconnectmetrics.cache"] == "fetched"
    assert attributes_of(agents_span)["aioconnectmetrics.rows"] == len(agents.agents)
    assert attributes_of(agents_span)["aioconnectmetrics.batches"] == agents.batches
