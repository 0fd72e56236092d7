"""A Prometheus exporter of Amazon Connect queue metrics (the ``prometheus`` extra).

`Exporter` turns a scrape into an answer of its `ConnectMetrics`: real-time metrics
(grouped as asked, and the instance summary), optionally the last closed 5-minute
interval of historical metrics, the snapshot time, and the library's own counters, in
the Prometheus text format written by ``prometheus-client``. Every scrape goes through
the client's cache and single-flight, so any number of scrapers cost one fan-out per
snapshot. A refresh that fails leaves the last complete answer in place: the failure is
a counter and a log line, never a hole in the graphs. Serve it with
``aioconnectmetrics export``, or mount `asgi_app` (FastAPI, Starlette) or
`aiohttp_handler` in a service of your own. See ``docs/exporter.md``.
"""

from __future__ import annotations

import logging
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ._catalog import CURRENT, HISTORICAL, INTERVAL_SECONDS
from ._client import ConnectMetrics, rows_grouped
from ._errors import ConnectMetricsError, InvalidRequestError
from ._metric import check_metrics
from ._result import MetricRow, MetricsResult

__all__ = ["CONTENT_TYPE_LATEST", "Exporter", "ExporterApp", "aiohttp_handler", "asgi_app"]

logger = logging.getLogger("aioconnectmetrics.export")  # by concern: docs/observability.md

#: Prefix of the Connect metrics; the library's own are ``aioconnectmetrics_*``.
PREFIX = "amazon_connect"
_SUFFIX = {"SECONDS": "_seconds", "PERCENT": "_percent", "COUNT": ""}
#: The labels of each grouping: (label, whether it is a name), in the order exported.
_LABELS: Mapping[str, tuple[tuple[str, bool], ...]] = {
    "QUEUE": (("queue_id", False), ("queue_name", True)),
    "CHANNEL": (("channel", False),),
    "ROUTING_PROFILE": (("routing_profile_id", False), ("routing_profile_name", True)),
}


def metric_name(metric: str, unit: str, scope: str = "") -> str:
    """The Prometheus name of a Connect metric: ``amazon_connect_[scope_]name[_unit]``."""
    return f"{PREFIX}_{scope}{metric.lower()}{_SUFFIX[unit]}"


