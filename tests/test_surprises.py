"""What surprised a new user, each fixed: quotas kept, the client's lifecycle, errors, logs.

Each test here failed before its fix (issue 29): a limiter tuned for one operation that
let the others run unthrottled, a nested ``async with`` that closed the client under the
outer block, settings that could be reassigned after the parts were built from them,
constructor settings refused as bad requests, credential failures that reached users as
botocore's, access denied compared by string, and batch failures printed on stderr.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.exceptions
import pytest
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import get_session

from aioconnectmetrics import (
    SERVICE_QUOTAS,
    AccessDeniedError,
    CachePolicy,
    ConfigurationError,
    ConnectMetrics,
    InvalidSettingError,
    RateLimiter,
    RetryPolicy,
    ServiceError,
)
from aioconnectmetrics.testing import FakeConnect

# -- the limiter ------------------------------------------------------------------------


def test_tuning_one_operation_keeps_the_service_quota_of_every_other() -> None:
    """RateLimiter({"GetCurrentMetricData": ...}) leaves the others at the service's quota."""
    limiter = RateLimiter({"GetCurrentMetricData": (3, 4)})
    tuned = limiter.bucket("account", "us-east-1", "GetCurrentMetricData")
    assert tuned is not None
    assert (tuned.max_rate, tuned.burst) == (3.0, 4)
    for operation, (rate, burst) in SERVICE_QUOTAS.items():
        if operation == "GetCurrentMetricData":
            continue
        bucket = limiter.bucket("account", "us-east-1", operation)
        assert bucket is not None, operation
        assert (bucket.max_rate, bucket.burst) == (rate, burst)


@pytest.mark.parametrize(
    ("quotas", "field"),
    [
        ({"GetMetricData": (5,)}, "quotas['GetMetricData']"),
        ({"GetMetricData": (5, 0)}, "quotas['GetMetricData'].burst"),
        ({"GetMetricData": (-1, 8)}, "quotas['GetMetricData'].rate"),
        ({"PutSomething": (5, 8)}, "quotas"),
        ([("GetMetricData", (5, 8))], "quotas"),
    ],
)
def test_a_bad_quota_names_its_entry(quotas: Any, field: str) -> None:
    """A wrong entry is refused, naming which one, as a setting error."""
    with pytest.raises(InvalidSettingError) as info:
        RateLimiter(quotas)
    assert info.value.field == field


def test_limiter_stats_is_a_property_and_calling_it_still_works_with_a_warning() -> None:
    """``limiter.stats`` as cm.stats is read; ``limiter.stats()`` warns and answers alike."""
    limiter = RateLimiter(clock=lambda: 0.0)
    limiter.bucket("account", "us-east-1", "ListQueues")
    assert list(limiter.stats) == [("account", "us-east-1", "ListQueues")]
    with pytest.warns(DeprecationWarning, match=r"limiter\.stats\(\) is deprecated"):
        assert limiter.stats() == limiter.stats


# -- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ConnectMetrics(max_concurrency=0), "max_concurrency"),
        (lambda: ConnectMetrics(pagination_restarts=-1), "pagination_restarts"),
        (lambda: ConnectMetrics(lease_ttl=0), "lease_ttl"),
        (lambda: ConnectMetrics(partial="no"), "partial"),  # type: ignore[arg-type]
        (lambda: ConnectMetrics("bad/instance"), "instance_id"),
        (lambda: RetryPolicy(attempts=0), "attempts"),
        (lambda: CachePolicy(max_age=-1), "max_age"),
        (lambda: CachePolicy(max_rows=0), "max_rows"),
        (lambda: RateLimiter(headroom=2), "headroom"),
    ],
)
def test_a_bad_setting_is_a_configuration_error_naming_it(build: Any, field: str) -> None:
    """Settings are refused as configuration (and ValueError), not as a bad request."""
    with pytest.raises(InvalidSettingError) as info:
        build()
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field


