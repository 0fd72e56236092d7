"""The fake Connect service, driven with plain aiobotocore over HTTP."""

from __future__ import annotations

import time
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

COUNT = "COUNT"


def metric(name: str, unit: str = COUNT) -> dict[str, str]:
    return {"Name": name, "Unit": unit}


def hist(name: str, unit: str, statistic: str, threshold: float | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"Name": name, "Unit": unit, "Statistic": statistic}
    if threshold is not None:
        m["Threshold"] = {"Comparison": "LT", "ThresholdValue": threshold}
    return m


def values(row: dict[str, Any]) -> dict[str, Any]:
    return {c["Metric"]["Name"]: c.get("Value") for c in row["Collections"]}


async def test_set_state_is_served_exactly(fake: FakeConnect, instance_id: str) -> None:
    """A value a test sets comes back exactly, per queue and channel."""
    q1, q2 = fake.add_queues(instance_id, 2, channels=["VOICE", "CHAT"])
    fake.set_waiting(instance_id, q1, "CHAT", in_queue=7, oldest_age=42)
    fake.set_waiting(instance_id, q2, "CHAT", in_queue=3, oldest_age=12)
    fake.set_waiting(instance_id, q1, "VOICE", in_queue=1, oldest_age=5)
    fake.set_waiting(instance_id, q2, "VOICE", in_queue=0)
    async with fake.client() as client:
        resp = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": [q1, q2], "Channels": ["VOICE", "CHAT"]},
            Groupings=["QUEUE", "CHANNEL"],
            CurrentMetrics=[metric("CONTACTS_IN_QUEUE"), metric("OLDEST_CONTACT_AGE", "SECONDS")],
        )
    got = {
        (r["Dimensions"]["Queue"]["Id"], r["Dimensions"]["Channel"]): values(r)
        for r in resp["MetricResults"]
    }
    assert got[(q1, "CHAT")] == {"CONTACTS_IN_QUEUE": 7.0, "OLDEST_CONTACT_AGE": 42.0}
    assert got[(q2, "CHAT")] == {"CONTACTS_IN_QUEUE": 3.0, "OLDEST_CONTACT_AGE": 12.0}
    assert got[(q1, "VOICE")] == {"CONTACTS_IN_QUEUE": 1.0, "OLDEST_CONTACT_AGE": 5.0}
    assert resp["DataSnapshotTime"].timestamp() == NOW


async def test_oldest_contact_age_is_milliseconds_when_ungrouped(
    fake: FakeConnect, instance_id: str
) -> None:
    """Ungrouped OLDEST_CONTACT_AGE comes in milliseconds, grouped in seconds (the quirk)."""
    (q,) = fake.add_queues(instance_id, 1, channels=["VOICE"])
    fake.set_waiting(instance_id, q, "VOICE", in_queue=2, oldest_age=24.113)
    async with fake.client() as client:
        flat = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": [q]},
            CurrentMetrics=[metric("OLDEST_CONTACT_AGE", "SECONDS")],
        )
        grouped = await client.get_current_metric_data(
            InstanceId=instance_id,
            Filters={"Queues": [q]},
            Groupings=["QUEUE"],
            CurrentMetrics=[metric("OLDEST_CONTACT_AGE", "SECONDS")],
        )
    assert values(flat["MetricResults"][0])["OLDEST_CONTACT_AGE"] == pytest.approx(24113.0)
    assert values(grouped["MetricResults"][0])["OLDEST_CONTACT_AGE"] == pytest.approx(24.113)


async def test_summary_counts_each_agent_once(fake: FakeConnect, instance_id: str) -> None:
    """An agent serving 3 queues counts once in the summary and once per queue when grouped."""
    queues = fake.add_queues(instance_id, 3, channels=["VOICE"])
    profile = fake.add_routing_profile(instance_id, queues, concurrency={"VOICE": 1})
    agents = fake.add_agents(instance_id, profile, 4)
    for agent in agents:
        fake.set_agent_status(instance_id, agent, "AVAILABLE")
    request = {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "CurrentMetrics": [metric("AGENTS_ONLINE"), metric("AGENTS_AVAILABLE")],
    }
    async with fake.client() as client:
        summary = await client.get_current_metric_data(**request)
        per_queue = await client.get_current_metric_data(**request, Groupings=["QUEUE"])
    assert values(summary["MetricResults"][0]) == {"AGENTS_ONLINE": 4.0, "AGENTS_AVAILABLE": 4.0}
    per_queue_online = [values(r)["AGENTS_ONLINE"] for r in per_queue["MetricResults"]]
    assert per_queue_online == [4.0, 4.0, 4.0]
    assert sum(per_queue_online) > values(summary["MetricResults"][0])["AGENTS_ONLINE"]


