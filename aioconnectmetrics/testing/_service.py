"""The fake service's request handling: wire format, validation, tokens, quotas, faults.

Each handler takes the parsed request (operation, instance, parameters) and returns a
JSON body, or raises `ServiceError`, which becomes the error response botocore expects
for the service's rest-json protocol. Validation here mirrors what the real service
rejects; it is deliberately independent of the library's own validation, so that tests
of the library against this fake check one against the other.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._catalog import (
    CHANNELS,
    CURRENT,
    HISTORICAL,
    INTERVAL_SECONDS,
    MAX_GROUPINGS,
    MAX_QUEUES_PER_REQUEST,
    MAX_RESULTS,
    MAX_SERVICE_LEVEL_METRICS,
    RETENTION_SECONDS,
    THRESHOLD_RANGE,
    TOKEN_LIFETIME_SECONDS,
)
from ._sim import ContactCentre, RowKey

#: Default quotas: operation -> (requests per second, burst).
DEFAULT_QUOTAS: Mapping[str, tuple[float, int]] = {
    "GetCurrentMetricData": (5.0, 8),
    "GetMetricData": (5.0, 8),
    "ListQueues": (2.0, 5),
}
_CURRENT_GROUPINGS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE")
_HISTORICAL_GROUPINGS = ("QUEUE", "CHANNEL")
_NEEDS_PROFILE_FILTER = ("CONTACTS_SCHEDULED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE")


class ServiceError(Exception):
    """An error response of the service: HTTP status, AWS error code and message."""

    def __init__(self, status: int, code: str, message: str, *, dropped: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        #: The HTTP layer closes the connection instead of answering.
        self.dropped = dropped


_FAULTS = {
    "error": ServiceError(500, "InternalServiceException", "Injected internal error"),
    "throttle": ServiceError(429, "ThrottlingException", "Rate exceeded"),
    "drop": ServiceError(500, "InternalServiceException", "Connection dropped", dropped=True),
    "expire": ServiceError(400, "InvalidRequestException", "The NextToken has expired"),
}
#: Fault kinds: the errors above, and "drift", a page whose snapshot moved on.
FAULT_KINDS = (*_FAULTS, "drift")


def _invalid(message: str) -> ServiceError:
    return ServiceError(400, "InvalidParameterException", message)


#: A token short by less than this is whole (float sums would otherwise spin).
_EPSILON = 1e-9


@attrs.define(eq=False)
class OtherConsumer:
    """Another caller of the same account's quota, which the client under test cannot see.

    It asks for `rate` requests per second on average, `burst` at a time (``burst=1``: a
    steady stream; more: that many at once every ``burst / rate`` seconds), the first one
    period after `start`, until `stop`. A request of its own that finds the bucket empty
    is throttled and tried again the moment a token is there, so it spends its whole rate
    whenever it can: the rate it leaves is ``quota - rate``. Counters: `admitted` and
    `throttled`.
    """

    rate: float
    burst: int = 1
    start: float = math.nan
    stop: float = math.inf
    #: Seconds after `begin` that it starts asking, and how long it goes on (with `begin`).
    delay: float = 0.0
    duration: float = math.inf
    admitted: int = 0
    throttled: int = 0
    next_try: float = math.inf

    def begin(self, start: float) -> None:
        """Start asking `delay` after `start` (the first request one period later)."""
        self.start = start + self.delay
        self.stop = min(self.stop, self.start + self.duration)
        self.next_try = self.due(0)

    def __attrs_post_init__(self) -> None:
        if not (0 < self.rate < math.inf):
            raise ValueError(f"rate must be a positive number of requests/s, got {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be a whole number >= 1, got {self.burst!r}")

    def due(self, number: int) -> float:
        """When its request `number` (0-based) is scheduled."""
        return self.start + (number // self.burst + 1) * self.burst / self.rate


@attrs.define
class TokenBucket:
    """A plain token bucket on the fake's clock: take one token or be throttled.

    Other consumers (`OtherConsumer`) are served lazily, in time order, each time the
    bucket is looked at, so their share is exact on any clock.
    """

    rate: float
    burst: int
    tokens: float
    updated: float
    others: list[OtherConsumer] = attrs.Factory(list)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def _serve_others(self, now: float) -> None:
        while True:
            waiting = [o for o in self.others if o.next_try <= now and o.next_try < o.stop]
            if not waiting:
                return
            other = min(waiting, key=lambda o: o.next_try)
            at = other.next_try
            self._refill(at)
            if self.tokens >= 1.0 - _EPSILON:
                self.tokens -= 1.0
                other.admitted += 1
                other.next_try = max(at, other.due(other.admitted))
            else:
                # It asks again the moment a token is whole (by the same tolerance as
                # `take`), so it is always first to a token: it leaves exactly the rest.
                other.throttled += 1
                # (At least a microsecond on: on an epoch clock a smaller step is lost.)
                shortfall = 1.0 - _EPSILON / 2 - self.tokens
                other.next_try = max(at, self.updated) + max(shortfall / self.rate, 1e-6)

    def take(self, now: float) -> bool:
        """Take a token if one is there; refill (and serve the other consumers) first."""
        self._serve_others(now)
        self._refill(now)
        if self.tokens >= 1.0 - _EPSILON:
            self.tokens -= 1.0
            return True
        return False


@attrs.define
class _Chain:
    """A pagination token chain: one frozen result, served page by page."""

    digest: str
    results: list[dict[str, Any]]
    extra: dict[str, Any]
    results_key: str = "MetricResults"
    page_limit: int = MAX_RESULTS


@attrs.frozen
class FaultRule:
    """A fault to inject; see `FakeConnect.inject_fault` for the kinds."""

    kind: str
    probability: float = 1.0
    operation: str | None = None
    when: Callable[[Mapping[str, Any]], bool] | None = None
    at: frozenset[int] | None = None

    def applies(self, operation: str, params: Mapping[str, Any], number: int, draw: float) -> bool:
        """Whether this rule fires for request `number` (1-based, per operation)."""
        if self.operation is not None and self.operation != operation:
            return False
        if self.at is not None and number not in self.at:
            return False
        if self.when is not None and not self.when(params):
            return False
        return draw < self.probability


def _digest(params: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in params.items() if k != "NextToken"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def _metric_key(metric: Mapping[str, Any]) -> tuple[str, float | None]:
    threshold = metric.get("Threshold") or {}
    return (metric["Name"], threshold.get("ThresholdValue"))


class ConnectService:
    """The service behind the HTTP routes: state, quotas, tokens and faults."""

    def __init__(
        self,
        *,
        account_id: str,
        clock: Callable[[], float],
        snapshot_interval: float,
        quotas: Mapping[str, tuple[float, int]] | None,
        seed: int,
    ) -> None:
        self.account_id = account_id
        self.clock = clock
        self.snapshot_interval = snapshot_interval
        self.quotas = dict(quotas) if quotas is not None else None
        self.instances: dict[str, tuple[str, ContactCentre]] = {}
        self.lock = threading.RLock()
        self.faults: list[FaultRule] = []
        self._fault_rng = random.Random(f"faults:{seed}")
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        #: Other consumers that start with their account's first request.
        self.waiting_others: dict[tuple[str, str, str], list[OtherConsumer]] = {}
        #: token -> (its chain or None once expired, the offset it resumes at, issue time).
        self._tokens: dict[str, tuple[_Chain | None, int, float]] = {}
        self._numbers: dict[str, int] = {}

    # -- admission: quotas and faults --------------------------------------------------
    def admit(self, operation: str, access_key: str, region: str) -> None:
        """Charge the quota for one request; raise `ThrottlingException` when empty."""
        if self.quotas is None or operation not in self.quotas:
            return
        now = self.clock()
        if not self.bucket(operation, access_key, region, now).take(now):
            raise ServiceError(429, "ThrottlingException", "Rate exceeded")

    def bucket(self, operation: str, access_key: str, region: str, now: float) -> TokenBucket:
        """The quota bucket of (account, region, operation), made full on first use."""
        assert self.quotas is not None
        rate, burst = self.quotas[operation]
        key = (access_key, region, operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst, float(burst), now)
            for other in self.waiting_others.pop(key, []):
                other.begin(now)
                bucket.others.append(other)
        return bucket

    def add_other(
        self, other: OtherConsumer, operation: str, access_key: str, region: str
    ) -> None:
        """Let `other` spend (account, region, operation)'s quota from its first use on.

        With a `start` of its own, it starts then instead.
        """
        key = (access_key, region, operation)
        bucket = self._buckets.get(key)
        if bucket is None and math.isnan(other.start):
            self.waiting_others.setdefault(key, []).append(other)
            return
        if bucket is None:
            bucket = self.bucket(operation, access_key, region, self.clock())
        other.begin(other.start if not math.isnan(other.start) else self.clock())
        bucket.others.append(other)

    def pick_fault(self, operation: str, params: Mapping[str, Any]) -> str | None:
        """The kind of fault to inject into this request, if any."""
        number = self._numbers[operation] = self._numbers.get(operation, 0) + 1
        for rule in self.faults:
            if rule.applies(operation, params, number, self._fault_rng.random()):
                return rule.kind
        return None

    def snapshot_index(self, now: float) -> int:
        """The index of the real-time snapshot current at `now`."""
        return math.floor(now / self.snapshot_interval)

    # -- requests ------------------------------------------------------------------------
    def centre(self, instance_id: str, region: str) -> ContactCentre:
        """The instance's simulated state, or `ResourceNotFoundException`."""
        entry = self.instances.get(instance_id)
        if entry is None or entry[0] != region:
            raise ServiceError(
                404, "ResourceNotFoundException", f"Instance {instance_id} not found"
            )
        return entry[1]

    def handle(
        self,
        operation: str,
        instance_id: str,
        region: str,
        params: dict[str, Any],
        *,
        fault: str | None = None,
    ) -> dict[str, Any]:
        """Answer one request (already admitted), or fail it with the injected `fault`."""
        if fault in _FAULTS:
            raise _FAULTS[fault]
        if not re.fullmatch(r"[A-Za-z0-9-]{1,100}", instance_id):
            raise _invalid(f"Invalid InstanceId: {instance_id!r}")
        centre = self.centre(instance_id, region)
        now = self.clock()
        self._expire(now)
        if operation == "ListQueues":
            return self._list_queues(centre, params, now)
        token = params.get("NextToken")
        if token is not None:
            body = self._next_page(token, params, now)
            if fault == "drift" and "DataSnapshotTime" in body:
                body["DataSnapshotTime"] += self.snapshot_interval
            return body
        if operation == "GetCurrentMetricData":
            results, extra = self._current(centre, region, params, now)
        else:
            results, extra = self._historical(centre, region, params, now)
        body = self._first_page(_Chain(_digest(params), results, extra), params, now)
        if fault == "drift" and "DataSnapshotTime" in body:
            body["DataSnapshotTime"] += self.snapshot_interval
        return body

    def _expire(self, now: float) -> None:
        for token, (chain, offset, issued) in list(self._tokens.items()):
            age = now - issued
            if age >= 12 * TOKEN_LIFETIME_SECONDS:
                del self._tokens[token]
            elif chain is not None and age >= TOKEN_LIFETIME_SECONDS:
                # Keep a tombstone for a while: an expired token says "expired", not "invalid".
                self._tokens[token] = (None, offset, issued)

    @staticmethod
    def _max_results(params: Mapping[str, Any], upper: int) -> int:
        value = params.get("MaxResults", MAX_RESULTS)
        if not isinstance(value, int) or not 1 <= value <= upper:
            raise _invalid(f"MaxResults must be between 1 and {upper}, got {value!r}")
        return value

    def _first_page(self, chain: _Chain, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        return self._serve(chain, 0, self._max_results(params, chain.page_limit), now)

    def _serve(self, chain: _Chain, offset: int, page_size: int, now: float) -> dict[str, Any]:
        end = offset + page_size
        body: dict[str, Any] = {**chain.extra, chain.results_key: chain.results[offset:end]}
        if end < len(chain.results):
            # Tokens stay valid until they expire, so a retried page can reuse its token.
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (chain, end, now)
            body["NextToken"] = token
        return body

    def _next_page(self, token: str, params: Mapping[str, Any], now: float) -> dict[str, Any]:
        if token not in self._tokens:
            raise _invalid("The NextToken is not valid")
        chain, offset, _ = self._tokens[token]
        if chain is None:
            raise ServiceError(400, "InvalidRequestException", "The NextToken has expired")
        if chain.digest != _digest(params):
            raise _invalid("The request parameters must match the request that issued NextToken")
        return self._serve(chain, offset, self._max_results(params, chain.page_limit), now)

    # -- GetCurrentMetricData -----------------------------------------------------------
    def _queue_filter(
        self, centre: ContactCentre, region: str, filters: Mapping[str, Any]
    ) -> list[str] | None:
        queues = filters.get("Queues")
        if queues is None:
            return None
        if not 1 <= len(queues) <= MAX_QUEUES_PER_REQUEST:
            raise _invalid(f"Filters.Queues must hold 1 to 100 items, got {len(queues)}")
        return [self._resource_id(centre, region, q, "queue") for q in queues]

    def _resource_id(self, centre: ContactCentre, region: str, value: str, kind: str) -> str:
        if not value.startswith("arn:"):
            return value
        prefix = (
            f"arn:aws:connect:{region}:{self.account_id}:instance/{centre.instance_id}/{kind}/"
        )
        if not value.startswith(prefix):
            raise _invalid(f"{kind} ARN {value} does not belong to instance {centre.instance_id}")
        return value[len(prefix) :]

    def _channels(self, filters: Mapping[str, Any]) -> list[str]:
        channels = filters.get("Channels")
        if channels is None:
            return list(CHANNELS)
        for channel in channels:
            if channel not in CHANNELS:
                raise _invalid(f"Invalid channel {channel!r}")
        return list(channels)

    def _groupings(self, params: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
        groupings = list(params.get("Groupings") or [])
        if len(groupings) > MAX_GROUPINGS:
            raise _invalid("At most 2 groupings are allowed")
        if len(set(groupings)) != len(groupings):
            raise _invalid("Groupings must not repeat")
        for grouping in groupings:
            if grouping not in allowed:
                raise _invalid(f"Grouping {grouping} is not supported by this operation")
        return groupings

    def _current(
        self, centre: ContactCentre, region: str, params: Mapping[str, Any], now: float
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        filters = params.get("Filters") or {}
        queue_ids = self._queue_filter(centre, region, filters)
        profiles = filters.get("RoutingProfiles")
        if (queue_ids is None) == (profiles is None):
            raise _invalid("Filters must hold either Queues or RoutingProfiles, not both")
        profile_ids = None
        if profiles is not None:
            if not 1 <= len(profiles) <= 100:
                raise _invalid("Filters.RoutingProfiles must hold 1 to 100 items")
            profile_ids = [
                self._resource_id(centre, region, p, "routing-profile") for p in profiles
            ]
        channels = self._channels(filters)
        groupings = self._groupings(params, _CURRENT_GROUPINGS)
        if "CHANNEL" in groupings and "Channels" not in filters:
            raise _invalid("Grouping by CHANNEL requires a Channels filter")
        metrics = params.get("CurrentMetrics") or []
        if not metrics:
            raise _invalid("CurrentMetrics must not be empty")
        names = []
        for metric in metrics:
            spec = CURRENT.get(metric.get("Name", ""))
            if spec is None:
                raise _invalid(f"Invalid metric name {metric.get('Name')!r}")
            if metric.get("Unit") != spec.unit:
                raise _invalid(f"Metric {spec.name} must use unit {spec.unit}")
            if spec.name == "ESTIMATED_WAIT_TIME" and (
                groupings != ["QUEUE", "CHANNEL"] or queue_ids is None or "Channels" not in filters
            ):
                raise _invalid(
                    "ESTIMATED_WAIT_TIME needs Queues and Channels filters"
                    " and groupings [QUEUE, CHANNEL]"
                )
            if (
                spec.name in _NEEDS_PROFILE_FILTER
                and "ROUTING_PROFILE" in groupings
                and profile_ids is None
            ):
                raise _invalid(
                    f"{spec.name} grouped by ROUTING_PROFILE needs a RoutingProfiles filter"
                )
            names.append(spec.name)
        sort = params.get("SortCriteria") or []
        if len(sort) > 1 or any(
            s.get("SortByMetric") in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE") for s in sort
        ):
            raise _invalid("SortCriteria takes one metric, not SLOTS_ACTIVE or SLOTS_AVAILABLE")

        snapshot = self.snapshot_index(now)
        rows = centre.current_rows(
            snapshot,
            queue_ids=queue_ids,
            routing_profile_ids=profile_ids,
            channels=channels,
            groupings=groupings,
            metrics=names,
        )
        if sort:
            by, descending = sort[0]["SortByMetric"], sort[0].get("SortOrder") == "DESCENDING"
            rows.sort(key=lambda r: r[1].get(by) or 0.0, reverse=descending)
        results = []
        for key, values in rows:
            collections = []
            for metric in metrics:
                value = values[metric["Name"]]
                if metric["Name"] == "OLDEST_CONTACT_AGE" and not groupings and value is not None:
                    value *= 1000.0  # the documented quirk: milliseconds when ungrouped
                collections.append(
                    {"Metric": {"Name": metric["Name"], "Unit": metric["Unit"]}, "Value": value}
                )
            results.append(
                {"Dimensions": self._dimensions(centre, key), "Collections": collections}
            )
        extra = {
            "DataSnapshotTime": snapshot * self.snapshot_interval,
            "ApproximateTotalCount": len(results),
        }
        return results, extra

    @staticmethod
    def _dimensions(centre: ContactCentre, key: RowKey) -> dict[str, Any]:
        queue_id, channel, profile_id = key
        dims: dict[str, Any] = {}
        if queue_id is not None:
            dims["Queue"] = {"Id": queue_id, "Arn": centre.queues[queue_id].arn}
        if channel is not None:
            dims["Channel"] = channel
        if profile_id is not None:
            dims["RoutingProfile"] = {
                "Id": profile_id,
                "Arn": centre.routing_profiles[profile_id].arn,
            }
        return dims

    # -- GetMetricData ------------------------------------------------------------------
    def _historical(
        self, centre: ContactCentre, region: str, params: Mapping[str, Any], now: float
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        start, end = params.get("StartTime"), params.get("EndTime")
        if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
            raise _invalid("StartTime and EndTime are required")
        if start % INTERVAL_SECONDS or end % INTERVAL_SECONDS:
            raise _invalid("StartTime and EndTime must be multiples of 5 minutes")
        if end <= start:
            raise _invalid("EndTime must be later than StartTime")
        if end - start >= RETENTION_SECONDS:
            raise _invalid("The time range must be less than 24 hours")
        if start < now - RETENTION_SECONDS:
            raise _invalid("StartTime cannot be earlier than 24 hours before the request")
        filters = params.get("Filters") or {}
        if "RoutingProfiles" in filters:
            raise _invalid("GetMetricData filters by Queues and Channels only")
        queue_ids = self._queue_filter(centre, region, filters)
        if queue_ids is None:
            raise _invalid("Filters.Queues is required")
        channels = self._channels(filters)
        groupings = self._groupings(params, _HISTORICAL_GROUPINGS)
        metrics = params.get("HistoricalMetrics") or []
        if not metrics:
            raise _invalid("HistoricalMetrics must not be empty")
        service_levels = 0
        for metric in metrics:
            spec = HISTORICAL.get(metric.get("Name", ""))
            if spec is None:
                raise _invalid(f"Invalid metric name {metric.get('Name')!r}")
            if metric.get("Unit") != spec.unit:
                raise _invalid(f"Metric {spec.name} must use unit {spec.unit}")
            if metric.get("Statistic") != spec.statistic:
                raise _invalid(f"Metric {spec.name} must use statistic {spec.statistic}")
            threshold = metric.get("Threshold")
            if spec.needs_threshold:
                service_levels += 1
                low, high = THRESHOLD_RANGE
                if (
                    not threshold
                    or threshold.get("Comparison") != "LT"
                    or not isinstance(threshold.get("ThresholdValue"), (int, float))
                    or threshold["ThresholdValue"] != int(threshold["ThresholdValue"])
                    or not low <= threshold["ThresholdValue"] <= high
                ):
                    raise _invalid("SERVICE_LEVEL needs a threshold LT, whole seconds 1 to 604800")
            elif threshold is not None:
                raise _invalid(f"Metric {spec.name} does not take a threshold")
        if service_levels > MAX_SERVICE_LEVEL_METRICS:
            raise _invalid("At most 20 SERVICE_LEVEL metrics are allowed")
        keys = [_metric_key(m) for m in metrics]
        rows = centre.historical_rows(
            queue_ids=queue_ids,
            channels=channels,
            groupings=groupings,
            metrics=keys,
            start=float(start),
            end=float(end),
            now=now,
        )
        results = [
            {
                "Dimensions": self._dimensions(centre, key),
                "Collections": [
                    {"Metric": metric, "Value": values[mkey]}
                    for metric, mkey in zip(metrics, keys, strict=True)
                ],
            }
            for key, values in rows
        ]
        return results, {}

    # -- ListQueues ---------------------------------------------------------------------
    def _list_queues(
        self, centre: ContactCentre, params: Mapping[str, Any], now: float
    ) -> dict[str, Any]:
        types = params.get("QueueTypes") or ["STANDARD", "AGENT"]
        for queue_type in types:
            if queue_type not in ("STANDARD", "AGENT"):
                raise _invalid(f"Invalid QueueType {queue_type!r}")
        token = params.get("NextToken")
        if token is not None:
            return self._next_page(token, params, now)
        summaries = [
            {
                "Id": q.id,
                "Arn": q.arn,
                "Name": q.name,
                "QueueType": q.queue_type,
                "LastModifiedTime": q.created_at,
                "LastModifiedRegion": self.instances[centre.instance_id][0],
            }
            for q in centre.queues.values()
            if q.queue_type in types
        ]
        chain = _Chain(_digest(params), summaries, {}, "QueueSummaryList", page_limit=1000)
        return self._first_page(chain, params, now)
