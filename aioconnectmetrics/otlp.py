"""Amazon Connect's queue numbers pushed over OTLP/HTTP (the ``otlp`` extra).

No OpenTelemetry Collector receiver reads Connect's metrics APIs; this pushes them to
one (or to any OTLP/HTTP endpoint: Grafana, Datadog, Honeycomb, New Relic). `OtlpPusher`
asks one real-time question through its `ConnectMetrics` (its cache, single-flight and
quota) once per push, and posts the rows as OTLP gauges, protobuf-encoded with
``opentelemetry-proto`` and sent with aiohttp: the same per-queue numbers the Prometheus
exporter serves, one gauge per metric, the queue ID and name, channel and routing
profile as attributes. A fetch that fails posts the last answer again, each point marked
``aioconnectmetrics.stale``, and the snapshot-age gauge says how old it is. Run it with
``aioconnectmetrics export --otlp URL --interval SECONDS``. See docs/observability.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import anyio
import attrs
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from ._catalog import CURRENT
from ._client import ConnectMetrics
from ._errors import ConnectMetricsError, InvalidRequestError
from ._result import MetricRow, MetricsResult

__all__ = ["OtlpPusher", "Push", "metric_name"]

logger = logging.getLogger("aioconnectmetrics.export")  # by concern: docs/observability.md

#: The OTLP/HTTP path of metrics, added to an endpoint given without a path.
METRICS_PATH = "/v1/metrics"
PREFIX = "aws.connect"
#: UCUM units of the catalog's units.
UNITS: Mapping[str, str] = {"SECONDS": "s", "COUNT": "{contact}", "PERCENT": "%"}
AGENT_UNIT = "{agent}"


def metric_name(metric: str) -> str:
    """The OTLP name of a real-time metric: ``aws.connect.queue.contacts_in_queue``."""
    return f"{PREFIX}.queue.{metric.lower()}"


def metric_unit(metric: str) -> str:
    """Its UCUM unit: ``s``, ``{contact}`` or ``{agent}``."""
    if metric.startswith(("AGENTS_", "SLOTS_")):
        return AGENT_UNIT
    return UNITS.get(CURRENT[metric].unit, "1")


def metrics_url(endpoint: object) -> str:
    """The URL to post to: `endpoint`, with ``/v1/metrics`` when it has no path."""
    allowed = "an http:// or https:// URL, such as http://127.0.0.1:4318"
    if not isinstance(endpoint, str):
        raise InvalidRequestError("endpoint", endpoint, allowed)
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError("endpoint", endpoint, allowed)
    if parts.path in ("", "/"):
        return endpoint.rstrip("/") + METRICS_PATH
    return endpoint


@attrs.frozen
class Push:
    """What one push did.

    Attributes:
        points: data points posted.
        stale: the fetch failed, and the last answer was posted again.
        error: why the fetch failed (None when it did not).
        status: the endpoint's HTTP status (None when it could not be reached).
    """

    points: int
    stale: bool
    error: ConnectMetricsError | None
    status: int | None

    @property
    def delivered(self) -> bool:
        """Whether the endpoint took the points (2xx)."""
        return self.status is not None and 200 <= self.status < 300


def _value(value: object) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def _attributes(values: Mapping[str, object]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in values.items() if v is not None]


def _row_attributes(row: MetricRow) -> dict[str, object]:
    return {
        "aws.connect.queue.id": row.queue_id,
        "aws.connect.queue.name": row.queue_name,
        "aws.connect.channel": row.channel,
        "aws.connect.routing_profile.id": row.routing_profile_id,
        "aws.connect.routing_profile.name": row.routing_profile_name,
    }


class OtlpPusher:
    """Pushes one real-time question's rows to an OTLP/HTTP endpoint.

    Args:
        cm: an open `ConnectMetrics` (its cache and quota are shared with its other use).
        metrics: real-time metric names.
        endpoint: the collector's OTLP/HTTP URL (``http://host:4318``, or the full
            ``.../v1/metrics``).
        groupings, queues, routing_profiles, channels, queue_types, instance_id: the
            question, as for `ConnectMetrics.get_current_metrics` (default: by queue).
        names: queue and routing profile names as attributes (listings, reused).
        headers: HTTP headers to send (an API key of a hosted backend).
        timeout: seconds one post may take.
    """

    def __init__(
        self,
        cm: ConnectMetrics,
        metrics: Iterable[str],
        *,
        endpoint: str,
        groupings: Iterable[str] = ("QUEUE",),
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        channels: Iterable[str] | None = None,
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        names: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._cm = cm
        self._metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        self._url = metrics_url(endpoint)
        self._question: dict[str, Any] = {
            "groupings": groupings,
            "queues": queues,
            "routing_profiles": routing_profiles,
            "channels": channels,
            "queue_types": queue_types,
            "instance_id": instance_id,
            "names": names,
        }
        self._headers = {"Content-Type": "application/x-protobuf", **(headers or {})}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._last: MetricsResult | None = None

    @property
    def url(self) -> str:
        """Where the points are posted."""
        return self._url

    async def push(self) -> Push:
        """Fetch (through the cache) and post once.

        A failed fetch posts the last answer again, marked stale; with no answer yet,
        it raises. A failed post is logged and said in the returned `Push`.
        """
        error: ConnectMetricsError | None = None
        try:
            self._last = await self._cm.get_current_metrics(self._metrics, **self._question)
        except ConnectMetricsError as exc:
            if self._last is None or isinstance(exc, InvalidRequestError):
                raise
            logger.warning("the Connect fetch failed; the last answer is pushed as stale: %s", exc)
            error = exc
        request = self.encode(self._last, stale=error is not None, now=self._cm.clock())
        points = sum(
            len(m.gauge.data_points) for m in request.resource_metrics[0].scope_metrics[0].metrics
        )
        status: int | None = None
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(
                    self._url, data=request.SerializeToString(), headers=self._headers
                ) as response,
            ):
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("the OTLP endpoint %s could not be reached: %s", self._url, exc)
        if status is not None and not 200 <= status < 300:
            logger.warning("the OTLP endpoint %s answered %d", self._url, status)
        return Push(points=points, stale=error is not None, error=error, status=status)

    async def run(self, interval: object) -> None:
        """Push every `interval` seconds until cancelled (one fan-out per push)."""
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise InvalidRequestError("interval", interval, "a positive number of seconds")
        while True:
            started = anyio.current_time()
            await self.push()
            await anyio.sleep(max(0.0, interval - (anyio.current_time() - started)))

    def encode(
        self, result: MetricsResult, *, stale: bool, now: float
    ) -> ExportMetricsServiceRequest:
        """The OTLP request of `result`: a gauge per metric, a point per row."""
        snapshot = result.snapshot_time
        at = int((snapshot.timestamp() if snapshot else now) * 1e9)
        rows: Sequence[MetricRow] = (
            result.rows if result.groupings else ((result.summary,) if result.summary else ())
        )
        extra = {"aioconnectmetrics.stale": True} if stale else {}
        by = ", ".join(result.groupings) or "instance"
        metrics = []
        for metric in result.metrics:
            key = metric.key
            points = [
                NumberDataPoint(
                    time_unix_nano=at,
                    as_double=float(value),
                    attributes=_attributes({**_row_attributes(row), **extra}),
                )
                for row in rows
                if (value := row[key]) is not None
            ]
            metrics.append(
                Metric(
                    name=metric_name(metric.name),
                    unit=metric_unit(metric.name),
                    description=f"Amazon Connect {metric.name}, by {by}",
                    gauge=Gauge(data_points=points),
                )
            )
        if snapshot is not None:
            metrics.append(
                Metric(
                    name=f"{PREFIX}.snapshot.age",
                    unit="s",
                    description="Age of the pushed answer's oldest snapshot",
                    gauge=Gauge(
                        data_points=[
                            NumberDataPoint(
                                time_unix_nano=int(now * 1e9),
                                as_double=now - snapshot.timestamp(),
                                attributes=_attributes(extra),
                            )
                        ]
                    ),
                )
            )
        resource = Resource(
            attributes=_attributes(
                {
                    "service.name": "aioconnectmetrics",
                    "cloud.provider": "aws",
                    "cloud.region": self._cm.region_name,
                    "cloud.account.id": self._cm.identity,
                    "aws.connect.instance.id": self._question["instance_id"]
                    or self._cm.instance_id,
                }
            )
        )
        scope = InstrumentationScope(name="aioconnectmetrics.otlp", version="0.1.0")
        return ExportMetricsServiceRequest(
            resource_metrics=[
                ResourceMetrics(
                    resource=resource,
                    scope_metrics=[ScopeMetrics(scope=scope, metrics=metrics)],
                )
            ]
        )
