"""Stored cache entries: anything in place of one is a miss, never an error at a caller."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from aioconnectmetrics._backend import entry_from_json, entry_to_json
from aioconnectmetrics._cache import Answer, CacheEntry
from aioconnectmetrics._merge import Layout, Row
from aioconnectmetrics.redis import RedisBackend
from aioconnectmetrics.testing import FakeConnect

from .conftest import NOW

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

VALID = entry_to_json(
    CacheEntry(
        Answer(
            rows=(
                Row(
                    ("q1", "VOICE", None),
                    "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q1",
                    None,
                    {"CONTACTS_IN_QUEUE": 3.0, "OLDEST_CONTACT_AGE": None},
                    origin=Layout(
                        ("CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE"),
                        (
                            {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"},
                            {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
                        ),
                        nested=False,
                    ),
                ),
                Row(
                    ("q2", None, "p1"),
                    "arn:other/q2",
                    "arn:aws:connect:us-east-1:123456789012:instance/i/routing-profile/p1",
                    {"AGENTS_ONLINE": 2.0},
                    MappingProxyType({"AGENTS_ONLINE": (1.0, 2.0)}),
                    origin={"Dimensions": {}, "Collections": []},
                ),
                Row(
                    ("q3", None, None),
                    None,
                    None,
                    {"CONTACTS_HANDLED": 4.0},
                    dims=MappingProxyType({"QUEUE": "q3"}),
                    interval=(NOW - 3600, NOW),
                ),
            ),
            snapshots=(datetime.fromtimestamp(NOW, timezone.utc),),
            batches=1,
            pages=1,
        ),
        NOW,
        NOW + 15,
    )
)
FIELDS = [
    "v",
    "fetched_at",
    "fresh_until",
    "snapshots",
    "batches",
    "pages",
    "rows",
    "metrics",
    "prefixes",
    "layouts",
    "dims",
    "intervals",
]


def _check(entry: CacheEntry | None) -> None:
    """A parsed entry is whole: it writes back to the same JSON and reads the same."""
    if entry is not None:
        assert entry_from_json(entry_to_json(entry)) == entry
        assert isinstance(entry.fresh_until, float)  # comparable with a clock


def test_a_valid_entry_round_trips() -> None:
    """What `entry_to_json` writes reads back equal."""
    entry = entry_from_json(VALID)
    assert entry is not None
    assert entry_to_json(entry) == VALID


@settings(max_examples=300, deadline=None, derandomize=True)
@given(JSON)
def test_any_json_is_a_miss_or_a_whole_entry(document: Any) -> None:
    """Arbitrary JSON in place of an entry never raises."""
    _check(entry_from_json(json.dumps(document)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(FIELDS), JSON)
def test_one_field_replaced_is_a_miss_or_a_whole_entry(field: str, value: Any) -> None:
    """A valid entry with any one field replaced by arbitrary JSON never raises."""
    document = json.loads(VALID)
    document[field] = value
    _check(entry_from_json(json.dumps(document)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(0, 2), st.integers(0, 10), JSON)
def test_one_row_part_replaced_is_a_miss_or_a_whole_entry(row: int, part: int, value: Any) -> None:
    """A row with any one of its parts replaced by arbitrary JSON never raises."""
    document = json.loads(VALID)
    stored = document["rows"][row]
    stored += [None] * (11 - len(stored))
    stored[part] = value
    _check(entry_from_json(json.dumps(document)))


CORRUPT = [
    "[]",
    "123",
    "null",
    '"text"',
    "{not json",
    json.dumps({**json.loads(VALID), "fresh_until": "tomorrow"}),
    json.dumps({**json.loads(VALID), "snapshots": [1e300]}),
    json.dumps({**json.loads(VALID), "fresh_until": 10**400}),
    json.dumps(
        {**json.loads(VALID), "rows": [[["q1", None, None], None, None, [1, 2], {}, None]]}
    ),
    # An entry of format 2 (rows with the service's dicts beside their values): a miss.
    json.dumps({**json.loads(VALID), "v": 2}),
    # A metric-key table index, a layout index, an ARN prefix index out of range.
    json.dumps({**json.loads(VALID), "rows": [["q1", None, None, None, None, 7, []]]}),
    json.dumps({**json.loads(VALID), "rows": [["q1", None, None, None, None, 0, [1, 2], 5]]}),
    json.dumps({**json.loads(VALID), "rows": [["q1", None, None, 9, None, 0, [1, 2]]]}),
    # An ARN prefix without the ID it is the prefix of.
    json.dumps({**json.loads(VALID), "rows": [[None, None, None, 0, None, 0, [1, 2]]]}),
    # A layout whose metric keys are not all strings.
    json.dumps({**json.loads(VALID), "layouts": [[[None, "OLDEST_CONTACT_AGE"], [{}, {}]]]}),
    # Values that do not match their metric keys.
    json.dumps({**json.loads(VALID), "rows": [["q1", None, None, None, None, 0, [1]]]}),
    json.dumps({**json.loads(VALID), "batches": True}),
]


@pytest.mark.parametrize("stored", CORRUPT)
def test_known_corrupt_shapes_are_misses(stored: str) -> None:
    """The shapes that broke callers before (lists, numbers, strings, overflows)."""
    assert entry_from_json(stored) is None


@pytest.mark.parametrize("stored", CORRUPT)
async def test_a_corrupt_shared_entry_is_refetched_and_replaced(
    fake: FakeConnect, instance_id: str, redis_url: str, stored: str
) -> None:
    """Through Redis: the caller gets the true answer, and the entry is valid again."""
    queues = fake.add_queues(instance_id, 3)
    backend = RedisBackend.from_url(redis_url + "/6", namespace="corrupt")
    raw = aioredis.Redis.from_url(redis_url + "/6")
    try:
        await raw.flushdb()
        async with fake.metrics_client(instance_id, cache_backend=backend) as cm:
            first = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            keys = [k async for k in raw.scan_iter(match="corrupt:*:entry")]
            assert len(keys) == 1
            await raw.set(keys[0], stored, px=60_000)
            again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
            assert again.rows == first.rows
            assert entry_from_json(await raw.get(keys[0]) or b"") is not None
        assert len(fake.requests) == 2  # the corrupt entry was a miss, fetched anew
    finally:
        await raw.aclose()
        await backend.aclose()


async def test_a_v2_answer_is_shared_through_redis(
    fake: FakeConnect, instance_id: str, redis_url: str
) -> None:
    """A GetMetricDataV2 answer (rows with dimensions and intervals) is stored and read back.

    Its entry once failed to encode (a row's dimensions are a read-only view): every V2
    call on a shared backend raised. A second client on the same Redis now gets it from
    the entry, with no request, the same rows.
    """
    queues = list(fake.populate(instance_id, queues=20).queue_ids)
    end = datetime.fromtimestamp(fake.clock(), timezone.utc).replace(minute=0, second=0)
    ask: dict[str, Any] = {
        "start": end - timedelta(hours=6),
        "end": end,
        "interval": "HOUR",
        "queues": queues,
        "groupings": ["QUEUE"],
    }
    backends = [RedisBackend.from_url(redis_url + "/5", namespace="v2-shared") for _ in range(2)]
    raw = aioredis.Redis.from_url(redis_url + "/5")
    try:
        await raw.flushdb()
        async with fake.metrics_client(instance_id, cache_backend=backends[0]) as one:
            first = await one.get_historical_metrics_v2(["CONTACTS_HANDLED"], **ask)
        requests = len(fake.requests)
        async with fake.metrics_client(instance_id, cache_backend=backends[1]) as two:
            second = await two.get_historical_metrics_v2(["CONTACTS_HANDLED"], **ask)
            assert two.cache_stats.hits == 1
        assert len(fake.requests) == requests  # from the shared entry
        assert len(first.rows) == 6 * 20
        assert [r.to_dict() for r in second.rows] == [r.to_dict() for r in first.rows]
        [key] = [k async for k in raw.scan_iter(match="v2-shared:*:entry")]
        entry = entry_from_json(await raw.get(key) or b"")
        assert entry is not None
        assert all(isinstance(row.dims, MappingProxyType) for row in entry.answer.rows)
    finally:
        await raw.aclose()
        for backend in backends:
            await backend.aclose()
