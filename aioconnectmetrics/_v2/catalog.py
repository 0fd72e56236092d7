"""The GetMetricDataV2 catalog: each metric's unit, dimensions, threshold, and merge rule.

The model's facts (`model.MODEL_ROWS`, checked against botocore's text by a test)
plus how values from several requests combine into one (`V2Combine`):

* ``SUM``: counts and time sums add. Contact metrics are exact whichever way requests
  cut the filter values (a contact has one queue, one agent, one routing profile, one
  time). Agent metrics (`V2Spec.agent_scope`: an agent's own time or state) are exact
  when requests cut agents, routing profiles or time; cut by queue, an agent is in every
  request that holds one of its queues: bounds (largest part, sum), the sum given.
* ``MAX``, ``MIN``: exact.
* ``RATIO``: an average whose sum and count the API also offers (`V2Spec.parts`): the
  library asks for both alongside and divides their totals: exact.
* ``MEAN``: any other average or percentage. A rate over disjoint contacts lies between
  its parts: approximate, bounds (smallest part, largest part), the parts' mean given.
  Agent means cut by queue have no honest bound (the parts overlap): refused.
* ``SCORE``: scores and accuracies (unit DOUBLE) with no count behind them: refused.

A metric needs combining only when several requests give the same row: when the request
is cut (more than 100 filter values, or a range longer than one request may span) and
some cut dimension is not a grouping. Refusals happen before any request is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from .model import MODEL_ROWS

__all__ = ["V2_METRICS", "V2Combine", "V2Spec"]


class V2Combine(enum.Enum):
    """How values of one V2 metric from several requests combine into one value."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    RATIO = "ratio"
    MEAN = "mean"
    SCORE = "score"


HIERARCHY_LEVELS = (
    "AGENT_HIERARCHY_LEVEL_ONE",
    "AGENT_HIERARCHY_LEVEL_TWO",
    "AGENT_HIERARCHY_LEVEL_THREE",
    "AGENT_HIERARCHY_LEVEL_FOUR",
    "AGENT_HIERARCHY_LEVEL_FIVE",
)
_LETTERS: Mapping[str, tuple[str, ...]] = {
    "Q": ("QUEUE",),
    "C": ("CHANNEL",),
    "R": ("ROUTING_PROFILE",),
    "A": ("AGENT",),
    "H": HIERARCHY_LEVELS,
}
#: The dimensions whose validity the catalog knows per metric; other keys the service
#: checks itself.
RESOURCE_DIMENSIONS = frozenset(k for keys in _LETTERS.values() for k in keys)

#: Averages with their (sum, count) in the API: the admin guide defines each as the sum
#: over the contacts handled.
_PARTS: Mapping[str, tuple[str, str]] = {
    "AVG_HANDLE_TIME": ("SUM_HANDLE_TIME", "CONTACTS_HANDLED"),
    "AVG_INTERACTION_TIME": ("SUM_INTERACTION_TIME", "CONTACTS_HANDLED"),
    "AVG_INTERACTION_AND_HOLD_TIME": ("SUM_INTERACTION_AND_HOLD_TIME", "CONTACTS_HANDLED"),
    "AVG_AFTER_CONTACT_WORK_TIME": ("SUM_AFTER_CONTACT_WORK_TIME", "CONTACTS_HANDLED"),
}
#: Metrics of an agent's own time or state (besides those with no QUEUE dimension).
_AGENT_SCOPE = frozenset(
    {
        "AGENT_ADHERENT_TIME",
        "AGENT_NON_ADHERENT_TIME",
        "AGENT_SCHEDULED_TIME",
        "AGENT_SCHEDULE_ADHERENCE",
        "ACTIVE_AI_AGENTS",
    }
)


@attrs.frozen
class V2Spec:
    """One metric of the V2 catalog.

    Attributes:
        name: the API's metric name.
        unit: COUNT, SECONDS, PERCENT, MILLISECONDS or DOUBLE.
        dimensions: the resource groupings and filters the metric allows (of QUEUE,
            CHANNEL, ROUTING_PROFILE, AGENT and the hierarchy levels).
        comparisons: the threshold comparisons it takes (LT, LTE or GT); empty: the
            metric takes no threshold; else it needs one (whole seconds, 1 to 604800).
        metric_filter_keys: the keys its ``MetricFilters`` may use.
        combine: how values from several requests combine (`V2Combine`).
        agent_scope: about agents' own time or state rather than contacts.
        parts: for ``RATIO``: the (sum, count) metrics it is the quotient of.
    """

    name: str
    unit: str
    dimensions: frozenset[str]
    comparisons: tuple[str, ...]
    metric_filter_keys: tuple[str, ...]
    combine: V2Combine
    agent_scope: bool = False
    parts: tuple[str, str] | None = None


def _combine(name: str, unit: str) -> V2Combine:
    if name in _PARTS:
        return V2Combine.RATIO
    if unit == "DOUBLE":
        return V2Combine.SCORE
    if name.startswith("MAX_"):
        return V2Combine.MAX
    if name.startswith("MIN_"):
        return V2Combine.MIN
    if unit == "PERCENT" or name.startswith("AVG_") or name.endswith("_RATE"):
        return V2Combine.MEAN
    return V2Combine.SUM


def _spec(
    name: str, unit: str, letters: str, comparisons: tuple[str, ...], keys: tuple[str, ...]
) -> V2Spec:
    dimensions = frozenset(k for letter in letters for k in _LETTERS[letter])
    return V2Spec(
        name=name,
        unit=unit,
        dimensions=dimensions,
        comparisons=comparisons,
        metric_filter_keys=keys,
        combine=_combine(name, unit),
        agent_scope=name in _AGENT_SCOPE or ("QUEUE" not in dimensions and "AGENT" in dimensions),
        parts=_PARTS.get(name),
    )