@pytest.mark.parametrize("setting", ["instance_id", "limiter", "retry", "cache_policy", "clock"])
def test_settings_are_read_only(setting: str) -> None:
    """The parts were built from them: reassigning one would split the client in two."""
    cm = ConnectMetrics("instance", region_name="us-east-1")
    before = getattr(cm, setting)
    with pytest.raises(AttributeError):
        setattr(cm, setting, before)


# -- lifecycle ----------------------------------------------------------------------------


async def test_entering_an_open_client_again_is_refused_and_the_outer_block_goes_on(
    fake: FakeConnect, instance_id: str
) -> None:
    """A nested ``async with cm:`` raises RuntimeError; the outer client stays usable."""
    queues = fake.add_queues(instance_id, 3)
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(RuntimeError, match="already open"):
            async with cm:
                pass  # pragma: no cover - never entered
        result = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues)
    assert result.batches == 1
    async with cm:  # closed, it may be opened again
        again = await cm.get_current_metrics(["CONTACTS_IN_QUEUE"], queues=queues, cache="bypass")
    assert again.batches == 1


# -- errors from botocore -------------------------------------------------------------------


def expired_role_session(fake: FakeConnect) -> Any:
    """An aiobotocore session whose role credentials expired and cannot be refreshed."""

    async def refresh() -> dict[str, str]:
        raise botocore.exceptions.CredentialRetrievalError(
            provider="assume-role", error_msg="the role's trust policy changed"
        )

    session = get_session()
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    session._credentials = AioRefreshableCredentials.create_from_metadata(
        {"access_key": "AKIAEXAMPLE", "secret_key": "secret", "token": "t", "expiry_time": past},
        refresh_using=refresh,
        method="assume-role",
    )
    return session


async def test_a_failed_credential_refresh_is_a_configuration_error(
    fake: FakeConnect, instance_id: str
) -> None:
    """CredentialRetrievalError from a role refresh reaches the user as ours, chained."""
    cm = ConnectMetrics(
        instance_id,
        session=expired_role_session(fake),
        endpoint_url=fake.endpoint_url,
        region_name=fake.region_name,
    )
    with pytest.raises(ConfigurationError) as info:
        async with cm:
            pass  # pragma: no cover - never entered
    assert isinstance(info.value.__cause__, botocore.exceptions.CredentialRetrievalError)
    assert "secret" not in str(info.value)
    assert fake.requests == []


class _SignerFails:
    """An aiobotocore client as it is when signing fails: each call raises botocore's error."""

    def __init__(self, error: Exception, fake: FakeConnect) -> None:
        self._error = error
        self.meta = type(
            "Meta", (), {"region_name": "us-east-1", "endpoint_url": fake.endpoint_url}
        )

    async def list_queues(self, **kwargs: Any) -> dict[str, Any]:
        raise self._error


@pytest.mark.parametrize(
    "error",
    [
        botocore.exceptions.UnauthorizedSSOTokenError(),
        botocore.exceptions.TokenRetrievalError(provider="sso", error_msg="expired"),
        botocore.exceptions.CredentialRetrievalError(provider="process", error_msg="exit 1"),
    ],
    ids=type,
)
async def test_credential_failures_at_call_time_are_configuration_errors(
    fake: FakeConnect, error: Exception
) -> None:
    """An SSO token that expired, a refresh that failed: ConfigurationError, chained."""
    async with ConnectMetrics("instance", client=_SignerFails(error, fake)) as cm:  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError) as info:
            await cm.list_queues()
    assert info.value.__cause__ is error


async def test_access_denied_is_its_own_error(fake: FakeConnect, instance_id: str) -> None:
    """403 AccessDeniedException is an AccessDeniedError (a ServiceError), by class."""
    fake.inject_fault("denied", operation="ListQueues")
    async with fake.metrics_client(instance_id) as cm:
        with pytest.raises(AccessDeniedError) as info:
            await cm.list_queues()
    assert isinstance(info.value, ServiceError)
    assert (info.value.operation, info.value.status) == ("ListQueues", 403)


# -- partial answers and the log ------------------------------------------------------------


