"""The library's log records: loggers by concern, DEBUG on the hot path, no secrets.

The main paths run with every logger at DEBUG, signed with a role session's temporary
credentials, through faults that make the library retry, restart and fall back; then
every record of the library's loggers is read: its message and its structured fields.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from aioconnectmetrics import RetryPolicy
from aioconnectmetrics.testing import FakeConnect

from .conftest import unlimited

CONCERNS = {
    "aioconnectmetrics.fetch",
    "aioconnectmetrics.quota",
    "aioconnectmetrics.cache",
    "aioconnectmetrics.directory",
    "aioconnectmetrics.identity",
    "aioconnectmetrics.redis",
    "aioconnectmetrics.export",
}
#: The attributes every LogRecord has: anything else on a record came in `extra`.
PLAIN = set(vars(logging.LogRecord("n", logging.DEBUG, "p", 1, "m", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


async def test_the_main_paths_at_debug_log_no_secret_and_nothing_louder(
    fake: FakeConnect, caplog: pytest.LogCaptureFixture
) -> None:
    account = fake.add_account()
    credentials = fake.role_credentials(account, "dashboards", "replica-1")
    assert credentials.token is not None
    instance_id = fake.add_instance()
    queues = list(fake.populate(instance_id, queues=150).queue_ids)
    fake.inject_fault("throttle", operation="GetCurrentMetricData", at=[1, 4])
    fake.inject_fault("error", operation="GetMetricData", at=[1])
    fake.inject_fault("expire", operation="GetCurrentUserData", at=[2])
    end = datetime.fromtimestamp(fake.clock(), timezone.utc).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    caplog.set_level(logging.DEBUG)  # every logger: the library's, botocore's, anyio's
    async with fake.metrics_client(
        instance_id,
        credentials=credentials,
        limiter=unlimited(),
        retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002),
    ) as cm:
        await cm.get_current_metrics(
            ["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"],
            queues="all",
            groupings=["QUEUE"],
            names=True,
        )
        await cm.get_current_metrics(["CONTACTS_IN_QUEUE", "AGENTS_AVAILABLE"], queues=queues)
        await cm.get_historical_metrics(
            ["CONTACTS_HANDLED"], start=end - timedelta(hours=1), end=end, queues=queues
        )
        await cm.get_historical_metrics_v2(
            ["CONTACTS_HANDLED"], start=end - timedelta(hours=2), end=end, queues=queues
        )
        await cm.get_agents(queues=queues, names=True)
        await cm.boto.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": queues[:120], "Channels": ["VOICE"]},
            CurrentMetrics=[{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}],
        )
    ours = [r for r in caplog.records if r.name.startswith("aioconnectmetrics")]
    assert ours, "the faults above log retries and restarts"
    assert {r.name for r in ours} <= CONCERNS
    assert {r.levelno for r in ours} == {logging.DEBUG}  # the hot path says nothing louder
    secrets = (credentials.secret_key, credentials.token)
    for record in ours:
        fields = {k: v for k, v in vars(record).items() if k not in PLAIN}
        text = record.getMessage() + repr(fields) + repr(record.args)
        assert not any(secret in text for secret in secrets), record.name
    # Structured fields: a retry says what it retried, as fields, not only as text.
    retries = [r for r in ours if getattr(r, "retry", None) is not None]
    assert retries
    assert {r.operation for r in retries} >= {"GetCurrentMetricData", "GetMetricData"}  # type: ignore[attr-defined]
    assert all(r.error_type for r in retries)  # type: ignore[attr-defined]