async def test_null_where_a_mean_has_no_data(clock: ManualClock, fake: FakeConnect) -> None:
    """A mean over no contacts is null (absent from botocore's parse), a count is 0."""
    instance_id = fake.add_instance(simulate=False)
    (q,) = fake.add_queues(instance_id, 1, channels=["VOICE"])
    async with fake.client() as client:
        resp = await client.get_metric_data(
            InstanceId=instance_id,
            StartTime=NOW - 3600,
            EndTime=NOW,
            Filters={"Queues": [q]},
            HistoricalMetrics=[
                hist("CONTACTS_HANDLED", COUNT, "SUM"),
                hist("HANDLE_TIME", "SECONDS", "AVG"),
            ],
        )
    assert values(resp["MetricResults"][0]) == {"CONTACTS_HANDLED": 0.0, "HANDLE_TIME": None}


async def test_historical_values_from_set_contacts(fake: FakeConnect) -> None:
    """Sums, true means, maxima and service level come from the contacts in the range."""
    instance_id = fake.add_instance(simulate=False)
    (q,) = fake.add_queues(instance_id, 1, channels=["VOICE"])
    at = NOW - 1800
    fake.add_contact(instance_id, q, "VOICE", at, queue_time=10, interaction_time=100, acw_time=20)
    fake.add_contact(
        instance_id, q, "VOICE", at + 60, queue_time=90, interaction_time=300, acw_time=40
    )
    fake.add_contact(instance_id, q, "VOICE", at + 90, outcome="ABANDONED", queue_time=200)
    fake.add_contact(instance_id, q, "VOICE", NOW - 7200, queue_time=5)  # outside the range
    async with fake.client() as client:
        resp = await client.get_metric_data(
            InstanceId=instance_id,
            StartTime=NOW - 3600,
            EndTime=NOW,
            Filters={"Queues": [q]},
            Groupings=["QUEUE"],
            HistoricalMetrics=[
                hist("CONTACTS_HANDLED", COUNT, "SUM"),
                hist("CONTACTS_ABANDONED", COUNT, "SUM"),
                hist("HANDLE_TIME", "SECONDS", "AVG"),
                hist("QUEUED_TIME", "SECONDS", "MAX"),
                hist("ABANDON_TIME", "SECONDS", "AVG"),
                hist("SERVICE_LEVEL", "PERCENT", "AVG", threshold=60),
            ],
        )
    got = values(resp["MetricResults"][0])
    assert got == {
        "CONTACTS_HANDLED": 2.0,
        "CONTACTS_ABANDONED": 1.0,
        "HANDLE_TIME": (120 + 340) / 2,
        "QUEUED_TIME": 200.0,
        "ABANDON_TIME": 200.0,
        "SERVICE_LEVEL": pytest.approx(100 / 3),
    }


