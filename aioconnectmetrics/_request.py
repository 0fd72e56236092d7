"""Requests: validation and normalisation of what callers give, before any network call.

Both faces of the client end in one builder, `build_request`: the rich API (`Metric`
objects or names, queue IDs or ARNs or ``"all"``, aware datetimes) directly, the drop-in
API (the aiobotocore keyword arguments) through `_dropin.py`, which translates them.
Each becomes one immutable `MetricsRequest`. Every rule the service enforces
that can be checked locally is checked here, and the error names the field, the value
and what is allowed. Pure: the caller passes the region and the current time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

from ._catalog import (
    CHANNELS,
    CURRENT,
    HISTORICAL,
    INTERVAL_SECONDS,
    MAX_GROUPINGS,
    MAX_RESULTS,
    RETENTION_SECONDS,
    MetricSpec,
)
from ._checks import check_choices, check_strings
from ._errors import InvalidRequestError
from ._metric import Metric, check_metrics

Operation = Literal["GetCurrentMetricData", "GetMetricData"]
CURRENT_OP: Operation = "GetCurrentMetricData"
HISTORICAL_OP: Operation = "GetMetricData"

_CURRENT_GROUPINGS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE")
_HISTORICAL_GROUPINGS = ("QUEUE", "CHANNEL")
_NEEDS_PROFILE_FILTER = ("CONTACTS_SCHEDULED", "CONTACTS_IN_QUEUE", "OLDEST_CONTACT_AGE")
_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):connect:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"instance/(?P<instance>[A-Za-z0-9-]+)/(?P<kind>queue|routing-profile|agent)/(?P<id>[A-Za-z0-9-]+)$"
)
QUEUE_TYPES = ("STANDARD", "AGENT")


@attrs.frozen(cache_hash=True)
class MetricsRequest:
    """One validated, normalised request for either operation."""

    operation: Operation
    instance_id: str
    metrics: tuple[Metric, ...]
    #: Normalised queue IDs, de-duplicated, in the caller's order (None: see below).
    queue_ids: tuple[str, ...] | None = None
    #: Normalised routing profile IDs, when the request filters by routing profile.
    routing_profile_ids: tuple[str, ...] | None = None
    #: ``queues="all"``: the queues are discovered through ListQueues before fetching.
    all_queues: bool = False
    #: ``routing_profiles="all"``: discovered through ListRoutingProfiles likewise.
    all_routing_profiles: bool = False
    queue_types: tuple[str, ...] = ("STANDARD",)
    channels: tuple[str, ...] | None = None
    groupings: tuple[str, ...] = ()
    start_time: datetime | None = None
    end_time: datetime | None = None
    page_size: int = MAX_RESULTS
    #: (metric name, "ASCENDING" | "DESCENDING") from the drop-in SortCriteria.
    sort: tuple[str, str] | None = None

    @property
    def partition(self) -> str:
        """The dimension that batches cut: QUEUE, or ROUTING_PROFILE."""
        by_profile = self.routing_profile_ids is not None or self.all_routing_profiles
        return "ROUTING_PROFILE" if by_profile else "QUEUE"

    @property
    def partition_ids(self) -> tuple[str, ...]:
        """The IDs that batches cut (queue IDs or routing profile IDs)."""
        ids = self.routing_profile_ids if self.routing_profile_ids is not None else self.queue_ids
        if ids is None:
            raise RuntimeError("'all' must be resolved before planning")
        return ids

    def spec(self, metric: Metric) -> MetricSpec:
        """The catalog row of a metric of this request."""
        return (CURRENT if self.operation == CURRENT_OP else HISTORICAL)[metric.name]

    def with_queues(self, queue_ids: Iterable[str]) -> MetricsRequest:
        """This request with ``"all"`` resolved to the discovered queue IDs."""
        return attrs.evolve(self, queue_ids=tuple(dict.fromkeys(queue_ids)), all_queues=False)

    def with_routing_profiles(self, profile_ids: Iterable[str]) -> MetricsRequest:
        """This request with ``"all"`` resolved to the discovered routing profile IDs."""
        return attrs.evolve(
            self,
            routing_profile_ids=tuple(dict.fromkeys(profile_ids)),
            all_routing_profiles=False,
        )


# -- checks of the parts of a request ------------------------------------------------
def check_instance_id(value: Any, field: str = "instance_id") -> str:
    """An instance ID, which reaches a URL path: letters, digits and dashes only."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidRequestError(
            field, value, "expected the instance ID (1-100 letters, digits or dashes)"
        )
    return value


