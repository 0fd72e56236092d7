"""The queue directory: ``queues="all"`` resolved through ListQueues, reused for a while.

One discovery runs at a time per client: concurrent callers asking for all queues wait
for it and share its answer, which is reused for `ttl` seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import attrs

from ._transport import Caller


@attrs.frozen
class QueueInfo:
    """A queue as ListQueues describes it."""

    id: str
    arn: str
    name: str
    queue_type: str


async def list_all_queues(
    call: Caller, instance_id: str, queue_types: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Every queue summary of the instance, of the given types, through all pages."""
    params: dict[str, Any] = {
        "InstanceId": instance_id,
        "QueueTypes": list(queue_types),
        "MaxResults": 1000,
    }
    summaries: list[dict[str, Any]] = []
    while True:
        response = await call("ListQueues", params)
        summaries.extend(response.get("QueueSummaryList") or ())
        token = response.get("NextToken")
        if not token:
            return summaries
        params = {**params, "NextToken": token}
        await anyio.lowlevel.checkpoint()


class QueueDirectory:
    """The queues of each (instance, queue types), discovered once per `ttl` seconds."""

    def __init__(self, *, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[str, tuple[str, ...]], tuple[float, tuple[QueueInfo, ...]]] = {}
        self._lock = anyio.Lock()

    async def queues(
        self, call: Caller, instance_id: str, queue_types: tuple[str, ...]
    ) -> tuple[QueueInfo, ...]:
        """The instance's queues of these types: known ones, or discovered now."""
        key = (instance_id, queue_types)
        # One discovery at a time: concurrent "all" callers wait and share its answer.
        async with self._lock:
            known = self._known.get(key)
            if known is not None and self._clock() - known[0] < self._ttl:
                return known[1]
            summaries = await list_all_queues(call, instance_id, queue_types)
            queues = tuple(
                QueueInfo(s["Id"], s["Arn"], s.get("Name", ""), s.get("QueueType", ""))
                for s in summaries
            )
            self._known[key] = (self._clock(), queues)
            return queues
