"""Shared fixtures: a fake Connect service on a manual clock, and a seeded instance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aioconnectmetrics import RateLimiter
from aioconnectmetrics._limiter import SERVICE_QUOTAS
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .redis_server import _redis_url

__all__ = ["_redis_url"]  # a fixture for every test module

#: A fixed "now" on a 5-minute boundary: 2027-01-15 08:00:00 UTC.
NOW = 1_800_000_000.0


def unlimited() -> RateLimiter:
    """A limiter that never waits, for a fake without quotas (``quotas=None``).

    A client's own limiter keeps the service's real quotas (5 requests a second) on the
    real clock; where a test is about answers, not pacing, waiting for it is only time.
    """
    return RateLimiter(dict.fromkeys(SERVICE_QUOTAS, (1e6, 10**6)))


@pytest.fixture(name="clock")
def _clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(name="fake")
def _fake(clock: ManualClock) -> Iterator[FakeConnect]:
    """A fake with quotas off (the manual clock does not refill buckets)."""
    with FakeConnect(clock=clock, quotas=None, seed=7) as fake:
        yield fake


@pytest.fixture(name="instance_id")
def _instance_id(fake: FakeConnect) -> str:
    return fake.add_instance()
