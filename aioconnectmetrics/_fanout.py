"""The fan-out executor: one request's batches, run concurrently, their faults sorted.

`FanOut.execute` plans the batches, follows each batch's page chain in a task group
(at most `max_concurrency` at once, across every call of the client), and sorts what
goes wrong: a fault of one batch (throttled, unavailable, connection, pagination) leaves
the others worth having and is recorded; an error that says the whole request is wrong
stops the other batches at once. With `max_spread`, batches whose snapshot lags the
newest by more than that are fetched again, a few rounds at most. `FanOut.stream` hands
pages over one batch after another, under the same concurrency cap and deadline.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import anyio
import attrs

from . import _telemetry as telemetry
from ._agents import AgentsRequest
from ._errors import (
    ConnectionFailedError,
    ConnectMetricsError,
    DeadlineExceededError,
    PaginationError,
    ServiceUnavailableError,
    SnapshotSpreadError,
    ThrottledError,
)
from ._merge import BatchAnswer
from ._metric import Metric
from ._pages import PageChain, RawPage
from ._plan import Batch, agent_split, fetch_metrics, plan_batches
from ._profiles import AgentPlan, shared_profiles_request
from ._request import MetricsRequest
from ._roster import Roster, fetch_roster
from ._transport import Caller
from ._wire import batch_params

logger = logging.getLogger("aioconnectmetrics.fetch")  # by concern: docs/observability.md

#: Errors after which the other batches are still worth having (a partial answer).
BATCH_FAULTS = (ThrottledError, ServiceUnavailableError, ConnectionFailedError, PaginationError)
#: Rounds of refetching lagging batches, with `max_spread`.
SPREAD_ROUNDS = 3


@contextlib.contextmanager
def within(deadline: float | None) -> Iterator[None]:
    """`deadline` seconds (None: no limit), exceeded as `DeadlineExceededError`."""
    if deadline is None:
        yield
        return
    try:
        with anyio.fail_after(deadline):
            yield
    except DeadlineExceededError:
        raise  # an inner deadline (a fetch's own) already said so
    except TimeoutError as exc:
        raise DeadlineExceededError(deadline) from exc


@attrs.define
class Execution:
    """What one fan-out produced: answers by batch, and the batches that failed.

    With an `AgentPlan`, `profile_answers` holds the shared profiles' requests, or None
    when one of them failed (their faults are not failed queues: the agent values are).
    """

    answers: list[BatchAnswer]
    failures: dict[int, ConnectMetricsError]
    batches: dict[int, tuple[str, ...]]
    profile_answers: list[BatchAnswer] | None = None


def stale_batches(answers: Mapping[int, BatchAnswer], max_spread: float | None) -> set[int]:
    """The batches with a request more than `max_spread` seconds behind the newest.

    Every request counts: a batch's routing-profile request (exact agent counts) as
    much as its rows' request.
    """
    if max_spread is None:
        return set()
    times = {i: min(a.snapshots) for i, a in answers.items() if a.snapshots}
    if not times:
        return set()
    newest = max(max(a.snapshots) for a in answers.values() if a.snapshots)
    return {i for i, t in times.items() if (newest - t).total_seconds() > max_spread}


class BatchFetch(Protocol):
    """What `FanOut.run` runs: one batch's fetch, and where failed batches are recorded."""

    @property
    def failures(self) -> dict[int, ConnectMetricsError]:
        """Failed batches by index (a batch that succeeds on a later round is removed)."""

    async def batch(self, batch: Batch) -> BatchAnswer:
        """Every page of one batch."""


