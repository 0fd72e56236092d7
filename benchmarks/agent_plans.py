"""What each exact plan for agent counts costs, in requests, over the fake's centres.

For an instance summary with agent metrics over every queue of a centre, the first
pages each way of counting agents sends (pages beyond the first are the same for all
but the per-batch split, whose routing-profile rows can take more):

* ``loop``: one request per 100 queues, summaries added up (not exact: an agent is
  counted once per batch that holds one of their queues);
* ``split``: each batch's agents asked apart, grouped by routing profile (exact; what
  the library does without the routing-profile map);
* ``every profile``: the batches ask contacts only, and every profile that serves one
  of the queues is asked for its agents, 100 a request (exact);
* ``map, as asked``: the batches in the caller's order ask every metric, and only the
  profiles that reach two batches or more are asked apart (exact, `_profiles.py`);
* ``map, grouped``: the same, with the queues reordered so that a profile's queues
  share a batch where they can;
* ``chosen``: what the library sends (the cheapest of the map's plans, or the split).

Centres: the fake's "spread" layout (profiles serve four neighbouring queues and two
from anywhere) and "departments" layout (profiles within departments of 50 queues,
listed shuffled). Pure planning: no server, no clock.

Run: python -m benchmarks.agent_plans [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import math
import random
from types import MappingProxyType

from aioconnectmetrics._profiles import (
    PROFILES_PER_REQUEST,
    ProfileMap,
    plan_agents,
    plans_of,
    requests_of_profiles,
    requests_of_split,
)
from aioconnectmetrics._request import CURRENT_OP, build_request
from aioconnectmetrics.testing import FakeConnect

METRICS = ["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    header = (
        f"{'queues':>6} {'centre':<11} {'profiles':>8} {'shared':>6} {'loop':>5} "
        f"{'split':>5} {'every profile':>13} {'map, as asked':>13} {'map, grouped':>12} "
        f"{'chosen':>6}"
    )
    print("First pages of an instance summary with agent metrics, each way of counting")
    print(header)
    print("-" * len(header))
    fake = FakeConnect(seed=6)  # its state only: no server is started
    for size in args.sizes:
        for layout in ("spread", "departments"):
            instance_id = fake.add_instance()
            queues = list(fake.populate(instance_id, queues=size, layout=layout).queue_ids)
            if layout == "departments":
                random.Random(size).shuffle(queues)
            centre = fake.centre(instance_id)
            known = ProfileMap(
                instance_id=instance_id,
                queues_of=MappingProxyType(
                    {p.id: p.queue_ids for p in centre.routing_profiles.values()}
                ),
                standard=frozenset(queues),
                versions=MappingProxyType({}),
            )
            request = build_request(
                CURRENT_OP,
                instance_id=instance_id,
                region="us-east-1",
                metrics=METRICS,
                queues=queues,
            )
            batches = math.ceil(size / 100)
            serving = len(known.profiles_of(queues))
            both = plans_of(request, known)
            assert both is not None
            asked, grouped = both
            chosen = plan_agents(request, known)
            shared = min(len(asked.shared), len(grouped.shared))
            print(
                f"{size:>6} {layout:<11} {serving:>8} {shared:>6} {batches:>5} "
                f"{requests_of_split(batches):>5} {requests_of_profiles(serving, batches):>13} "
                f"{asked.requests:>13} {grouped.requests:>12} "
                f"{chosen.requests if chosen else requests_of_split(batches):>6}"
            )
    print(
        f"shared: profiles that reach two batches or more (asked {PROFILES_PER_REQUEST} a "
        "request), in the better of the two orders"
    )


if __name__ == "__main__":
    main()
