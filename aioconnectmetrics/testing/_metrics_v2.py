"""The fake's GetMetricDataV2, over the contact history GetMetricData reads.

Validation mirrors what the API reference says the service rejects (independent of the
library's own checks): the instance ARN; the interval and range rules (FIFTEEN_MIN,
THIRTY_MIN and HOUR under 3 days; DAY, WEEK and TOTAL under 35 days; 3 months back; end
not in the future); 1 to 5 filter keys, one of them a resource, at most 100 values across
them (CHANNEL values not counted); at most 4 groupings; each metric's threshold rules.

What it simulates: filters and groupings by QUEUE, CHANNEL, ROUTING_PROFILE, AGENT and
INITIATION_METHOD (a contact's profile is its agent's: a contact no agent handled has
none), the metrics
of `V2_SIMULATED`, defined over the same contacts as GetMetricData's (`_sim.py`), so
that the two agree wherever they overlap. Intervals start at StartTime and follow each
other by the period (TimeZone is checked, not applied); rows are the (dimensions,
interval) pairs that have contacts, in interval then dimension order. Anything else is
declined with ``NotSimulatedByFakeException``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._v2.catalog import INTERVALS, RESOURCE_FILTER_KEYS, V2_METRICS
from .._v2.request import months_before
from ._coverage import not_simulated
from ._faults import invalid
from ._sim import Contact, ContactCentre, historical_value
from ._sim_history import contacts_between

_ARN = re.compile(r"^arn:aws[a-z-]*:connect:([a-z0-9-]+):(\d{12}):instance/([A-Za-z0-9-]{1,100})$")
_SIMULATED_KEYS = ("QUEUE", "CHANNEL", "ROUTING_PROFILE", "AGENT", "INITIATION_METHOD")


def _sum_over_handled(attribute: Callable[[Contact], float]) -> Callable[..., float | None]:
    def value(contacts: Sequence[Contact], threshold: float | None, comparison: str) -> float:
        return float(sum(attribute(c) for c in contacts if c.handled))

    return value


def _v1(name: str) -> Callable[..., float | None]:
    def value(contacts: Sequence[Contact], threshold: float | None, comparison: str) -> Any:
        return historical_value(name, threshold, contacts, 0.0)

    return value


def _within(c: Contact, threshold: float | None, comparison: str) -> bool:
    assert threshold is not None
    return c.queue_time <= threshold if comparison == "LTE" else c.queue_time < threshold


def _service_level(
    contacts: Sequence[Contact], threshold: float | None, comparison: str
) -> float | None:
    left = [c for c in contacts if c.queued and c.outcome in ("HANDLED", "ABANDONED")]
    if not left:
        return None
    return 100.0 * sum(_within(c, threshold, comparison) for c in left) / len(left)


def _abandonment_rate(contacts: Sequence[Contact], *_: Any) -> float | None:
    queued = [c for c in contacts if c.queued]
    if not queued:
        return None
    return 100.0 * sum(c.outcome == "ABANDONED" for c in queued) / len(queued)


def _in_x(outcome: str) -> Callable[..., float]:
    def value(contacts: Sequence[Contact], threshold: float | None, comparison: str) -> float:
        return float(
            sum(
                c.queued and c.outcome == outcome and _within(c, threshold, comparison)
                for c in contacts
            )
        )

    return value


#: Metric name -> its value over a set of contacts (threshold, comparison).
V2_SIMULATED: Mapping[str, Callable[..., float | None]] = {
    **{
        name: _v1(name)
        for name in (
            "CONTACTS_QUEUED",
            "CONTACTS_HANDLED",
            "CONTACTS_ABANDONED",
            "CONTACTS_HOLD_ABANDONS",
            "CONTACTS_TRANSFERRED_OUT",
            "CONTACTS_TRANSFERRED_OUT_FROM_QUEUE",
        )
    },
    "AVG_HANDLE_TIME": _v1("HANDLE_TIME"),
    "AVG_INTERACTION_TIME": _v1("INTERACTION_TIME"),
    "AVG_INTERACTION_AND_HOLD_TIME": _v1("INTERACTION_AND_HOLD_TIME"),
    "AVG_AFTER_CONTACT_WORK_TIME": _v1("AFTER_CONTACT_WORK_TIME"),
    "AVG_HOLD_TIME": _v1("HOLD_TIME"),
    "AVG_QUEUE_ANSWER_TIME": _v1("QUEUE_ANSWER_TIME"),
    "AVG_ABANDON_TIME": _v1("ABANDON_TIME"),
    "MAX_QUEUED_TIME": _v1("QUEUED_TIME"),
    "SUM_HANDLE_TIME": _sum_over_handled(lambda c: c.handle_time),
    "SUM_INTERACTION_TIME": _sum_over_handled(lambda c: c.interaction_time),
    "SUM_INTERACTION_AND_HOLD_TIME": _sum_over_handled(lambda c: c.interaction_time + c.hold_time),
    "SUM_AFTER_CONTACT_WORK_TIME": _sum_over_handled(lambda c: c.acw_time),
    "SUM_HOLD_TIME": _sum_over_handled(lambda c: c.hold_time),
    "SERVICE_LEVEL": _service_level,
    "ABANDONMENT_RATE": _abandonment_rate,
    "SUM_CONTACTS_ANSWERED_IN_X": _in_x("HANDLED"),
    "SUM_CONTACTS_ABANDONED_IN_X": _in_x("ABANDONED"),
}


def instance_of_arn(params: Mapping[str, Any], region: str) -> str:
    """The instance ID of the request's ResourceArn (of this region), or a 400."""
    match = _ARN.fullmatch(str(params.get("ResourceArn") or ""))
    if match is None:
        raise invalid("ResourceArn must be the ARN of an Amazon Connect instance")
    if match[1] != region:
        raise invalid(f"ResourceArn {params['ResourceArn']} is not in region {region}")
    return match[3]


