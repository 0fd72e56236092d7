"""The embedded fake service for people: the demo's tour, and the fake served on its own.

No AWS account needed: `run_demo` starts the fake and tours it; `serve_fake` starts it
with a populated centre, says where it is, and serves until stopped.
"""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import anyio

from ._client import ConnectMetrics
from ._metric import Metric
from ._result import MetricRow, MetricsResult

#: What the demo contact centre looks like.
DEMO_QUEUES = 300
DEMO_LATENCY = 0.02


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [
        ["-" if v is None else _fmt(v) for v in r] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for raw, row in zip(rows, cells[1:], strict=True):
        lines.append(
            "  ".join(
                c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w)
                for v, c, w in zip(raw, row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"
    return str(value)


def _summary_rows(row: MetricRow) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for key in row:
        bounds = row.bounds(key)
        mark = "exact" if row.is_exact(key) else "approximate"
        span = f"{_fmt(bounds[0])} .. {_fmt(bounds[1])}" if bounds else ""
        out.append((key, row[key], mark, span))
    return out


async def tour(cm: ConnectMetrics, queue_count: int, out: Callable[[str], None]) -> None:
    """Run the tour with an open client on an instance with `queue_count` queues."""
    live: MetricsResult = await cm.get_current_metrics(
        ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"],
        queues="all",
        channels=["VOICE", "CHAT"],
        groupings=["QUEUE", "CHANNEL"],
        names=True,
    )
    busiest = sorted(live.rows, key=lambda r: -(r["CONTACTS_IN_QUEUE"] or 0))[:8]
    out(
        f"Real-time, {queue_count} queues by queue and channel: {len(live.rows)} rows from "
        f"{live.batches} batches and {live.pages} pages, "
        f"snapshot {live.snapshot_time:%H:%M:%S} UTC"
    )
    out(
        _table(
            "The busiest queue/channel pairs:",
            ["queue", "channel", "in queue", "oldest (s)", "available", "online"],
            [
                (
                    r.queue_name,
                    r.channel,
                    r["CONTACTS_IN_QUEUE"],
                    r["OLDEST_CONTACT_AGE"],
                    r["AGENTS_AVAILABLE"],
                    r["AGENTS_ONLINE"],
                )
                for r in busiest
            ],
        )
    )
    summary = await cm.get_current_metrics(
        ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"],
        queues="all",
    )
    assert summary.summary is not None
    out("")
    out(
        _table(
            f"Instance summary over {summary.batches} batches (an agent serves queues in"
            " several batches, and is counted once, through their routing profile):",
            ["metric", "value", "", "bounds"],
            _summary_rows(summary.summary),
        )
    )
    await _agents(cm, out)
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    history = await cm.get_historical_metrics(
        [
            "CONTACTS_QUEUED",
            "CONTACTS_HANDLED",
            "HANDLE_TIME",
            "QUEUED_TIME",
            Metric.service_level(60),
        ],
        start=end - timedelta(hours=1),
        end=end,
        queues="all",
    )
    assert history.summary is not None
    out("")
    out(
        _table(
            f"The last hour ({history.start_time:%H:%M}-{history.end_time:%H:%M} UTC):",
            ["metric", "value", "", "bounds"],
            _summary_rows(history.summary),
        )
    )
    # Ask again: a fresh answer comes from the cache, and 200 callers at once share one
    # fetch of something new.
    again = await cm.get_current_metrics(
        ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_ONLINE", "AGENTS_AVAILABLE"],
        queues="all",
    )
    assert again == summary
    async with anyio.create_task_group() as group:
        for _ in range(200):
            group.start_soon(
                functools.partial(cm.get_current_metrics, ["CONTACTS_IN_QUEUE"], queues="all")
            )
    stats, cache = cm.stats, cm.cache_stats
    out("")
    out(
        f"Requests: {stats.calls} HTTP calls, {stats.pages} pages, {stats.batches} batches, "
        f"{stats.restarts} page restarts, {stats.throttles} throttled, "
        f"errors: {dict(stats.errors) or 'none'}"
    )
    out(
        f"Cache: {cache.hits} hits, {cache.misses} misses, {cache.coalesced} callers sharing "
        f"a fetch, {cache.fetches} upstream fetches (200 concurrent asks cost 1)"
    )
    for (_, region, operation), bucket in sorted(cm.limiter.stats.items()):
        out(
            f"Limiter {operation} ({region}): {bucket.acquired} tokens, waited "
            f"{bucket.waited_seconds:.2f} s in all to stay under the quota, "
            f"{bucket.throttles} throttles, rate now {bucket.rate:.2f}/s"
        )


async def _agents(cm: ConnectMetrics, out: Callable[[str], None]) -> None:
    agents = await cm.get_agents(routing_profiles="all", names=True)
    counts = ", ".join(
        f"{n} {a.value.lower().replace('_', ' ')}" for a, n in agents.counts().items() if n
    )
    out("")
    out(
        f"The agents themselves (GetCurrentUserData, each once): {len(agents)} logged in: {counts}"
    )
    out(
        _table(
            "Some who are available now:",
            ["agent", "routing profile", "free slots"],
            [
                (
                    a.username,
                    a.routing_profile_name,
                    " ".join(f"{ch}:{n}" for ch, n in sorted(a.available_slots.items()) if n),
                )
                for a in agents.by_activity("AVAILABLE")[:5]
            ],
        )
    )


async def run_demo(out: Callable[[str], None] = print, *, queues: int = DEMO_QUEUES) -> None:
    """Start the fake service with a realistic contact centre and run the tour."""
    from .testing import FakeConnect  # noqa: PLC0415 - the optional `testing` extra

    async with FakeConnect(seed=2024, latency=DEMO_LATENCY) as fake:
        instance_id = fake.add_instance(alias="demo")
        fake.populate(instance_id, queues=queues)
        out(f"Fake Amazon Connect at {fake.endpoint_url} ({DEMO_LATENCY * 1000:.0f} ms latency,")
        out(f"the real quotas), instance {instance_id} with {queues} queues")
        out("")
        async with fake.metrics_client(instance_id) as cm:
            await tour(cm, queues, out)


async def serve_fake(
    out: Callable[[str], None] = print,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    queues: int = DEMO_QUEUES,
    seed: int = 0,
    latency: float = 0.0,
) -> None:
    """Serve the fake with a populated centre until SIGINT or SIGTERM (the real quotas)."""
    from .testing import FakeConnect  # noqa: PLC0415 - the optional `testing` extra

    async with FakeConnect(seed=seed, latency=latency, host=host, port=port) as fake:
        instance_id = fake.add_instance(alias="fake")
        populated = fake.populate(instance_id, queues=queues)
        out(f"endpoint: {fake.endpoint_url}")
        out(f"instance: {instance_id}")
        out(f"region: {fake.region_name}")
        out(
            f"{len(populated.queue_ids)} queues, {len(populated.routing_profile_ids)} routing"
            f" profiles, {len(populated.agent_ids)} agents; any access key (each is an"
            " account of its own)"
        )
        out(
            "try: AWS_ACCESS_KEY_ID=fake AWS_SECRET_ACCESS_KEY=fake aioconnectmetrics watch"
            f" AGENTS_ONLINE --endpoint-url {fake.endpoint_url} --region {fake.region_name}"
            f" --instance-id {instance_id} --all-queues"
        )
        out("serving until stopped (Ctrl-C)")
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                return
