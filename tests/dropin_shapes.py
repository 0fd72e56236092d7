"""The drop-in API's responses over the suite's request shapes, serialised: a golden file.

``python -m tests.dropin_shapes --write`` records their lengths and SHA-256 in
``tests/data/dropin_golden.json``. The file was written by the package as it was before
answers were kept compact (64c5b5e: the service's row dicts passed through), this
script run against it: ``PYTHONPATH=<a worktree of 64c5b5e> python
tests/dropin_shapes.py --write`` from outside the repository.
``tests/test_dropin_golden.py`` asks the same questions of today's code and compares
the JSON, byte for byte. What varies from run to run of the same code (the instance's
ID, moto's request IDs) is replaced by placeholders first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio

from aioconnectmetrics import CachePolicy, RateLimiter
from aioconnectmetrics._limiter import SERVICE_QUOTAS
from aioconnectmetrics.testing import FakeConnect, ManualClock

GOLDEN = Path(__file__).parent / "data" / "dropin_golden.json"
NOW = 1_800_000_000.0
END = datetime.fromtimestamp(NOW, timezone.utc)
START = END - timedelta(hours=4)

COUNT = "COUNT"
CURRENT = [
    {"Name": "CONTACTS_IN_QUEUE", "Unit": COUNT},
    {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
    {"Name": "AGENTS_AVAILABLE", "Unit": COUNT},
    {"Name": "CONTACTS_SCHEDULED", "Unit": COUNT},
]
AGENTS = [
    {"Name": "AGENTS_ONLINE", "Unit": COUNT},
    {"Name": "AGENTS_ON_CONTACT", "Unit": COUNT},
    {"Name": "CONTACTS_IN_QUEUE", "Unit": COUNT},
]
AGENT_ONLY = AGENTS[:2]
V2 = [
    {"Name": "CONTACTS_HANDLED"},
    {"Name": "AVG_HANDLE_TIME"},
    {"Name": "SERVICE_LEVEL", "Threshold": [{"Comparison": "LTE", "ThresholdValue": 30}]},
]
HISTORICAL = [
    {"Name": "CONTACTS_HANDLED", "Unit": COUNT, "Statistic": "SUM"},
    {"Name": "HANDLE_TIME", "Unit": "SECONDS", "Statistic": "AVG"},
    {
        "Name": "SERVICE_LEVEL",
        "Unit": "PERCENT",
        "Statistic": "AVG",
        "Threshold": {"Comparison": "LT", "ThresholdValue": 60},
    },
    {"Name": "CONTACTS_ABANDONED", "Unit": COUNT, "Statistic": "SUM"},
    {"Name": "QUEUED_TIME", "Unit": "SECONDS", "Statistic": "MAX"},
]


def shapes(queues: list[str], profiles: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Name -> (operation, kwargs): every shape of question the suite asks the drop-in."""
    few, some = queues[:5], queues[:150]
    channels = ["VOICE", "CHAT", "TASK"]
    current = "get_current_metric_data"
    historical = "get_metric_data"
    window = {"StartTime": START, "EndTime": END}
    return {
        "by queue and channel, 3 batches": (
            current,
            {
                "Filters": {"Queues": queues, "Channels": channels},
                "Groupings": ["QUEUE", "CHANNEL"],
                "CurrentMetrics": CURRENT,
            },
        ),
        "by queue, sorted ascending": (
            current,
            {
                "Filters": {"Queues": queues},
                "Groupings": ["QUEUE"],
                "CurrentMetrics": CURRENT,
                "SortCriteria": [{"SortByMetric": "CONTACTS_IN_QUEUE", "SortOrder": "ASCENDING"}],
            },
        ),
        "by queue, small pages": (
            current,
            {
                "Filters": {"Queues": some, "Channels": ["VOICE", "CHAT"]},
                "Groupings": ["QUEUE", "CHANNEL"],
                "CurrentMetrics": CURRENT,
                "MaxResults": 7,
            },
        ),
        "ungrouped, 3 batches": (
            current,
            {"Filters": {"Queues": queues}, "CurrentMetrics": CURRENT},
        ),
        "ungrouped, one batch": (
            current,
            {"Filters": {"Queues": few}, "CurrentMetrics": CURRENT},
        ),
        "by channel, 3 batches": (
            current,
            {
                "Filters": {"Queues": queues, "Channels": channels},
                "Groupings": ["CHANNEL"],
                "CurrentMetrics": CURRENT,
            },
        ),
        "agents by queue": (
            current,
            {"Filters": {"Queues": queues}, "Groupings": ["QUEUE"], "CurrentMetrics": AGENTS},
        ),
        "agents by queue and routing profile": (
            current,
            {
                "Filters": {"Queues": some},
                "Groupings": ["QUEUE", "ROUTING_PROFILE"],
                "CurrentMetrics": AGENT_ONLY,
            },
        ),
        "agents ungrouped": (
            current,
            {"Filters": {"Queues": queues}, "CurrentMetrics": AGENTS},
        ),
        "by routing profile, filtered by profile": (
            current,
            {
                "Filters": {"RoutingProfiles": profiles},
                "Groupings": ["ROUTING_PROFILE"],
                "CurrentMetrics": AGENTS,
            },
        ),
        "historical by queue, thresholds": (
            historical,
            {
                "Filters": {"Queues": queues},
                "Groupings": ["QUEUE"],
                "HistoricalMetrics": HISTORICAL,
            }
            | window,
        ),
        "historical by queue and channel": (
            historical,
            {
                "Filters": {"Queues": some, "Channels": ["VOICE", "CHAT"]},
                "Groupings": ["QUEUE", "CHANNEL"],
                "HistoricalMetrics": HISTORICAL,
            }
            | window,
        ),
        "historical ungrouped, 3 batches": (
            historical,
            {"Filters": {"Queues": queues}, "HistoricalMetrics": HISTORICAL} | window,
        ),
        "v2 by queue, hours, 2 calls": (
            "get_metric_data_v2",
            {
                "StartTime": END - timedelta(hours=3),
                "EndTime": END,
                "Interval": {"IntervalPeriod": "HOUR"},
                "Filters": [{"FilterKey": "QUEUE", "FilterValues": some}],
                "Groupings": ["QUEUE"],
                "Metrics": V2,
            },
        ),
        "v2 by queue and channel, small pages": (
            "get_metric_data_v2",
            {
                "StartTime": END - timedelta(hours=2),
                "EndTime": END,
                "Filters": [{"FilterKey": "QUEUE", "FilterValues": queues[:20]}],
                "Groupings": ["QUEUE", "CHANNEL"],
                "Metrics": V2,
                "MaxResults": 9,
            },
        ),
        "v2 over 3 calls, combined": (
            "get_metric_data_v2",
            {
                "StartTime": END - timedelta(hours=2),
                "EndTime": END,
                "Filters": [{"FilterKey": "QUEUE", "FilterValues": queues}],
                "Metrics": V2,
            },
        ),
        "historical by channel, one batch": (
            historical,
            {
                "Filters": {"Queues": few, "Channels": channels},
                "Groupings": ["CHANNEL"],
                "HistoricalMetrics": HISTORICAL,
            }
            | window,
        ),
    }


