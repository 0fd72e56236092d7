"""CPU cost of the library's own work per page, beside botocore's parsing of the same page.

What it measures: for a real-time request over 1,000 queues grouped by QUEUE and CHANNEL
(40 pages of 100 rows, 7 metrics), the time botocore's rest-json parser spends turning
each page body into a dict, and the time our own code spends per page on the same
request: validation of the drop-in kwargs, planning 10 batches, turning pages into rows,
merging, and building the answer (both the rich result and the botocore-shaped dict).
No network: the page bodies are built as the fake service serialises them.

Run: python -m benchmarks.cpu_per_page
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.parsers
import botocore.session

from aioconnectmetrics._dropin import current_request_from_kwargs
from aioconnectmetrics._merge import BatchAnswer, merge
from aioconnectmetrics._plan import fetch_metrics, plan_batches
from aioconnectmetrics._request import _normalise_memo
from aioconnectmetrics._result import build_result
from aioconnectmetrics._wire import batch_params, botocore_response, parse_rows

INSTANCE = "00000000-0000-4000-8000-000000000000"
REGION = "us-east-1"
METRICS = [
    ("AGENTS_ONLINE", "COUNT"),
    ("AGENTS_AVAILABLE", "COUNT"),
    ("AGENTS_ON_CONTACT", "COUNT"),
    ("SLOTS_ACTIVE", "COUNT"),
    ("CONTACTS_IN_QUEUE", "COUNT"),
    ("CONTACTS_SCHEDULED", "COUNT"),
    ("OLDEST_CONTACT_AGE", "SECONDS"),
]
CHANNELS = ["VOICE", "CHAT", "TASK", "EMAIL"]
QUEUES = 1000


def _queue_id(rng: random.Random) -> str:
    return "%08x-%04x-4%03x-8%03x-%012x" % (  # noqa: UP031 - a UUID shape, fast
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(12),
        rng.getrandbits(12),
        rng.getrandbits(48),
    )


def build_pages(queue_ids: list[str]) -> list[bytes]:
    """The JSON bodies of every page, 100 rows each, as the service would send them."""
    rng = random.Random(1)
    prefix = f"arn:aws:connect:{REGION}:123456789012:instance/{INSTANCE}/queue/"
    pages = []
    for start in range(0, len(queue_ids), 100):
        batch = queue_ids[start : start + 100]
        rows = [
            {
                "Dimensions": {"Queue": {"Id": q, "Arn": prefix + q}, "Channel": ch},
                "Collections": [
                    {"Metric": {"Name": n, "Unit": u}, "Value": float(rng.randint(0, 50))}
                    for n, u in METRICS
                ],
            }
            for q in batch
            for ch in CHANNELS
        ]
        for offset in range(0, len(rows), 100):
            body = {
                "MetricResults": rows[offset : offset + 100],
                "DataSnapshotTime": 1_800_000_000.0,
            }
            pages.append(json.dumps(body).encode())
    return pages


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    """The fastest of `repeat` runs, in seconds (least disturbed by a noisy machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    rng = random.Random(0)
    queue_ids = [_queue_id(rng) for _ in range(QUEUES)]
    pages = build_pages(queue_ids)
    model = botocore.session.get_session().get_service_model("connect")
    shape = model.operation_model("GetCurrentMetricData").output_shape
    parser = botocore.parsers.RestJSONParser()

    def parse_all() -> list[dict[str, Any]]:
        return [
            parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
            for body in pages
        ]

    parsed = parse_all()
    kwargs = {
        "InstanceId": INSTANCE,
        "Filters": {"Queues": queue_ids, "Channels": CHANNELS},
        "Groupings": ["QUEUE", "CHANNEL"],
        "CurrentMetrics": [{"Name": n, "Unit": u} for n, u in METRICS],
    }

    def common() -> tuple[Any, list[Any], list[BatchAnswer]]:
        # A first-time request: validation is memoised for repeated ones; not here.
        _normalise_memo.cache_clear()
        request = current_request_from_kwargs(kwargs, default_instance=None, region=REGION)
        batches = plan_batches(request)
        metrics = fetch_metrics(request, len(batches))
        for batch in batches:
            batch_params(request, batch, metrics)
        per_batch = len(parsed) // len(batches)
        answers = []
        for batch in batches:
            mine = parsed[batch.index * per_batch : (batch.index + 1) * per_batch]
            rows = [r for page in mine for r in page["MetricResults"]]
            parsed_rows = tuple(parse_rows(rows, grouped=True))
            answers.append(
                BatchAnswer(
                    batch.index, batch.ids, parsed_rows, mine[0]["DataSnapshotTime"], len(mine)
                )
            )
        return request, merge(request, answers), answers

    def rich() -> None:
        request, merged, answers = common()
        snapshots = [a.snapshot_time for a in answers if a.snapshot_time]
        build_result(request, merged, snapshots=snapshots, batches=len(answers), pages=len(parsed))

    def drop_in() -> None:
        request, merged, answers = common()
        botocore_response(request, merged, [a.snapshot_time for a in answers if a.snapshot_time])

    repeat = 15
    parse_us = best_of(repeat, parse_all) / len(pages) * 1e6
    rich_us = best_of(repeat, rich) / len(pages) * 1e6
    drop_in_us = best_of(repeat, drop_in) / len(pages) * 1e6
    print(
        f"CPU per page: {QUEUES} queues grouped by QUEUE+CHANNEL, "
        f"{len(pages)} pages of 100 rows, {len(METRICS)} metrics (best of {repeat})"
    )
    print(f"{'work':<44}{'us/page':>10}{'vs parse':>10}")
    print(f"{'botocore rest-json parse':<44}{parse_us:>10.1f}{'100.0%':>10}")
    for name, micros in (
        ("ours, rich API (validate, plan, merge, result)", rich_us),
        ("ours, drop-in API (validate, plan, merge, dict)", drop_in_us),
    ):
        print(f"{name:<44}{micros:>10.1f}{micros / parse_us:>10.1%}")
    print("target: ours under 10% of the parse")
    out = Path(__file__).parent / "results" / "cpu_per_page.json"
    out.write_text(
        json.dumps(
            {
                "pages": len(pages),
                "parse_us": parse_us,
                "rich_us": rich_us,
                "drop_in_us": drop_in_us,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
