"""Amazon Connect queue metrics for asyncio.

Real-time (``GetCurrentMetricData``) and historical (``GetMetricData``) metrics for any
number of queues: batches of 100 fetched concurrently, pages followed on one snapshot,
summaries combined correctly and marked exact or approximate. See ``docs/``.
"""

from ._catalog import CHANNELS
from ._client import ClientStats, ConnectMetrics, QueueInfo
from ._errors import (
    ConnectionFailedError,
    ConnectMetricsError,
    InvalidRequestError,
    PaginationError,
    PartialResultError,
    ResourceNotFoundError,
    ServiceError,
    ServiceRejectedError,
    ServiceUnavailableError,
    SnapshotSpreadError,
    ThrottledError,
)
from ._request import Metric
from ._result import MetricRow, MetricsResult

__all__ = [
    "CHANNELS",
    "ClientStats",
    "ConnectMetrics",
    "ConnectMetricsError",
    "ConnectionFailedError",
    "InvalidRequestError",
    "Metric",
    "MetricRow",
    "MetricsResult",
    "PaginationError",
    "PartialResultError",
    "QueueInfo",
    "ResourceNotFoundError",
    "ServiceError",
    "ServiceRejectedError",
    "ServiceUnavailableError",
    "SnapshotSpreadError",
    "ThrottledError",
]
