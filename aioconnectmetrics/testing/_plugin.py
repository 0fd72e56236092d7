"""pytest plugin with the ``connect_fake`` fixture (entry point ``pytest11``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._fake import FakeConnect


@pytest.fixture(name="connect_fake")
def _connect_fake() -> Iterator[FakeConnect]:
    """A running `FakeConnect` with quotas on, stopped after the test."""
    with FakeConnect() as fake:
        yield fake
