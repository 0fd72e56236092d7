"""Caching: what an answer is stored under, how long it stays fresh, and where it lives.

Freshness is pure arithmetic over times the caller passes in:

* real time: an answer is fresh until its (oldest) ``DataSnapshotTime`` is `max_age` old,
  and in any case for `floor` seconds after it was fetched, so that an old snapshot
  cannot cause a refetch storm;
* historical: until the 5-minute interval in which it was fetched closes, plus
  `publish_lag` for the service to publish that interval;
* nothing lives past `max_lifetime` (300 s: the life of a pagination token) after it was
  fetched;
* a real-time entry asked for late in its life is refreshed ahead, in the background, at
  a point of its own (`refresh_point`): entries fetched together do not all expire, and
  refetch, together.

Keys hash the normalised request and who asks (region, endpoint, instance, and the
credential identity hash), so two tenants never share an entry. Backends store entries
behind a small async interface (`CacheBackend`), which a shared store can implement.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Literal, Protocol

import attrs
import cachetools

from ._catalog import INTERVAL_SECONDS, TOKEN_LIFETIME_SECONDS
from ._errors import ConnectMetricsError, InvalidRequestError
from ._merge import NOTHING_APPROXIMATE, Row
from ._request import CURRENT_OP, MetricsRequest, check_count, check_positive


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and value != 0:
        check_positive(attribute.name, value)


def _fraction(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InvalidRequestError(
            attribute.name, value, "a fraction of the fresh life, at least 0 and below 1, or None"
        )


@attrs.frozen
class CachePolicy:
    """How long answers stay fresh, and how many rows the in-memory cache holds.

    Attributes:
        max_age: real time: seconds after the answer's snapshot that it stays fresh.
        floor: real time: seconds after the fetch that it stays fresh regardless.
        publish_lag: historical: seconds after the fetch's 5-minute interval closes.
        max_lifetime: no answer is served fresh past this many seconds after its fetch.
        stale_grace: seconds past freshness during which the last answer is served at
            once while one refresh runs in the background (None: off).
        refresh_ahead: real time: the last fraction of an entry's fresh life in which
            an ask refreshes it in the background, at a point drawn for each entry
            (`refresh_point`), so that entries fetched together are not refetched
            together (None or 0: off).
        max_rows: the in-memory cache's bound, in rows of answers (each answer also
            counts one); the least recently used answers go first.
    """

    max_age: float = attrs.field(default=15.0, validator=_non_negative)
    floor: float = attrs.field(default=1.0, validator=_non_negative)
    publish_lag: float = attrs.field(default=30.0, validator=_non_negative)
    max_lifetime: float = attrs.field(default=TOKEN_LIFETIME_SECONDS, validator=_non_negative)
    stale_grace: float | None = attrs.field(default=None, validator=_non_negative)
    refresh_ahead: float | None = attrs.field(default=0.25, validator=_fraction)
    max_rows: int = attrs.field(default=200_000)

    @max_rows.validator
    def _check_rows(self, attribute: attrs.Attribute[int], value: object) -> None:
        check_count("max_rows", value, minimum=1)


@attrs.frozen
class Answer:
    """A merged answer, before it is rendered for either face: what the cache holds."""

    rows: tuple[Row, ...]
    snapshots: tuple[datetime, ...]
    batches: int
    pages: int
    failures: tuple[tuple[int, ConnectMetricsError], ...] = ()
    failed_queues: tuple[tuple[int, tuple[str, ...]], ...] = ()

    @property
    def snapshot_time(self) -> datetime | None:
        """The oldest batch snapshot (real time), or None."""
        return min(self.snapshots) if self.snapshots else None


@attrs.frozen
class CacheEntry:
    """A stored answer, with when it was fetched and until when it is fresh."""

    answer: Answer
    fetched_at: float
    fresh_until: float


@attrs.frozen
class CacheStats:
    """Cache counters of one client."""

    hits: int = 0
    misses: int = 0
    coalesced: int = 0
    stale_served: int = 0
    refreshed_ahead: int = 0
    fetches: int = 0
    entries: int = 0


def fresh_until(
    request: MetricsRequest, answer: Answer, fetched_at: float, policy: CachePolicy
) -> float:
    """Until when (epoch seconds) an answer fetched at `fetched_at` is fresh."""
    cap = fetched_at + policy.max_lifetime
    if request.operation == CURRENT_OP:
        snapshot = answer.snapshot_time
        by_snapshot = snapshot.timestamp() + policy.max_age if snapshot else -math.inf
        return min(cap, max(by_snapshot, fetched_at + policy.floor))
    interval_closes = (math.floor(fetched_at / INTERVAL_SECONDS) + 1) * INTERVAL_SECONDS
    return min(cap, interval_closes + policy.publish_lag)


def refresh_point(key: str, entry: CacheEntry, fraction: float | None) -> float:
    """When an ask for a fresh real-time entry starts its refresh in the background.

    A point in the last `fraction` of the entry's fresh life, drawn uniformly from a hash
    of the key and the fetch time: a jitter of its own for each entry and each fetch,
    that every process sharing the entry agrees on, with no randomness to seed or store.
    Entries fetched in one burst get points spread over the window, and their refetches
    no longer arrive together. ``inf`` when `fraction` is None or 0 (never ahead).
    """
    if not fraction:
        return math.inf
    digest = hashlib.blake2b(f"{key}\0{entry.fetched_at!r}".encode(), digest_size=8).digest()
    draw = int.from_bytes(digest, "big") / 2**64  # in [0, 1)
    life = max(0.0, entry.fresh_until - entry.fetched_at)
    return entry.fresh_until - draw * fraction * life


@attrs.define
class SnapshotCadence:
    """When a refresh ahead of expiry can get a newer snapshot, from what fetches showed.

    A service either takes its snapshot at each request (the API reference says
    ``DataSnapshotTime`` is when the metrics were retrieved), or moves it on on a
    cadence C: then nothing newer exists until a snapshot is C seconds old, and a
    refresh before that fetches the same numbers again. C is bracketed:

    * `floor`: a fetch asked at t that got snapshot S shows nothing newer existed at age
      t - S; the floor is the greatest such age (every fetch teaches it, for free);
    * `ceiling`: a refresh ahead of an entry of snapshot S that got a newer one, done by
      t, shows something newer existed by age t - S; the ceiling is the least such age.

    An entry at least `ceiling` old is refreshed ahead; one at most `floor` old, never;
    in between, one refresh at a time probes, and one that finds nothing newer ends the
    probing for its snapshot and older ones (`spent`). On a service that snapshots at
    each request the first probe succeeds and sets the ceiling near the window's start;
    on one with a cadence, the floor climbs towards C, so at most about one request per
    snapshot, and soon none, is spent on refreshes that could not gain.
    """

    floor: float = -math.inf
    ceiling: float = math.inf
    spent: float = -math.inf
    probing: bool = False

    def verdict(self, snapshot: float, now: float) -> Literal["sure", "probe"] | None:
        """Whether an entry of `snapshot` is refreshed ahead at `now` (None: not)."""
        age = now - snapshot
        if age >= self.ceiling:
            return "sure"
        if age <= self.floor or snapshot <= self.spent or self.probing:
            return None
        return "probe"

    def observe(
        self, asked_at: float, done_at: float, got: float, replaced: float | None = None
    ) -> None:
        """Learn from a fetch asked at `asked_at`, done at `done_at`, of snapshot `got`.

        `replaced`: for a refresh ahead, the snapshot of the entry it was to replace.
        """
        self.floor = max(self.floor, asked_at - got)
        if replaced is None:
            return
        if got > replaced:
            self.ceiling = min(self.ceiling, done_at - replaced)
        else:
            self.floor = max(self.floor, asked_at - replaced)
            self.spent = max(self.spent, replaced)


def newer_or_same(candidate: Answer, stored: Answer) -> bool:
    """Whether `candidate` may replace `stored`: it never steps back in snapshot time."""
    new, old = candidate.snapshot_time, stored.snapshot_time
    return new is None or old is None or new >= old


def cache_key(
    request: MetricsRequest,
    *,
    region: str,
    endpoint: str,
    identity: str,
    extra: tuple[object, ...] = (),
) -> str:
    """The key of a request asked by this identity, through this endpoint and region."""
    return _cache_key(request, region, endpoint, identity, extra)


# Requests are frozen and hashable: a service asking the same thing again reuses its key.
@functools.lru_cache(maxsize=1024)
def _cache_key(
    request: MetricsRequest, region: str, endpoint: str, identity: str, extra: tuple[object, ...]
) -> str:
    fields = attrs.asdict(request, recurse=False)
    fields.pop("page_size")  # the page size does not change the answer
    fields["metrics"] = [m.key for m in request.metrics]
    for name in ("start_time", "end_time"):
        if fields[name] is not None:
            fields[name] = fields[name].timestamp()
    who = {"region": region, "endpoint": endpoint, "identity": identity}
    text = json.dumps([fields, who, list(extra)], sort_keys=True)
    return "acm:v1:" + hashlib.sha256(text.encode()).hexdigest()


#: The format version of stored entries; entries of another version are misses.
FORMAT_VERSION = 1


def entry_to_json(entry: CacheEntry) -> str:
    """A stored entry as JSON (shared stores never hold pickles)."""
    answer = entry.answer
    rows = [
        [
            list(row.key),
            row.queue_arn,
            row.routing_profile_arn,
            row.values,
            {k: list(v) if v else None for k, v in row.approximate.items()},
            row.raw,
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


def _row(stored: object) -> Row:
    key, queue_arn, profile_arn, values, approximate, raw = _list(stored, 6)
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
