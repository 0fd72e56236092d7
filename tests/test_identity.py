"""Who asks: the account whose quota a client spends, and the principal whose cache it reads."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import get_session

from aioconnectmetrics import ConnectMetrics, InvalidSettingError, MemoryBackend, RateLimiter
from aioconnectmetrics._identity import Keys, key_identity, principal_of, sts_endpoint
from aioconnectmetrics.testing import FakeConnect, FakeCredentials

METRIC = ["CONTACTS_IN_QUEUE"]


def test_the_principal_of_a_role_session_is_the_role() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/Board/replica-7"
    assert principal_of(session) == "arn:aws:sts::123456789012:assumed-role/Board"
    user = "arn:aws:iam::123456789012:user/ops"
    assert principal_of(user) == user


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (None, None),
        ("https://connect.eu-west-2.amazonaws.com", None),
        ("https://connect-fips.us-gov-west-1.amazonaws.com", None),
        ("https://connect.cn-north-1.amazonaws.com.cn", None),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://localstack:4566", "https://localstack:4566"),
    ],
)
def test_sts_is_asked_where_a_custom_endpoint_points(
    endpoint: str | None, expected: str | None
) -> None:
    assert sts_endpoint(endpoint) == expected


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a", 123456789012])
def test_the_account_id_is_checked(value: object) -> None:
    with pytest.raises(InvalidSettingError, match="account_id") as info:
        ConnectMetrics(account_id=value)  # type: ignore[arg-type]
    assert "12 digits" in str(info.value)


async def test_unreachable_sts_scopes_to_the_key_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No STS (nothing listens): the key alone is the scope, and the log says so."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = Keys("AKIAUNREACHABLE", "its-secret")
    with caplog.at_level(logging.WARNING, logger="aioconnectmetrics.identity"):
        async with ConnectMetrics(
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=keys.access_key,
            aws_secret_access_key=keys.secret_key,
        ) as cm:
            assert cm.identity == key_identity(keys).account
    assert "scoped to key AKIAUNREACHABLE alone" in caplog.text
    assert "its-secret" not in caplog.text


async def test_a_given_account_asks_no_sts(fake: FakeConnect, instance_id: str) -> None:
    queues = fake.add_queues(instance_id, 2)
    async with fake.metrics_client(instance_id, account_id="210987654321") as cm:
        await cm.get_current_metrics(METRIC, queues=queues)
        assert cm.identity == "210987654321"
    assert fake.sts_calls == 0


async def test_a_user_and_a_role_of_one_account_share_its_quota_not_its_cache(
    fake: FakeConnect, instance_id: str
) -> None:
    """One account, two principals: one bucket; two tenants (each fetches for itself)."""
    queues = fake.add_queues(instance_id, 2)
    account = fake.add_account()
    limiter, backend = RateLimiter(), MemoryBackend(clock=fake.clock)
    principals = [fake.user_credentials(account, "ops"), fake.role_credentials(account, "Board")]
    for credentials in principals:
        async with fake.metrics_client(
            instance_id, credentials=credentials, limiter=limiter, cache_backend=backend
        ) as cm:
            await cm.get_current_metrics(METRIC, queues=queues)
            assert cm.identity == account
            assert cm.cache_stats.hits == 0
    assert {key[0] for key in limiter.stats} == {account}
    assert [r.access_key for r in fake.requests if r.operation == "GetCurrentMetricData"] == [
        c.access_key for c in principals
    ]


class _Rotating:
    """A credential provider whose credentials rotate on an injected clock."""

    METHOD = CANONICAL_NAME = "rotating-test"

    def __init__(self, sessions: list[FakeCredentials]) -> None:
        self.sessions = iter(sessions)
        self.now = datetime.now(timezone.utc)
        first = self._metadata()
        self.credentials = AioRefreshableCredentials(
            first["access_key"],
            first["secret_key"],
            first["token"],
            datetime.fromisoformat(first["expiry_time"]),
            self._refresh,
            self.METHOD,
            time_fetcher=lambda: self.now,
        )

    def _metadata(self) -> dict[str, Any]:
        keys = next(self.sessions)
        return {
            "access_key": keys.access_key,
            "secret_key": keys.secret_key,
            "token": keys.token,
            "expiry_time": (self.now + timedelta(hours=1)).isoformat(),
        }

    async def _refresh(self) -> dict[str, Any]:
        return self._metadata()

    async def load(self) -> AioRefreshableCredentials:
        return self.credentials


async def test_rotated_credentials_keep_the_bucket_and_the_cache(
    fake: FakeConnect, instance_id: str
) -> None:
    """Role credentials that rotate mid-run keep their bucket and their cache.

    botocore's refreshable credentials, on an injected clock: the requests after the
    rotation are signed with the new key and spend the same bucket, and a client opened
    after it reads what the first one cached.
    """
    queues = fake.add_queues(instance_id, 2)
    account = fake.add_account()
    sessions = [fake.role_credentials(account, "Board", f"rotation-{i}") for i in range(3)]
    rotating = _Rotating(sessions)
    session = get_session()
    session.get_component("credential_provider").insert_before("env", rotating)
    limiter, backend = RateLimiter(), MemoryBackend(clock=fake.clock)

    def client() -> ConnectMetrics:
        return ConnectMetrics(
            instance_id,
            session=session,
            region_name=fake.region_name,
            endpoint_url=fake.endpoint_url,
            clock=fake.clock,
            limiter=limiter,
            cache_backend=backend,
        )

    async with client() as first:
        await first.get_current_metrics(METRIC, queues=queues)
        rotating.now += timedelta(hours=2)  # expired: the next request signs with new keys
        await first.get_current_metrics(["AGENTS_ONLINE"], queues=queues)
    async with client() as second:
        await second.get_current_metrics(METRIC, queues=queues)
        assert second.cache_stats.hits == 1
        assert second.identity == first.identity == account
    signed = [r.access_key for r in fake.requests if r.operation == "GetCurrentMetricData"]
    assert signed == [sessions[0].access_key, sessions[1].access_key]
    assert {key[0] for key in limiter.stats} == {account}
