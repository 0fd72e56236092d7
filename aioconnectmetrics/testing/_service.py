"""The fake service's request handling: wire format, validation, tokens, quotas, faults.

Each handler takes the parsed request (operation, instance, parameters) and returns a
JSON body, or raises `ServiceError`, which becomes the error response botocore expects
for the service's rest-json protocol. Validation here mirrors what the real service
rejects; it is deliberately independent of the library's own validation, so that tests
of the library against this fake check one against the other.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .._catalog import (
    CHANNELS,
    CURRENT,
    HISTORICAL,
    INTERVAL_SECONDS,
    MAX_GROUPINGS,
    MAX_QUEUES_PER_REQUEST,
    MAX_SERVICE_LEVEL_METRICS,
    RETENTION_SECONDS,
    THRESHOLD_RANGE,
)
from ._faults import FAULTS, FaultRule, ServiceError, invalid
from ._listings import LISTINGS, listing
from ._quota import OtherConsumer, TokenBucket
from ._sim import ContactCentre, RowKey
from ._tokens import Chain, Tokens, digest
from ._userdata import get_current_user_data

#: Default quotas: operation -> (requests per second, burst).
DEFAULT_QUOTAS: Mapping[str, tuple[float, int]] = {
    "GetCurrentMetricData": (5.0, 8),
    "GetMetricData": (5.0, 8),
    "GetCurrentUserData": (2.0, 5),
    "ListQueues": (2.0, 5),
    "ListRoutingProfiles": (2.0, 5),
    "ListUsers": (2.0, 5),
}
_CURRENT_GROUPINGS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE")
_HISTORICAL_GROUPINGS = ("QUEUE", "CHANNEL")
_NEEDS_PROFILE_FILTER = ("CONTACTS_SCHEDULED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE")


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
        self.tokens = Tokens()
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
        if fault in FAULTS:
            raise FAULTS[fault]
        if not re.fullmatch(r"[A-Za-z0-9-]{1,100}", instance_id):
            raise invalid(f"Invalid InstanceId: {instance_id!r}")
        centre = self.centre(instance_id, region)
        now = self.clock()
        self.tokens.expire(now)
        if operation in LISTINGS:
            return listing(self.tokens, operation, centre, params, now, region=region)
        token = params.get("NextToken")
        if token is not None:
            body = self.tokens.next_page(token, params, now)
            if fault == "drift" and "DataSnapshotTime" in body:
                body["DataSnapshotTime"] += self.snapshot_interval
            return body
        if operation == "GetCurrentUserData":
            return get_current_user_data(
                self.tokens,
                centre,
                params,
                now,
                snapshot=self.snapshot_index(now),
                snapshot_interval=self.snapshot_interval,
                resource_id=lambda value, kind: self.resource_id(centre, region, value, kind),
            )
        if operation == "GetCurrentMetricData":
            results, extra = self._current(centre, region, params, now)
        else:
            results, extra = self._historical(centre, region, params, now)
        body = self.tokens.first_page(Chain(digest(params), results, extra), params, now)
        if fault == "drift" and "DataSnapshotTime" in body:
            body["DataSnapshotTime"] += self.snapshot_interval
        return body

    # -- GetCurrentMetricData -----------------------------------------------------------
    def _queue_filter(
        self, centre: ContactCentre, region: str, filters: Mapping[str, Any]
    ) -> list[str] | None:
        queues = filters.get("Queues")
        if queues is None:
            return None
        if not 1 <= len(queues) <= MAX_QUEUES_PER_REQUEST:
            raise invalid(f"Filters.Queues must hold 1 to 100 items, got {len(queues)}")
        return [self.resource_id(centre, region, q, "queue") for q in queues]

    def resource_id(self, centre: ContactCentre, region: str, value: str, kind: str) -> str:
        """The ID of a resource given by ID or by an ARN of this instance."""
        if not value.startswith("arn:"):
            return value
        prefix = (
            f"arn:aws:connect:{region}:{self.account_id}:instance/{centre.instance_id}/{kind}/"
        )
        if not value.startswith(prefix):
            raise invalid(f"{kind} ARN {value} does not belong to instance {centre.instance_id}")
        return value[len(prefix) :]

    def _channels(self, filters: Mapping[str, Any]) -> list[str]:
        channels = filters.get("Channels")
        if channels is None:
            return list(CHANNELS)
        for channel in channels:
            if channel not in CHANNELS:
                raise invalid(f"Invalid channel {channel!r}")
        return list(channels)

    def _groupings(self, params: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
        groupings = list(params.get("Groupings") or [])
        if len(groupings) > MAX_GROUPINGS:
            raise invalid("At most 2 groupings are allowed")
        if len(set(groupings)) != len(groupings):
            raise invalid("Groupings must not repeat")
        for grouping in groupings:
            if grouping not in allowed:
                raise invalid(f"Grouping {grouping} is not supported by this operation")
        return groupings

    def _current(
        self, centre: ContactCentre, region: str, params: Mapping[str, Any], now: float
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        filters = params.get("Filters") or {}
        queue_ids = self._queue_filter(centre, region, filters)
        profiles = filters.get("RoutingProfiles")
        if (queue_ids is None) == (profiles is None):
            raise invalid("Filters must hold either Queues or RoutingProfiles, not both")
        profile_ids = None
        if profiles is not None:
            if not 1 <= len(profiles) <= 100:
                raise invalid("Filters.RoutingProfiles must hold 1 to 100 items")
            profile_ids = [
                self.resource_id(centre, region, p, "routing-profile") for p in profiles
            ]
        channels = self._channels(filters)
        groupings = self._groupings(params, _CURRENT_GROUPINGS)
        if "CHANNEL" in groupings and "Channels" not in filters:
            raise invalid("Grouping by CHANNEL requires a Channels filter")
        metrics = params.get("CurrentMetrics") or []
        if not metrics:
            raise invalid("CurrentMetrics must not be empty")
        names = []
        for metric in metrics:
            spec = CURRENT.get(metric.get("Name", ""))
            if spec is None:
                raise invalid(f"Invalid metric name {metric.get('Name')!r}")
            if metric.get("Unit") != spec.unit:
                raise invalid(f"Metric {spec.name} must use unit {spec.unit}")
            if spec.name == "ESTIMATED_WAIT_TIME" and (
                groupings != ["QUEUE", "CHANNEL"] or queue_ids is None or "Channels" not in filters
            ):
                raise invalid(
                    "ESTIMATED_WAIT_TIME needs Queues and Channels filters"
                    " and groupings [QUEUE, CHANNEL]"
                )
            if (
                spec.name in _NEEDS_PROFILE_FILTER
                and "ROUTING_PROFILE" in groupings
                and profile_ids is None
            ):
                raise invalid(
                    f"{spec.name} grouped by ROUTING_PROFILE needs a RoutingProfiles filter"
                )
            names.append(spec.name)
        sort = params.get("SortCriteria") or []
        if len(sort) > 1 or any(
            s.get("SortByMetric") in ("SLOTS_ACTIVE", "SLOTS_AVAILABLE") for s in sort
        ):
            raise invalid("SortCriteria takes one metric, not SLOTS_ACTIVE or SLOTS_AVAILABLE")

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
            raise invalid("StartTime and EndTime are required")
        if start % INTERVAL_SECONDS or end % INTERVAL_SECONDS:
            raise invalid("StartTime and EndTime must be multiples of 5 minutes")
        if end <= start:
            raise invalid("EndTime must be later than StartTime")
        if end - start >= RETENTION_SECONDS:
            raise invalid("The time range must be less than 24 hours")
        if start < now - RETENTION_SECONDS:
            raise invalid("StartTime cannot be earlier than 24 hours before the request")
        filters = params.get("Filters") or {}
        if "RoutingProfiles" in filters:
            raise invalid("GetMetricData filters by Queues and Channels only")
        queue_ids = self._queue_filter(centre, region, filters)
        if queue_ids is None:
            raise invalid("Filters.Queues is required")
        channels = self._channels(filters)
        groupings = self._groupings(params, _HISTORICAL_GROUPINGS)
        metrics = params.get("HistoricalMetrics") or []
        if not metrics:
            raise invalid("HistoricalMetrics must not be empty")
        service_levels = 0
        for metric in metrics:
            spec = HISTORICAL.get(metric.get("Name", ""))
            if spec is None:
                raise invalid(f"Invalid metric name {metric.get('Name')!r}")
            if metric.get("Unit") != spec.unit:
                raise invalid(f"Metric {spec.name} must use unit {spec.unit}")
            if metric.get("Statistic") != spec.statistic:
                raise invalid(f"Metric {spec.name} must use statistic {spec.statistic}")
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
                    raise invalid("SERVICE_LEVEL needs a threshold LT, whole seconds 1 to 604800")
            elif threshold is not None:
                raise invalid(f"Metric {spec.name} does not take a threshold")
        if service_levels > MAX_SERVICE_LEVEL_METRICS:
            raise invalid("At most 20 SERVICE_LEVEL metrics are allowed")
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