def partition_of(region: str) -> str:
    """The AWS partition of a region: ``aws``, ``aws-cn``, ``aws-us-gov``, ..."""
    for prefix, partition in (
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
    ):
        if region.startswith(prefix):
            return partition
    return "aws"


def normalise_resources(
    values: Iterable[str], *, field: str, kind: str, instance_id: str, region: str
) -> tuple[str, ...]:
    """IDs and ARNs to IDs, de-duplicated in order; ARNs must be of this instance and region.

    `kind` is ``queue``, ``routing-profile`` or ``agent``. Memoised: a service that asks about the
    same thousand queues every few seconds checks them once.
    """
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        # A mapping would be read as its keys, silently dropping its values.
        raise InvalidRequestError(field, values, "expected a list of strings")
    items = tuple(values)
    try:
        return _normalise_memo(items, field, kind, instance_id, region)
    except TypeError:
        # Unhashable items (not strings): the unmemoised check says which and why.
        return _normalise(items, field, kind, instance_id, region)


def _normalise(
    items: tuple[Any, ...], field: str, kind: str, instance_id: str, region: str
) -> tuple[str, ...]:
    ids: dict[str, None] = {}
    partition = partition_of(region)
    account: str | None = None
    for value in items:
        if not isinstance(value, str):
            raise InvalidRequestError(field, value, "every item must be a string")
        if value.startswith("arn:"):
            match = _ARN.fullmatch(value)
            if match is None or match["kind"] != kind:
                raise InvalidRequestError(field, value, f"expected a {kind} ID or ARN")
            if (
                match["instance"] != instance_id
                or match["region"] != region
                or match["partition"] != partition
            ):
                raise InvalidRequestError(
                    field,
                    value,
                    f"the ARN must belong to instance {instance_id} in region {region} "
                    f"(partition {partition})",
                )
            # One instance lives in one account: ARNs that disagree cannot all be its.
            if account is not None and match["account"] != account:
                raise InvalidRequestError(
                    field, value, f"the ARNs name two accounts ({account} and another)"
                )
            account = match["account"]
            ids[match["id"]] = None
        elif _ID.fullmatch(value):
            ids[value] = None
        else:
            raise InvalidRequestError(field, value, f"expected a {kind} ID or ARN")
    if not ids:
        raise InvalidRequestError(field, [], f"give at least one {kind}")
    return tuple(ids)


_normalise_memo = functools.lru_cache(maxsize=256)(_normalise)


def _channels(value: Any, field: str) -> tuple[str, ...] | None:
    return check_choices(field, value, CHANNELS, "channels")