def _times(params: Mapping[str, Any], now: float) -> tuple[float, float, str]:
    start, end = params.get("StartTime"), params.get("EndTime")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
        raise invalid("StartTime and EndTime are required")
    interval = params.get("Interval") or {}
    period = interval.get("IntervalPeriod", "TOTAL")
    if period not in INTERVALS:
        raise invalid(f"Invalid IntervalPeriod {period!r}")
    zone = interval.get("TimeZone")
    if zone is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-/]{0,63}", str(zone)):
        raise invalid(f"Invalid TimeZone {zone!r}")
    if end <= start:
        raise invalid("EndTime must be later than StartTime")
    if end > now:
        raise invalid("EndTime cannot be later than the current time")
    oldest = months_before(datetime.fromtimestamp(now, timezone.utc), 3).timestamp()
    if start < oldest:
        raise invalid("StartTime cannot be earlier than 3 months ago")
    if end - start >= INTERVALS[period][1]:
        days = INTERVALS[period][1] // 86_400
        raise invalid(f"With IntervalPeriod {period} the range must be less than {days} days")
    return float(start), float(end), period


def _filters(params: Mapping[str, Any]) -> dict[str, list[str]]:
    filters = params.get("Filters")
    if not isinstance(filters, list) or not 1 <= len(filters) <= 5:
        raise invalid("Filters must hold 1 to 5 filters")
    found: dict[str, list[str]] = {}
    for item in filters:
        key, values = item.get("FilterKey"), item.get("FilterValues")
        if "StringCondition" in item:
            raise not_simulated("GetMetricDataV2 Filters[].StringCondition")
        if not isinstance(values, list) or not 1 <= len(values) <= 100:
            raise invalid("FilterValues must hold 1 to 100 values")
        if key in found:
            raise invalid(f"Filter key {key} is repeated")
        found[str(key)] = [str(v) for v in values]
    if sum(len(v) for k, v in found.items() if k != "CHANNEL") > 100:
        raise invalid("At most 100 filter values are allowed across filter keys")
    if not any(k in RESOURCE_FILTER_KEYS for k in found):
        raise invalid("Filters must include a resource filter (QUEUE, ROUTING_PROFILE, ...)")
    for key in found:
        if key not in _SIMULATED_KEYS:
            raise not_simulated(f"GetMetricDataV2 filter key {key}")
    return found


