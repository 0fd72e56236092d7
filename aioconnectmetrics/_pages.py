"""The page-chain follower: every page of one batch, from one snapshot.

Every page must carry the first page's ``DataSnapshotTime``. A continuation token is used
only while younger than its life minus a margin; a consumer slow enough to outlive it, a
rejected or expired token, or a page from another snapshot restarts the batch from its
first page, a bounded number of times. `PageChain.pages` hands pages over as they come
(for streaming); `PageChain.collect` gathers them into one `BatchAnswer`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

import attrs

from ._catalog import TOKEN_LIFETIME_SECONDS
from ._errors import PaginationError, ServiceRejectedError
from ._merge import BatchAnswer, Row
from ._plan import Batch
from ._request import MetricsRequest
from ._transport import Caller
from ._wire import Origins, parse_rows

logger = logging.getLogger("aioconnectmetrics.fetch")  # by concern: docs/observability.md

#: What rows parsed in this context keep for the drop-in API (`_wire.Origins`): compact
#: layouts, unless the call whose batches these are stores its answer nowhere and says
#: so with `keeping` (a fetch that a cache may share always keeps layouts).
_ORIGINS: ContextVar[Origins] = ContextVar("aioconnectmetrics_origins", default="layout")


@contextlib.contextmanager
def keeping(origins: Origins) -> Iterator[None]:
    """Within the block, rows keep `origins` (for the tasks the block starts too)."""
    token = _ORIGINS.set(origins)
    try:
        yield
    finally:
        _ORIGINS.reset(token)


#: Seconds before a pagination token's 5-minute life ends at which it is no longer used.
TOKEN_SAFETY_MARGIN = 30.0


def _utc(value: Any) -> datetime | None:
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else None


@attrs.frozen
class RawPage:
    """One page of one batch, as `PageChain.pages` yields it."""

    batch: int
    page: int
    #: `Row`s, or what the chain's `parse` makes of the page (a roster's records).
    rows: tuple[Any, ...]
    snapshot_time: datetime | None
    restarted: bool
    #: The service's request ID of this page (botocore's ``ResponseMetadata``).
    request_id: str | None = None


@attrs.frozen
class PageChain:
    """How the batches of one request follow their pages.

    Attributes:
        call: makes one API call (with the limiter and retries around it).
        operation: GetCurrentMetricData or GetMetricData.
        grouped: whether the request groups its rows (ungrouped, the service gives
            OLDEST_CONTACT_AGE in milliseconds).
        thresholds: whether the request has SERVICE_LEVEL metrics.
        max_restarts: restarts of one batch's chain before it fails.
        clock: seconds, to age continuation tokens.
        token_ttl: how long a token is used after its page arrived.
        parse: rows from a page's results (GetMetricDataV2's rows, GetCurrentUserData's
            records); None: the first two operations' (`parse_rows`).
        results_key: where a page holds its results.
    """

    call: Caller
    operation: str
    grouped: bool
    thresholds: bool
    max_restarts: int
    clock: Callable[[], float]
    token_ttl: float = TOKEN_LIFETIME_SECONDS - TOKEN_SAFETY_MARGIN
    parse: Callable[[Sequence[Mapping[str, Any]]], tuple[Any, ...]] | None = None
    results_key: str = "MetricResults"

    @classmethod
    def of(
        cls,
        call: Caller,
        request: MetricsRequest,
        *,
        max_restarts: int,
        clock: Callable[[], float],
    ) -> PageChain:
        """The chain for `request`'s batches."""
        return cls(
            call,
            request.operation,
            grouped=bool(request.groupings),
            thresholds=any(m.threshold is not None for m in request.metrics),
            max_restarts=max_restarts,
            clock=clock,
        )

    async def pages(
        self, batch: Batch, params: Mapping[str, Any], *, origins: Origins | None = None
    ) -> AsyncIterator[RawPage]:
        """Yield one batch's pages as they come.

        A page that starts the chain again is marked ``restarted``: the rows of this
        batch yielded before it are void. Rows keep `origins` (default: the context's,
        `keeping`).
        """
        restarts, restarted = 0, False
        strings: dict[str, str] = {}  # one object per ID, ARN and channel of the batch
        origins = origins or _ORIGINS.get()
        while True:
            response = await self.call(self.operation, params)
            snapshot = _utc(response.get("DataSnapshotTime"))
            page = 0
            while True:
                results = response.get(self.results_key) or ()
                rows = (
                    self.parse(results)
                    if self.parse is not None
                    else tuple(
                        parse_rows(
                            results,
                            grouped=self.grouped,
                            thresholds=self.thresholds,
                            strings=strings,
                            origins=origins,
                        )
                    )
                )
                token, received = response.get("NextToken"), self.clock()
                # The consumer takes its time with the page here; the token ages meanwhile.
                request_id = (response.get("ResponseMetadata") or {}).get("RequestId")
                yield RawPage(batch.index, page, rows, snapshot, restarted, request_id)
                restarted = False
                if not token:
                    return
                reason = None
                if self.clock() - received >= self.token_ttl:
                    reason = "the token was too old to use"
                else:
                    try:
                        response = await self.call(self.operation, {**params, "NextToken": token})
                    except ServiceRejectedError as exc:
                        reason = f"token rejected with {exc.code}"
                    else:
                        if _utc(response.get("DataSnapshotTime")) != snapshot:
                            reason = "the snapshot changed between pages"
                if reason is not None:
                    break
                page += 1
            if restarts >= self.max_restarts:
                raise PaginationError(batch.index, restarts, reason)
            restarts += 1
            restarted = True
            logger.debug(
                "batch %d: restarting its pages (%s)",
                batch.index,
                reason,
                extra={"batch": batch.index, "reason": reason},
            )

    async def collect(self, batch: Batch, params: Mapping[str, Any]) -> BatchAnswer:
        """Every page of one batch, from one snapshot: `pages`, gathered.

        A restarted chain voids the pages gathered before it.
        """
        rows: list[Row] = []
        pages = restarts = 0
        snapshot = request_id = None
        async for page in self.pages(batch, params):
            if page.restarted:
                rows.clear()
                pages = 0
                restarts += 1
            rows.extend(page.rows)
            if pages == 0:
                request_id = page.request_id
            pages += 1
            snapshot = page.snapshot_time
        return BatchAnswer(
            batch.index, batch.ids, tuple(rows), snapshot, pages, restarts, request_id=request_id
        )
