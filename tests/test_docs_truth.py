"""What the docs state as fact is derived from the code: settings, defaults, quotas, IAM.

A page that lists "everything that can be set" is checked against the signatures, a
quota table against `SERVICE_QUOTAS`, and the IAM actions against the operations the
transport can call, so that none of them can drift from the code again.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aioconnectmetrics import (
    SERVICE_QUOTAS,
    Adaptation,
    CachePolicy,
    ConnectMetrics,
    RateLimiter,
    RetryPolicy,
)
from aioconnectmetrics._demo import DEMO_LATENCY
from aioconnectmetrics._transport import _METHODS

DOCS = Path(__file__).parent.parent / "docs"
NAME = re.compile(r"`(\w+)`")


def section(document: str, heading: str) -> list[str]:
    """The lines under `heading`, up to the next heading of any level."""
    lines = (DOCS / document).read_text().splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start:end]


def table(lines: list[str]) -> list[list[str]]:
    """The rows of the first Markdown table in `lines`, header and rule left out."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines if line[:1] == "|"]
    return rows[2:]


def shown(default: Any) -> set[str]:
    """How the docs may write a default: `None`, `False`, `32`, `0.25`, `time.time`, ..."""
    if default is None or isinstance(default, bool):
        return {f"`{default}`"}
    if isinstance(default, (int, float)):
        return {f"`{default:g}`", f"`{default!r}`"}
    if callable(default) and hasattr(default, "__qualname__"):
        return {f"`{default.__module__.split('.')[0]}.{default.__qualname__}`"}
    if default == type(default)():
        return {f"`{type(default).__name__}()`"}
    raise AssertionError(f"no written form for {default!r}")


SETTINGS: list[tuple[Callable[..., Any], str]] = [
    (ConnectMetrics, "## The client: `ConnectMetrics(...)`"),
    (RateLimiter, "## `RateLimiter(...)`"),
    (Adaptation, "## `Adaptation(...)`"),
    (RetryPolicy, "## `RetryPolicy(...)`"),
    (CachePolicy, "## `CachePolicy(...)`"),
]


@pytest.mark.parametrize(
    ("settings", "heading"), SETTINGS, ids=lambda s: getattr(s, "__name__", "")
)
def test_every_setting_is_in_the_configuration_reference_with_its_default(
    settings: Callable[..., Any], heading: str
) -> None:
    """Each constructor argument has a row in configuration.md that states its default."""
    rows = table(section("configuration.md", heading))
    documented = {name: row[1] for row in rows for name in NAME.findall(row[0])}
    parameters = inspect.signature(settings).parameters
    assert set(documented) == set(parameters)
    for name, parameter in parameters.items():
        written = documented[name]
        assert any(written.startswith(form) for form in shown(parameter.default)), (
            f"{settings.__name__}({name}=...): the docs say {written!r}, "
            f"the code {parameter.default!r}"
        )


def test_the_quota_table_is_the_service_quotas_in_force() -> None:
    """configuration.md's table of quotas is SERVICE_QUOTAS, every operation of it."""
    rows = table(section("configuration.md", "### Service quotas"))
    documented = {NAME.findall(row[0])[0]: (float(row[1]), int(row[2])) for row in rows}
    assert documented == dict(SERVICE_QUOTAS)


def iam_actions(text: str) -> set[str]:
    return set(re.findall(r"`connect:(\w+)`", text))


def test_the_iam_actions_listed_are_those_the_code_calls() -> None:
    """The guide's table and troubleshooting list exactly the operations the transport calls."""
    calls = set(_METHODS)
    guide = "\n".join(section("guide.md", "## Install"))
    assert iam_actions(guide) == calls
    troubleshooting = "\n".join(section("troubleshooting.md", "## `AccessDeniedError`"))
    assert iam_actions(troubleshooting) == calls


def test_the_demo_latency_in_the_docs_is_the_demos() -> None:
    """docs/cli.md says the latency the demo's fake really has."""
    assert f"({DEMO_LATENCY * 1000:.0f} ms latency" in (DOCS / "cli.md").read_text()
