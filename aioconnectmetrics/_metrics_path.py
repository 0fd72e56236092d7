"""The path of GetCurrentMetricData and GetMetricData: request in, answer out.

`MetricsPath` builds a request (the rich arguments, or aiobotocore's keyword arguments:
`_request.py`, `_dropin.py`), answers it through the runtime's cache front, and renders
the answer for the face that asked (a `MetricsResult`, or botocore's shape). On a miss it
computes: queues resolved by the directory, batches run by the fan-out (with the
routing-profile map's plan where agents are counted once), pages merged. The call's
deadline covers every wait of it. `MetricsPath.stream` is the page-wise path.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import attrs

from . import _telemetry as telemetry
from ._cache import Answer, cache_key, fresh_until
from ._checks import CacheMode, check_flag
from ._dropin import current_request_from_kwargs, historical_request_from_kwargs
from ._errors import InvalidRequestError
from ._fanout import Execution
from ._merge import merge
from ._pages import keeping
from ._profiles import AgentPlan, ProfileMap, counted_once, needs_map, plan_agents
from ._request import (
    CURRENT_OP,
    HISTORICAL_OP,
    MetricsRequest,
    Operation,
    build_request_memo,
    check_page_size,
)
from ._result import MetricRow, MetricsPage, MetricsResult, check_failures, result_of
from ._runtime import Runtime
from ._transport import Caller
from ._wire import Origins, botocore_response


def for_streaming(request: MetricsRequest, page_size: object) -> MetricsRequest:
    """`request`, checked for streaming (rows of one batch each), with its page size."""
    if request.partition not in request.groupings:
        raise InvalidRequestError(
            "groupings",
            list(request.groupings),
            f"streamed rows must belong to one batch each: group by {request.partition}",
        )
    return attrs.evolve(request, page_size=check_page_size(page_size, "page_size"))


class MetricsPath:
    """One of the two metrics operations (`operation`) over a client's `Runtime`."""

    def __init__(self, runtime: Runtime, operation: Operation) -> None:
        self.runtime = runtime
        self.operation = operation

    def request(self, instance_id: str | None, **args: Any) -> MetricsRequest:
        """A rich-API request (`build_request`); `instance_id` None: the default one."""
        runtime = self.runtime
        now = runtime.now() if self.operation == HISTORICAL_OP else None
        return build_request_memo(
            self.operation,
            instance_id=runtime.instance(instance_id),
            region=runtime.where.region,
            now=now,
            **args,
        )

    def drop_in(self, kwargs: Mapping[str, Any]) -> MetricsRequest:
        """A drop-in request from aiobotocore's keyword arguments (`_dropin.py`)."""
        runtime = self.runtime
        if self.operation == CURRENT_OP:
            return current_request_from_kwargs(
                kwargs, default_instance=runtime.instance_id, region=runtime.where.region
            )
        return historical_request_from_kwargs(
            kwargs,
            default_instance=runtime.instance_id,
            region=runtime.where.region,
            now=runtime.now(),
        )

    async def result(
        self,
        call: Caller,
        request: MetricsRequest,
        spread: float | None,
        *,
        allow_partial: bool,
        mode: CacheMode,
        names: object = False,
    ) -> MetricsResult:
        """The rich API's result; with `names`, its rows carry queue and profile names."""
        # Only rows of a queue or a profile have a name: no listing for anything else.
        labelled = check_flag("names", names) and not {"QUEUE", "ROUTING_PROFILE"}.isdisjoint(
            request.groupings
        )
        with self._span(request) as span:
            answer = await self.answer(call, request, spread, mode, unkept="none")
            self.runtime.annotate(span, self.operation, answer)
            labels = await self.runtime.names(call, request.instance_id) if labelled else None
            check_failures(request, answer, allow_partial=allow_partial, names=labels)
            return result_of(request, answer, labels)

    async def response(self, call: Caller, request: MetricsRequest) -> dict[str, Any]:
        """The drop-in API's response, in botocore's shape."""
        with self._span(request) as span:
            answer = await self.answer(call, request, None, "use", unkept="service")
            self.runtime.annotate(span, self.operation, answer)
            check_failures(request, answer, allow_partial=False)
            # With a cache, answers are shared: give each caller rows of its own.
            shared = self.runtime.front.policy is not None
            return botocore_response(
                request, answer.rows, answer.snapshots, answer.request_ids, copy_rows=shared
            )

    def _span(self, request: MetricsRequest) -> contextlib.AbstractContextManager[Any]:
        """The call's span (nothing at all while no tracer provider is set)."""
        ids = request.queue_ids if request.queue_ids is not None else request.routing_profile_ids
        return telemetry.call(
            self.operation,
            region=self.runtime.where.region,
            instance_id=request.instance_id,
            ids=len(ids) if ids is not None else None,
        )

    async def answer(
        self,
        call: Caller,
        request: MetricsRequest,
        spread: float | None,
        mode: CacheMode,
        *,
        unkept: Origins = "layout",
    ) -> Answer:
        """The merged answer to `request`: from the cache, or fetched.

        An answer the cache stores keeps its rows compact; one it does not keeps what
        its face needs, `unkept` (docs/memory.md).
        """

        async def fetch() -> Answer:
            return await self.compute(call, request, spread)

        stored = self.runtime.front.policy is not None and mode != "bypass"
        with keeping("layout" if stored else unkept):
            return await self.runtime.cached(
                fetch,
                mode,
                key=lambda where: cache_key(
                    request,
                    region=where.region,
                    endpoint=where.endpoint,
                    identity=where.tenant,
                    extra=(spread,),
                ),
                fresh=lambda policy, answer, at: fresh_until(request, answer, at, policy),
                ahead=request.operation == CURRENT_OP,
            )

    async def compute(self, call: Caller, request: MetricsRequest, spread: float | None) -> Answer:
        """Resolve, fan out and merge: one upstream fetch, failures recorded, not raised."""
        started = anyio.current_time()
        try:
            return await self._compute(call, request, spread)
        finally:
            telemetry.fetched(self.operation, anyio.current_time() - started)

    async def _compute(
        self, call: Caller, request: MetricsRequest, spread: float | None
    ) -> Answer:
        with self.runtime.deadline():
            request = await self.resolve(call, request)
            plan, execution = await self.execute(call, request, spread)
        rows = merge(request, execution.answers)
        used = list(execution.answers)
        if plan is not None:
            counted = counted_once(
                request, rows, execution.answers, execution.profile_answers, plan[1]
            )
            rows = counted.rows
            if counted.contradicted:
                self.runtime.directory.forget_map(request.instance_id, plan[0])
            used += execution.profile_answers or ()
        return Answer(
            rows=tuple(rows),
            # Every request's snapshot: the agents' routing-profile requests too.
            snapshots=tuple(t for a in used for t in a.snapshots),
            batches=len(execution.answers),
            pages=sum(a.pages for a in used),
            failures=tuple(sorted(execution.failures.items())),
            failed_queues=tuple((i, execution.batches[i]) for i in sorted(execution.failures)),
            request_ids=tuple(a.request_id for a in execution.answers if a.request_id),
        )

    async def execute(
        self, call: Caller, request: MetricsRequest, spread: float | None
    ) -> tuple[tuple[ProfileMap, AgentPlan] | None, Execution]:
        """The fan-out, with the routing-profile map's plan where it saves requests.

        The map is checked (`Directory.checked_map`) while the batches run; if a profile
        changed, the answer is fetched again with the map made anew.
        """
        if not needs_map(request):
            return None, await self.runtime.fanout.execute(call, request, spread)
        instance = request.instance_id
        profiles = await self.runtime.directory.profile_map(call, instance)
        for _ in range(2):
            plan = plan_agents(request, profiles) if profiles is not None else None
            if plan is None or profiles is None:
                return None, await self.runtime.fanout.execute(call, request, spread)
            checked: list[ProfileMap | None] = []
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._check_map, call, instance, profiles, checked)
                execution = await self.runtime.fanout.execute(call, request, spread, plan)
            if checked[0] is profiles:
                return (profiles, plan), execution
            profiles = checked[0]  # a profile changed while the batches ran: again
        return None, await self.runtime.fanout.execute(call, request, spread)

    async def _check_map(
        self, call: Caller, instance: str, used: ProfileMap, into: list[ProfileMap | None]
    ) -> None:
        into.append(await self.runtime.directory.checked_map(call, instance, used))

    async def resolve(self, call: Caller, request: MetricsRequest) -> MetricsRequest:
        """`request` with ``"all"`` resolved to the instance's queues or routing profiles."""
        by_profile = request.all_routing_profiles
        if not (by_profile or request.all_queues):
            return request
        ids = await self.runtime.everything(
            call, request.instance_id, by_profile, request.queue_types
        )
        return request.with_routing_profiles(ids) if by_profile else request.with_queues(ids)

    async def stream(self, call: Caller, request: MetricsRequest) -> AsyncIterator[MetricsPage]:
        """Rows page by page, one batch after another; nothing combined or cached."""
        with self.runtime.deadline():
            request = await self.resolve(call, request)
        async for batch, page in self.runtime.fanout.stream(
            call, request, self.runtime.deadline_of()
        ):
            yield MetricsPage(
                batch=page.batch,
                page=page.page,
                queue_ids=batch.ids,
                rows=tuple(map(MetricRow, page.rows)),
                snapshot_time=page.snapshot_time,
                restarted=page.restarted,
            )
