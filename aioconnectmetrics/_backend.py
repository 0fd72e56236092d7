"""Where cache entries live: the backend interface, in memory, and the JSON of an entry.

Shared backends store entries as JSON (never a pickle).
A stored entry that is not what `entry_to_json` writes, whatever its shape, reads as a
miss (`entry_from_json` gives None), so the next fetch replaces it.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Protocol

import attrs
import cachetools

from ._cache import Answer, CacheEntry
from ._merge import NOTHING_APPROXIMATE, Layout, Row

#: The format version of stored entries; entries of another version are misses.
#: 3: compact rows (docs/memory.md); 2 stored every row's parsed values beside the
#: service's row dict.
FORMAT_VERSION = 3


class _Table:
    """Distinct values in first-seen order, each written once and referred to by index.

    `key` says when two values are the same; a value seen before as the same object
    (rows share layouts, dimensions and intervals) is not keyed again.
    """

    def __init__(
        self, key: Callable[[Any], Hashable], write: Callable[[Any], Any] = lambda v: v
    ) -> None:
        self.items: list[Any] = []
        self._index: dict[Hashable, int] = {}
        self._by_object: dict[int, tuple[int, Any]] = {}
        self._key, self._write = key, write

    def __call__(self, value: Any) -> int:
        seen = self._by_object.get(id(value))
        if seen is not None and seen[1] is value:
            return seen[0]
        key = self._key(value)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.items)
            self.items.append(self._write(value))
        self._by_object[id(value)] = (found, value)  # the value held: its id stays its own
        return found


def _arn(arn: str | None, part_id: str | None, prefixes: _Table) -> int | str | None:
    """An ARN as the index of its prefix when it is that prefix and the ID, else itself."""
    if arn is None or part_id is None or not arn.endswith(part_id) or arn == part_id:
        return arn
    return prefixes(arn[: -len(part_id)])


def entry_to_json(entry: CacheEntry) -> str:
    """A stored entry as JSON (shared stores never hold pickles).

    Compact: each row is ``[queue, channel, profile, queue ARN, profile ARN, metrics,
    values, origin, approximate, dims, interval]`` without its trailing nulls. What rows
    share is written once in tables the rows refer to by index: the metric keys of their
    values (`metrics`), ARN prefixes (an ARN that is a prefix and the row's ID is the
    prefix's index), the layouts of the service's rows (origin: a layout's index, or the
    service's row dict for a row that has none), V2 dimensions and intervals.
    """
    answer = entry.answer
    shapes = _Table(tuple, list)
    prefixes = _Table(str)
    layouts = _Table(
        lambda o: json.dumps([o.keys, o.metrics], sort_keys=False),
        lambda o: [list(o.keys), list(o.metrics)],
    )
    dims_table = _Table(lambda d: tuple(d.items()), dict)
    intervals = _Table(tuple, list)
    rows = []
    for row in answer.rows:
        queue_id, channel, profile_id = row.key
        origin = row.origin
        stored: list[Any] = [
            queue_id,
            channel,
            profile_id,
            _arn(row.queue_arn, queue_id, prefixes),
            _arn(row.routing_profile_arn, profile_id, prefixes),
            shapes(row.values),
            list(row.values.values()),
            layouts(origin)
            if isinstance(origin, Layout)
            else (None if origin is None else dict(origin)),
            {k: list(v) if v else None for k, v in row.approximate.items()} or None,
            None if row.dims is None else dims_table(row.dims),
            None if row.interval is None else intervals(row.interval),
        ]
        while stored[-1] is None:
            stored.pop()
        rows.append(stored)
    document = {
        "v": FORMAT_VERSION,
        "fetched_at": entry.fetched_at,
        "fresh_until": entry.fresh_until,
        "snapshots": [t.timestamp() for t in answer.snapshots],
        "batches": answer.batches,
        "pages": answer.pages,
        "request_ids": list(answer.request_ids),
        "metrics": shapes.items,
        "prefixes": prefixes.items,
        "layouts": layouts.items,
        "dims": dims_table.items,
        "intervals": intervals.items,
        "rows": rows,
    }
    return json.dumps(document, separators=(",", ":"))


class _CorruptEntryError(ValueError):
    """A stored entry that is not what `entry_to_json` writes."""


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _CorruptEntryError(value)
    try:
        number = float(value)  # an int too large for a float overflows here
    except OverflowError as exc:
        raise _CorruptEntryError(value) from exc
    if not math.isfinite(number):
        raise _CorruptEntryError(value)
    return number


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _CorruptEntryError(value)
    return value


def _text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _CorruptEntryError(value)
    return value


def _list(value: object, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise _CorruptEntryError(value)
    return value


def _mapping(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _CorruptEntryError(value)
    return value


def _timestamp(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(_number(value), timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise _CorruptEntryError(value) from exc


def _strings(value: object) -> dict[str, str]:
    found = _mapping(value)
    if not all(isinstance(v, str) for v in found.values()):
        raise _CorruptEntryError(value)
    return found


def _index(value: object, table: list[Any]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(table):
        raise _CorruptEntryError(value)
    return table[value]


def _arn_of(value: object, part_id: str | None, prefixes: list[str]) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if part_id is None:
            raise _CorruptEntryError(value)
        return str(_index(value, prefixes)) + part_id
    return _text(value)


def _names(value: object) -> tuple[str, ...]:
    found = _list(value)
    if not all(isinstance(v, str) for v in found):
        raise _CorruptEntryError(value)
    return tuple(found)


def _layout(stored: object) -> Layout:
    keys, metrics = _list(stored, 2)
    names = _names(keys)
    found = tuple(_mapping(m) for m in _list(metrics, len(names)))
    return Layout(names, found, any(isinstance(v, dict) for m in found for v in m.values()))


@attrs.frozen
class _Tables:
    """An entry's shared tables, checked."""

    metrics: list[tuple[str, ...]]
    prefixes: list[str]
    layouts: list[Layout]
    dims: list[Mapping[str, str]]
    intervals: list[tuple[float, float]]

    @classmethod
    def of(cls, document: dict[str, Any]) -> _Tables:
        def pair(value: object) -> tuple[float, float]:
            low, high = (_number(x) for x in _list(value, 2))
            return (low, high)

        return cls(
            [_names(m) for m in _list(document["metrics"])],
            list(_names(document["prefixes"])),
            [_layout(x) for x in _list(document["layouts"])],
            [MappingProxyType(_strings(d)) for d in _list(document["dims"])],
            [pair(i) for i in _list(document["intervals"])],
        )


def _row(stored: object, tables: _Tables, strings: dict[str, str]) -> Row:
    parts = _list(stored)
    if not 7 <= len(parts) <= 11:
        raise _CorruptEntryError(stored)
    parts += [None] * (11 - len(parts))
    queue_id, channel, profile_id = (_text(part) for part in parts[:3])
    shared = strings.setdefault
    queue_id, channel, profile_id = (
        None if part is None else shared(part, part) for part in (queue_id, channel, profile_id)
    )
    queue_arn = _arn_of(parts[3], queue_id, tables.prefixes)
    profile_arn = _arn_of(parts[4], profile_id, tables.prefixes)
    keys = _index(parts[5], tables.metrics)
    values = _list(parts[6], len(keys))
    checked_values = {
        name: None if value is None else _number(value)
        for name, value in zip(keys, values, strict=True)
    }
    stored_origin = parts[7]
    origin: Layout | Mapping[str, Any] | None = None
    if isinstance(stored_origin, dict):
        origin = _mapping(stored_origin)
    elif stored_origin is not None:
        origin = _index(stored_origin, tables.layouts)
        if origin.keys != keys:
            raise _CorruptEntryError(stored_origin)
    bounds: dict[str, tuple[float, float] | None] = {}
    for name, pair in _mapping(parts[8] if parts[8] is not None else {}).items():
        if name not in checked_values:
            raise _CorruptEntryError(name)
        if pair is None:
            bounds[name] = None
        else:
            low, high = (_number(x) for x in _list(pair, 2))
            bounds[name] = (low, high)
    return Row(
        (queue_id, channel, profile_id),
        None if queue_arn is None else shared(queue_arn, queue_arn),
        None if profile_arn is None else shared(profile_arn, profile_arn),
        checked_values,
        MappingProxyType(bounds) if bounds else NOTHING_APPROXIMATE,
        origin,
        None if parts[9] is None else _index(parts[9], tables.dims),
        None if parts[10] is None else _index(parts[10], tables.intervals),
    )


def entry_from_json(text: str | bytes) -> CacheEntry | None:
    """The entry stored as `text`; None for another format version or anything else.

    Every field is checked against what `entry_to_json` writes, so that a corrupt or
    foreign value in a shared store is a miss (and gets replaced), never an error at a
    caller or a wrong number later.
    """
    try:
        document = _mapping(json.loads(text))
        if document.get("v") != FORMAT_VERSION:
            return None
        tables = _Tables.of(document)
        strings: dict[str, str] = {}  # one object per ID, ARN and channel, as fetched
        answer = Answer(
            rows=tuple(_row(row, tables, strings) for row in _list(document["rows"])),
            snapshots=tuple(_timestamp(t) for t in _list(document["snapshots"])),
            batches=_count(document["batches"]),
            pages=_count(document["pages"]),
            # Entries written before request IDs were kept have none.
            request_ids=tuple(
                i for i in map(_text, _list(document.get("request_ids", []))) if i is not None
            ),
        )
        return CacheEntry(
            answer, _number(document["fetched_at"]), _number(document["fresh_until"])
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and `_CorruptEntryError`.
        return None


class CacheBackend(Protocol):
    """Where entries live.

    The in-memory backend is the default; a shared store (Redis) implements the same
    calls. Leases let one process fetch a key while others wait.
    """

    async def get(self, key: str) -> CacheEntry | None:
        """The entry under `key` (fresh or not), or None."""

    async def set(self, key: str, entry: CacheEntry, ttl: float) -> None:
        """Store `entry`; the backend may forget it after `ttl` seconds."""

    async def acquire_lease(self, key: str, ttl: float) -> str | None:
        """Take the right to fetch `key` for `ttl` seconds: a token, or None if taken."""

    async def release_lease(self, key: str, token: str) -> None:
        """Give the lease back, if `token` still holds it."""

    async def renew_lease(self, key: str, token: str, ttl: float) -> bool:
        """Extend the lease by `ttl` seconds, if `token` still holds it."""


class MemoryBackend:
    """The in-process backend: an LRU bounded in rows (`CachePolicy.max_rows`)."""

    def __init__(self, max_rows: int = 200_000, *, clock: Callable[[], float] = time.time) -> None:
        self._entries: cachetools.LRUCache[str, tuple[CacheEntry, float]] = cachetools.LRUCache(
            maxsize=max_rows, getsizeof=lambda item: len(item[0].answer.rows) + 1
        )
        self._leases: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def _now(self) -> float:
        return self._clock()

    async def get(self, key: str) -> CacheEntry | None:
        """The entry under `key`, unless its ttl has passed."""
        return self.get_nowait(key)

    def get_nowait(self, key: str) -> CacheEntry | None:
        """`get`, without a coroutine: an in-memory lookup never waits."""
        item = self._entries.get(key)
        if item is None:
            return None
        entry, expires = item
        if self._now() >= expires:
            del self._entries[key]
            return None
        return entry

    async def set(self, key: str, entry: CacheEntry, ttl: float) -> None:
        """Store the entry (an answer larger than the whole cache is not stored)."""
        if len(entry.answer.rows) + 1 > self._entries.maxsize:
            return
        self._entries[key] = (entry, self._now() + ttl)

    async def acquire_lease(self, key: str, ttl: float) -> str | None:
        """One holder per key until released or `ttl` passes."""
        now = self._now()
        held = self._leases.get(key)
        if held is not None and held[1] > now:
            return None
        token = secrets.token_hex(8)
        self._leases[key] = (token, now + ttl)
        return token

    async def release_lease(self, key: str, token: str) -> None:
        """Release, if `token` still holds the lease."""
        held = self._leases.get(key)
        if held is not None and held[0] == token:
            del self._leases[key]

    async def renew_lease(self, key: str, token: str, ttl: float) -> bool:
        """Extend, if `token` still holds the lease."""
        held = self._leases.get(key)
        if held is None or held[0] != token:
            return False
        self._leases[key] = (token, self._now() + ttl)
        return True