@attrs.frozen
class _Fetch:
    """What every batch of one request asks for, and where its failures go."""

    chain: PageChain
    agents: tuple[PageChain, MetricsRequest] | None  # an `AgentSplit`'s chain and request
    request: MetricsRequest
    metrics: tuple[Metric, ...]
    failures: dict[int, ConnectMetricsError]
    #: An `AgentPlan`'s shared profiles: their chain, request, and first batch index.
    profiles: tuple[PageChain, MetricsRequest, int] | None = None

    async def batch(self, batch: Batch) -> BatchAnswer:
        """One batch: its pages, and with an `AgentSplit`, its agents by routing profile."""
        if self.profiles is not None and batch.index >= self.profiles[2]:
            chain, shared, _ = self.profiles
            return await chain.collect(batch, batch_params(shared, batch, shared.metrics))
        answer = None
        if self.metrics:
            params = batch_params(self.request, batch, self.metrics)
            answer = await self.chain.collect(batch, params)
        if self.agents is None:
            assert answer is not None
            return answer
        agent_chain, split = self.agents
        by_profile = await agent_chain.collect(batch, batch_params(split, batch, split.metrics))
        if answer is None:
            return attrs.evolve(
                by_profile,
                rows=(),
                snapshot_time=None,
                profile_rows=by_profile.rows,
                profile_snapshot=by_profile.snapshot_time,
            )
        return attrs.evolve(
            answer,
            profile_rows=by_profile.rows,
            profile_snapshot=by_profile.snapshot_time,
            pages=answer.pages + by_profile.pages,
            restarts=answer.restarts + by_profile.restarts,
        )


