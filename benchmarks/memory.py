"""What answers weigh: memory held after a call, and a shared cache entry's bytes.

Issue 23's workloads, against the fake in a process of its own (no quota, no latency):

* real time: 5,000 queues grouped by QUEUE and CHANNEL, four metrics;
* GetMetricDataV2: 250 queues, 7 days by the hour, four metrics;
* agents: every logged-in agent of the 5,000 queues (``get_agents``, and
  ``get_current_user_data`` as the drop-in; not cached).

Each measurement runs in a fresh process (tracemalloc on, the fake's memory not in it)
and reports what stays allocated after the call, with the answer (and the client, its
cache included) alive: `held`, and the call's `peak`, both counted from after a warm-up
call of one queue (so that the client's botocore models are not in them). Contenders:

* **raw pages**: a plain aiobotocore loop over 100-queue batches and their pages,
  keeping every response (for V2, over 3-day windows too, as the API allows);
* **rich API**, cache off and on; **drop-in API** (``get_current_metric_data``), cache
  off and on;
* **Redis entry**: the bytes of the cache entry as a shared backend stores it
  (``entry_to_json``), beside the JSON of the raw pages.

``--commit SHA`` (repeatable) measures other commits too, in the same run: each is
checked out in a temporary worktree and imported from there.

Run: python -m benchmarks.memory [--commit 64c5b5e] [--skip-v2] [--only KIND] [--table]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
QUEUES = 5000
METRICS = ["CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE", "AGENTS_AVAILABLE", "AGENTS_ONLINE"]
CHANNELS = ["VOICE", "CHAT", "TASK", "EMAIL"]
V2_QUEUES = 250
V2_METRICS = ["CONTACTS_HANDLED", "CONTACTS_ABANDONED", "AVG_HANDLE_TIME", "AVG_QUEUE_ANSWER_TIME"]
KINDS = {
    "raw": "raw botocore pages, kept by a plain loop",
    "rich-off": "rich API, cache off",
    "rich-on": "rich API, cache on",
    "dropin-off": "drop-in API, cache off",
    "dropin-on": "drop-in API, cache on",
    "agents-raw": "agents: raw botocore pages, kept by a plain loop",
    "agents-rich": "agents: rich API (get_agents)",
    "agents-dropin": "agents: drop-in API (get_current_user_data)",
    "v2-raw": "V2 raw botocore pages, kept by a plain loop",
    "v2-rich-off": "V2 rich API, cache off",
    "v2-rich-on": "V2 rich API, cache on",
}


# -- the child: one measurement, with the package imported from `source` ---------------------
async def _measure(
    kind: str, endpoint: str, instance_id: str, queues: list[str]
) -> dict[str, Any]:
    import gc  # noqa: PLC0415 - the child imports after its sys.path is set
    import tracemalloc  # noqa: PLC0415
    from datetime import datetime, timedelta, timezone  # noqa: PLC0415

    from aiobotocore.session import get_session  # noqa: PLC0415

    import aioconnectmetrics as acm  # noqa: PLC0415

    keys: dict[str, Any] = {
        "aws_access_key_id": f"memory-{kind}",
        "aws_secret_access_key": "memory-secret",
    }
    entries: list[int] = []

    class Measured(acm.MemoryBackend):
        async def set(self, key: str, entry: Any, ttl: float) -> None:
            entries.append(len(acm.entry_to_json(entry).encode()))
            await super().set(key, entry, ttl)

    cache_on = kind.endswith("-on")
    wire_metrics = [
        {"Name": m, "Unit": "SECONDS" if m == "OLDEST_CONTACT_AGE" else "COUNT"} for m in METRICS
    ]
    gc.collect()
    tracemalloc.start()
    kept: Any = None
    raw_json = 0
    marks: dict[str, int] = {}

    def v2_range() -> tuple[datetime, datetime]:
        end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        return end - timedelta(days=7), end

    def mark_baseline() -> None:
        # After a warm-up call of one queue: the client, its botocore models and
        # everything a first call loads are in the baseline, so `held` is the answer's.
        gc.collect()
        marks["baseline"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()

    if kind in ("raw", "v2-raw", "agents-raw"):
        session = get_session()
        async with session.create_client(
            "connect", region_name="us-east-1", endpoint_url=endpoint, **keys
        ) as client:
            arn = (await client.describe_instance(InstanceId=instance_id))["Instance"]["Arn"]

            async def follow(call: Any, params: dict[str, Any], out: list[Any]) -> None:
                while True:
                    page = await call(**params)
                    out.append(page)
                    token = page.get("NextToken")
                    if not token:
                        return
                    params["NextToken"] = token

            async def pages(ids: list[str]) -> list[dict[str, Any]]:
                out: list[Any] = []
                for start in range(0, len(ids), 100):
                    batch = ids[start : start + 100]
                    params: dict[str, Any]
                    if kind == "agents-raw":  # `ids` are routing profiles here
                        params = {"InstanceId": instance_id, "Filters": {"RoutingProfiles": batch}}
                        await follow(client.get_current_user_data, params, out)
                        continue
                    if kind == "raw":
                        params = {
                            "InstanceId": instance_id,
                            "Filters": {"Queues": batch, "Channels": CHANNELS},
                            "Groupings": ["QUEUE", "CHANNEL"],
                            "CurrentMetrics": wire_metrics,
                        }
                        await follow(client.get_current_metric_data, params, out)
                        continue
                    # GetMetricDataV2 spans at most 3 days a call: windows of whole hours.
                    start_time, end_time = v2_range()
                    step = timedelta(days=3) - timedelta(hours=1)
                    while start_time < end_time:
                        params = {
                            "ResourceArn": arn,
                            "StartTime": start_time,
                            "EndTime": min(start_time + step, end_time),
                            "Interval": {"IntervalPeriod": "HOUR"},
                            "Filters": [{"FilterKey": "QUEUE", "FilterValues": batch}],
                            "Groupings": ["QUEUE"],
                            "Metrics": [{"Name": m} for m in V2_METRICS],
                        }
                        await follow(client.get_metric_data_v2, params, out)
                        start_time += step
                return out

            ids = queues[:V2_QUEUES] if kind == "v2-raw" else queues
            if kind == "agents-raw":
                ids = []
                listing: dict[str, Any] = {"InstanceId": instance_id}
                while True:
                    found = await client.list_routing_profiles(**listing)
                    ids += [p["Id"] for p in found["RoutingProfileSummaryList"]]
                    if not found.get("NextToken"):
                        break
                    listing["NextToken"] = found["NextToken"]
            await pages(ids[:1])
            mark_baseline()
            kept = await pages(ids)
            gc.collect()
            held, peak = tracemalloc.get_traced_memory()
            rows = sum(len(p.get("MetricResults", p.get("UserDataList", []))) for p in kept)
            raw_json = len(json.dumps(kept, default=str).encode())
        return {
            "held": held - marks["baseline"],
            "peak": peak - marks["baseline"],
            "rows": rows,
            "raw_json": raw_json,
        }
    policy = acm.CachePolicy() if cache_on else None
    backend = Measured() if cache_on else None
    cm = acm.ConnectMetrics(
        instance_id,
        region_name="us-east-1",
        endpoint_url=endpoint,
        cache=policy,
        cache_backend=backend,
        limiter=acm.RateLimiter(dict.fromkeys(acm.SERVICE_QUOTAS, (1000000.0, 10**6))),
        **keys,
    )
    async with cm:

        async def call(ids: list[str]) -> tuple[Any, int]:
            if kind.startswith("v2"):
                start, end = v2_range()
                v2 = await cm.get_historical_metrics_v2(
                    V2_METRICS,
                    start=start,
                    end=end,
                    interval="HOUR",
                    queues=ids,
                    groupings=["QUEUE"],
                )
                return v2, len(v2.rows)
            if kind == "agents-rich":
                agents = await cm.get_agents(queues=ids)
                return agents, len(agents.agents)
            if kind == "agents-dropin":
                listed = await cm.boto.get_current_user_data(
                    InstanceId=instance_id, Filters={"Queues": ids}
                )
                return listed, len(listed["UserDataList"])
            if kind.startswith("rich"):
                result = await cm.get_current_metrics(
                    METRICS, queues=ids, channels=CHANNELS, groupings=["QUEUE", "CHANNEL"]
                )
                return result, len(result.rows)
            face = getattr(cm, "boto", cm)
            response = await face.get_current_metric_data(
                InstanceId=instance_id,
                Filters={"Queues": ids, "Channels": CHANNELS},
                Groupings=["QUEUE", "CHANNEL"],
                CurrentMetrics=wire_metrics,
            )
            return response, len(response["MetricResults"])

        await call(queues[:1])
        mark_baseline()
        kept, rows = await call(queues[:V2_QUEUES] if kind.startswith("v2") else queues)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    return {
        "held": held - marks["baseline"],
        "peak": peak - marks["baseline"],
        "rows": rows,
        "entry": entries[-1] if entries else None,
    }


def _child(kind: str, endpoint: str, instance_id: str, queues_file: str) -> None:
    import anyio  # noqa: PLC0415

    queues = json.loads(Path(queues_file).read_text())
    figures = anyio.run(_measure, kind, endpoint, instance_id, queues)
    sys.stdout.write(json.dumps(figures) + "\n")


# -- the parent ----------------------------------------------------------------------------
def _run_child(
    source: Path, kind: str, endpoint: str, instance_id: str, queues: str
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    child = subprocess.run(  # noqa: S603 - this file, fixed arguments
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            endpoint,
            instance_id,
            queues,
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # so that `source` is what is imported
    )
    if child.returncode:
        raise SystemExit(f"{kind} at {source} failed:\n{child.stderr[-3000:]}")
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", action="append", default=[], help="also measure this commit")
    parser.add_argument("--skip-v2", action="store_true")
    parser.add_argument(
        "--only", action="append", choices=list(KINDS), help="measure only this contender"
    )
    parser.add_argument(
        "--table", action="store_true", help="print the last run's table again (results/)"
    )
    parser.add_argument("--child", nargs=4, metavar=("KIND", "ENDPOINT", "INSTANCE", "QUEUES"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.table:
        saved = json.loads((Path(__file__).parent / "results" / "memory.json").read_text())
        _table(saved, [k for k in KINDS if k in saved["this checkout"]])
        return
    sys.path.insert(0, str(ROOT))
    from benchmarks._checkouts import checkouts  # noqa: PLC0415
    from benchmarks.compare import fake_service  # noqa: PLC0415

    kinds = [k for k in KINDS if not (args.skip_v2 and k.startswith("v2"))]
    if args.only:
        kinds = [k for k in kinds if k in args.only]
    with checkouts(ROOT, args.commit) as sources:
        results: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in sources}
        with fake_service([QUEUES], quotas=False) as service:
            instance_id, queues = service["instances"][str(QUEUES)]
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
                json.dump(queues, handle)
            try:
                for kind in kinds:
                    for name, source in sources.items():
                        results[name][kind] = _run_child(
                            source, kind, service["endpoint"], instance_id, handle.name
                        )
            finally:
                Path(handle.name).unlink()
    out = Path(__file__).parent / "results" / "memory.json"
    out.write_text(json.dumps(results, indent=2))
    _table(results, kinds)


def _table(results: dict[str, dict[str, dict[str, Any]]], kinds: list[str]) -> None:
    sources = list(results)
    raw = results["this checkout"].get("raw")
    print(
        f"Memory held after the call (tracemalloc), {QUEUES} queues by QUEUE and CHANNEL, "
        f"{len(METRICS)} metrics; V2: {V2_QUEUES} queues, 7 days by hour; agents: of every "
        "queue (rows: rows, or agents)"
    )
    print(
        "| what | "
        + " | ".join(f"held ({n})" for n in sources)
        + " | vs raw pages | peak | "
        + " | ".join(f"Redis entry ({n})" for n in sources)
        + " |"
    )
    print("|---|" + "---|" * (2 * len(sources) + 2))
    for kind in kinds:
        cells = [_mb(results[name][kind]["held"]) for name in sources]
        mine = results["this checkout"][kind]
        family = kind.split("-")[0] if kind.startswith(("v2", "agents")) else ""
        base = results["this checkout"].get(f"{family}-raw" if family else "raw")
        ratio = f"{mine['held'] / base['held']:.2f}x" if base else "-"
        entries = [_mb(results[name][kind].get("entry")) for name in sources]
        print(
            f"| {KINDS[kind]} ({mine['rows']} rows) | "
            + " | ".join(cells)
            + f" | {ratio} | {_mb(mine['peak'])} | "
            + " | ".join(entries)
            + " |"
        )
    v2_raw = results["this checkout"].get("v2-raw")
    jsons = [
        f"{what}: {_mb(found['raw_json'])}"
        for what, found in (("raw pages", raw), ("V2 raw pages", v2_raw))
        if found
    ]
    if jsons:
        print("JSON of the " + "; of the ".join(jsons))


if __name__ == "__main__":
    main()