#: Every GetMetricDataV2 metric, by name.
V2_METRICS: Mapping[str, V2Spec] = MappingProxyType(
    {row[0]: _spec(*row) for row in sorted(MODEL_ROWS)}
)

#: IntervalPeriod -> (seconds, or None for TOTAL; the longest range of one request).
INTERVALS: Mapping[str, tuple[int | None, int]] = MappingProxyType(
    {
        "FIFTEEN_MIN": (900, 3 * 86_400),
        "THIRTY_MIN": (1_800, 3 * 86_400),
        "HOUR": (3_600, 3 * 86_400),
        "DAY": (86_400, 35 * 86_400),
        "WEEK": (7 * 86_400, 35 * 86_400),
        "TOTAL": (None, 35 * 86_400),
    }
)
#: The filter keys that name Connect resources: a request needs at least one.
RESOURCE_FILTER_KEYS = (
    "QUEUE",
    "ROUTING_PROFILE",
    "AGENT",
    *HIERARCHY_LEVELS,
    "CAMPAIGN",
    "EVALUATION_FORM",
    "EVALUATOR_ID",
)
#: Filter keys the API reference lists for GetMetricDataV2.
FILTER_KEYS = frozenset(
    [
        "AGENT",
        "AI_AGENT",
        "AI_AGENT_ID",
        "AI_AGENT_NAME",
        "AI_AGENT_NAME_VERSION",
        "AI_AGENT_TYPE",
        "AI_PROMPT",
        "AI_PROMPT_ID",
        "AI_PROMPT_NAME",
        "AI_PROMPT_TYPE",
        "AI_TOOL_ID",
        "AI_TOOL_NAME",
        "AI_TOOL_TYPE",
        "AI_USE_CASE",
        "AGENT_HIERARCHY_LEVEL_ONE",
        "AGENT_HIERARCHY_LEVEL_TWO",
        "AGENT_HIERARCHY_LEVEL_THREE",
        "AGENT_HIERARCHY_LEVEL_FOUR",
        "AGENT_HIERARCHY_LEVEL_FIVE",
        "ANSWERING_MACHINE_DETECTION_STATUS",
        "BOT_ALIAS",
        "BOT_ID",
        "BOT_INTENT_NAME",
        "BOT_LOCALE",
        "BOT_VERSION",
        "BROWSER_NAME",
        "CAMPAIGN",
        "CAMPAIGN_DELIVERY_EVENT_TYPE",
        "CAMPAIGN_EXCLUDED_EVENT_TYPE",
        "CASE_STATUS",
        "CASE_TEMPLATE_ARN",
        "CHANNEL",
        "contact/segmentAttributes/connect:Subtype",
        "contact/segmentAttributes/connect:ValidationTestType",
        "DEVICE_MODEL",
        "DEVICE_TYPE",
        "DISCONNECT_REASON",
        "EVALUATION_FORM",
        "EVALUATION_QUESTION",
        "EVALUATION_SECTION",
        "EVALUATION_SOURCE",
        "EVALUATOR_ID",
        "FEATURE",
        "FLOW_ACTION_ID",
        "FLOW_TYPE",
        "FLOWS_MODULE_RESOURCE_ID",
        "FLOWS_NEXT_RESOURCE_ID",
        "FLOWS_NEXT_RESOURCE_QUEUE_ID",
        "FLOWS_OUTCOME_TYPE",
        "FLOWS_RESOURCE_ID",
        "FORM_VERSION",
        "INITIATING_FLOW",
        "INITIATION_METHOD",
        "INVOKING_RESOURCE_PUBLISHED_TIMESTAMP",
        "INVOKING_RESOURCE_TYPE",
        "KNOWLEDGE_BASE_NAME",
        "PARENT_FLOWS_RESOURCE_ID",
        "Q_CONNECT_ENABLED",
        "QUEUE",
        "RESOURCE_PUBLISHED_TIMESTAMP",
        "ROUTING_PROFILE",
        "ROUTING_STEP_EXPRESSION",
        "SESSION_ID",
        "TEST_CASE",
        "TEST_CASE_EXECUTION_FAILURE_REASON",
        "TEST_CASE_EXECUTION_RESULT",
        "TEST_CASE_EXECUTION_STATE",
        "WEB_NOTIFICATION_TYPE",
    ]
)
#: Grouping keys the API reference lists: the filter keys but a few, and a few more.
GROUPING_KEYS = (
    FILTER_KEYS
    - {
        "contact/segmentAttributes/connect:ValidationTestType",
        "EVALUATOR_ID",
        "FEATURE",
        "FLOWS_NEXT_RESOURCE_ID",
        "FLOWS_NEXT_RESOURCE_QUEUE_ID",
        "INITIATING_FLOW",
        "TEST_CASE_EXECUTION_RESULT",
        "TEST_CASE_EXECUTION_STATE",
    }
) | {
    "AI_PROMPT_NAME_VERSION",
    "CAMPAIGN_EXECUTION_TIMESTAMP",
    "EVALUATOR_ID",
    "KNOWLEDGE_ARTICLE_NAME",
    "TEST_CASE_INVOCATION_METHOD",
}
#: Filter values per request, across filter keys (CHANNEL values not counted).
MAX_FILTER_VALUES = 100
MAX_FILTER_KEYS = 5
MAX_GROUPINGS_V2 = 4
MAX_METRIC_FILTERS = 2
MAX_METRIC_FILTER_VALUES = 10
#: At most 20 SERVICE_LEVEL metrics per request, as for GetMetricData.
MAX_SERVICE_LEVELS_V2 = 20
#: How far back the service keeps V2 data: 3 months.
RETENTION_MONTHS = 3
