"""OpenTelemetry: traces and metrics of the library's work (the ``otel`` extra).

With ``opentelemetry-api`` installed, each public call is a span (operation, instance,
queues, batches, cache outcome, rows, snapshot age, exactness), each batch a child span
with its pages, and retries, throttles and limiter waits are events of the span they
happen in; instruments under the meter ``aioconnectmetrics`` count requests by outcome,
throttles, cache lookups, and record limiter waits, fetch durations and snapshot ages
(docs/observability.md has the table). Without the package nothing here does anything
(every helper returns at once); with it and no provider configured, each helper sees
that the API's globals are still its proxies and returns at once too (no span is
started, no instrument touched): `python -m benchmarks.otel_cost` measures it.

Spans follow the semantic conventions where they apply: ``rpc.system`` (``aws-api``),
``rpc.service`` (``Connect``), ``rpc.method`` (the operation), ``cloud.region``,
``error.type``; the library's own attributes are under ``aioconnectmetrics.``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

try:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace

    AVAILABLE = True
except ImportError:  # the `otel` extra is not installed: nothing here does anything
    AVAILABLE = False

#: The instrumentation scope: the tracer's and the meter's name.
SCOPE = "aioconnectmetrics"
VERSION = "0.1.0"

#: How the cache answered the call running in this task: hit, stale, joined, fetched.
cache_outcome: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aioconnectmetrics_cache_outcome", default=None
)

Attributes = Mapping[str, "str | int | float | bool | None"]


def enabled() -> bool:
    """Whether opentelemetry-api is installed (a provider may still be a no-op)."""
    return AVAILABLE


def _tracer_set() -> bool:
    provider = otel_trace.get_tracer_provider()
    return not isinstance(
        provider, (otel_trace.ProxyTracerProvider, otel_trace.NoOpTracerProvider)
    )


def _meter_set() -> bool:
    provider = otel_metrics.get_meter_provider()
    # The API's global before one is set is its private proxy class.
    return not isinstance(provider, otel_metrics.NoOpMeterProvider) and (
        type(provider).__name__ != "_ProxyMeterProvider"
    )


class _Switch:
    """Whether a provider is set: once one is, for good; until then, asked once a second.

    The API's getters read the environment on each call; the hot path (a cache hit)
    must not pay that. A provider set after the process started is seen within
    `RECHECK` seconds and `CALLS` uses (`recheck` sees it at once).
    """

    def __init__(self, probe: Callable[[], bool]) -> None:
        self._probe = probe
        self._on = False
        self._next = -math.inf
        self._skip = 0

    def __call__(self) -> bool:
        if self._on:
            return True
        # Off: the clock is read once in `CALLS` uses (a hit is a few microseconds).
        self._skip -= 1
        if self._skip > 0:
            return False
        self._skip = CALLS
        now = time.monotonic()
        if now >= self._next:
            self._next = now + RECHECK
            self._on = self._probe()
        return self._on

    def recheck(self) -> None:
        """Ask again at the next use."""
        self._next = -math.inf
        self._skip = 0


RECHECK = 1.0
CALLS = 64
_tracing = _Switch(lambda: AVAILABLE and _tracer_set())
_metering = _Switch(lambda: AVAILABLE and _meter_set())


def tracing() -> bool:
    """Whether spans go anywhere: the API installed and a tracer provider set.

    Before an SDK's provider is set, the API's global is a proxy whose spans record
    nothing: then no span is started at all.
    """
    return AVAILABLE and _tracing()


def metering() -> bool:
    """Whether instruments go anywhere: the API installed and a meter provider set."""
    return AVAILABLE and _metering()


def recheck() -> None:
    """See a provider set just now at the next call (else within `RECHECK` seconds)."""
    _tracing.recheck()
    _metering.recheck()


class _Instruments:
    """The meter's instruments, made once (they forward to a provider set later)."""

    def __init__(self) -> None:
        meter = otel_metrics.get_meter(SCOPE, VERSION)
        self.requests = meter.create_counter(
            "aioconnectmetrics.requests",
            unit="{request}",
            description="HTTP attempts to Amazon Connect, by operation and outcome",
        )
        self.throttles = meter.create_counter(
            "aioconnectmetrics.throttles",
            unit="{request}",
            description="Attempts the service refused with a 429 (ThrottlingException)",
        )
        self.limiter_wait = meter.create_histogram(
            "aioconnectmetrics.limiter.wait",
            unit="s",
            description="Time an attempt waited for the limiter's token",
        )
        self.limiter_rate = meter.create_gauge(
            "aioconnectmetrics.limiter.rate",
            unit="{request}/s",
            description="The rate the limiter has learnt the account leaves this process",
        )
        self.cache = meter.create_counter(
            "aioconnectmetrics.cache.lookups",
            unit="{lookup}",
            description="Cache lookups by outcome: hit, stale, miss, joined",
        )
        self.fetch_duration = meter.create_histogram(
            "aioconnectmetrics.fetch.duration",
            unit="s",
            description="Time of one upstream fetch: every batch and page of an answer",
        )
        self.snapshot_age = meter.create_histogram(
            "aioconnectmetrics.snapshot.age",
            unit="s",
            description="Age of a real-time answer's oldest snapshot when it was returned",
        )


_instruments: _Instruments | None = None
_tracers: list[Any] = []


def _tracer() -> Any:
    """The library's tracer, asked of the provider once (the SDK's getter is not cheap).

    Asked only once `tracing()` has seen a provider set, which is for good.
    """
    if not _tracers:
        _tracers.append(otel_trace.get_tracer(SCOPE, VERSION))
    return _tracers[0]


