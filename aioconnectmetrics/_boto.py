"""The drop-in face of `ConnectMetrics`: ``cm.boto``, aiobotocore's own methods.

``cm.boto.get_current_metric_data(**kwargs)`` takes exactly the keyword arguments of the
aiobotocore client's method of that name and returns the botocore response shape, for
any number of queues: every row of every batch and page, no ``NextToken``. Code written
against an aiobotocore Connect client moves over by changing the object it calls
(``client = cm.boto``); the rich API (`ConnectMetrics.get_current_metrics`, ...) keeps
the client's own namespace, so the two faces never differ by one word of a method name
(docs/decisions.md, "Two faces").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._agents_path import AgentsPath
from ._metrics_path import MetricsPath
from ._transport import Caller
from ._v2.fetch import V2Path


class BotoFace:
    """aiobotocore's Connect methods, for any number of queues: ``cm.boto``.

    Each method takes the aiobotocore method's keyword arguments (``InstanceId``
    optional when the client has a default instance; ``MaxResults`` is the page size;
    no ``NextToken``) and returns its response shape with every row, no ``NextToken``.
    Bad arguments raise `InvalidRequestError` naming botocore's field, before any
    request.
    """

    def __init__(
        self,
        current: MetricsPath,
        historical: MetricsPath,
        agents: AgentsPath,
        v2: V2Path,
        opened: Callable[[], Caller],
    ) -> None:
        self._current = current
        self._historical = historical
        self._agents = agents
        self._v2 = v2
        self._opened = opened

    async def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetCurrentMetricData`` over any number of queues.

        ``DataSnapshotTime`` is the oldest batch's snapshot, and ``OLDEST_CONTACT_AGE``
        is always in seconds.
        """
        call = self._opened()
        return await self._current.response(call, self._current.drop_in(kwargs))

    async def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetMetricData`` over any number of queues."""
        call = self._opened()
        return await self._historical.response(call, self._historical.drop_in(kwargs))

    async def get_metric_data_v2(self, **kwargs: Any) -> dict[str, Any]:
        """``GetMetricDataV2`` over any number of filter values and any range.

        ``ResourceArn`` is the instance ARN; ``Filters`` take any number of values.
        Rows of several calls are combined where several calls gave them.
        """
        call = self._opened()
        return await self._v2.response(call, self._v2.drop_in(kwargs))

    async def get_current_user_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetCurrentUserData`` over any number of queues, profiles or agents.

        Exactly one of ``Filters.Queues``, ``RoutingProfiles``, ``Agents`` or
        ``UserHierarchyGroups``; every agent once in ``UserDataList``,
        ``ApproximateTotalCount`` their number.
        """
        call = self._opened()
        return await self._agents.response(call, self._agents.drop_in(kwargs))
