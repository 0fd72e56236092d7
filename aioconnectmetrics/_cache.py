"""Caching, the pure part: what an answer is stored under, and how long it stays fresh.

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
tenant: the proven principal, or a key HMAC), so two tenants never share an entry.
Where entries live is `_backend.py`; the single-flight front that uses all this is `_front.py`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from datetime import datetime
from typing import Literal

import attrs

from ._catalog import INTERVAL_SECONDS, TOKEN_LIFETIME_SECONDS
from ._checks import (
    check_count,
    fraction_or_none,
    positive_or_none,
    positive_zero_or_none,
    settings_checked,
)
from ._errors import ConnectMetricsError
from ._merge import Row
from ._request import CURRENT_OP, MetricsRequest


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
        final_after: GetMetricDataV2: seconds after a range's end after which its
            numbers are final (every interval in it closed and published); None: never.
        final_max_age: GetMetricDataV2: how long an answer over a final range stays
            fresh (past `max_lifetime`: it has no token or snapshot to age).
        max_rows: the in-memory cache's bound, in rows of answers (each answer also
            counts one); the least recently used answers go first.
    """

    max_age: float = attrs.field(default=15.0, validator=positive_zero_or_none)
    floor: float = attrs.field(default=1.0, validator=positive_zero_or_none)
    publish_lag: float = attrs.field(default=30.0, validator=positive_zero_or_none)
    max_lifetime: float = attrs.field(
        default=TOKEN_LIFETIME_SECONDS, validator=positive_zero_or_none
    )
    stale_grace: float | None = attrs.field(default=None, validator=positive_zero_or_none)
    refresh_ahead: float | None = attrs.field(default=0.25, validator=fraction_or_none)
    final_after: float | None = attrs.field(default=900.0, validator=positive_zero_or_none)
    final_max_age: float = attrs.field(default=3600.0, validator=positive_or_none)
    max_rows: int = attrs.field(default=200_000)

    @max_rows.validator
    def _check_rows(self, attribute: attrs.Attribute[int], value: object) -> None:
        with settings_checked():
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
    #: The service's request IDs: each batch's first page, in batch order.
    request_ids: tuple[str, ...] = ()

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


def fresh_until_v2(
    end_time: datetime, fetched_at: float, policy: CachePolicy
) -> tuple[float, bool]:
    """Until when a GetMetricDataV2 answer is fresh, and whether its range is final.

    Over a final range (ended `final_after` seconds before the fetch) the numbers no
    longer change: fresh for `final_max_age`. Otherwise an interval is still open or
    unpublished: fresh as a historical answer is (to the next 5-minute boundary plus
    `publish_lag`, at most `max_lifetime`).
    """
    end = end_time.timestamp()
    if policy.final_after is not None and fetched_at >= end + policy.final_after:
        return fetched_at + policy.final_max_age, True
    interval_closes = (math.floor(fetched_at / INTERVAL_SECONDS) + 1) * INTERVAL_SECONDS
    return min(fetched_at + policy.max_lifetime, interval_closes + policy.publish_lag), False


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
    life = max(0.0, entry.fresh_until - entry.fetched_at)
    digest = hashlib.blake2b(f"{key}\0{entry.fetched_at!r}".encode(), digest_size=8).digest()
    draw = int.from_bytes(digest, "big") / 2**64  # in [0, 1)
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
