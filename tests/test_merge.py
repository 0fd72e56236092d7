"""Merging is pure: properties over any split of the same data into batches."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioconnectmetrics import Metric
from aioconnectmetrics._catalog import CURRENT, HISTORICAL, Combine
from aioconnectmetrics._merge import BatchAnswer, Row, combine, merge
from aioconnectmetrics._request import MetricsRequest
from aioconnectmetrics._wire import parse_rows
from aioconnectmetrics.testing import Contact
from aioconnectmetrics.testing._sim import historical_value

QUEUES = [f"q{i}" for i in range(8)]
EXACT = [
    Metric("CONTACTS_QUEUED"),
    Metric("CONTACTS_HANDLED"),
    Metric("CONTACTS_ABANDONED"),
    Metric("CONTACTS_MISSED"),
    Metric("HANDLE_TIME"),
    Metric("AFTER_CONTACT_WORK_TIME"),
    Metric("INTERACTION_TIME"),
    Metric("INTERACTION_AND_HOLD_TIME"),
    Metric("QUEUED_TIME"),
]
APPROXIMATE = [
    Metric("HOLD_TIME"),
    Metric("QUEUE_ANSWER_TIME"),
    Metric("ABANDON_TIME"),
    Metric.service_level(60),
]

contacts_strategy = st.lists(
    st.builds(
        Contact,
        queue_id=st.sampled_from(QUEUES),
        channel=st.just("VOICE"),
        enqueued_at=st.just(0.0),
        initiation=st.sampled_from(["INBOUND", "OUTBOUND", "CALLBACK", "API", "TRANSFER"]),
        outcome=st.sampled_from(["HANDLED", "ABANDONED", "TRANSFERRED"]),
        queue_time=st.integers(0, 600).map(float),
        interaction_time=st.integers(0, 900).map(float),
        hold_time=st.sampled_from([0.0, 0.0, 15.0, 90.0]),
        acw_time=st.integers(0, 120).map(float),
        missed=st.integers(0, 2),
    ),
    max_size=60,
)
split_strategy = st.lists(st.integers(0, 3), min_size=len(QUEUES), max_size=len(QUEUES))


def _request(metrics: Sequence[Metric]) -> MetricsRequest:
    return MetricsRequest(
        operation="GetMetricData", instance_id="i", metrics=tuple(metrics), queue_ids=tuple(QUEUES)
    )


def _service_row(contacts: Sequence[Contact], metrics: Sequence[Metric]) -> Row:
    """What the service returns for these contacts, weights included (as the planner asks)."""
    wanted = {m.key: m for m in metrics}
    for metric in metrics:
        weight = HISTORICAL[metric.name].weight
        if weight:
            wanted.setdefault(weight, Metric(weight))
    values = {k: historical_value(m.name, m.threshold, contacts, 300.0) for k, m in wanted.items()}
    return Row((None, None, None), None, None, values)


def _answers(
    contacts: list[Contact], split: list[int], metrics: Sequence[Metric]
) -> list[BatchAnswer]:
    batches: dict[int, list[str]] = {}
    for queue, batch in zip(QUEUES, split, strict=True):
        batches.setdefault(batch, []).append(queue)
    answers = []
    for index, queues in sorted(batches.items()):
        mine = [c for c in contacts if c.queue_id in queues]
        answers.append(BatchAnswer(index, tuple(queues), (_service_row(mine, metrics),), None, 1))
    return answers


@settings(max_examples=200, deadline=None)
@given(contacts=contacts_strategy, split=split_strategy)
def test_any_split_merges_to_the_one_batch_answer(
    contacts: list[Contact], split: list[int]
) -> None:
    """For exact metrics, any split of the queues into batches merges to the unsplit answer."""
    request = _request(EXACT)
    (whole,) = merge(request, _answers(contacts, [0] * len(QUEUES), EXACT))
    (split_row,) = merge(request, _answers(contacts, split, EXACT))
    assert dict(split_row.approximate) == {}
    for metric in EXACT:
        want, got = whole.values[metric.key], split_row.values[metric.key]
        assert (got is None) == (want is None), metric
        if want is not None:
            assert got == pytest.approx(want), metric


@settings(max_examples=200, deadline=None)
@given(contacts=contacts_strategy, split=split_strategy)
def test_approximate_means_bracket_the_truth(contacts: list[Contact], split: list[int]) -> None:
    """Means without an exact weight lie, with the truth, within the batch bounds."""
    request = _request(APPROXIMATE)
    answers = _answers(contacts, split, APPROXIMATE)
    (row,) = merge(request, answers)
    for metric in APPROXIMATE:
        truth = historical_value(metric.name, metric.threshold, contacts, 300.0)
        got = row.values[metric.key]
        assert (got is None) == (truth is None)
        if truth is None or got is None:
            continue
        if metric.key not in row.approximate:
            assert got == pytest.approx(truth)
        else:
            bounds = row.approximate[metric.key]
            assert bounds is not None
            low, high = bounds
            assert low - 1e-9 <= truth <= high + 1e-9
            assert low - 1e-9 <= got <= high + 1e-9


@given(
    served=st.lists(st.sets(st.sampled_from(QUEUES), min_size=1), max_size=30),
    split=split_strategy,
)
def test_agent_count_bounds_hold(served: list[set[str]], split: list[int]) -> None:
    """Distinct agents over all queues lie between the largest batch and the batch sum."""
    by_batch: dict[int, set[str]] = {}
    for queue, batch in zip(QUEUES, split, strict=True):
        by_batch.setdefault(batch, set()).add(queue)
    counts = [float(sum(1 for s in served if s & qs)) for qs in by_batch.values()]
    truth = sum(1 for s in served if s)
    got = combine(CURRENT["AGENTS_ONLINE"], "QUEUE", [(c, None) for c in counts])
    if len(counts) > 1:
        assert got.bounds is not None
        assert got.bounds[0] <= truth <= got.bounds[1]
        assert got.value == got.bounds[1]  # the upper bound, as the drop-in reports
        assert not got.exact


def test_none_is_not_zero() -> None:
    """None values are left out of sums and weights, and all-None stays None."""
    spec = HISTORICAL["HANDLE_TIME"]
    assert combine(spec, "QUEUE", [(None, 0.0), (None, 0.0)]).value is None
    assert combine(spec, "QUEUE", [(None, 0.0), (100.0, 2.0)]).value == 100.0
    assert (
        combine(HISTORICAL["CONTACTS_HANDLED"], "QUEUE", [(None, None), (3.0, None)]).value == 3.0
    )


def test_sum_exactness_follows_the_partition() -> None:
    """Agent sums are exact across routing-profile batches; contact sums across queue batches."""
    agents, contacts = CURRENT["AGENTS_ONLINE"], CURRENT["CONTACTS_IN_QUEUE"]
    entries = [(3.0, None), (4.0, None)]
    assert combine(agents, "ROUTING_PROFILE", entries).exact
    assert not combine(agents, "QUEUE", entries).exact
    assert combine(contacts, "QUEUE", entries).exact
    assert combine(contacts, "ROUTING_PROFILE", entries).bounds == (4.0, 7.0)
    assert CURRENT["ESTIMATED_WAIT_TIME"].combine is Combine.NONE


def test_parse_converts_ungrouped_oldest_contact_age() -> None:
    """OLDEST_CONTACT_AGE is divided by 1000 only when the request had no grouping."""
    raw = [
        {
            "Dimensions": {},
            "Collections": [
                {"Metric": {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"}, "Value": 24113.0}
            ],
        }
    ]
    assert parse_rows(raw, grouped=False)[0].values["OLDEST_CONTACT_AGE"] == pytest.approx(24.113)
    assert parse_rows(raw, grouped=True)[0].values["OLDEST_CONTACT_AGE"] == 24113.0


def test_merge_keeps_batch_order_and_concatenates_grouped_rows() -> None:
    """Rows grouped by QUEUE come back in batch order, untouched."""
    request = MetricsRequest(
        operation="GetCurrentMetricData",
        instance_id="i",
        metrics=(Metric("CONTACTS_IN_QUEUE"),),
        queue_ids=("a", "b", "c"),
        groupings=("QUEUE",),
    )
    answers = [
        BatchAnswer(
            1,
            ("c",),
            (Row(("c", None, None), "arn:c", None, {"CONTACTS_IN_QUEUE": 1.0}),),
            None,
            1,
        ),
        BatchAnswer(
            0,
            ("a", "b"),
            (
                Row(("b", None, None), "arn:b", None, {"CONTACTS_IN_QUEUE": 2.0}),
                Row(("a", None, None), "arn:a", None, {"CONTACTS_IN_QUEUE": None}),
            ),
            None,
            1,
        ),
    ]
    rows = merge(request, sorted(answers, key=lambda a: a.index))
    assert [r.key[0] for r in rows] == ["b", "a", "c"]
    assert [r.values["CONTACTS_IN_QUEUE"] for r in rows] == [2.0, None, 1.0]


# -- agents counted once, through their routing profile ---------------------------------
AGENT_REQUEST = MetricsRequest(
    "GetCurrentMetricData",
    "i",
    (Metric("AGENTS_ONLINE"), Metric("CONTACTS_IN_QUEUE")),
    tuple(QUEUES),
)


def profile_row(profile: str, online: float | None, channel: str | None = None) -> Row:
    return Row((None, channel, profile), None, f"arn:{profile}", {"AGENTS_ONLINE": online})


def batch_of(index: int, contacts: float, *profiles: Row) -> BatchAnswer:
    summary = Row((None, None, None), None, None, {"CONTACTS_IN_QUEUE": contacts})
    return BatchAnswer(index, (f"q{index}",), (summary,), None, 2, profile_rows=profiles)


def test_a_profile_in_several_batches_counts_once() -> None:
    """Profile p1 (3 agents) reaches both batches: 3 + 2 agents online, exactly."""
    answers = [
        batch_of(0, 4.0, profile_row("p1", 3.0), profile_row("p2", 2.0)),
        batch_of(1, 5.0, profile_row("p1", 3.0)),
    ]
    [row] = merge(AGENT_REQUEST, answers)
    assert row.values == {"AGENTS_ONLINE": 5.0, "CONTACTS_IN_QUEUE": 9.0}
    assert dict(row.approximate) == {}


def test_a_profile_that_differs_between_batches_is_bounded() -> None:
    """Snapshots apart (3 in one batch, 4 in the other): the largest, between 3 and 7."""
    answers = [
        batch_of(0, 1.0, profile_row("p1", 3.0), profile_row("p2", 2.0)),
        batch_of(1, 1.0, profile_row("p1", 4.0)),
    ]
    [row] = merge(AGENT_REQUEST, answers)
    assert row.values["AGENTS_ONLINE"] == 6.0  # 4 + 2
    assert dict(row.approximate) == {"AGENTS_ONLINE": (5.0, 9.0)}  # 3 + 2 .. 7 + 2


def test_profile_rows_by_channel_and_alone() -> None:
    """By channel, each channel's profiles are summed.

    With only agent metrics asked, the rows come from the profiles alone.
    """
    request = MetricsRequest(
        "GetCurrentMetricData",
        "i",
        (Metric("AGENTS_ONLINE"),),
        tuple(QUEUES),
        channels=("VOICE", "CHAT"),
        groupings=("CHANNEL",),
    )
    answers = [
        BatchAnswer(
            0,
            ("q0",),
            (),
            None,
            1,
            profile_rows=(
                profile_row("p1", 2.0, "VOICE"),
                profile_row("p1", 1.0, "CHAT"),
            ),
        ),
        BatchAnswer(
            1,
            ("q1",),
            (),
            None,
            1,
            profile_rows=(
                profile_row("p1", 2.0, "VOICE"),
                profile_row("p2", 4.0, "VOICE"),
            ),
        ),
    ]
    rows = {row.key: row for row in merge(request, answers)}
    assert rows[(None, "VOICE", None)].values == {"AGENTS_ONLINE": 6.0}
    assert rows[(None, "CHAT", None)].values == {"AGENTS_ONLINE": 1.0}
    assert all(not row.approximate for row in rows.values())


def test_no_profile_means_no_agents() -> None:
    """Asked by routing profile, batches that return no profile: 0 agents, exactly.

    A profile row with no value is "no data", not 0; and a summary of agent metrics
    alone has its row even when no profile answered.
    """
    answers = [batch_of(0, 4.0), batch_of(1, 5.0)]
    [row] = merge(AGENT_REQUEST, answers)
    assert row.values == {"AGENTS_ONLINE": 0.0, "CONTACTS_IN_QUEUE": 9.0}
    assert dict(row.approximate) == {}
    [row] = merge(AGENT_REQUEST, [batch_of(0, 4.0, profile_row("p1", None))])
    assert row.values["AGENTS_ONLINE"] is None
    only_agents = MetricsRequest("GetCurrentMetricData", "i", (Metric("AGENTS_ONLINE"),), ("q",))
    empty = BatchAnswer(0, ("q",), (), None, 1, profile_rows=())
    [row] = merge(only_agents, [empty, attrs.evolve(empty, index=1)])
    assert (row.key, row.values) == ((None, None, None), {"AGENTS_ONLINE": 0.0})
