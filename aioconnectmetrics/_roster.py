"""The roster fetch: GetCurrentUserData for any number of queues, profiles or agents.

One request per 100 filter values, run concurrently under the client's concurrency cap
(and, through the caller, its limiter and retries), each following its pages. A page
token is used only while young enough (as for the metrics); a rejected or too old token
starts that batch again from its first page, a bounded number of times. Any batch that
fails fails the call: a list of agents with some of them silently missing would read as
the truth. The records of every batch then count each agent once (`each_agent_once`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import attrs

from ._agents import AgentsRequest, each_agent_once
from ._catalog import TOKEN_LIFETIME_SECONDS
from ._errors import ConnectMetricsError, PaginationError, ServiceRejectedError
from ._pages import TOKEN_SAFETY_MARGIN
from ._transport import Caller

logger = logging.getLogger("aioconnectmetrics")
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
    call: Caller,
    params: Mapping[str, Any],
    index: int,
    *,
    max_restarts: int,
    clock: Callable[[], float],
) -> tuple[list[Mapping[str, Any]], int, int, str | None]:
    """One batch's records, pages, restarts, and its first page's request ID."""
    token_ttl = TOKEN_LIFETIME_SECONDS - TOKEN_SAFETY_MARGIN
    restarts = 0
    while True:
        records: list[Mapping[str, Any]] = []
        response = await call(OPERATION, params)
        pages, reason = 1, None
        request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
        while True:
            records.extend(response.get("UserDataList") or ())
            token, received = response.get("NextToken"), clock()
            if not token:
                return records, pages, restarts, request_id
            if clock() - received >= token_ttl:
                reason = "the token was too old to use"
                break
            try:
                response = await call(OPERATION, {**params, "NextToken": token})
            except ServiceRejectedError as exc:
                reason = f"token rejected with {exc.code}"
                break
            pages += 1
        if restarts >= max_restarts:
            raise PaginationError(index, restarts, reason)
        restarts += 1
        logger.info("user data batch %d: restarting its pages (%s)", index, reason)


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
    found: list[Mapping[str, Any]] = []
    totals = Counter[str]()

    failed: list[ConnectMetricsError] = []
    request_ids: list[str] = []

    async def run(index: int, ids: tuple[str, ...], scope: anyio.CancelScope) -> None:
        try:
            async with slots:
                records, pages, restarts, request_id = await _batch(
                    call, request.params(ids), index, max_restarts=max_restarts, clock=clock
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
