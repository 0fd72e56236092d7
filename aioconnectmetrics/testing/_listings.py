"""The fake's listings: ListQueues, ListRoutingProfiles, ListUsers, SearchRoutingProfiles.

Each list is served in pages of up to 1,000 (``MaxResults``, default 100 as the
service's; SearchRoutingProfiles: up to 500), through the same pagination tokens as the
metrics. A routing profile's ``LastModifiedTime`` is when it was created or its queues
last changed; SearchRoutingProfiles leaves it out, as its reference says the service
does, and gives each profile's ``AssociatedQueueIds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._faults import invalid
from ._sim import ContactCentre
from ._tokens import Chain, ScopedTokens, digest

#: Operation -> the key of its summary list.
LISTINGS = {
    "ListQueues": "QueueSummaryList",
    "ListRoutingProfiles": "RoutingProfileSummaryList",
    "ListUsers": "UserSummaryList",
    "SearchRoutingProfiles": "RoutingProfiles",
}
_PAGE_LIMITS = {"SearchRoutingProfiles": 500}
_PAGE_LIMIT = 1000


def _summaries(
    operation: str, centre: ContactCentre, params: Mapping[str, Any], region: str
) -> list[dict[str, Any]]:
    if operation == "ListQueues":
        types = params.get("QueueTypes") or ["STANDARD", "AGENT"]
        if len(types) > 2:
            raise invalid("QueueTypes holds at most 2 items")
        for queue_type in types:
            if queue_type not in ("STANDARD", "AGENT"):
                raise invalid(f"Invalid QueueType {queue_type!r}")
        return [
            {
                "Id": q.id,
                "Arn": q.arn,
                "Name": q.name,
                "QueueType": q.queue_type,
                "LastModifiedTime": q.created_at,
                "LastModifiedRegion": region,
            }
            for q in centre.queues.values()
            if q.queue_type in types
        ]
    if operation == "ListRoutingProfiles":
        return [
            {
                "Id": p.id,
                "Arn": p.arn,
                "Name": p.name,
                "LastModifiedTime": p.modified_at,
                "LastModifiedRegion": region,
            }
            for p in centre.routing_profiles.values()
        ]
    if operation == "SearchRoutingProfiles":
        return [
            {
                "InstanceId": centre.instance_id,
                "Name": p.name,
                "RoutingProfileArn": p.arn,
                "RoutingProfileId": p.id,
                "MediaConcurrencies": [
                    {"Channel": channel, "Concurrency": n} for channel, n in p.concurrency.items()
                ],
                "NumberOfAssociatedQueues": len(p.queue_ids),
                "NumberOfAssociatedUsers": sum(
                    1 for a in centre.agents.values() if a.routing_profile_id == p.id
                ),
                "AssociatedQueueIds": list(p.queue_ids),
            }
            for p in centre.routing_profiles.values()
        ]
    return [
        {
            "Id": a.id,
            "Arn": f"{centre.instance_arn}/agent/{a.id}",
            "Username": a.username,
            "LastModifiedRegion": region,
        }
        for a in centre.agents.values()
    ]


def listing(
    tokens: ScopedTokens,
    operation: str,
    centre: ContactCentre,
    params: Mapping[str, Any],
    now: float,
    *,
    region: str,
) -> dict[str, Any]:
    """One page of a listing operation of the instance `centre` (in `region`)."""
    if params.get("NextToken") is not None:
        return tokens.next_page(params["NextToken"], params, now)
    summaries = _summaries(operation, centre, params, region)
    extra = {"ApproximateTotalCount": len(summaries)} if operation.startswith("Search") else {}
    chain = Chain(
        digest(params),
        summaries,
        extra,
        LISTINGS[operation],
        page_limit=_PAGE_LIMITS.get(operation, _PAGE_LIMIT),
    )
    return tokens.first_page(chain, params, now)