class FanOut:
    """Runs requests' batches; counts batches, pages and restarts into `counts`.

    Args:
        slots: the client's concurrency cap (batches in flight, across calls).
        counts: the client's counters (``batches``, ``pages``, ``restarts``).
        max_restarts: restarts of one batch's page chain before it fails.
        clock: seconds, to age continuation tokens.
        on_progress: told ``(batches done, batches)`` as batches finish.
    """

    def __init__(
        self,
        *,
        slots: anyio.CapacityLimiter,
        counts: Counter[str],
        max_restarts: int,
        clock: Callable[[], float],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self._slots = slots
        self._counts = counts
        self._max_restarts = max_restarts
        self._clock = clock
        self._on_progress = on_progress

    @property
    def max_restarts(self) -> int:
        """Restarts of one batch's page chain before it fails."""
        return self._max_restarts

    @property
    def clock(self) -> Callable[[], float]:
        """The clock that ages continuation tokens."""
        return self._clock

    def _chain(self, call: Caller, request: MetricsRequest) -> PageChain:
        return PageChain.of(call, request, max_restarts=self._max_restarts, clock=self._clock)

    async def execute(
        self,
        call: Caller,
        request: MetricsRequest,
        max_spread: float | None,
        plan: AgentPlan | None = None,
    ) -> Execution:
        """Every batch of `request` (its queues resolved), concurrently.

        With `plan` (`_profiles.AgentPlan`), its batches ask every metric, and its shared
        profiles are asked for their agents after them (as batches numbered on).
        """
        queue_batches = plan.batches if plan is not None else plan_batches(request)
        split = agent_split(request, len(queue_batches)) if plan is None else None
        metrics = split.others if split is not None else fetch_metrics(request, len(queue_batches))
        chain = self._chain(call, request)
        agents = (self._chain(call, split.request), split.request) if split is not None else None
        execution = Execution([], {}, {b.index: b.ids for b in queue_batches})
        batches = list(queue_batches)
        profiles = None
        if plan is not None:
            by_profile = shared_profiles_request(request)
            first = len(queue_batches)
            profiles = (self._chain(call, by_profile), by_profile, first)
            batches += [Batch(first + i, ids) for i, ids in enumerate(plan.profile_batches)]
        run = functools.partial(
            self._run, _Fetch(chain, agents, request, metrics, execution.failures, profiles)
        )
        answers = await run(batches)
        for _ in range(SPREAD_ROUNDS if max_spread is not None else 0):
            stale = stale_batches(answers, max_spread)
            if not stale:
                break
            again = [b for b in batches if b.index in stale]
            answers.update(await run(again))
        else:
            if max_spread is not None and stale_batches(answers, max_spread):
                times = [t for a in answers.values() for t in a.snapshots]
                raise SnapshotSpreadError((max(times) - min(times)).total_seconds(), max_spread)
        ordered = [answers[i] for i in sorted(answers)]
        if profiles is None:
            execution.answers = ordered
            return execution
        first = profiles[2]
        execution.answers = [a for a in ordered if a.index < first]
        failed = [i for i in execution.failures if i >= first]
        for i in failed:
            del execution.failures[i]
        execution.profile_answers = None if failed else [a for a in ordered if a.index >= first]
        return execution

    async def run(self, fetch: BatchFetch, batches: Iterable[Batch]) -> dict[int, BatchAnswer]:
        """Each batch, concurrently under the cap: answers by batch index.

        A batch fault is recorded in ``fetch.failures``; any other error stops every
        batch and is raised.
        """
        return await self._run(fetch, batches)

    async def _run(self, fetch: BatchFetch, batches: Iterable[Batch]) -> dict[int, BatchAnswer]:
        answers: dict[int, BatchAnswer] = {}
        fatal: list[ConnectMetricsError] = []
        batches = list(batches)
        operation: str | None = getattr(getattr(fetch, "request", None), "operation", None)

        async def run(batch: Batch, scope: anyio.CancelScope) -> None:
            try:
                async with self._slots:
                    with telemetry.batch_span(operation, batch.index, len(batch.ids)) as span:
                        answer = await fetch.batch(batch)
                        telemetry.set_attributes(
                            span,
                            {
                                "aioconnectmetrics.pages": answer.pages,
                                "aioconnectmetrics.restarts": answer.restarts,
                                "aws.request_id": answer.request_id or None,
                            },
                        )
            except BATCH_FAULTS as exc:
                # The caller learns it from the error or the partial answer
                # (failed_queues): the log is not where it has to look.
                logger.debug(
                    "batch %d failed: %s",
                    batch.index,
                    exc,
                    extra={
                        "operation": operation,
                        "batch": batch.index,
                        "error_type": type(exc).__qualname__,
                    },
                )
                fetch.failures[batch.index] = exc
                return
            except ConnectMetricsError as exc:
                # The whole request is wrong (unknown instance, rejected parameters):
                # the other batches would fail alike, so stop them.
                fatal.append(exc)
                scope.cancel()
                return
            fetch.failures.pop(batch.index, None)
            answers[batch.index] = answer
            self._counts["batches"] += 1
            self._counts["pages"] += answer.pages
            self._counts["restarts"] += answer.restarts
            if self._on_progress is not None:
                self._on_progress(len(answers), len(batches))

        async with anyio.create_task_group() as group:
            for batch in batches:
                group.start_soon(run, batch, group.cancel_scope)
        if fatal:
            raise fatal[0]
        return answers

    async def roster(self, call: Caller, request: AgentsRequest) -> Roster:
        """Every agent of a GetCurrentUserData request, each once (`_roster.py`)."""
        return await fetch_roster(
            call,
            request,
            slots=self._slots,
            counts=self._counts,
            max_restarts=self._max_restarts,
            clock=self._clock,
        )

    async def stream(
        self, call: Caller, request: MetricsRequest, deadline: float | None
    ) -> AsyncIterator[tuple[Batch, RawPage]]:
        """Each batch's pages, one batch after another, as they come.

        Each page's request holds a slot of the concurrency cap and has `deadline`
        seconds; the consumer's time with a page is its own.
        """

        async def bounded(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
            async with self._slots:
                with within(deadline):
                    return await call(operation, params)

        chain = self._chain(bounded, request)
        for batch in plan_batches(request):
            params = batch_params(request, batch, request.metrics)
            # Pages go to the rich face as they come; nothing keeps them for the drop-in.
            async for page in chain.pages(batch, params, origins="none"):
                self._counts["pages"] += 1
                self._counts["restarts"] += page.restarted
                yield batch, page
            self._counts["batches"] += 1