def _unlimited() -> RateLimiter:
    return RateLimiter(dict.fromkeys(SERVICE_QUOTAS, (1e6, 10**6)))


@contextmanager
def _centre() -> Iterator[tuple[FakeConnect, str, list[str], list[str]]]:
    with FakeConnect(clock=ManualClock(NOW - 3 * 3600), quotas=None, seed=23) as fake:
        instance_id = fake.add_instance()
        centre = fake.populate(instance_id, queues=250, layout="departments")
        assert isinstance(fake.clock, ManualClock)
        fake.clock.advance(3 * 3600)  # some history to report
        yield fake, instance_id, list(centre.queue_ids), list(centre.routing_profile_ids)


def _normalised(text: str, instance_id: str) -> str:
    """`text` with what changes between runs of the same code replaced."""
    return text.replace(instance_id, "INSTANCE")


async def _answers(
    fake: FakeConnect, instance_id: str, queues: list[str], profiles: list[str]
) -> dict[str, str]:
    out: dict[str, str] = {}
    async with fake.client() as raw:
        arn = (await raw.describe_instance(InstanceId=instance_id))["Instance"]["Arn"]
    for cached in (False, True):
        cm = fake.metrics_client(
            instance_id, limiter=_unlimited(), cache=CachePolicy() if cached else None
        )
        async with cm:
            for name, (operation, kwargs) in shapes(queues, profiles).items():
                call: Callable[..., Any] = getattr(cm.boto, operation)
                where = {"ResourceArn": arn} if "v2" in operation else {"InstanceId": instance_id}
                response = dict(await call(**where, **kwargs))
                metadata = response["ResponseMetadata"]
                response["ResponseMetadata"] = metadata | {
                    "RequestId": "<id>" if metadata["RequestId"] else "",
                    "RequestIds": ["<id>" for _ in metadata["RequestIds"]],
                }
                text = json.dumps(response, default=str, indent=None)
                out[f"{name}{', cache on' if cached else ''}"] = _normalised(text, instance_id)
    return out


def digest(text: str) -> str:
    """What the golden file keeps of a response: its length and SHA-256."""
    return f"{len(text)}:{hashlib.sha256(text.encode()).hexdigest()}"


def responses() -> dict[str, str]:
    """Every shape's response, serialised and normalised."""
    with _centre() as (fake, instance_id, queues, profiles):
        return anyio.run(_answers, fake, instance_id, queues, profiles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the golden file")
    args = parser.parse_args()
    found = {name: digest(text) for name, text in responses().items()}
    if args.write:
        GOLDEN.write_text(json.dumps(found, indent=1) + "\n")
    for name, text in found.items():
        sys.stdout.write(f"{text}  {name}\n")


if __name__ == "__main__":
    main()