def _groupings(value: Any, field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    groupings = check_strings(field, value or [])
    for grouping in groupings:
        if grouping not in allowed:
            raise InvalidRequestError(field, grouping, f"allowed groupings: {', '.join(allowed)}")
    if len(groupings) > MAX_GROUPINGS or len(set(groupings)) != len(groupings):
        raise InvalidRequestError(field, groupings, "at most 2 groupings, each once")
    return tuple(groupings)


def check_page_size(value: Any, field: str) -> int:
    """A page size: a whole number from 1 to 100 (None: 100)."""
    if value is None:
        return MAX_RESULTS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS:
        raise InvalidRequestError(field, value, "a whole number from 1 to 100")
    return value


def aware_time(value: Any, field: str) -> datetime:
    """An aware datetime (or epoch seconds), in UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:  # NaN, infinity, out of range
            raise InvalidRequestError(field, value, "a finite epoch time in range") from exc
    if not isinstance(value, datetime):
        raise InvalidRequestError(field, value, "expected an aware datetime (or epoch seconds)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(field, value, "the datetime must be timezone-aware")
    return value.astimezone(timezone.utc)


def _time(value: Any, field: str) -> datetime:
    moment = aware_time(value, field)
    if moment.timestamp() % INTERVAL_SECONDS:
        raise InvalidRequestError(field, moment.isoformat(), "must fall on a 5-minute boundary")
    return moment


def check_interval(
    start: Any, end: Any, now: datetime, *, fields: tuple[str, str]
) -> tuple[datetime, datetime]:
    """Historical time rules: aware, 5-minute boundaries, end after start, under 24 h, recent."""
    start_time, end_time = _time(start, fields[0]), _time(end, fields[1])
    if end_time <= start_time:
        raise InvalidRequestError(fields[1], end_time.isoformat(), f"must be after {fields[0]}")
    if end_time - start_time >= timedelta(seconds=RETENTION_SECONDS):
        raise InvalidRequestError(
            fields[1], end_time.isoformat(), "the range must be shorter than 24 hours"
        )
    if start_time < now - timedelta(seconds=RETENTION_SECONDS):
        raise InvalidRequestError(
            fields[0], start_time.isoformat(), "must be no earlier than 24 hours ago"
        )
    return start_time, end_time


def _check_current_combinations(
    metrics: tuple[Metric, ...],
    groupings: tuple[str, ...],
    channels: tuple[str, ...] | None,
    by_profile: bool,
    names: FieldNames,
) -> None:
    field = names.metrics
    if "CHANNEL" in groupings and channels is None:
        raise InvalidRequestError(
            names.channels, None, "grouping by CHANNEL needs a channel filter"
        )
    for metric in metrics:
        if metric.name == "ESTIMATED_WAIT_TIME" and (
            groupings != ("QUEUE", "CHANNEL") or by_profile or channels is None
        ):
            raise InvalidRequestError(
                field,
                metric.name,
                "ESTIMATED_WAIT_TIME needs queue and channel filters, groupings QUEUE, CHANNEL",
            )
        if (
            metric.name in _NEEDS_PROFILE_FILTER
            and "ROUTING_PROFILE" in groupings
            and not by_profile
        ):
            raise InvalidRequestError(
                field,
                metric.name,
                "grouped by ROUTING_PROFILE, this metric needs a routing profile filter",
            )


# -- the rich API ------------------------------------------------------------------------
def select_resources(
    values: Any, *, instance_id: str, region: str, field: str, kind: str, allow_all: bool
) -> tuple[tuple[str, ...] | None, bool]:
    """IDs of `kind` (``queue`` or ``routing-profile``), or ``(None, True)`` for "all"."""
    if values == "all" and allow_all:
        return None, True
    if isinstance(values, str):
        also = ", or 'all'" if allow_all else ""
        what = kind.replace("-", " ")
        raise InvalidRequestError(field, values, f"expected a list of {what} IDs/ARNs{also}")
    ids = normalise_resources(
        values, field=field, kind=kind, instance_id=instance_id, region=region
    )
    return ids, False


def check_queue_types(value: Any, field: str = "queue_types") -> tuple[str, ...]:
    """Queue types for ``queues="all"``: STANDARD and/or AGENT, each once."""
    types = check_strings(field, value)
    if not types or any(t not in QUEUE_TYPES for t in types) or len(set(types)) != len(types):
        raise InvalidRequestError(field, types, "STANDARD and/or AGENT, each once")
    return tuple(types)


@attrs.frozen
class FieldNames:
    """What the caller calls each argument, so that an error names the caller's field."""

    instance_id: str = "instance_id"
    metrics: str = "metrics"
    queues: str = "queues"
    routing_profiles: str = "routing_profiles"
    channels: str = "channels"
    groupings: str = "groupings"
    queue_types: str = "queue_types"
    start: str = "start"
    end: str = "end"
    page_size: str = "page_size"


#: The rich API's names.
RICH = FieldNames()


def build_request(
    operation: Operation,
    *,
    instance_id: object,
    region: str,
    metrics: Iterable[object],
    queues: object = None,
    routing_profiles: object = None,
    channels: object = None,
    groupings: object = (),
    queue_types: object = ("STANDARD",),
    start: object = None,
    end: object = None,
    now: datetime | None = None,
    page_size: object = None,
    sort: tuple[str, str] | None = None,
    names: FieldNames = RICH,
    allow_all: bool = True,
) -> MetricsRequest:
    """Validate and normalise a request of either operation: the one builder of both faces.

    The drop-in API translates its keyword arguments into these (`_dropin.py`) and passes
    its own `names`; `allow_all` says whether ``queues="all"`` is accepted. Historical
    requests need `now` (for the 24-hour window).
    """
    historical = operation == HISTORICAL_OP
    instance = check_instance_id(instance_id, names.instance_id)
    parsed = check_metrics(metrics, historical=historical, field=names.metrics)
    start_time = end_time = None
    if historical:
        if now is None:
            raise TypeError("a historical request needs now")
        start_time, end_time = check_interval(start, end, now, fields=(names.start, names.end))
        if queues is None:
            also = ", or 'all'" if allow_all else ""
            raise InvalidRequestError(names.queues, None, f"give a list of queue IDs/ARNs{also}")
    if (queues is None) == (routing_profiles is None):
        raise InvalidRequestError(
            names.queues,
            queues,
            f"give either {names.queues} or {names.routing_profiles} (not both, not neither)",
        )
    by_queue = queues is not None
    ids, everything = select_resources(
        queues if by_queue else routing_profiles,
        instance_id=instance,
        region=region,
        field=names.queues if by_queue else names.routing_profiles,
        kind="queue" if by_queue else "routing-profile",
        allow_all=allow_all,
    )
    chans = _channels(channels, names.channels)
    allowed = _HISTORICAL_GROUPINGS if historical else _CURRENT_GROUPINGS
    groups = _groupings(groupings, names.groupings, allowed)
    if not historical:
        _check_current_combinations(parsed, groups, chans, not by_queue, names)
    return MetricsRequest(
        operation=operation,
        instance_id=instance,
        metrics=parsed,
        queue_ids=ids if by_queue else None,
        routing_profile_ids=None if by_queue else ids,
        all_queues=everything and by_queue,
        all_routing_profiles=everything and not by_queue,
        queue_types=check_queue_types(queue_types, names.queue_types),
        channels=chans,
        groupings=groups,
        start_time=start_time,
        end_time=end_time,
        page_size=check_page_size(page_size, names.page_size),
        sort=sort,
    )


def build_request_memo(operation: Operation, **arguments: Any) -> MetricsRequest:
    """`build_request`, remembered for real-time requests asked again with equal arguments.

    A service asks for the same thousand queues every few seconds: the request it gets
    back is the same immutable object, checked once. Only lists, tuples and hashable
    values are remembered by value (a generator given as `queues` is not consumed
    here); historical requests depend on the time of asking, and are built every time.
    """
    if operation != CURRENT_OP:
        return build_request(operation, **arguments)
    try:
        frozen = tuple((name, _frozen(value)) for name, value in arguments.items())
        return _remembered(operation, frozen)  # hashing an unhashable value: TypeError
    except TypeError:
        return build_request(operation, **arguments)


_ATOMIC = frozenset({str, int, float, bool, type(None), Metric, FieldNames})


def _frozen(value: object) -> object:
    if type(value) in _ATOMIC:
        return value
    if type(value) in (list, tuple):
        return tuple(value)  # type: ignore[arg-type]
    raise TypeError(value)  # anything else is not remembered


@functools.lru_cache(maxsize=256)
def _remembered(operation: Operation, frozen: tuple[tuple[str, object], ...]) -> MetricsRequest:
    return build_request(operation, **dict(frozen))  # type: ignore[arg-type]
