"""The GetMetricDataV2 path below the facade: request in, merged answer out, rendered.

`V2Path` builds a `V2Request` (the rich arguments or botocore's kwargs, `build.py`), and
`V2Path.answer` keys it (who asks included) and asks the client's cache front, as the
metrics paths do; on a miss it resolves ``"all"`` and the instance ARN
through the directory, plans the calls (`_v2/plan.py`), runs them concurrently under the
client's concurrency cap and the operation's own quota (every page followed, a batch
restarted when its token is rejected or too old), and merges them (`_v2/merge.py`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from .. import _telemetry as telemetry
from .._cache import Answer, fresh_until_v2
from .._checks import CacheMode, check_flag
from .._errors import ConnectMetricsError, InvalidRequestError
from .._merge import BatchAnswer
from .._pages import PageChain
from .._plan import Batch
from .._request import QUEUE_TYPES
from .._runtime import Runtime
from .._transport import Caller
from .._wire import response_metadata
from .build import build_v2_request, v2_request_from_kwargs
from .merge import merge_v2, parse_v2_rows, wire_rows
from .plan import V2Call, call_params, combined_dimensions, fetched_metrics, plan_calls
from .request import V2Metric, V2Request
from .result import V2Result, check_v2_failures, v2_result_of

OPERATION = "GetMetricDataV2"


@attrs.frozen
class _Calls:
    """Every call of one request: what `FanOut.run` runs, batch by batch."""

    chain: PageChain
    request: V2Request
    calls: tuple[V2Call, ...]
    metrics: tuple[V2Metric, ...]
    resource_arn: str
    failures: dict[int, ConnectMetricsError] = attrs.field(factory=dict)

    async def batch(self, batch: Batch) -> BatchAnswer:
        """One call, every page of it."""
        params = call_params(
            self.request, self.calls[batch.index], self.metrics, self.resource_arn
        )
        return await self.chain.collect(batch, params)


def v2_cache_key(request: V2Request, *, region: str, endpoint: str, identity: str) -> str:
    """The cache key of a V2 request asked by this identity, through this endpoint."""
    fields = attrs.asdict(request, recurse=False)
    fields.pop("page_size")  # the page size does not change the answer
    fields["metrics"] = [m.key for m in request.metrics]
    fields["start_time"] = request.start_time.timestamp()
    fields["end_time"] = request.end_time.timestamp()
    who = {"region": region, "endpoint": endpoint, "identity": identity}
    text = json.dumps([OPERATION, fields, who], sort_keys=True)
    return "acm:v2:" + hashlib.sha256(text.encode()).hexdigest()


def refuse_early(request: V2Request) -> None:
    """A metric with no honest combination, refused before any request (listings too).

    With ``"all"``, how many calls the request needs is known only once the instance's
    queues are listed: the refusal then comes after that listing, before any V2 call.
    """
    if request.unresolved is None:
        fetched_metrics(request)


class V2Path:
    """GetMetricDataV2 over one client's `Runtime` (cache, directory, fan-out)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def request(self, instance_id: str | None, **args: Any) -> V2Request:
        """A rich-API request (`build_v2_request`); `instance_id` None: the default one."""
        runtime = self.runtime
        return build_v2_request(
            instance_id=runtime.instance(instance_id),
            region=runtime.where.region,
            now=runtime.now(),
            **args,
        )

    def drop_in(self, kwargs: Mapping[str, Any]) -> V2Request:
        """A drop-in request from botocore's ``get_metric_data_v2`` keyword arguments."""
        return v2_request_from_kwargs(
            kwargs, region=self.runtime.where.region, now=self.runtime.now()
        )

    async def result(
        self,
        call: Caller,
        request: V2Request,
        *,
        allow_partial: bool,
        mode: CacheMode,
        names: object,
    ) -> V2Result:
        """The rich API's result; with `names`, its rows' queues, profiles and agents named."""
        labelled = check_flag("names", names)
        refuse_early(request)
        with self._span(request) as span:
            answer = await self.answer(call, request, mode)
            self.runtime.annotate(span, OPERATION, answer)
            check_v2_failures(request, answer, allow_partial=allow_partial)
            labels = await self.names(call, request) if labelled else None
            return v2_result_of(request, answer, labels)

    async def response(self, call: Caller, request: V2Request) -> dict[str, Any]:
        """The drop-in response: every row, combined across calls, botocore's shape."""
        refuse_early(request)
        with self._span(request) as span:
            answer = await self.answer(call, request, "use")
            self.runtime.annotate(span, OPERATION, answer)
            check_v2_failures(request, answer, allow_partial=False)
            return {
                "MetricResults": wire_rows(request, answer.rows),
                "ResponseMetadata": response_metadata(answer.request_ids),
            }

    def _span(self, request: V2Request) -> contextlib.AbstractContextManager[Any]:
        """The call's span (nothing at all while no tracer provider is set)."""
        return telemetry.call(
            OPERATION, region=self.runtime.where.region, instance_id=request.instance_id
        )

    async def answer(self, call: Caller, request: V2Request, mode: CacheMode) -> Answer:
        """The merged answer to `request`: from the cache, or fetched."""
        runtime = self.runtime

        async def fetch() -> Answer:
            return await self.compute(call, request)

        return await runtime.cached(
            fetch,
            mode,
            key=lambda where: v2_cache_key(
                request, region=where.region, endpoint=where.endpoint, identity=where.tenant
            ),
            fresh=lambda policy, answer, at: fresh_until_v2(request.end_time, at, policy)[0],
            ahead=False,
        )

    async def names(self, call: Caller, request: V2Request) -> Mapping[str, str]:
        """ID -> name of the queues, routing profiles and agents (user names) of rows.

        Listed only for the groupings asked, from the directory.
        """
        runtime = self.runtime
        found: dict[str, str] = {}
        if {"QUEUE", "ROUTING_PROFILE"} & set(request.groupings):
            found |= await runtime.names(call, request.instance_id)
        if "AGENT" in request.groupings:
            found |= await runtime.usernames(call, request.instance_id)
        return found

    async def resolve(self, call: Caller, request: V2Request) -> tuple[V2Request, str]:
        """`request` with ``"all"`` resolved, and its instance ARN (learned if not given)."""
        runtime = self.runtime
        key = request.unresolved
        if key is not None:
            ids = await runtime.everything(
                call, request.instance_id, key != "QUEUE", ("STANDARD",)
            )
            if not ids:
                raise InvalidRequestError(
                    "queues" if key == "QUEUE" else "routing_profiles",
                    "all",
                    f"instance {request.instance_id} has none",
                )
            request = request.resolved(key, ids)
        if request.instance_arn is not None:
            return request, request.instance_arn
        queues = await runtime.directory.queues(call, request.instance_id, QUEUE_TYPES)
        if not queues:
            raise InvalidRequestError(
                "instance_id",
                request.instance_id,
                "the instance has no queue to learn its ARN from: give the instance ARN",
            )
        return request, queues[0].arn.split("/queue/")[0]

    async def compute(self, call: Caller, request: V2Request) -> Answer:
        """Resolve, plan, run every call and merge: one fetch, failures recorded."""
        runtime = self.runtime
        fanout = runtime.fanout
        with runtime.deadline():
            request, arn = await self.resolve(call, request)
            metrics = fetched_metrics(request)
            calls = plan_calls(request)
            chain = PageChain(
                call,
                OPERATION,
                grouped=bool(request.groupings),
                thresholds=False,
                max_restarts=fanout.max_restarts,
                clock=fanout.clock,
                parse=functools.partial(parse_v2_rows, metrics=metrics, shared={}),
            )
            work = _Calls(chain, request, calls, metrics, arn)
            batches = [Batch(c.index, tuple(v for _, vs in c.filters for v in vs)) for c in calls]
            answers = await fanout.run(work, batches)
        done = [answers[i] for i in sorted(answers)]
        rows = merge_v2(request, [a.rows for a in done], combined_dimensions(request))
        return Answer(
            rows=tuple(rows),
            snapshots=(),
            batches=len(done),
            pages=sum(a.pages for a in done),
            failures=tuple(sorted(work.failures.items())),
            failed_queues=tuple((i, batches[i].ids) for i in sorted(work.failures)),
            request_ids=tuple(a.request_id for a in done if a.request_id),
        )
