"""The V2 catalog agrees with botocore's model text, and docs/metrics.md holds it."""

from __future__ import annotations

import html
import re

import botocore.session
import pytest

from aioconnectmetrics import V2_METRICS, V2Combine
from aioconnectmetrics._limiter import SERVICE_QUOTAS
from aioconnectmetrics._v2.catalog import (
    FILTER_KEYS,
    GROUPING_KEYS,
    INTERVALS,
    MAX_FILTER_KEYS,
    MAX_FILTER_VALUES,
    MAX_GROUPINGS_V2,
)
from aioconnectmetrics._v2.model import MODEL_ROWS
from examples.v2_catalog import DOCUMENT, section

MODEL = botocore.session.get_session().get_service_model("connect")
INPUT = MODEL.operation_model("GetMetricDataV2").input_shape
UNITS = {"Count": "COUNT", "Seconds": "SECONDS", "Percent": "PERCENT", "Percentage": "PERCENT"}
UNITS |= {"Double": "DOUBLE", "Milliseconds": "MILLISECONDS"}
LETTERS = {
    "Queue": "Q",
    "Channel": "C",
    "Routing Profile": "R",
    "Agent": "A",
    "Agent Hierarchy": "H",
}


def _text(documentation: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", documentation)))


def _model_metrics() -> dict[str, str]:
    """Metric name -> its description in the model's text."""
    doc = INPUT.members["Metrics"].documentation
    return {
        name.strip(): _text(body)
        for name, body in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", doc, re.S)
    }


def test_every_metric_of_the_model_is_in_the_catalog_and_nothing_else() -> None:
    assert sorted(_model_metrics()) == sorted(V2_METRICS)
    assert len(V2_METRICS) == len(MODEL_ROWS)


@pytest.mark.parametrize("row", MODEL_ROWS, ids=[r[0] for r in MODEL_ROWS])
def test_each_row_says_what_the_model_says(
    row: tuple[str, str, str, tuple[str, ...], tuple[str, ...]],
) -> None:
    name, unit, letters, comparisons, filter_keys = row
    text = _model_metrics()[name]
    assert UNITS[re.search(r"Unit: (\w+)", text)[1]] == unit  # type: ignore[index]
    found = re.search(
        r"Valid groupings and filters: (.*?)(?= UI name| Valid metric| Threshold| Data for"
        r"| This metric|$)",
        text,
    )
    items = [x.strip() for x in found[1].split(",")] if found else []
    assert sorted(LETTERS[x] for x in items if x in LETTERS) == sorted(letters)
    keys = re.search(r"Valid metric filter key: (.*?)(?:\.| Valid| UI| For now|$)", text)
    assert tuple(re.findall(r"[A-Z_]{3,}", keys[1]) if keys else ()) == filter_keys
    if comparisons:
        rule = text[text.index("Threshold: For ThresholdValue") :]
        assert "any whole number from 1 to 604800 (inclusive), in seconds" in rule
        assert tuple(re.findall(r"\b(LTE|LT|GT)\b", rule[: rule.index(").") + 2])) == comparisons
    else:
        assert "Threshold: For ThresholdValue" not in text


def test_the_limits_and_keys_are_the_references() -> None:
    filters = _text(INPUT.members["Filters"].documentation)
    assert f"up to {MAX_FILTER_KEYS} filter keys" in filters
    assert f"up to {MAX_FILTER_VALUES} filter values across all filter keys" in filters
    listed = filters[filters.index("valid filter keys") : filters.index("The following filter")]
    assert set(re.findall(r"[A-Za-z_/:]{4,}", listed)) - {
        "valid",
        "filter",
        "keys",
        "request",
    } >= (FILTER_KEYS)
    groupings = _text(INPUT.members["Groupings"].documentation)
    assert f"Maximum number of {MAX_GROUPINGS_V2} items" in groupings
    named = groupings[
        groupings.index("Valid grouping keys") : groupings.index("are valid groupings")
    ]
    assert set(re.findall(r"[A-Za-z_/:]{4,}", named)) >= GROUPING_KEYS
    interval = _text(INPUT.members["Interval"].documentation)
    for period, (_, longest) in INTERVALS.items():
        assert (
            f"{period} : The difference between StartTime and EndTime must be less than "
            f"{longest // 86_400} days" in interval
        )
    assert "Historical metrics are available for 3 months" in _text(
        INPUT.members["StartTime"].documentation
    )


def test_the_combining_rules_by_kind() -> None:
    kinds = {name: spec.combine for name, spec in V2_METRICS.items()}
    assert kinds["AVG_HANDLE_TIME"] is V2Combine.RATIO
    assert V2_METRICS["AVG_HANDLE_TIME"].parts == ("SUM_HANDLE_TIME", "CONTACTS_HANDLED")
    assert kinds["SERVICE_LEVEL"] is kinds["ABANDONMENT_RATE"] is V2Combine.MEAN
    assert kinds["MAX_QUEUED_TIME"] is V2Combine.MAX
    assert kinds["MIN_FLOW_TIME"] is V2Combine.MIN
    assert kinds["FAITHFULNESS_SCORE"] is V2Combine.SCORE
    assert kinds["CONTACTS_QUEUED"] is kinds["SUM_HANDLE_TIME"] is V2Combine.SUM
    assert V2_METRICS["SUM_ONLINE_TIME_AGENT"].agent_scope
    assert not V2_METRICS["CONTACTS_HANDLED"].agent_scope
    # Every part of a ratio is itself a summable metric of the catalog.
    for spec in V2_METRICS.values():
        for part in spec.parts or ():
            assert V2_METRICS[part].combine is V2Combine.SUM


def test_the_quota_is_the_service_quotas() -> None:
    assert SERVICE_QUOTAS["GetMetricDataV2"] == (10.0, 10)


def test_docs_hold_the_catalog_generated_from_the_code() -> None:
    """Run ``python -m examples.v2_catalog`` when this fails after a catalog change."""
    assert section() in DOCUMENT.read_text()
