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
from collections.abc import Callable
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Protocol

import cachetools

from ._cache import Answer, CacheEntry
from ._merge import NOTHING_APPROXIMATE, Row

#: The format version of stored entries; entries of another version are misses.
FORMAT_VERSION = 2


def entry_to_json(entry: CacheEntry) -> str:
    """A stored entry as JSON (shared stores never hold pickles)."""
    answer = entry.answer
    rows = [
        [
            list(row.key),
            row.queue_arn,
            row.routing_profile_arn,
            dict(row.values),
            {k: list(v) if v else None for k, v in row.approximate.items()},
            row.raw,
            # A V2 row's dimensions are a read-only view: JSON takes the dict.
            None if row.dims is None else dict(row.dims),
            list(row.interval) if row.interval else None,
        ]
        for row in answer.rows
    ]
    document = {
        "v": FORMAT_VERSION,
        "fetched_at": entry.fetched_at,
        "fresh_until": entry.fresh_until,
        "snapshots": [t.timestamp() for t in answer.snapshots],
        "batches": answer.batches,
        "pages": answer.pages,
        "rows": rows,
        "request_ids": list(answer.request_ids),
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


def _row(stored: object) -> Row:
    key, queue_arn, profile_arn, values, approximate, raw, dims, interval = _list(stored, 8)
    a, b, c = (_text(part) for part in _list(key, 3))
    checked_values = {
        name: None if value is None else _number(value) for name, value in _mapping(values).items()
    }
    bounds: dict[str, tuple[float, float] | None] = {}
    for name, pair in _mapping(approximate).items():
        if pair is None:
            bounds[name] = None
        else:
            low, high = (_number(x) for x in _list(pair, 2))
            bounds[name] = (low, high)
    return Row(
        (a, b, c),
        _text(queue_arn),
        _text(profile_arn),
        checked_values,
        MappingProxyType(bounds) if bounds else NOTHING_APPROXIMATE,
        None if raw is None else _mapping(raw),
        None if dims is None else MappingProxyType(_strings(dims)),
        None if interval is None else (_number(interval[0]), _number(_list(interval, 2)[1])),
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
        answer = Answer(
            rows=tuple(_row(row) for row in _list(document["rows"])),
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