async def test_a_partial_answer_says_which_queues_it_is_missing(
    fake: FakeConnect, instance_id: str
) -> None:
    """result.failed_queues: the queues of the batches that failed, in batch order."""
    queues = fake.add_queues(instance_id, 250)
    failing = queues[120]
    fake.inject_fault("error", when=lambda p: failing in p.get("Filters", {}).get("Queues", ()))
    async with fake.metrics_client(instance_id, retry=RetryPolicy(attempts=1)) as cm:
        result = await cm.get_current_metrics(
            ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"], partial=True
        )
    assert result.partial
    assert result.failed_queues == tuple(queues[100:200])
    assert {row.queue_id for row in result.rows} <= set(queues[:100]) | set(queues[200:])


QUIET_APP = """
import anyio
from aioconnectmetrics import RetryPolicy
from aioconnectmetrics.testing import FakeConnect

async def main():
    with FakeConnect(quotas=None, seed=1) as fake:
        instance_id = fake.add_instance()
        queues = fake.add_queues(instance_id, 150)
        fake.inject_fault("error", when=lambda p: queues[120] in p["Filters"]["Queues"])
        async with fake.metrics_client(instance_id, retry=RetryPolicy(attempts=2)) as cm:
            result = await cm.get_current_metrics(
                ["CONTACTS_IN_QUEUE"], queues=queues, groupings=["QUEUE"], partial=True
            )
        print(len(result.failed_queues))

anyio.run(main)
"""


def test_an_app_that_configured_no_logging_sees_nothing_on_stderr() -> None:
    """A failed batch, retried, answered partially: nothing on stderr, the facts in the answer."""
    outcome = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", textwrap.dedent(QUIET_APP)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.strip() == "50"
    assert outcome.stderr == ""


# -- one name per thing, the old names kept with a warning ----------------------------------


async def test_the_old_drop_in_names_warn_and_answer_as_cm_boto(
    fake: FakeConnect, instance_id: str
) -> None:
    """``cm.get_current_metric_data`` warns and returns what ``cm.boto``'s returns."""
    queues = fake.add_queues(instance_id, 120)
    kwargs: dict[str, Any] = {
        "Filters": {"Queues": queues, "Channels": ["VOICE"]},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
    }
    async with fake.metrics_client(instance_id) as cm:
        new = await cm.boto.get_current_metric_data(**kwargs)
        with pytest.warns(DeprecationWarning, match=r"cm\.boto\.get_current_metric_data"):
            old = await cm.get_current_metric_data(**kwargs)
    assert old == new
    assert len(new["MetricResults"]) == 120


async def test_results_are_read_with_by_and_the_old_accessors_warn(
    fake: FakeConnect, instance_id: str
) -> None:
    """``by(QUEUE=...)`` (ID or ARN) and ``by(CHANNEL=...)``; by_queue/by_channel warn."""
    queues = fake.add_queues(instance_id, 3, channels=["VOICE", "CHAT"])
    async with fake.metrics_client(instance_id) as cm:
        result = await cm.get_current_metrics(
            ["CONTACTS_IN_QUEUE"],
            queues=queues,
            channels=["VOICE", "CHAT"],
            groupings=["QUEUE", "CHANNEL"],
        )
    first = result.by(QUEUE=queues[0])
    assert {(r.queue_id, r.channel) for r in first} == {
        (queues[0], "VOICE"),
        (queues[0], "CHAT"),
    }
    assert result.by(QUEUE=str(first[0].queue_arn)) == first
    assert [r.queue_id for r in result.by(QUEUE=queues[1], CHANNEL="CHAT")] == [queues[1]]
    with pytest.warns(DeprecationWarning, match="by_queue"):
        assert result.by_queue(queues[0]) == first
    with pytest.warns(DeprecationWarning, match="by_channel"):
        assert result.by_channel("CHAT") == result.by(CHANNEL="CHAT")
    with pytest.raises(ValueError, match="by\\(\\) takes the groupings"):
        result.by(queue=queues[0])
