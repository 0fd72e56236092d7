"""Ground truth from the fake's simulator, computed over all queues at once (no batches)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from aioconnectmetrics import Metric, MetricsResult
from aioconnectmetrics.testing import FakeConnect
from aioconnectmetrics.testing._metrics_v2 import V2_SIMULATED
from aioconnectmetrics.testing._sim_history import contacts_between, historical_rows

Key = tuple[str | None, str | None, str | None]
ALL_CHANNELS = ("VOICE", "CHAT", "TASK", "EMAIL")


def current_truth(
    fake: FakeConnect,
    instance_id: str,
    metrics: Sequence[str],
    *,
    queues: Sequence[str] | None = None,
    routing_profiles: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    groupings: Sequence[str] = (),
) -> dict[Key, dict[str, float | None]]:
    rows = fake.centre(instance_id).current_rows(
        fake.service.snapshot_index(fake.clock()),
        queue_ids=queues,
        routing_profile_ids=routing_profiles,
        channels=channels or ALL_CHANNELS,
        groupings=groupings,
        metrics=metrics,
    )
    return dict(rows)


def historical_truth(
    fake: FakeConnect,
    instance_id: str,
    metrics: Sequence[Metric],
    *,
    queues: Sequence[str],
    start: datetime,
    end: datetime,
    channels: Sequence[str] | None = None,
    groupings: Sequence[str] = (),
) -> dict[Key, dict[str, float | None]]:
    rows = historical_rows(
        fake.centre(instance_id),
        queue_ids=queues,
        channels=channels or ALL_CHANNELS,
        groupings=groupings,
        metrics=[(m.name, m.threshold) for m in metrics],
        start=start.timestamp(),
        end=end.timestamp(),
        now=fake.clock(),
    )
    by_key: dict[tuple[str, float | None], str] = {(m.name, m.threshold): m.key for m in metrics}
    return {key: {by_key[k]: v for k, v in values.items()} for key, values in rows}


def result_rows(result: MetricsResult) -> dict[Key, Any]:
    rows = result.rows if result.groupings else ([result.summary] if result.summary else [])
    return {(r.queue_id, r.channel, r.routing_profile_id): r for r in rows}


def assert_matches_truth(result: MetricsResult, truth: dict[Key, dict[str, float | None]]) -> None:
    """Exact values equal the truth; approximate ones have bounds that hold it."""
    rows = result_rows(result)
    assert set(rows) == set(truth)
    for key, expected in truth.items():
        row = rows[key]
        for metric, want in expected.items():
            got = row[metric]
            if row.is_exact(metric):
                assert got == (None if want is None else pytest.approx(want)), (key, metric)
                continue
            bounds = row.bounds(metric)
            assert (got is None) == (want is None), (key, metric)
            if bounds is not None and want is not None:
                low, high = bounds
                assert got is not None
                assert low - 1e-9 <= want <= high + 1e-9, (key, metric, bounds, want)
                assert low - 1e-9 <= got <= high + 1e-9, (key, metric, bounds, got)


#: V2 key: (dimensions, interval start, interval end) in epoch seconds.
V2Key = tuple[tuple[tuple[str, str], ...], float, float]


def v2_truth(
    fake: FakeConnect,
    instance_id: str,
    metrics: Sequence[tuple[str, str, float | None, str]],
    *,
    queues: Sequence[str],
    start: datetime,
    end: datetime,
    period: float | None,
    groupings: Sequence[str] = (),
) -> dict[V2Key, dict[str, float | None]]:
    """GetMetricDataV2's truth over every queue at once.

    Metrics are (key, name, threshold, comparison); rows are the (dimensions, interval)
    pairs with contacts, grouped by QUEUE and CHANNEL.
    """
    first, last = start.timestamp(), end.timestamp()
    step = period or (last - first)
    centre = fake.centre(instance_id)
    groups: dict[V2Key, list[Any]] = {}
    for contact in contacts_between(
        centre, queues, ALL_CHANNELS, start=first, end=last, now=fake.clock()
    ):
        dims: list[tuple[str, str]] = []
        if "QUEUE" in groupings:
            dims += [
                ("QUEUE", contact.queue_id),
                ("QUEUE_ARN", centre.queues[contact.queue_id].arn),
            ]
        if "CHANNEL" in groupings:
            dims.append(("CHANNEL", contact.channel))
        index = (contact.enqueued_at - first) // step
        begins = first + index * step
        groups.setdefault((tuple(sorted(dims)), begins, min(begins + step, last)), []).append(
            contact
        )
    return {
        key: {k: V2_SIMULATED[name](contacts, t, c) for k, name, t, c in metrics}
        for key, contacts in groups.items()
    }
