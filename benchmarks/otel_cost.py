"""What the OpenTelemetry hooks cost: without the package, with no provider, with an SDK.

The fake service runs in a process of its own (50 ms latency, no quota); each
configuration runs in a fresh process of its own (a provider, once set, is for good),
the three alternated twice:

* **off**: the hooks off, as without ``opentelemetry-api`` installed;
* **API, no provider**: the package installed, nothing configured (the default);
* **SDK**: a ``TracerProvider`` with a ``BatchSpanProcessor`` (spans dropped by the
  exporter, as a remote one would take them off the process) and a ``MeterProvider``
  with a reader.

Measured in each: a cache hit (the instance summary of the 1,000 queues, as
``benchmarks.cache`` asks it: median of 5,000 sequential hits, microseconds), and the
process's CPU per page of a fetch (1,000 queues grouped by QUEUE and CHANNEL: 10 batches,
40 pages; cache bypassed; ``time.process_time`` over 10 fetches, divided by the pages):
the library's and botocore's own work per page, the fake's not (another process).
Targets (issue 24): a hit at most 2 us more without a provider; a page at most 10% more
with one.

Run: python -m benchmarks.otel_cost [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from aioconnectmetrics import ConnectMetrics, RateLimiter, _telemetry
from aioconnectmetrics._limiter import SERVICE_QUOTAS

from .compare import DUMMY_SECRET, REGION, fake_service

QUEUES = 1000
CHANNELS = ["VOICE", "CHAT", "TASK", "EMAIL"]
METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE"]
MODES = {"off": "off (no package)", "api": "API, no provider", "sdk": "SDK provider"}


def _configure(mode: str) -> None:
    if mode == "off":
        _telemetry.AVAILABLE = False
        return
    if mode == "sdk":
        from opentelemetry import metrics, trace  # noqa: PLC0415 - the SDK mode only
        from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )

        class Dropped(SpanExporter):
            def export(self, spans: Sequence[Any]) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Dropped()))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    _telemetry.recheck()


async def _measure(endpoint: str, instance_id: str, queues: list[str]) -> dict[str, float]:
    limiter = RateLimiter(dict.fromkeys(SERVICE_QUOTAS, (1e6, 10**6)))
    async with ConnectMetrics(
        instance_id,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="otel-cost",
        aws_secret_access_key=DUMMY_SECRET,
        limiter=limiter,
    ) as cm:
        ask: dict[str, Any] = {
            "queues": queues,
            "channels": CHANNELS,
            "groupings": ["QUEUE", "CHANNEL"],
        }
        await cm.get_current_metrics(METRICS, cache="bypass", **ask)  # warm: imports, pools
        cpu = 0.0
        pages = 0
        for _ in range(10):
            started = time.process_time()
            result = await cm.get_current_metrics(METRICS, cache="bypass", **ask)
            cpu += time.process_time() - started
            pages += result.pages
        # Hits on the instance summary, as benchmarks.cache measures them (one row).
        await cm.get_current_metrics(METRICS, queues=queues)
        hits = []
        for _ in range(5000):
            started = time.perf_counter()
            await cm.get_current_metrics(METRICS, queues=queues)
            hits.append(time.perf_counter() - started)
    return {
        "hit_us": statistics.median(hits) * 1e6,
        "cpu_per_page_us": cpu / pages * 1e6,
        "pages": pages / 10,
    }


def _child(mode: str, endpoint: str, instance_id: str, queues_file: str) -> None:
    _configure(mode)
    queues = json.loads(Path(queues_file).read_text())
    figures = anyio.run(_measure, endpoint, instance_id, queues)
    sys.stdout.write(json.dumps(figures) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ENDPOINT", "INSTANCE", "QUEUES"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if not _telemetry.AVAILABLE:
        raise SystemExit(
            "install the otel extra and the SDK: pip install -e '.[otel]' --group bench"
        )
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    with fake_service([QUEUES], quotas=False) as service:
        instance_id, queues = service["instances"][str(QUEUES)]
        queues_file = Path(__file__).parent / "results" / "otel_cost_queues.json"
        queues_file.write_text(json.dumps(queues))
        try:
            for _ in range(args.rounds):
                for mode in MODES:
                    child = subprocess.run(  # noqa: S603 - our own module
                        [sys.executable, "-m", "benchmarks.otel_cost", "--child", mode,
                         service["endpoint"], instance_id, str(queues_file)],
                        check=False, capture_output=True, text=True,
                    )  # fmt: skip
                    if child.returncode:
                        raise SystemExit(f"the {mode} run failed:\n{child.stderr}")
                    results[mode].append(json.loads(child.stdout.strip().splitlines()[-1]))
        finally:
            queues_file.unlink(missing_ok=True)
    base_hit = statistics.median(r["hit_us"] for r in results["off"])
    base_cpu = statistics.median(r["cpu_per_page_us"] for r in results["off"])
    pages = results["off"][0]["pages"]
    print(
        f"OpenTelemetry hooks: {QUEUES} queues by QUEUE and CHANNEL ({pages:.0f} pages a fetch), "
        f"{args.rounds} rounds alternated, each mode in a fresh process"
    )
    print("| configuration | cache hit (median) | vs off | CPU per page | vs off |")
    print("|---|---|---|---|---|")
    for mode, label in MODES.items():
        hit = statistics.median(r["hit_us"] for r in results[mode])
        cpu = statistics.median(r["cpu_per_page_us"] for r in results[mode])
        print(
            f"| {label} | {hit:.1f} us | {hit - base_hit:+.1f} us | {cpu:.0f} us "
            f"| {cpu / base_cpu:.3f}x |"
        )
    out = Path(__file__).parent / "results" / "otel_cost.json"
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