async def test_pagination_serves_one_frozen_snapshot(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """Three pages of one chain carry one DataSnapshotTime even as the snapshot moves on."""
    queues = fake.add_queues(instance_id, 25)
    params: dict[str, Any] = {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [metric("CONTACTS_IN_QUEUE")],
        "MaxResults": 10,
    }
    pages = []
    async with fake.client() as client:
        resp = await client.get_current_metric_data(**params)
        pages.append(resp)
        while "NextToken" in resp:
            clock.advance(20)  # past the 15 s snapshot cadence
            resp = await client.get_current_metric_data(**params, NextToken=resp["NextToken"])
            pages.append(resp)
        fresh = await client.get_current_metric_data(**params)
    assert [len(p["MetricResults"]) for p in pages] == [10, 10, 5]
    assert {p["DataSnapshotTime"].timestamp() for p in pages} == {NOW}
    assert fresh["DataSnapshotTime"].timestamp() == NOW + 30  # two 20 s steps
    ids = [r["Dimensions"]["Queue"]["Id"] for p in pages for r in p["MetricResults"]]
    assert sorted(ids) == sorted(queues)


async def test_token_expires_after_300_seconds(
    clock: ManualClock, fake: FakeConnect, instance_id: str
) -> None:
    """A token works at 299 s and is rejected with InvalidParameterException at 300 s."""
    queues = fake.add_queues(instance_id, 30)
    params: dict[str, Any] = {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [metric("CONTACTS_IN_QUEUE")],
        "MaxResults": 10,
    }
    async with fake.client() as client:
        first = await client.get_current_metric_data(**params)
        clock.advance(299)
        second = await client.get_current_metric_data(**params, NextToken=first["NextToken"])
        clock.advance(300)
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(**params, NextToken=second["NextToken"])
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


async def test_token_with_changed_parameters_is_rejected(
    fake: FakeConnect, instance_id: str
) -> None:
    """Reusing a token with other parameters answers InvalidParameterException."""
    queues = fake.add_queues(instance_id, 30)
    params: dict[str, Any] = {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": [metric("CONTACTS_IN_QUEUE")],
        "MaxResults": 10,
    }
    async with fake.client() as client:
        first = await client.get_current_metric_data(**params)
        params["CurrentMetrics"] = [metric("AGENTS_ONLINE")]
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(**params, NextToken=first["NextToken"])
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


async def test_throttles_after_the_burst(clock: ManualClock, instance_id: str) -> None:
    """With quotas on, the 9th request in an instant is a 429 and 0.2 s refills one token."""
    with FakeConnect(clock=clock) as fake:
        iid = fake.add_instance()
        (q,) = fake.add_queues(iid, 1)
        params: dict[str, Any] = {
            "InstanceId": iid,
            "Filters": {"Queues": [q]},
            "CurrentMetrics": [metric("AGENTS_ONLINE")],
        }
        async with fake.client() as client:
            for _ in range(8):
                await client.get_current_metric_data(**params)
            with pytest.raises(botocore.exceptions.ClientError) as info:
                await client.get_current_metric_data(**params)
            clock.advance(0.2)
            await client.get_current_metric_data(**params)
            # Another credential is another account: its own bucket.
            async with fake.client(access_key="other") as other:
                await other.get_current_metric_data(**params)
        assert info.value.response["Error"]["Code"] == "ThrottlingException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert fake.counts()[("GetCurrentMetricData", 429)] == 1
        assert fake.counts()[("GetCurrentMetricData", 200)] == 10


async def test_list_queues_over_1500_queues(fake: FakeConnect, instance_id: str) -> None:
    """ListQueues pages through 1,500 STANDARD queues and filters by type."""
    standard = fake.add_queues(instance_id, 1500)
    profile = fake.add_routing_profile(instance_id, standard[:2])
    fake.add_agents(instance_id, profile, 3, agent_queues=True)
    seen: list[str] = []
    pages = 0
    async with fake.client() as client:
        kwargs: dict[str, Any] = {
            "InstanceId": instance_id,
            "QueueTypes": ["STANDARD"],
            "MaxResults": 1000,
        }
        while True:
            resp = await client.list_queues(**kwargs)
            pages += 1
            seen += [q["Id"] for q in resp["QueueSummaryList"]]
            if "NextToken" not in resp:
                break
            kwargs["NextToken"] = resp["NextToken"]
        agent_queues = await client.list_queues(InstanceId=instance_id, QueueTypes=["AGENT"])
    assert pages == 2
    assert seen == standard
    assert len(agent_queues["QueueSummaryList"]) == 3
    assert {q["QueueType"] for q in agent_queues["QueueSummaryList"]} == {"AGENT"}


def _base_current(queues: list[str]) -> dict[str, Any]:
    return {"Filters": {"Queues": queues}, "CurrentMetrics": [metric("AGENTS_ONLINE")]}


def _base_hist(queues: list[str]) -> dict[str, Any]:
    return {
        "StartTime": NOW - 3600,
        "EndTime": NOW,
        "Filters": {"Queues": queues},
        "HistoricalMetrics": [hist("CONTACTS_HANDLED", COUNT, "SUM")],
    }


CURRENT_INVALID: dict[str, Any] = {
    "101 queues": {"Filters": {"Queues": [f"q{i}" for i in range(101)]}},
    "MaxResults 0": {"MaxResults": 0},
    "MaxResults 101": {"MaxResults": 101},
    "unknown metric": {"CurrentMetrics": [metric("AGENTS_BORED")]},
    "wrong unit": {"CurrentMetrics": [metric("AGENTS_ONLINE", "SECONDS")]},
    "three groupings": {"Groupings": ["QUEUE", "CHANNEL", "ROUTING_PROFILE"]},
    "channel grouping without channel filter": {"Groupings": ["CHANNEL"]},
    "queues and routing profiles": {"Filters": {"Queues": ["a"], "RoutingProfiles": ["b"]}},
    "unknown channel": {"Filters": {"Queues": ["a"], "Channels": ["FAX"]}},
    "estimated wait ungrouped": {"CurrentMetrics": [metric("ESTIMATED_WAIT_TIME", "SECONDS")]},
}
HIST_INVALID: dict[str, Any] = {
    "start off boundary": {"StartTime": NOW - 3601},
    "end before start": {"StartTime": NOW, "EndTime": NOW - 300},
    "range of 24 hours": {"StartTime": NOW - 86400, "EndTime": NOW},
    "start over 24 hours ago": {"StartTime": NOW - 86700, "EndTime": NOW - 86400},
    "wrong statistic": {"HistoricalMetrics": [hist("CONTACTS_HANDLED", COUNT, "AVG")]},
    "threshold on a count": {"HistoricalMetrics": [hist("CONTACTS_HANDLED", COUNT, "SUM", 60)]},
    "service level without threshold": {
        "HistoricalMetrics": [hist("SERVICE_LEVEL", "PERCENT", "AVG")]
    },
    "threshold too large": {
        "HistoricalMetrics": [hist("SERVICE_LEVEL", "PERCENT", "AVG", 604801)]
    },
    "threshold not whole": {"HistoricalMetrics": [hist("SERVICE_LEVEL", "PERCENT", "AVG", 1.5)]},
    "21 service levels": {
        "HistoricalMetrics": [hist("SERVICE_LEVEL", "PERCENT", "AVG", t) for t in range(1, 22)]
    },
    # The reference: "RoutingStepExpression is not a valid filter for GetMetricData".
    "routing step expression grouping": {"Groupings": ["ROUTING_STEP_EXPRESSION"]},
    "routing step expression filter": {
        "Filters": {"Queues": ["a"], "RoutingStepExpressions": ["{}"]}
    },
}


@pytest.mark.parametrize("case", sorted(CURRENT_INVALID))
async def test_current_validation(case: str, fake: FakeConnect, instance_id: str) -> None:
    """The fake rejects what the service rejects in GetCurrentMetricData."""
    queues = fake.add_queues(instance_id, 1)
    params = _base_current(queues) | CURRENT_INVALID[case]
    async with fake.client(parameter_validation=False) as client:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(InstanceId=instance_id, **params)
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.mark.parametrize("case", sorted(HIST_INVALID))
async def test_historical_validation(case: str, fake: FakeConnect, instance_id: str) -> None:
    """The fake rejects what the service rejects in GetMetricData."""
    queues = fake.add_queues(instance_id, 1)
    params = _base_hist(queues) | HIST_INVALID[case]
    async with fake.client(parameter_validation=False) as client:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_metric_data(InstanceId=instance_id, **params)
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


async def test_queue_arn_of_another_instance(fake: FakeConnect, instance_id: str) -> None:
    """A queue ARN naming another instance is an InvalidParameterException."""
    other = fake.add_instance()
    (foreign,) = fake.add_queues(other, 1)
    arn = fake.centre(other).queues[foreign].arn
    async with fake.client() as client:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(InstanceId=instance_id, **_base_current([arn]))
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"


async def test_unknown_instance(fake: FakeConnect) -> None:
    """An unknown instance is a ResourceNotFoundException (404)."""
    async with fake.client() as client:
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(
                InstanceId="no-such-instance", **_base_current(["q"])
            )
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


async def test_instances_are_moto_instances(fake: FakeConnect, instance_id: str) -> None:
    """add_instance goes through moto's CreateInstance, so DescribeInstance works."""
    async with fake.client() as client:
        described = await client.describe_instance(InstanceId=instance_id)
    assert described["Instance"]["Id"] == instance_id
    assert described["Instance"]["InstanceStatus"] == "ACTIVE"


async def test_scheduled_and_probabilistic_faults(fake: FakeConnect, instance_id: str) -> None:
    """A scheduled fault hits exactly the request it names, and is logged."""
    queues = fake.add_queues(instance_id, 1)
    fake.inject_fault("error", operation="GetCurrentMetricData", at=[2])
    async with fake.client() as client:
        await client.get_current_metric_data(InstanceId=instance_id, **_base_current(queues))
        with pytest.raises(botocore.exceptions.ClientError) as info:
            await client.get_current_metric_data(InstanceId=instance_id, **_base_current(queues))
        await client.get_current_metric_data(InstanceId=instance_id, **_base_current(queues))
    assert info.value.response["Error"]["Code"] == "InternalServiceException"
    assert [r.status for r in fake.requests] == [200, 500, 200]
    assert fake.requests[1].error_code == "InternalServiceException"


async def test_dropped_connection(fake: FakeConnect, instance_id: str) -> None:
    """A "drop" fault closes the connection without an answer."""
    queues = fake.add_queues(instance_id, 1)
    fake.inject_fault("drop", at=[1])
    async with fake.client() as client:
        with pytest.raises(
            (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
        ):
            await client.get_current_metric_data(InstanceId=instance_id, **_base_current(queues))
        resp = await client.get_current_metric_data(
            InstanceId=instance_id, **_base_current(queues)
        )
    assert len(resp["MetricResults"]) == 1


async def test_async_context_manager_and_request_log(clock: ManualClock) -> None:
    """`async with` starts and stops the fake; the log records operation, params and time."""
    async with FakeConnect(clock=clock, quotas=None) as fake:
        iid = fake.add_instance()
        queues = fake.add_queues(iid, 2)
        async with fake.client() as client:
            await client.get_current_metric_data(InstanceId=iid, **_base_current(queues))
        (record,) = fake.requests
    assert record.operation == "GetCurrentMetricData"
    assert record.params["Filters"]["Queues"] == queues
    assert record.time == NOW
    assert record.status == 200
    with pytest.raises(RuntimeError):
        _ = fake.endpoint_url


def test_plugin_fixture(connect_fake: FakeConnect) -> None:
    """The pytest plugin's connect_fake fixture is a running fake with quotas on."""
    assert connect_fake.endpoint_url.startswith("http://127.0.0.1:")
    assert connect_fake.service.quotas is not None


async def test_another_consumer_spends_its_share(clock: ManualClock) -> None:
    """Another caller at 2.5/s leaves 2.5 tokens per second: 1 s after the burst, 3 of 4 pass."""
    with FakeConnect(clock=clock) as fake:
        iid = fake.add_instance()
        (q,) = fake.add_queues(iid, 1)
        other = fake.add_other_consumer(2.5)
        untouched = fake.add_other_consumer(2.5, access_key="elsewhere")
        params: dict[str, Any] = {
            "InstanceId": iid,
            "Filters": {"Queues": [q]},
            "CurrentMetrics": [metric("AGENTS_ONLINE")],
        }
        async with fake.client() as client:
            for _ in range(8):  # the burst; the other caller begins with this account's first
                await client.get_current_metric_data(**params)
            clock.advance(1.0)  # 5 tokens refilled; it took 2 of them (at 0.4 s and 0.8 s)
            for _ in range(3):
                await client.get_current_metric_data(**params)
            with pytest.raises(botocore.exceptions.ClientError) as info:
                await client.get_current_metric_data(**params)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert (other.admitted, other.throttled) == (2, 0)
        assert untouched.admitted == 0  # its account never asked, so it never began


def test_rows_with_no_data_are_left_out_when_asked(clock: ManualClock) -> None:
    """omit_empty_rows: the answer is the rows with a value, nothing else changed."""
    with FakeConnect(clock=clock, quotas=None, seed=4) as fake:
        instance_id = fake.add_instance(simulate=False)
        queues = fake.add_queues(instance_id, 6, channels=["VOICE", "CHAT"])
        fake.set_waiting(instance_id, queues[1], "CHAT", in_queue=4, oldest_age=30)
        fake.set_waiting(instance_id, queues[4], "VOICE", in_queue=2, oldest_age=8)
        params: dict[str, Any] = {
            "InstanceId": instance_id,
            "Filters": {"Queues": queues, "Channels": ["VOICE", "CHAT"]},
            "Groupings": ["QUEUE", "CHANNEL"],
            "CurrentMetrics": [
                metric("CONTACTS_IN_QUEUE"),
                metric("OLDEST_CONTACT_AGE", "SECONDS"),
            ],
        }
        client = boto3.client(
            "connect",
            endpoint_url=fake.endpoint_url,
            region_name=fake.region_name,
            aws_access_key_id="rows",
            aws_secret_access_key="rows-secret",  # noqa: S106 - the fake's dummy key
        )
        every = client.get_current_metric_data(**params)
        fake.service.omit_empty_rows = True
        some = client.get_current_metric_data(**params)

    def keyed(response: dict[str, Any]) -> dict[tuple[str, str], list[float | None]]:
        return {
            (r["Dimensions"]["Queue"]["Id"], r["Dimensions"]["Channel"]): [
                c.get("Value") for c in r["Collections"]
            ]
            for r in response["MetricResults"]
        }

    assert len(every["MetricResults"]) == 12  # 6 queues x 2 channels
    assert keyed(some) == {
        (queues[1], "CHAT"): [4.0, 30.0],
        (queues[4], "VOICE"): [2.0, 8.0],
    }
    assert {k: v for k, v in keyed(every).items() if any(v)} == keyed(some)
    assert some["ApproximateTotalCount"] == 2


async def test_a_new_connection_pays_its_set_up_time_once() -> None:
    """connection_setup delays each connection's first request only, before admission."""
    with FakeConnect(quotas=None, seed=4, connection_setup=0.2) as fake:
        iid = fake.add_instance()
        queues = fake.add_queues(iid, 2)
        params: dict[str, Any] = {
            "InstanceId": iid,
            "Filters": {"Queues": queues},
            "CurrentMetrics": [metric("CONTACTS_IN_QUEUE")],
        }
        async with fake.client(max_pool_connections=1) as client:
            started = time.monotonic()
            await client.get_current_metric_data(**params)
            first = time.monotonic() - started
            for _ in range(3):
                await client.get_current_metric_data(**params)
        assert fake.connections_set_up == 1  # four requests, one connection
        assert first >= 0.2


def test_tls_puts_the_set_up_in_the_handshake() -> None:
    """With tls, the fake serves HTTPS, its certificate checked, and set-up in handshakes.

    A new connection's set-up is in its handshake, where a client sees it (opening the
    connection), not inside the server after the request has gone.
    """
    with FakeConnect(quotas=None, seed=4, tls=True, connection_setup=0.2) as fake:
        iid = fake.add_instance()
        assert fake.endpoint_url.startswith("https://")
        assert fake.ca_bundle is not None
        secret = "testing-secret"  # noqa: S105 - a dummy for the fake
        kwargs: dict[str, Any] = {
            "region_name": fake.region_name,
            "endpoint_url": fake.endpoint_url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": secret,
        }
        once = botocore.config.Config(retries={"total_max_attempts": 1})
        unverified = boto3.client("connect", config=once, **kwargs)  # the system's CAs
        with pytest.raises(botocore.exceptions.SSLError):
            unverified.list_queues(InstanceId=iid)
        client = boto3.client("connect", verify=fake.ca_bundle, **kwargs)
        started = time.monotonic()
        client.list_queues(InstanceId=iid)
        first = time.monotonic() - started
        started = time.monotonic()
        client.list_queues(InstanceId=iid)
        second = time.monotonic() - started
        # The refused client's handshake counts too: two connections set up.
        assert fake.connections_set_up == 2
    assert first >= 0.2
    assert second < 0.2
