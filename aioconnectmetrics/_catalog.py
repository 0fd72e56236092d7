"""The metric catalog: units, statistics and how each metric combines across batches.

One table, taken from the current Amazon Connect API reference (the documentation
inside botocore's service model), not from the 2018 change note: `ABANDON_TIME` is
SECONDS/AVG and `SERVICE_LEVEL` takes any whole-second threshold from 1 to 604800.
A test checks every row against botocore's model text.

How a metric combines depends on what it counts and on how the request was cut:

* ``scope`` says what the metric is about. Contact metrics (``Scope.CONTACT``) belong to
  exactly one queue; agent metrics (``Scope.AGENT``) belong to an agent, and one agent
  serves several queues (through its routing profile) but has exactly one routing profile.
* When batches partition the queues, contact sums are exact, and agent sums would
  over-count (an agent is in every batch that holds one of its queues): agent metrics are
  then asked by routing profile and each profile counted once (`_plan.AgentSplit`). When
  batches partition routing profiles, agent sums are exact and contact sums get bounds.
  See `_merge.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = [
    "CHANNELS",
    "CURRENT",
    "HISTORICAL",
    "Combine",
    "MetricSpec",
    "Scope",
]


class Combine(enum.Enum):
    """How values of one metric from disjoint batches combine into one value."""

    SUM = "sum"
    MAX = "max"
    #: A mean whose denominator is the catalog's ``weight`` metric.
    WEIGHTED_MEAN = "weighted_mean"
    #: A ratio over agents with no count behind it in this API (``OCCUPANCY``).
    AGENT_RATIO = "agent_ratio"
    #: Queue-specific; never summarised across queues (``ESTIMATED_WAIT_TIME``).
    NONE = "none"


class Scope(enum.Enum):
    """What a metric is about: contacts (one queue each) or agents (many queues each)."""

    CONTACT = "contact"
    AGENT = "agent"


@attrs.frozen
class MetricSpec:
    """One row of the catalog."""

    name: str
    unit: str
    statistic: str | None
    combine: Combine
    scope: Scope
    weight: str | None = None
    weight_exact: bool = False
    needs_threshold: bool = False


def _table(*specs: MetricSpec) -> Mapping[str, MetricSpec]:
    return MappingProxyType({spec.name: spec for spec in specs})


_C, _A = Scope.CONTACT, Scope.AGENT


def _agents(name: str) -> MetricSpec:
    return MetricSpec(name, "COUNT", None, Combine.SUM, _A)


def _count(name: str, statistic: str | None = "SUM") -> MetricSpec:
    return MetricSpec(name, "COUNT", statistic, Combine.SUM, _C)


def _mean(name: str, weight: str, *, exact: bool, unit: str = "SECONDS") -> MetricSpec:
    return MetricSpec(
        name, unit, "AVG", Combine.WEIGHTED_MEAN, _C, weight=weight, weight_exact=exact
    )


#: Real-time metrics (`GetCurrentMetricData`); no statistic.
CURRENT: Mapping[str, MetricSpec] = _table(
    _agents("AGENTS_AFTER_CONTACT_WORK"),
    _agents("AGENTS_AVAILABLE"),
    _agents("AGENTS_ERROR"),
    _agents("AGENTS_NON_PRODUCTIVE"),
    _agents("AGENTS_ON_CALL"),
    _agents("AGENTS_ON_CONTACT"),
    _agents("AGENTS_ONLINE"),
    _agents("AGENTS_STAFFED"),
    _count("CONTACTS_IN_QUEUE", None),
    _count("CONTACTS_SCHEDULED", None),
    MetricSpec("ESTIMATED_WAIT_TIME", "SECONDS", None, Combine.NONE, _C),
    MetricSpec("OLDEST_CONTACT_AGE", "SECONDS", None, Combine.MAX, _C),
    _agents("SLOTS_ACTIVE"),
    _agents("SLOTS_AVAILABLE"),
)

#: Historical metrics (`GetMetricData`), with their one allowed statistic.
HISTORICAL: Mapping[str, MetricSpec] = _table(
    _mean("ABANDON_TIME", "CONTACTS_ABANDONED", exact=False),
    _mean("AFTER_CONTACT_WORK_TIME", "CONTACTS_HANDLED", exact=True),
    _count("API_CONTACTS_HANDLED"),
    _count("CALLBACK_CONTACTS_HANDLED"),
    _count("CONTACTS_ABANDONED"),
    _count("CONTACTS_AGENT_HUNG_UP_FIRST"),
    _count("CONTACTS_CONSULTED"),
    _count("CONTACTS_HANDLED"),
    _count("CONTACTS_HANDLED_INCOMING"),
    _count("CONTACTS_HANDLED_OUTBOUND"),
    _count("CONTACTS_HOLD_ABANDONS"),
    _count("CONTACTS_MISSED"),
    _count("CONTACTS_QUEUED"),
    _count("CONTACTS_TRANSFERRED_IN"),
    _count("CONTACTS_TRANSFERRED_IN_FROM_QUEUE"),
    _count("CONTACTS_TRANSFERRED_OUT"),
    _count("CONTACTS_TRANSFERRED_OUT_FROM_QUEUE"),
    _mean("HANDLE_TIME", "CONTACTS_HANDLED", exact=True),
    _mean("HOLD_TIME", "CONTACTS_HANDLED", exact=False),
    _mean("INTERACTION_AND_HOLD_TIME", "CONTACTS_HANDLED", exact=True),
    _mean("INTERACTION_TIME", "CONTACTS_HANDLED", exact=True),
    MetricSpec("OCCUPANCY", "PERCENT", "AVG", Combine.AGENT_RATIO, _A),
    _mean("QUEUE_ANSWER_TIME", "CONTACTS_HANDLED", exact=False),
    MetricSpec("QUEUED_TIME", "SECONDS", "MAX", Combine.MAX, _C),
    MetricSpec(
        "SERVICE_LEVEL",
        "PERCENT",
        "AVG",
        Combine.WEIGHTED_MEAN,
        _C,
        weight="CONTACTS_QUEUED",
        weight_exact=False,
        needs_threshold=True,
    ),
)

#: The `Channel` enum of the service model.
CHANNELS: tuple[str, ...] = ("VOICE", "CHAT", "TASK", "EMAIL")
#: The `ContactState` enum of the service model (an agent's contacts, GetCurrentUserData).
CONTACT_STATES: tuple[str, ...] = (
    "INCOMING",
    "PENDING",
    "CONNECTING",
    "CONNECTED",
    "CONNECTED_ONHOLD",
    "MISSED",
    "ERROR",
    "ENDED",
    "REJECTED",
)
#: Resources per GetCurrentUserData request, per filter (the API reference's limits).
USER_DATA_FILTER_LIMITS = {
    "Queues": 100,
    "RoutingProfiles": 100,
    "Agents": 100,
    "UserHierarchyGroups": 1,
}

#: Limits from the API reference.
MAX_QUEUES_PER_REQUEST = 100
MAX_RESULTS = 100
MAX_GROUPINGS = 2
MAX_SERVICE_LEVEL_METRICS = 20
THRESHOLD_RANGE = (1, 604_800)
INTERVAL_SECONDS = 300
RETENTION_SECONDS = 24 * 3600
TOKEN_LIFETIME_SECONDS = 300.0