class Exporter:
    """Connect metrics for Prometheus, from one `ConnectMetrics`.

    Args:
        cm: an open client (its cache serves every scrape; give it a `CachePolicy` with
            a `stale_grace` to answer scrapes at once while a refresh runs).
        metrics: real-time metric names.
        groupings: the rows' dimensions (``["QUEUE"]`` for a gauge per queue); to be
            given (omitted: ``["QUEUE"]`` with a `DeprecationWarning`, required from 0.3).
        queues, routing_profiles, channels, queue_types, instance_id: as for
            `ConnectMetrics.get_current_metrics` (default: every STANDARD queue).
        summary: also export the instance summary (``amazon_connect_instance_*``).
        historical: historical metric names, exported for the last closed 5-minute
            interval (``amazon_connect_last_5m_*``), grouped as the real-time ones
            (QUEUE and CHANNEL only).
        names: label rows with queue and routing profile names.
        clock: seconds since the epoch (default: the client's).
    """

    def __init__(
        self,
        cm: ConnectMetrics,
        metrics: Iterable[str],
        *,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        channels: Iterable[str] | None = None,
        groupings: Iterable[str] | None = None,
        queue_types: Iterable[str] = ("STANDARD",),
        instance_id: str | None = None,
        summary: bool = True,
        historical: Iterable[str] = (),
        names: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.cm = cm
        self.metrics = tuple(
            m.key for m in check_metrics(metrics, historical=False, field="metrics")
        )
        self.historical = tuple(historical)
        if self.historical:
            for metric in check_metrics(self.historical, historical=True, field="historical"):
                if metric.threshold is not None:  # a family's name carries no threshold
                    raise InvalidRequestError("historical", metric.key, "not SERVICE_LEVEL")
        if queues is None and routing_profiles is None:
            queues = "all"
        self._selection: dict[str, Any] = {
            "queues": queues,
            "routing_profiles": routing_profiles,
            "channels": channels,
            "queue_types": tuple(queue_types),
            "instance_id": instance_id,
        }
        self.groupings = tuple(rows_grouped(groupings, "Exporter"))
        self.summary = summary
        self.names = names
        self._clock = clock or cm.clock
        self._answers: dict[str, MetricsResult] = {}
        self._failures = 0
        self._last_success: float | None = None

    @property
    def instance_id(self) -> str:
        """The instance exported."""
        return str(self._selection["instance_id"] or self.cm.instance_id)

    async def _fetch(
        self,
        key: str,
        ask: Callable[[], Awaitable[MetricsResult]],
        wrong: list[InvalidRequestError],
    ) -> None:
        try:
            self._answers[key] = await ask()
        except InvalidRequestError as exc:
            wrong.append(exc)  # a wrong question is not a failed refresh
        except ConnectMetricsError as exc:
            # The last complete answer stays: a failure is a counter and a log line.
            self._failures += 1
            logger.warning("exporter: %s refresh failed: %s", key, exc)
        else:
            self._last_success = self._clock()

    async def refresh(self) -> None:
        """Bring the answers up to date, through the client's cache (concurrently)."""
        current = {k: v for k, v in self._selection.items() if v is not None}
        asks: dict[str, Callable[[], Awaitable[MetricsResult]]] = {
            "rows": lambda: self.cm.get_current_metrics(
                self.metrics, groupings=self.groupings, names=self.names, **current
            )
        }
        if self.summary:
            asks["summary"] = lambda: self.cm.get_current_metrics(self.metrics, **current)
        if self.historical and self._selection["queues"] is not None:
            asks["last_5m"] = self._last_interval
        wrong: list[InvalidRequestError] = []
        async with anyio.create_task_group() as group:
            for key, ask in asks.items():
                group.start_soon(self._fetch, key, ask, wrong)
        if wrong:
            raise wrong[0]

    async def _last_interval(self) -> MetricsResult:
        policy = self.cm.cache_policy
        lag = policy.publish_lag if policy is not None else 30.0
        end = (self._clock() - lag) // INTERVAL_SECONDS * INTERVAL_SECONDS
        end_time = datetime.fromtimestamp(end, timezone.utc)
        selection = {
            k: v
            for k, v in self._selection.items()
            if k in ("queues", "channels", "queue_types", "instance_id") and v is not None
        }
        return await self.cm.get_historical_metrics(
            self.historical,
            start=end_time - timedelta(seconds=INTERVAL_SECONDS),
            end=end_time,
            groupings=[g for g in self.groupings if g in ("QUEUE", "CHANNEL")],
            names=self.names,
            **selection,
        )

    async def render(self) -> bytes:
        """One scrape: refresh (through the cache), then the exposition text."""
        await self.refresh()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(self))
        return generate_latest(registry)

    # -- the families of one scrape ------------------------------------------------------
    def families(self) -> Iterator[Metric]:
        """Every metric family of the answers held now."""
        instance = self.instance_id
        rows = self._answers.get("rows")
        if rows is not None:
            yield from _row_families(rows, "", instance, CURRENT, names=self.names)
            snapshot = GaugeMetricFamily(
                f"{PREFIX}_snapshot_timestamp_seconds",
                "DataSnapshotTime of the oldest batch of the real-time answer",
                labels=["instance"],
            )
            if rows.snapshot_time is not None:
                snapshot.add_metric([instance], rows.snapshot_time.timestamp())
            yield snapshot
            yield _gauge(
                f"{PREFIX}_snapshot_spread_seconds",
                "Newest minus oldest batch snapshot of the real-time answer",
                instance,
                rows.snapshot_spread.total_seconds(),
            )
        summary = self._answers.get("summary")
        if summary is not None and summary.summary is not None:
            yield from _summary_families(summary.summary, instance)
        last = self._answers.get("last_5m")
        if last is not None:
            yield from _row_families(last, "last_5m_", instance, HISTORICAL, names=self.names)
            if last.end_time is not None:
                yield _gauge(
                    f"{PREFIX}_last_5m_interval_end_timestamp_seconds",
                    "End of the closed 5-minute interval of the last_5m metrics",
                    instance,
                    last.end_time.timestamp(),
                )
        yield from self._own_families()

    def _own_families(self) -> Iterator[Metric]:
        stats, cache = self.cm.stats, self.cm.cache_stats
        for name, help_text, value in (
            ("requests", "HTTP requests to Amazon Connect", stats.calls),
            ("throttled_requests", "Requests the service throttled (429)", stats.throttles),
            ("retries", "Requests retried", stats.retries),
            ("pages", "Pages received", stats.pages),
            ("cache_hits", "Answers from the cache", cache.hits),
            ("cache_misses", "Asks the cache could not answer", cache.misses),
            ("fetches", "Fan-outs to the service", cache.fetches),
            ("refresh_failures", "Exporter refreshes that failed", self._failures),
        ):
            counter = CounterMetricFamily(f"aioconnectmetrics_{name}", help_text)
            counter.add_metric([], float(value))
            yield counter
        waited = CounterMetricFamily(
            "aioconnectmetrics_limiter_wait_seconds",
            "Seconds requests waited for the quota",
            labels=["operation"],
        )
        rate = GaugeMetricFamily(
            "aioconnectmetrics_limiter_rate",
            "Requests per second the limiter allows now",
            labels=["operation"],
        )
        for (_, _, operation), bucket in sorted(self.cm.limiter.stats.items()):
            waited.add_metric([operation], bucket.waited_seconds)
            rate.add_metric([operation], bucket.rate)
        yield waited
        yield rate
        success = GaugeMetricFamily(
            "aioconnectmetrics_last_success_timestamp_seconds",
            "When the exporter's answers were last refreshed without error",
        )
        if self._last_success is not None:
            success.add_metric([], self._last_success)
        yield success


