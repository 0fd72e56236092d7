"""Amazon Connect queue metrics for asyncio.

Real-time (``GetCurrentMetricData``) and historical (``GetMetricData``) metrics for any
number of queues: batches of 100 fetched concurrently, pages followed on one snapshot,
summaries combined correctly and marked exact or approximate. See ``docs/``.
"""

from ._cache import CacheBackend, CacheEntry, CachePolicy, CacheStats, MemoryBackend
from ._catalog import CHANNELS
from ._client import ClientStats, ConnectMetrics, QueueInfo
from ._errors import (
    BackendUnavailableError,
    ConfigurationError,
    ConnectionFailedError,
    ConnectMetricsError,
    DeadlineExceededError,
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
from ._limiter import (
    SERVICE_QUOTAS,
    Adaptation,
    Bucket,
    BucketStats,
    Limiter,
    RateLimiter,
    TokenBucket,
)
from ._quota import Grant
from ._request import Metric
from ._result import MetricRow, MetricsPage, MetricsResult
from ._retry import RetryPolicy

__all__ = [
    "Adaptation",
    "BackendUnavailableError",
    "Bucket",
    "BucketStats",
    "CHANNELS",
    "CacheBackend",
    "CacheEntry",
    "CachePolicy",
    "CacheStats",
    "ClientStats",
    "ConfigurationError",
    "ConnectMetrics",
    "ConnectMetricsError",
    "ConnectionFailedError",
    "DeadlineExceededError",
    "Grant",
    "InvalidRequestError",
    "Limiter",
    "MemoryBackend",
    "Metric",
    "MetricRow",
    "MetricsPage",
    "MetricsResult",
    "PaginationError",
    "PartialResultError",
    "QueueInfo",
    "RateLimiter",
    "ResourceNotFoundError",
    "RetryPolicy",
    "SERVICE_QUOTAS",
    "ServiceError",
    "ServiceRejectedError",
    "ServiceUnavailableError",
    "SnapshotSpreadError",
    "ThrottledError",
    "TokenBucket",
]
