"""CPU cost of the library's own work per page, beside botocore's parsing of the same page.

What it measures: for a real-time request over 1,000 queues grouped by QUEUE and CHANNEL
(40 pages of 100 rows, 7 metrics), the time botocore's rest-json parser spends turning
each page body into a dict, and the time our own code spends per page on the same
request: validation of the drop-in kwargs, planning 10 batches, turning pages into rows,
merging, and building the answer (both the rich result and the botocore-shaped dict).
No network: the page bodies are built as the fake service serialises them.

With a cache (the default), a fetched answer keeps compact rows and the drop-in face
writes each caller's response from them: those rows of the table too, and what a cache
hit itself costs per page of its answer. ``--commit SHA`` runs the same benchmark on
another commit's package, in the same run, alternated.

Run: python -m benchmarks.cpu_per_page [--commit 64c5b5e] [--rounds 2]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.parsers
import botocore.session

from aioconnectmetrics._backend import entry_from_json, entry_to_json
from aioconnectmetrics._cache import Answer, CacheEntry
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


def measure(repeat: int) -> dict[str, float]:
    """Every figure of the table, in microseconds per page, for the code on sys.path.

    The same benchmark measures older commits too (`--commit`): where the package has no
    compact rows (``parse_rows`` without `origins`), its rows keep the service's dicts,
    and its drop-in face copies them for every call when answers are cached.
    """
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
    compact = "origins" in inspect.signature(parse_rows).parameters

    def rows_of(results: list[Any], origins: Any) -> tuple[Any, ...]:
        # What the library's rows keep: `origins`, as a call of this face gives it.
        if compact:
            return tuple(parse_rows(results, grouped=True, strings={}, origins=origins))
        return tuple(parse_rows(results, grouped=True))

    def common(origins: str) -> tuple[Any, list[Any], list[BatchAnswer]]:
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
            answers.append(
                BatchAnswer(
                    batch.index,
                    batch.ids,
                    rows_of(rows, origins),
                    mine[0]["DataSnapshotTime"],
                    len(mine),
                )
            )
        return request, merge(request, answers), answers

    def rich_answer(request: Any, merged: list[Any], answers: list[BatchAnswer]) -> None:
        snapshots = [a.snapshot_time for a in answers if a.snapshot_time]
        build_result(request, merged, snapshots=snapshots, batches=len(answers), pages=len(parsed))

    def drop_in_answer(
        request: Any, merged: list[Any], answers: list[BatchAnswer], cached: bool
    ) -> None:
        snapshots = [a.snapshot_time for a in answers if a.snapshot_time]
        botocore_response(request, merged, snapshots, copy_rows=cached)

    def rich(origins: str = "none") -> None:
        rich_answer(*common(origins))

    def drop_in(origins: str = "service") -> None:
        drop_in_answer(*common(origins), cached=origins == "layout")

    # A cache hit's own work: the answer of the cached rows, for either face.
    hit = common("layout")
    # A shared backend's entry of that answer: written, read, and the json module's part.
    entry = CacheEntry(Answer(tuple(hit[1]), (), len(hit[2]), len(pages)), 1.0, 2.0)
    text = entry_to_json(entry)
    document = json.loads(text)
    figures = {
        "parse_us": best_of(repeat, parse_all),
        "rich_us": best_of(repeat, rich),
        "drop_in_us": best_of(repeat, drop_in),
        # With a cache (the default), an answer keeps compact rows (layouts checked)
        # and the drop-in face writes the service's rows from them for every caller;
        # before compact rows, it copied the service's dicts for every caller.
        "rich_cached_us": best_of(repeat, lambda: rich("layout")),
        "drop_in_cached_us": best_of(repeat, lambda: drop_in("layout")),
        "rich_hit_us": best_of(repeat, lambda: rich_answer(*hit)),
        "drop_in_hit_us": best_of(repeat, lambda: drop_in_answer(*hit, cached=True)),
        "entry_write_us": best_of(repeat, lambda: entry_to_json(entry)),
        "entry_read_us": best_of(repeat, lambda: entry_from_json(text)),
        "entry_json_us": best_of(
            repeat, lambda: json.loads(json.dumps(document, separators=(",", ":")))
        ),
    }
    return {k: v / len(pages) * 1e6 for k, v in figures.items()}


ROWS = [
    ("rich_us", "rich API, no cache (validate, plan, parse, merge, result)"),
    ("drop_in_us", "drop-in API, no cache (validate, plan, parse, merge, dict)"),
    ("rich_cached_us", "rich API, a cached fetch (rows kept for the cache)"),
    ("drop_in_cached_us", "drop-in API, a cached fetch"),
    ("rich_hit_us", "rich API, a cache hit's answer from the rows"),
    ("drop_in_hit_us", "drop-in API, a cache hit's response from the rows"),
    ("entry_write_us", "a shared entry of the answer written (entry_to_json)"),
    ("entry_read_us", "the entry read back, every field checked (entry_from_json)"),
    ("entry_json_us", "  of which the json module (dumps and loads)"),
]


def _child(repeat: int) -> None:
    sys.stdout.write(json.dumps(measure(repeat)) + "\n")


def _run(source: Path, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    child = subprocess.run(  # noqa: S603 - this file, fixed arguments
        [sys.executable, str(Path(__file__).resolve()), "--child", "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # so that `source` is what is imported
    )
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", action="append", default=[], help="also measure this commit")
    parser.add_argument("--rounds", type=int, default=2, help="alternated runs of each")
    parser.add_argument("--repeat", type=int, default=15, help="best of this many, each figure")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.repeat)
        return
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from benchmarks._checkouts import checkouts  # noqa: PLC0415 - not in a child

    with checkouts(root, args.commit) as sources:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in sources}
        for _ in range(args.rounds):
            for name, source in sources.items():
                runs[name].append(_run(source, args.repeat))
    print(
        f"CPU per page: {QUEUES} queues grouped by QUEUE+CHANNEL, 40 pages of 100 rows, "
        f"{len(METRICS)} metrics; best of {args.repeat}, {args.rounds} runs alternated, "
        "each in a fresh process"
    )
    print("| work | " + " | ".join(sources) + " |")
    print("|---|" + "---|" * len(sources))
    cells = [", ".join(f"{r['parse_us']:.0f}" for r in runs[name]) for name in sources]
    print("| botocore's parse, us/page | " + " | ".join(cells) + " |")
    for key, label in ROWS:
        cells = [
            ", ".join(f"{r[key]:.0f} us ({r[key] / r['parse_us']:.1%})" for r in runs[name])
            for name in sources
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("target (issue 23): the two faces under 8% of botocore's parse")
    out = Path(__file__).parent / "results" / "cpu_per_page.json"
    out.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