class _Families(Collector):
    def __init__(self, exporter: Exporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterable[Metric]:
        return list(self._exporter.families())


def _gauge(name: str, help_text: str, instance: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, help_text, labels=["instance"])
    gauge.add_metric([instance], value)
    return gauge


def _label_names(groupings: Iterable[str], names: bool) -> list[str]:
    """The labels of rows grouped so: fixed by the question, never by a row."""
    return [
        label
        for grouping in groupings
        for label, is_name in _LABELS[grouping]
        if names or not is_name
    ]


def _label_values(row: MetricRow, labels: Iterable[str]) -> list[str]:
    """The row's value of each label, by name; "" (no value) where the row has none.

    A queue newer than the cached listing has no name yet: its ``queue_name`` is empty,
    and its channel stays under ``channel``.
    """
    values = []
    for label in labels:
        value = getattr(row, label)
        values.append("" if value is None else str(value))
    return values


def _row_families(
    result: MetricsResult,
    scope: str,
    instance: str,
    catalog: Mapping[str, Any],
    *,
    names: bool,
) -> Iterator[Metric]:
    rows = list(result.rows) if result.groupings else []
    labels = _label_names(result.groupings, names)
    for metric in result.metrics:
        spec = catalog[metric.name]
        family = GaugeMetricFamily(
            metric_name(metric.name, spec.unit, scope),
            f"Amazon Connect {metric.key} ({spec.unit.lower()})",
            labels=["instance", *labels],
        )
        for row in rows:
            value = row[metric]
            if value is not None:  # no data is no sample, never 0
                family.add_metric([instance, *_label_values(row, labels)], value)
        yield family


def _summary_families(row: MetricRow, instance: str) -> Iterator[Metric]:
    exact = GaugeMetricFamily(
        f"{PREFIX}_instance_value_exact",
        "1 when the instance summary's value is exact, 0 when approximate",
        labels=["instance", "metric"],
    )
    for key in row:
        spec = CURRENT[key]
        family = GaugeMetricFamily(
            metric_name(key, spec.unit, "instance_"),
            f"Amazon Connect {key} over the instance's selected queues ({spec.unit.lower()})",
            labels=["instance"],
        )
        value = row[key]
        if value is not None:
            family.add_metric([instance], value)
        exact.add_metric([instance, key], 1.0 if row.is_exact(key) else 0.0)
        yield family
    yield exact


# -- serving ---------------------------------------------------------------------------------
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ExporterApp:
    """An ASGI app that answers every GET with the exposition.

    Mount it beside a service's own routes: ``api.mount("/metrics", asgi_app(exporter))``
    (Starlette and FastAPI redirect ``/metrics`` to ``/metrics/``; Prometheus follows).
    """

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": f"{message['type']}.complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["type"] != "http":
            return
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed\n", "text/plain")
            return
        await _respond(send, 200, await self.exporter.render(), CONTENT_TYPE_LATEST)


def asgi_app(exporter: Exporter) -> ExporterApp:
    """The exporter as an ASGI app, to mount beside a service's own routes."""
    return ExporterApp(exporter)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def aiohttp_handler(exporter: Exporter) -> Callable[[Any], Awaitable[Any]]:
    """A handler for aiohttp, to add as ``app.router.add_get("/metrics", handler)``."""
    from aiohttp import web  # noqa: PLC0415 - aiohttp comes with aiobotocore

    async def handler(request: web.Request) -> web.Response:
        body = await exporter.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handler
