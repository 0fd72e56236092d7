"""The drop-in API's responses are what they were before answers were kept compact.

`tests.dropin_shapes` asks the suite's shapes of question (real time, historical and
GetMetricDataV2; grouped, ungrouped, combined across batches, agents, thresholds,
sorted, small pages; cache off and on) of a seeded fake; the golden file holds each
response's length and SHA-256 as 64c5b5e gave them, when the service's row dicts passed
through untouched.
"""

from __future__ import annotations

import json

import pytest

from .dropin_shapes import GOLDEN, digest, responses


@pytest.fixture(scope="module", name="found")
def _found() -> dict[str, str]:
    return {name: digest(text) for name, text in responses().items()}


def test_every_shape_is_in_the_golden_file(found: dict[str, str]) -> None:
    assert sorted(found) == sorted(json.loads(GOLDEN.read_text()))
    assert len(found) == 34


@pytest.mark.parametrize("shape", sorted(json.loads(GOLDEN.read_text())))
def test_the_response_is_byte_for_byte_the_one_before(found: dict[str, str], shape: str) -> None:
    assert found[shape] == json.loads(GOLDEN.read_text())[shape]