def instruments() -> _Instruments | None:
    """The instruments, or None without opentelemetry-api."""
    global _instruments  # noqa: PLW0603 - made once per process, as the meter is
    if not metering():
        return None
    if _instruments is None:
        _instruments = _Instruments()
    return _instruments


def _span_attributes(attributes: Attributes) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}


@contextlib.contextmanager
def call_span(name: str, attributes: Attributes) -> Iterator[Any]:
    """The span of one public call (its cache outcome set at its end); None without OTel."""
    if not tracing():
        yield None
        return
    tracer = _tracer()
    token = cache_outcome.set(None)
    try:
        with tracer.start_as_current_span(
            name, kind=otel_trace.SpanKind.CLIENT, attributes=_span_attributes(attributes)
        ) as span:
            try:
                yield span
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
            finally:
                outcome = cache_outcome.get()
                if outcome is not None:
                    span.set_attribute("aioconnectmetrics.cache", outcome)
    finally:
        cache_outcome.reset(token)


@contextlib.contextmanager
def batch_span(operation: str | None, index: int, ids: int) -> Iterator[Any]:
    """The child span of one batch; None without OTel."""
    if not tracing():
        yield None
        return
    tracer = _tracer()
    attributes: dict[str, Any] = {
        "aioconnectmetrics.batch.index": index,
        "aioconnectmetrics.batch.ids": ids,
    }
    if operation is not None:
        attributes.update({"rpc.system": "aws-api", "rpc.service": "Connect"})
        attributes["rpc.method"] = operation
    name = f"{operation or 'Connect'} batch"
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            raise


#: The span of a call while no tracer provider is set: none.
NO_SPAN: contextlib.AbstractContextManager[None] = contextlib.nullcontext(None)


def call(
    operation: str, *, region: str, instance_id: str, ids: int | None = None
) -> contextlib.AbstractContextManager[Any]:
    """The span of one public call of `operation` (nothing while no provider is set)."""
    if not tracing():
        return NO_SPAN
    about: dict[str, Any] = {
        "rpc.system": "aws-api",
        "rpc.service": "Connect",
        "rpc.method": operation,
        "cloud.region": region,
        "aioconnectmetrics.instance_id": instance_id,
        "aioconnectmetrics.queues": ids,
    }
    return call_span(f"aioconnectmetrics {operation}", about)


def answered(
    span: Any,
    operation: str,
    *,
    batches: int,
    pages: int,
    rows: int,
    exact: Callable[[], bool],
    partial: bool,
    snapshot_age: float | None = None,
) -> None:
    """What a call's span learns from its answer; the snapshot's age recorded.

    `exact` is asked only when a span records (it may look at every row).
    """
    if snapshot_age is not None:
        snapshot_aged(operation, snapshot_age)
    if span is None:
        return
    set_attributes(
        span,
        {
            "aioconnectmetrics.batches": batches,
            "aioconnectmetrics.pages": pages,
            "aioconnectmetrics.rows": rows,
            "aioconnectmetrics.exact": exact(),
            "aioconnectmetrics.partial": partial,
            "aioconnectmetrics.snapshot_age_s": snapshot_age,
        },
    )


def set_attributes(span: Any, attributes: Attributes) -> None:
    """Attributes on `span` (from `call_span` or `batch_span`), if there is one."""
    if span is not None:
        span.set_attributes(_span_attributes(attributes))


def event(name: str, attributes: Attributes) -> None:
    """An event on the current span (a retry, a throttle, a limiter wait)."""
    if tracing():
        span = otel_trace.get_current_span()
        if span.is_recording():
            span.add_event(name, _span_attributes(attributes))


def cache_looked_up(outcome: str, *, for_caller: str | None = None) -> None:
    """Count a cache lookup; `for_caller`: the outcome this task's call span reports."""
    if for_caller is not None and tracing():
        cache_outcome.set(for_caller)
    found = instruments()
    if found is not None:
        found.cache.add(1, {"aioconnectmetrics.cache.outcome": outcome})


def attempt(operation: str, outcome: str, region: str) -> None:
    """Count one HTTP attempt: ``ok``, ``throttled`` or ``fault``."""
    found = instruments()
    if found is not None:
        attributes = {"rpc.method": operation, "outcome": outcome, "cloud.region": region}
        found.requests.add(1, attributes)
        if outcome == "throttled":
            found.throttles.add(1, {"rpc.method": operation, "cloud.region": region})


def limiter_waited(operation: str, seconds: float, rate: Callable[[], float]) -> None:
    """Record a wait for a token, and the rate in force (read only with OTel installed).

    A real wait (a millisecond or more) is also an event on the current span.
    """
    found = instruments()
    if found is None:
        return
    found.limiter_wait.record(seconds, {"rpc.method": operation})
    found.limiter_rate.set(rate(), {"rpc.method": operation})
    if seconds >= 0.001:
        event("limiter.wait", {"rpc.method": operation, "aioconnectmetrics.wait_s": seconds})


def fetched(operation: str, seconds: float) -> None:
    """Record one upstream fetch's duration."""
    found = instruments()
    if found is not None:
        found.fetch_duration.record(seconds, {"rpc.method": operation})


def snapshot_aged(operation: str, seconds: float) -> None:
    """Record the age of an answer's snapshot when it was returned."""
    found = instruments()
    if found is not None:
        found.snapshot_age.record(seconds, {"rpc.method": operation})
