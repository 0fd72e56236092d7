"""Fetching: the one thin layer that calls aiobotocore.

`ClientCaller` makes one HTTP attempt per call and translates botocore's errors into ours
(chained). `fetch_batch` follows one batch's page chain: every page must carry the first
page's ``DataSnapshotTime``; a rejected or expired token, or a snapshot that changed,
restarts the batch from its first page, a bounded number of times.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

import anyio
import attrs
import botocore.exceptions

from ._errors import (
    ConfigurationError,
    ConnectionFailedError,
    ConnectMetricsError,
    PaginationError,
    ResourceNotFoundError,
    ServiceError,
    ServiceRejectedError,
    ServiceUnavailableError,
    ThrottledError,
)
from ._merge import BatchAnswer, Row, parse_rows
from ._plan import Batch

logger = logging.getLogger("aioconnectmetrics")

_METHODS = {
    "GetCurrentMetricData": "get_current_metric_data",
    "GetMetricData": "get_metric_data",
    "ListQueues": "list_queues",
}
_BY_CODE: Mapping[str, type[ServiceError]] = {
    "ThrottlingException": ThrottledError,
    "TooManyRequestsException": ThrottledError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "InvalidParameterException": ServiceRejectedError,
    "InvalidRequestException": ServiceRejectedError,
    "InternalServiceException": ServiceUnavailableError,
}


class Caller(Protocol):
    """Makes one API call: operation name and parameters in, parsed response out."""

    def __call__(self, operation: str, params: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        """Call `operation`; raise a `ConnectMetricsError` on failure."""


def translate_client_error(operation: str, exc: botocore.exceptions.ClientError) -> ServiceError:
    """Our error for a botocore `ClientError`, by AWS error code and HTTP status."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    kind = _BY_CODE.get(code)
    if kind is None:
        if status == 429:
            kind = ThrottledError
        elif isinstance(status, int) and status >= 500:
            kind = ServiceUnavailableError
        else:
            kind = ServiceError
    return kind(code, operation, status, str(error.get("Message", "")))


class ClientCaller:
    """One HTTP attempt per call on an aiobotocore Connect client; errors translated.

    `on_call` (optional) is told of every attempt: operation, and the error or None.
    """

    def __init__(
        self,
        client: Any,
        *,
        on_call: Callable[[str, ConnectMetricsError | None], None] | None = None,
    ) -> None:
        self._client = client
        self._on_call = on_call

    async def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Make the call."""
        method = getattr(self._client, _METHODS[operation])
        error: ConnectMetricsError | None = None
        try:
            response: dict[str, Any] = await method(**params)
        except botocore.exceptions.ClientError as exc:
            error = translate_client_error(operation, exc)
            raise error from exc
        except (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError) as exc:
            error = ConnectionFailedError(operation, type(exc).__name__)
            raise error from exc
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
            botocore.exceptions.NoRegionError,
        ) as exc:
            error = ConfigurationError(f"{operation}: {exc}")
            raise error from exc
        finally:
            if self._on_call is not None:
                self._on_call(operation, error)
        return response


def _utc(value: Any) -> datetime | None:
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else None


async def fetch_batch(
    call: Caller,
    operation: str,
    batch: Batch,
    params: Mapping[str, Any],
    *,
    grouped: bool,
    thresholds: bool,
    max_restarts: int,
    clock: Callable[[], float],
    token_ttl: float,
) -> BatchAnswer:
    """Every page of one batch, from one snapshot: `iter_batch_pages`, collected.

    A restarted chain voids the pages collected before it.
    """
    rows: list[Row] = []
    pages = restarts = 0
    snapshot = None
    async for page in iter_batch_pages(
        call,
        operation,
        batch,
        params,
        grouped=grouped,
        thresholds=thresholds,
        max_restarts=max_restarts,
        clock=clock,
        token_ttl=token_ttl,
    ):
        if page.restarted:
            rows.clear()
            pages = 0
            restarts += 1
        rows.extend(page.rows)
        pages += 1
        snapshot = page.snapshot_time
    return BatchAnswer(batch.index, batch.ids, tuple(rows), snapshot, pages, restarts)


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


@attrs.frozen
class RawPage:
    """One page of one batch, as `iter_batch_pages` yields it."""

    batch: int
    page: int
    rows: tuple[Row, ...]
    snapshot_time: datetime | None
    restarted: bool


async def iter_batch_pages(
    call: Caller,
    operation: str,
    batch: Batch,
    params: Mapping[str, Any],
    *,
    grouped: bool,
    thresholds: bool,
    max_restarts: int,
    clock: Callable[[], float],
    token_ttl: float,
) -> AsyncIterator[RawPage]:
    """Yield one batch's pages as they come, for callers that stream large answers.

    A continuation token is used only while younger than `token_ttl` (its life minus a
    margin): a consumer slow enough to outlive it, a rejected token, or a page from
    another snapshot restarts the batch from its first page, and that page is marked
    ``restarted`` (the rows of this batch yielded before are void).
    """
    restarts, restarted = 0, False
    while True:
        response = await call(operation, params)
        snapshot = _utc(response.get("DataSnapshotTime"))
        page = 0
        while True:
            results = response.get("MetricResults") or ()
            rows = tuple(parse_rows(results, grouped=grouped, thresholds=thresholds))
            token, received = response.get("NextToken"), clock()
            # The consumer takes its time with the page here; the token ages meanwhile.
            yield RawPage(batch.index, page, rows, snapshot, restarted)
            restarted = False
            if not token:
                return
            reason = None
            if clock() - received >= token_ttl:
                reason = "the token was too old to use"
            else:
                try:
                    response = await call(operation, {**params, "NextToken": token})
                except ServiceRejectedError as exc:
                    reason = f"token rejected with {exc.code}"
                else:
                    if _utc(response.get("DataSnapshotTime")) != snapshot:
                        reason = "the snapshot changed between pages"
            if reason is not None:
                break
            page += 1
        if restarts >= max_restarts:
            raise PaginationError(batch.index, restarts, reason)
        restarts += 1
        restarted = True
        logger.info("batch %d: restarting its pages (%s)", batch.index, reason)
