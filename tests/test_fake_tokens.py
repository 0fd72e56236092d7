"""The fake's pagination tokens, through plain boto3: bound to their request, one refusal.

A token is good only for the operation, instance and parameters that issued it, for
300 s. Every other use gets the same answer, whatever the reason and however old the
token: 400 InvalidParameterException (docs/testing.md says which, and why).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest

from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

CURRENT = [{"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}]


@pytest.fixture(name="served")
def _served() -> Iterator[tuple[FakeConnect, ManualClock, Any, str, str]]:
    """Two populated instances of one fake on a manual clock, and a boto3 client for it."""
    clock = ManualClock(NOW)
    with FakeConnect(clock=clock, quotas=None, seed=11) as fake:
        first, second = fake.add_instance(), fake.add_instance()
        for instance_id in (first, second):
            fake.populate(instance_id, queues=30)
        client = boto3.client(
            "connect",
            endpoint_url=fake.endpoint_url,
            region_name=fake.region_name,
            aws_access_key_id="tokens",
            aws_secret_access_key="tokens-secret",  # noqa: S106 - the fake's dummy key
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )
        yield fake, clock, client, first, second


def current_params(fake: FakeConnect, instance_id: str) -> dict[str, Any]:
    queues = sorted(fake.centre(instance_id).queues)[:30]
    return {
        "InstanceId": instance_id,
        "Filters": {"Queues": queues},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": CURRENT,
        "MaxResults": 10,
    }


def refusal(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**params)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_a_token_lives_300_seconds_and_then_gets_the_one_refusal_at_any_age(
    served: tuple[FakeConnect, ManualClock, Any, str, str],
) -> None:
    """Good at 299 s; at 300 s and at 3,700 s the same InvalidParameterException."""
    fake, clock, client, instance_id, _ = served
    params = current_params(fake, instance_id)
    first = client.get_current_metric_data(**params)
    clock.advance(299)
    second = client.get_current_metric_data(**params, NextToken=first["NextToken"])
    assert len(second["MetricResults"]) == 10
    clock.advance(1)  # the first token is 300 s old now
    at_300 = refusal(client.get_current_metric_data, **params, NextToken=first["NextToken"])
    clock.advance(3400)
    at_3700 = refusal(client.get_current_metric_data, **params, NextToken=first["NextToken"])
    assert at_300 == at_3700
    assert at_300[0] == "InvalidParameterException"
    assert at_300[2] == 400


def test_a_token_of_one_instance_is_refused_by_another(
    served: tuple[FakeConnect, ManualClock, Any, str, str],
) -> None:
    """The same parameters on another instance: refused, as an expired token is."""
    fake, clock, client, first_instance, second_instance = served
    params = current_params(fake, first_instance)
    token = client.get_current_metric_data(**params)["NextToken"]
    foreign = refusal(
        client.get_current_metric_data,
        **{**params, "InstanceId": second_instance},
        NextToken=token,
    )
    clock.advance(300)
    expired = refusal(client.get_current_metric_data, **params, NextToken=token)
    assert foreign == expired


def test_a_token_of_one_operation_is_refused_by_another(
    served: tuple[FakeConnect, ManualClock, Any, str, str],
) -> None:
    """A ListRoutingProfiles token sent to ListUsers, same parameters: the one refusal."""
    _, _, client, instance_id, _ = served
    token = client.list_routing_profiles(InstanceId=instance_id, MaxResults=1)["NextToken"]
    foreign = refusal(client.list_users, InstanceId=instance_id, MaxResults=1, NextToken=token)
    forged = refusal(
        client.list_users, InstanceId=instance_id, MaxResults=1, NextToken="not-a-token"
    )
    assert foreign == forged
    assert foreign[0] == "InvalidParameterException"


def test_a_token_with_other_parameters_is_refused_and_the_right_ones_still_work(
    served: tuple[FakeConnect, ManualClock, Any, str, str],
) -> None:
    """Changed parameters: the one refusal; the token still serves its own request."""
    fake, _, client, instance_id, _ = served
    params = current_params(fake, instance_id)
    token = client.get_current_metric_data(**params)["NextToken"]
    changed = {**params, "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}]}
    refused = refusal(client.get_current_metric_data, **changed, NextToken=token)
    assert refused[0] == "InvalidParameterException"
    page = client.get_current_metric_data(**params, NextToken=token)
    assert len(page["MetricResults"]) == 10
