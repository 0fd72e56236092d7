"""The page-chain follower against a scripted caller: no server, exact pages.

A scripted caller answers each call from a script of pages (its snapshot, its rows, its
next token) and records the calls, so pagination, restarts and token age are checked
page by page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from aioconnectmetrics import PaginationError, ServiceRejectedError
from aioconnectmetrics._pages import PageChain
from aioconnectmetrics._plan import Batch
from aioconnectmetrics.testing import ManualClock

from .conftest import NOW

BATCH = Batch(0, ("q1", "q2"))
PARAMS = {"InstanceId": "i", "Filters": {"Queues": ["q1", "q2"]}}


def page(snapshot: float, queue: str, token: str | None) -> dict[str, Any]:
    """One page: one row for `queue`, CONTACTS_IN_QUEUE = 1, and the next token."""
    response: dict[str, Any] = {
        "DataSnapshotTime": datetime.fromtimestamp(snapshot, timezone.utc),
        "MetricResults": [
            {
                "Dimensions": {"Queue": {"Id": queue, "Arn": f"arn:{queue}"}},
                "Collections": [{"Metric": {"Name": "CONTACTS_IN_QUEUE"}, "Value": 1.0}],
            }
        ],
    }
    if token is not None:
        response["NextToken"] = token
    return response


class Scripted:
    """Answers each call with the next scripted response (or raises it)."""

    def __init__(self, *script: dict[str, Any] | Exception) -> None:
        self.script = list(script)
        self.calls: list[str | None] = []  # the NextToken of each call

    async def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The next response."""
        self.calls.append(params.get("NextToken"))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def chain(call: Scripted, clock: ManualClock, *, max_restarts: int = 3) -> PageChain:
    return PageChain(
        call,
        "GetCurrentMetricData",
        grouped=True,
        thresholds=False,
        max_restarts=max_restarts,
        clock=clock,
    )


async def test_follows_every_page(clock: ManualClock) -> None:
    """Each token is followed once, with the first page's parameters."""
    call = Scripted(page(NOW, "q1", "t1"), page(NOW, "q2", None))
    answer = await chain(call, clock).collect(BATCH, PARAMS)
    assert call.calls == [None, "t1"]
    assert [r.key[0] for r in answer.rows] == ["q1", "q2"]
    assert (answer.pages, answer.restarts) == (2, 0)
    assert answer.snapshot_time == datetime.fromtimestamp(NOW, timezone.utc)


async def test_a_new_snapshot_mid_chain_restarts_the_batch(clock: ManualClock) -> None:
    """A page from another snapshot voids the chain: it starts again from page one."""
    call = Scripted(
        page(NOW, "q1", "t1"),
        page(NOW + 15, "q2", None),  # the service moved on
        page(NOW + 15, "q1", "t2"),
        page(NOW + 15, "q2", None),
    )
    answer = await chain(call, clock).collect(BATCH, PARAMS)
    assert call.calls == [None, "t1", None, "t2"]
    assert [r.key[0] for r in answer.rows] == ["q1", "q2"]  # not q1 twice
    assert (answer.pages, answer.restarts) == (2, 1)
    assert answer.snapshot_time == datetime.fromtimestamp(NOW + 15, timezone.utc)


async def test_a_rejected_token_restarts_the_batch(clock: ManualClock) -> None:
    """An expired or rejected token (InvalidRequestException) restarts the chain."""
    rejected = ServiceRejectedError("InvalidRequestException", "GetCurrentMetricData", 400, "")
    call = Scripted(page(NOW, "q1", "t1"), rejected, page(NOW, "q1", "t2"), page(NOW, "q2", None))
    answer = await chain(call, clock).collect(BATCH, PARAMS)
    assert call.calls == [None, "t1", None, "t2"]
    assert answer.restarts == 1


async def test_a_token_too_old_is_not_used(clock: ManualClock) -> None:
    """A page held past its token's usable life restarts the chain; the old token unsent.

    The restarted page is marked.
    """
    call = Scripted(page(NOW, "q1", "t1"), page(NOW, "q1", "t2"), page(NOW, "q2", None))
    pages = chain(call, clock).pages(BATCH, PARAMS)
    first = await anext(pages)
    clock.advance(270)  # the token's 300 s life minus the 30 s margin
    restarted = await anext(pages)
    last = await anext(pages)
    assert call.calls == [None, None, "t2"]
    assert (first.restarted, restarted.restarted, last.restarted) == (False, True, False)
    assert [p.page for p in (first, restarted, last)] == [0, 0, 1]


async def test_a_token_just_young_enough_is_used(clock: ManualClock) -> None:
    """Just under its usable life, the token is followed."""
    call = Scripted(page(NOW, "q1", "t1"), page(NOW, "q2", None))
    pages = chain(call, clock).pages(BATCH, PARAMS)
    await anext(pages)
    clock.advance(269.9)
    await anext(pages)
    assert call.calls == [None, "t1"]


async def test_restarts_are_bounded(clock: ManualClock) -> None:
    """A chain that never holds together fails with PaginationError, saying why."""
    call = Scripted(*[page(NOW + 15 * i, "q1", "t" if i % 2 == 0 else None) for i in range(8)])
    with pytest.raises(PaginationError, match="snapshot changed") as caught:
        await chain(call, clock, max_restarts=2).collect(BATCH, PARAMS)
    assert caught.value.batch == 0
    assert len(call.calls) == 6  # three tries of two pages
