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

from ._client_v2 import refuse_early
from ._pipeline import Pipeline
from ._request import CURRENT_OP, HISTORICAL_OP
from ._transport import Caller
from ._v2_build import v2_request_from_kwargs
from ._v2_fetch import V2Path
from ._v2_merge import wire_rows
from ._v2_result import check_v2_failures
from ._wire import response_metadata


class BotoFace:
    """aiobotocore's Connect methods, for any number of queues: ``cm.boto``.

    Each method takes the aiobotocore method's keyword arguments (``InstanceId``
    optional when the client has a default instance; ``MaxResults`` is the page size;
    no ``NextToken``) and returns its response shape with every row, no ``NextToken``.
    Bad arguments raise `InvalidRequestError` naming botocore's field, before any
    request.
    """

    def __init__(self, pipeline: Pipeline, opened: Callable[[], Caller]) -> None:
        self._pipeline = pipeline
        self._opened = opened

    async def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetCurrentMetricData`` over any number of queues.

        ``DataSnapshotTime`` is the oldest batch's snapshot, and ``OLDEST_CONTACT_AGE``
        is always in seconds.
        """
        call = self._opened()
        pipeline = self._pipeline
        return await pipeline.response(call, pipeline.drop_in_request(CURRENT_OP, kwargs))

    async def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetMetricData`` over any number of queues."""
        call = self._opened()
        pipeline = self._pipeline
        return await pipeline.response(call, pipeline.drop_in_request(HISTORICAL_OP, kwargs))

    async def get_metric_data_v2(self, **kwargs: Any) -> dict[str, Any]:
        """``GetMetricDataV2`` over any number of filter values and any range.

        ``ResourceArn`` is the instance ARN; ``Filters`` take any number of values.
        Rows of several calls are combined where several calls gave them.
        """
        call = self._opened()
        pipeline = self._pipeline
        request = v2_request_from_kwargs(kwargs, region=pipeline.where.region, now=pipeline.now())
        refuse_early(request)
        answer = await V2Path(pipeline).answer(call, request, "use")
        check_v2_failures(request, answer, allow_partial=False)
        return {
            "MetricResults": wire_rows(request, answer.rows),
            "ResponseMetadata": response_metadata(answer.request_ids),
        }

    async def get_current_user_data(self, **kwargs: Any) -> dict[str, Any]:
        """``GetCurrentUserData`` over any number of queues, profiles or agents.

        Exactly one of ``Filters.Queues``, ``RoutingProfiles``, ``Agents`` or
        ``UserHierarchyGroups``; every agent once in ``UserDataList``,
        ``ApproximateTotalCount`` their number.
        """
        call = self._opened()
        pipeline = self._pipeline
        return await pipeline.user_data_response(call, pipeline.user_data_request(kwargs))
