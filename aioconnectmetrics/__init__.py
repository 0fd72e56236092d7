"""Amazon Connect queue metrics for asyncio.

Real-time (``GetCurrentMetricData``) and historical (``GetMetricData``) metrics for any
number of queues: batches of 100 fetched concurrently, pages followed on one snapshot,
summaries combined correctly and marked exact or approximate; ``GetMetricDataV2`` for any
number of filter values and any range of its three months; and the agents themselves
(``GetCurrentUserData``), each once. See ``docs/``.
"""

import logging

from ._agents import Agent, AgentActivity, AgentContact, AgentsResult
from ._alerts import Alert, AlertEvent
from ._backend import CacheBackend, MemoryBackend, entry_from_json, entry_to_json
from ._boto import BotoFace
from ._cache import Answer, CacheEntry, CachePolicy, CacheStats
from ._catalog import CHANNELS
from ._checks import CacheMode
from ._client import ConnectMetrics
from ._directory import QueueInfo, RoutingProfileInfo, UserInfo
from ._errors import (
    AccessDeniedError,
    BackendUnavailableError,
    ClientClosedError,
    ConfigurationError,
    ConnectionFailedError,
    ConnectMetricsError,
    DeadlineExceededError,
    InvalidRequestError,
    InvalidSettingError,
    PaginationError,
    ResourceNotFoundError,
    ServiceError,
    ServiceRejectedError,
    ServiceUnavailableError,
    SnapshotSpreadError,
    ThrottledError,
)
from ._follow import Follower, Update
from ._limiter import (
    SERVICE_QUOTAS,
    Adaptation,
    Bucket,
    BucketStats,
    Limiter,
    LimiterStats,
    RateLimiter,
    TokenBucket,
)
from ._merge import Row
from ._metric import Metric
from ._quota import Grant, QuotaModel
from ._result import MetricRow, MetricsPage, MetricsResult, PartialResultError
from ._retry import RetryPolicy
from ._stats import ClientStats
from ._transport import ConnectClient
from ._v2.catalog import V2_METRICS, V2Combine, V2Spec
from ._v2.request import MetricFilter, V2Metric
from ._v2.result import V2Result, V2Row

__all__ = [
    "AccessDeniedError",
    "Adaptation",
    "Agent",
    "AgentActivity",
    "AgentContact",
    "AgentsResult",
    "Alert",
    "AlertEvent",
    "Answer",
    "BackendUnavailableError",
    "BotoFace",
    "Bucket",
    "BucketStats",
    "CHANNELS",
    "CacheBackend",
    "CacheEntry",
    "CacheMode",
    "CachePolicy",
    "CacheStats",
    "ClientClosedError",
    "ClientStats",
    "ConfigurationError",
    "ConnectClient",
    "ConnectMetrics",
    "ConnectMetricsError",
    "ConnectionFailedError",
    "DeadlineExceededError",
    "Follower",
    "Grant",
    "InvalidRequestError",
    "InvalidSettingError",
    "Limiter",
    "LimiterStats",
    "MemoryBackend",
    "Metric",
    "MetricFilter",
    "MetricRow",
    "MetricsPage",
    "MetricsResult",
    "PaginationError",
    "PartialResultError",
    "QueueInfo",
    "QuotaModel",
    "RateLimiter",
    "ResourceNotFoundError",
    "RetryPolicy",
    "RoutingProfileInfo",
    "Row",
    "SERVICE_QUOTAS",
    "ServiceError",
    "ServiceRejectedError",
    "ServiceUnavailableError",
    "SnapshotSpreadError",
    "ThrottledError",
    "TokenBucket",
    "Update",
    "UserInfo",
    "V2Combine",
    "V2Metric",
    "V2Result",
    "V2Row",
    "V2Spec",
    "V2_METRICS",
    "entry_from_json",
    "entry_to_json",
]

# A library's records go where the application sends them, and nowhere by default:
# without this, an application that configured no logging would see our warnings on
# stderr through Python's last-resort handler.
logging.getLogger(__name__).addHandler(logging.NullHandler())
