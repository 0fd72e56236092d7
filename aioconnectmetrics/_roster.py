"""The roster fetch: GetCurrentUserData for any number of queues, profiles or agents.

One request per 100 filter values, run concurrently under the client's concurrency cap
(and, through the caller, its limiter and retries), each following its pages with the
metrics' `PageChain`: a page token is used only while young enough; a rejected or too
old token starts that batch again from its first page, a bounded number of times. Any batch that
fails fails the call: a list of agents with some of them silently missing would read as
the truth. The records of every batch then count each agent once (`each_agent_once`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import attrs

from ._agents import AgentsRequest, each_agent_once
from ._errors import ConnectMetricsError
from ._pages import PageChain
from ._plan import Batch
from ._transport import Caller

OPERATION = "GetCurrentUserData"


@attrs.frozen
class Roster:
    """What one roster fetch produced."""

    records: tuple[Mapping[str, Any], ...]
    batches: int
    pages: int
    restarts: int
    fetched_at: float
    #: The service's request IDs: each batch's first page, in the order they finished.
    request_ids: tuple[str, ...] = ()


async def _batch(
    chain: PageChain, params: Mapping[str, Any], batch: Batch
) -> tuple[list[Mapping[str, Any]], int, int, str | None]:
    """One batch's records, pages, restarts, and its first page's request ID."""
    records: list[Mapping[str, Any]] = []
    pages = restarts = 0
    request_id = None
    async for page in chain.pages(batch, params):
        if page.restarted:  # the records of the chain before are void
            records.clear()
            pages = 0
            restarts += 1
        if pages == 0:
            request_id = page.request_id
        records.extend(page.rows)
        pages += 1
    return records, pages, restarts, request_id


async def fetch_roster(
    call: Caller,
    request: AgentsRequest,
    *,
    slots: anyio.CapacityLimiter,
    counts: Counter[str],
    max_restarts: int,
    clock: Callable[[], float],
) -> Roster:
    """Every batch of `request` ("all" resolved), each agent once."""
    batches = request.batches()
    chain = PageChain(
        call,
        OPERATION,
        grouped=False,
        thresholds=False,
        max_restarts=max_restarts,
        clock=clock,
        parse=tuple,
        results_key="UserDataList",
    )
    found: list[Mapping[str, Any]] = []
    totals = Counter[str]()

    failed: list[ConnectMetricsError] = []
    request_ids: list[str] = []

    async def run(index: int, ids: tuple[str, ...], scope: anyio.CancelScope) -> None:
        try:
            async with slots:
                records, pages, restarts, request_id = await _batch(
                    chain, request.params(ids), Batch(index, ids)
                )
        except ConnectMetricsError as exc:
            failed.append(exc)
            scope.cancel()  # the call fails: the other batches are not worth finishing
            return
        # Appended as batches finish: of two records of one agent, the later is fresher.
        found.extend(records)
        totals.update(batches=1, pages=pages, restarts=restarts)
        if request_id:
            request_ids.append(request_id)

    async with anyio.create_task_group() as group:
        for index, ids in enumerate(batches):
            group.start_soon(run, index, ids, group.cancel_scope)
    counts.update(totals)
    if failed:
        raise failed[0]
    return Roster(
        records=tuple(each_agent_once(found)),
        batches=totals["batches"],
        pages=totals["pages"],
        restarts=totals["restarts"],
        fetched_at=clock(),
        request_ids=tuple(request_ids),
    )
