"""The metric catalog agrees with the current API reference in botocore's service model."""

from __future__ import annotations

import html
import re

import botocore.session
import pytest

from aioconnectmetrics._catalog import (
    CHANNELS,
    CONTACT_STATES,
    CURRENT,
    HISTORICAL,
    THRESHOLD_RANGE,
    USER_DATA_FILTER_LIMITS,
)

# The reference text calls HOLD_TIME "AVG_HOLD_TIME"; the enum (what the API takes) wins.
DOC_NAMES = {"HOLD_TIME": "AVG_HOLD_TIME"}


def _reference(operation: str, member: str) -> tuple[str, list[str]]:
    model = botocore.session.get_session().get_service_model("connect")
    shape = model.operation_model(operation).input_shape.members[member]
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", shape.documentation)))
    return text, list(shape.member.members["Name"].enum)


@pytest.mark.parametrize(
    ("operation", "member", "catalog"),
    [
        ("GetCurrentMetricData", "CurrentMetrics", CURRENT),
        ("GetMetricData", "HistoricalMetrics", HISTORICAL),
    ],
)
def test_catalog_matches_reference(
    operation: str, member: str, catalog: dict[str, object]
) -> None:
    """Every metric of the model's enum is in the catalog with the documented unit/statistic."""
    text, names = _reference(operation, member)
    assert sorted(names) == sorted(catalog)
    for name in names:
        spec = CURRENT[name] if catalog is CURRENT else HISTORICAL[name]
        doc = DOC_NAMES.get(name, name)
        found = re.search(
            rf"\b{doc}\b(?:(?!Unit:).){{0,120}}Unit: (\w+)(?: Statistic: (\w+))?", text
        )
        assert found, name
        assert found[1] == spec.unit, name
        assert found[2] == spec.statistic, name


def test_service_level_rules_match_reference() -> None:
    """Threshold range and the 20-metric cap come from the reference text."""
    text, _ = _reference("GetMetricData", "HistoricalMetrics")
    low, high = THRESHOLD_RANGE
    assert f"from {low} to {high} (inclusive)" in text
    assert "up to 20 SERVICE_LEVEL metrics" in text
    assert HISTORICAL["ABANDON_TIME"].unit == "SECONDS"  # not COUNT, as the 2018 note said


def test_enums_and_user_data_limits_match_the_model() -> None:
    """Channels, contact states and GetCurrentUserData's filter limits, from the model."""
    model = botocore.session.get_session().get_service_model("connect")
    assert tuple(model.shape_for("Channel").enum) == CHANNELS
    assert tuple(model.shape_for("ContactState").enum) == CONTACT_STATES
    filters = model.operation_model("GetCurrentUserData").input_shape.members["Filters"]
    for name, limit in USER_DATA_FILTER_LIMITS.items():
        assert filters.members[name].metadata["max"] == limit
    states = filters.members["ContactFilter"].members["ContactStates"]
    assert states.metadata["max"] == len(CONTACT_STATES)
