"""The GetMetricDataV2 face of `ConnectMetrics`: historical metrics, three months back.

A base class of `ConnectMetrics`, like `DirectoryMethods`: its methods turn their
arguments into a `V2Request` (`_v2_build.py`) and hand it to `V2Path` (`_v2_fetch.py`)
over the client's `Pipeline` (cache, directory, fan-out, limiter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from ._checks import CacheMode, check_cache_mode, check_flag, check_partial
from ._pipeline import Pipeline
from ._transport import Caller
from ._v2_build import build_v2_request
from ._v2_fetch import V2Path
from ._v2_plan import fetched_metrics
from ._v2_request import V2Metric, V2Request
from ._v2_result import V2Result, check_v2_failures, v2_result_of


def refuse_early(request: V2Request) -> None:
    """A metric with no honest combination, refused before any request (listings too).

    With ``"all"``, how many calls the request needs is known only once the instance's
    queues are listed: the refusal then comes after that listing, before any V2 call.
    """
    if request.unresolved is None:
        fetched_metrics(request)


class V2Methods:
    """`get_historical_metrics_v2` (the drop-in ``get_metric_data_v2`` is ``cm.boto``'s)."""

    _pipeline: Pipeline
    _partial: bool

    def _open(self) -> Caller:
        raise NotImplementedError  # ConnectMetrics says whether it is open

    async def get_historical_metrics_v2(
        self,
        metrics: Iterable[str | V2Metric],
        *,
        start: datetime,
        end: datetime,
        interval: str = "TOTAL",
        time_zone: str | None = None,
        queues: Iterable[str] | Literal["all"] | None = None,
        routing_profiles: Iterable[str] | Literal["all"] | None = None,
        agents: Iterable[str] | None = None,
        channels: Iterable[str] | None = None,
        filters: Mapping[str, Iterable[str]] | None = None,
        groupings: Iterable[str] = (),
        instance_id: str | None = None,
        partial: bool | None = None,
        cache: CacheMode = "use",
        names: bool = False,
    ) -> V2Result:
        """GetMetricDataV2 metrics for any number of queues, profiles or agents.

        Args:
            metrics: names (``"AVG_HANDLE_TIME"``), keys with a threshold
                (``"SERVICE_LEVEL_60"``), or `V2Metric` objects (metric filters too).
            start: an aware datetime within the last 3 months.
            end: an aware datetime after `start`, not in the future. FIFTEEN_MIN,
                THIRTY_MIN and HOUR take any such range (cut into calls of under 3
                days); DAY, WEEK and TOTAL take under 35 days.
            interval: FIFTEEN_MIN, THIRTY_MIN, HOUR, DAY, WEEK or TOTAL (the default:
                one interval over the whole range).
            time_zone: the IANA time zone intervals are aligned to (default UTC).
            queues: queue IDs or ARNs, any number, or ``"all"``.
            routing_profiles: routing profile IDs or ARNs, any number, or ``"all"``.
            agents: user IDs or ARNs, any number.
            channels: VOICE, CHAT, TASK, EMAIL.
            filters: other filter keys and their values (``{"AGENT_HIERARCHY_LEVEL_ONE":
                [...]}``); at most 5 filter keys in all, at least one a resource.
            groupings: up to 4 grouping keys (QUEUE, CHANNEL, ROUTING_PROFILE, AGENT, ...).
            instance_id: overrides the client's default; an instance ARN spares the one
                ListQueues call that otherwise learns it (the ARN names the account).
            partial: return what succeeded instead of raising `PartialResultError`.
            cache: "use", "refresh" or "bypass", as for `get_current_metrics`; an
                answer over a final range (ended `CachePolicy.final_after` ago) lives
                `CachePolicy.final_max_age`.
            names: name the rows' queues, routing profiles and agents
                (``row.name("QUEUE")``, ``QUEUE_NAME`` in ``to_dict()``), from the
                directory's listings (reused for `queue_list_ttl`).

        Returns:
            a `V2Result`: rows by dimensions and interval; values combined across calls
            are marked (``row.is_exact``, ``row.bounds``). See docs/metrics.md.

        Raises:
            InvalidRequestError: bad input, or a metric with no honest combination
                across the calls the request needs (before any network call).
            PartialResultError: some calls failed (unless `partial`).
            ServiceError, ConnectionFailedError, PaginationError: the call failed.
        """
        self._open()
        pipeline = self._pipeline
        request = build_v2_request(
            instance_id=pipeline.instance(instance_id),
            region=pipeline.where.region,
            now=pipeline.now(),
            metrics=metrics,
            start=start,
            end=end,
            interval=interval,
            time_zone=time_zone,
            queues=queues,
            routing_profiles=routing_profiles,
            agents=agents,
            channels=channels,
            filters=filters,
            groupings=groupings,
        )
        allow_partial = self._partial if partial is None else check_partial(partial)
        mode = check_cache_mode(cache)
        refuse_early(request)
        call, path = self._open(), V2Path(pipeline)
        answer = await path.answer(call, request, mode)
        check_v2_failures(request, answer, allow_partial=allow_partial)
        labels = None
        if check_flag("names", names):
            labels = await path.names(call, request)
        return v2_result_of(request, answer, labels)