def _metrics(params: Mapping[str, Any]) -> list[tuple[dict[str, Any], float | None, str]]:
    metrics = params.get("Metrics")
    if not isinstance(metrics, list) or not metrics:
        raise invalid("Metrics is required")
    found: list[tuple[dict[str, Any], float | None, str]] = []
    for metric in metrics:
        if "MetricId" in metric:
            raise not_simulated("GetMetricDataV2 Metrics[].MetricId")
        if metric.get("MetricFilters"):
            raise not_simulated("GetMetricDataV2 Metrics[].MetricFilters")
        name = metric.get("Name")
        spec = V2_METRICS.get(str(name))
        if spec is None:
            raise invalid(f"Invalid metric name {name!r}")
        thresholds = metric.get("Threshold") or []
        if spec.comparisons:
            if len(thresholds) != 1:
                raise invalid(f"Metric {name} needs one threshold")
            value, comparison = (
                thresholds[0].get("ThresholdValue"),
                thresholds[0].get("Comparison"),
            )
            if (
                comparison not in spec.comparisons
                or not isinstance(value, (int, float))
                or value != int(value)
                or not 1 <= value <= 604_800
            ):
                raise invalid(f"Metric {name}: threshold {comparison} {value} is not allowed")
            found.append((metric, float(value), str(comparison)))
        elif thresholds:
            raise invalid(f"Metric {name} does not take a threshold")
        else:
            found.append((metric, None, ""))
        if name not in V2_SIMULATED:
            raise not_simulated(f"GetMetricDataV2 metric {name}")
    if sum(m.get("Name") == "SERVICE_LEVEL" for m, _, _ in found) > 20:
        raise invalid("At most 20 SERVICE_LEVEL metrics are allowed")
    return found


def _dimension(centre: ContactCentre, key: str, contact: Contact) -> dict[str, str] | None:
    if key == "QUEUE":
        return {"QUEUE": contact.queue_id, "QUEUE_ARN": centre.queues[contact.queue_id].arn}
    if key == "CHANNEL":
        return {"CHANNEL": contact.channel}
    if key == "INITIATION_METHOD":
        return {"INITIATION_METHOD": contact.initiation}
    if contact.agent_id is None or contact.agent_id not in centre.agents:
        return None
    if key == "AGENT":
        agent = contact.agent_id
        return {"AGENT": agent, "AGENT_ARN": f"{centre.instance_arn}/agent/{agent}"}
    profile = centre.routing_profiles[centre.agents[contact.agent_id].routing_profile_id]
    return {"ROUTING_PROFILE": profile.id, "ROUTING_PROFILE_ARN": profile.arn}


def metric_data_v2(
    centre: ContactCentre,
    params: Mapping[str, Any],
    now: float,
    resource_id: Callable[[str, str], str],
) -> list[dict[str, Any]]:
    """GetMetricDataV2's rows, in interval then dimension order."""
    start, end, period = _times(params, now)
    filters = _filters(params)
    groupings = list(params.get("Groupings") or [])
    if len(groupings) > 4 or len(set(groupings)) != len(groupings):
        raise invalid("At most 4 groupings, each once")
    for grouping in groupings:
        if grouping not in _SIMULATED_KEYS:
            raise not_simulated(f"GetMetricDataV2 grouping {grouping}")
    metrics = _metrics(params)
    kinds = {"QUEUE": "queue", "ROUTING_PROFILE": "routing-profile", "AGENT": "agent"}
    wanted = {
        k: {resource_id(v, kinds[k]) if k in kinds else v for v in vs} for k, vs in filters.items()
    }
    queues = sorted(wanted.get("QUEUE", set(centre.queues)) & set(centre.queues))
    channels = sorted(wanted.get("CHANNEL", {"VOICE", "CHAT", "TASK", "EMAIL"}))
    step = INTERVALS[period][0] or (end - start)
    groups: dict[tuple[int, tuple[tuple[str, str], ...]], list[Contact]] = {}
    for contact in contacts_between(centre, queues, channels, start=start, end=end, now=now):
        agent = centre.agents.get(contact.agent_id or "")
        if "AGENT" in wanted and (agent is None or agent.id not in wanted["AGENT"]):
            continue
        if "INITIATION_METHOD" in wanted and contact.initiation not in wanted["INITIATION_METHOD"]:
            continue
        if "ROUTING_PROFILE" in wanted and (
            agent is None or agent.routing_profile_id not in wanted["ROUTING_PROFILE"]
        ):
            continue
        dims: dict[str, str] = {}
        for grouping in groupings:
            part = _dimension(centre, grouping, contact)
            if part is None:
                break
            dims |= part
        else:
            index = int((contact.enqueued_at - start) // step)
            groups.setdefault((index, tuple(sorted(dims.items()))), []).append(contact)
    results = []
    for index, dims_key in sorted(groups):
        contacts = groups[(index, dims_key)]
        interval_start = start + index * step
        results.append(
            {
                "Dimensions": dict(dims_key),
                "MetricInterval": {
                    "Interval": period,
                    "StartTime": interval_start,
                    "EndTime": min(interval_start + step, end),
                },
                "Collections": [
                    {"Metric": metric, "Value": V2_SIMULATED[metric["Name"]](contacts, t, c)}
                    for metric, t, c in metrics
                ],
            }
        )
    return results
