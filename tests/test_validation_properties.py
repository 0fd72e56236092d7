"""Any value for any parameter of the four public calls: a valid request, or a clear error.

The error is an `InvalidRequestError` (a `ValueError` and a `ConnectMetricsError`), names a
field, repeats no value given under an unknown name, and nothing reaches the service.
Seeded (``derandomize``), with a budget that fits CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioconnectmetrics import ConnectMetrics, ConnectMetricsError, InvalidRequestError, Metric
from aioconnectmetrics.testing import FakeConnect, ManualClock

from .conftest import NOW

END = datetime.fromtimestamp(NOW, timezone.utc)
ATOMS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "all",
            "q1",
            "VOICE",
            "QUEUE",
            "CHANNEL",
            "AGENTS_ONLINE",
            "SERVICE_LEVEL_60",
            "STANDARD",
            "use",
            "arn:aws:connect:us-east-1:123456789012:instance/x/queue/q1",
        ]
    )
    | st.datetimes(timezones=st.just(timezone.utc))
    | st.datetimes()
    | st.timedeltas()
    | st.builds(Metric, st.sampled_from(["SERVICE_LEVEL", "AGENTS_ONLINE"]), st.integers())
)
VALUES = st.recursive(
    ATOMS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CURRENT = {
    "metrics": ["AGENTS_ONLINE"],
    "queues": ["q1"],
    "routing_profiles": None,
    "channels": None,
    "groupings": (),
    "queue_types": ("STANDARD",),
    "instance_id": None,
    "max_spread": None,
    "partial": None,
    "cache": "use",
}
HISTORICAL = {
    "metrics": ["CONTACTS_HANDLED"],
    "start": END - timedelta(hours=1),
    "end": END,
    "queues": ["q1"],
    "channels": None,
    "groupings": (),
    "queue_types": ("STANDARD",),
    "instance_id": None,
    "partial": None,
    "cache": "use",
}
CURRENT_KWARGS = {
    "Filters": {"Queues": ["q1"]},
    "CurrentMetrics": [{"Name": "AGENTS_ONLINE", "Unit": "COUNT"}],
}
HISTORICAL_KWARGS = {
    "StartTime": END - timedelta(hours=1),
    "EndTime": END,
    "Filters": {"Queues": ["q1"]},
    "HistoricalMetrics": [{"Name": "CONTACTS_HANDLED", "Unit": "COUNT", "Statistic": "SUM"}],
}
CALLS: dict[str, dict[str, Any]] = {
    "get_current_metrics": CURRENT,
    "get_historical_metrics": HISTORICAL,
    "get_current_metric_data": CURRENT_KWARGS,
    "get_metric_data": HISTORICAL_KWARGS,
}
FIELD_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@attrs.frozen
class Served:
    """One fake and one open client for a module's examples, in one event loop.

    The examples run in the loop of a blocking portal; the client was entered (and is
    left) in one task of it, as a service's client is: opening one per example (STS,
    a session, a connection) was most of the time these tests took.
    """

    fake: FakeConnect
    instance_id: str
    portal: BlockingPortal
    cm: ConnectMetrics


@pytest.fixture(name="served", scope="module")
def _served() -> Iterator[Served]:
    with FakeConnect(clock=ManualClock(NOW), quotas=None, seed=3) as fake:
        instance_id = fake.add_instance()
        fake.add_queues(instance_id, 2)
        with start_blocking_portal() as portal:
            client = fake.metrics_client(instance_id, cache=None)
            with portal.wrap_async_context_manager(client) as cm:
                yield Served(fake, instance_id, portal, cm)


def _call(served: Served, call: str, kwargs: dict[str, Any]) -> None:
    """Make the call; check what came back against the contract."""
    fake, cm = served.fake, served.cm

    async def run() -> InvalidRequestError | None:
        fake.clear_requests()
        try:
            if call in ("get_current_metrics", "get_historical_metrics"):
                metrics = kwargs.pop("metrics")
                await getattr(cm, call)(metrics, **kwargs)
            else:
                await getattr(cm.boto, call)(**kwargs)
        except InvalidRequestError as error:
            return error
        except ConnectMetricsError:
            # The service's own refusal of a request we could not check locally
            # (an unknown queue, say): it reached the service, as it must.
            return None
        return None

    error = served.portal.call(run)
    if error is not None:
        assert isinstance(error, ValueError)
        assert isinstance(error, ConnectMetricsError)
        assert error.field
        assert fake.requests == []


@pytest.mark.parametrize("call", list(CALLS))
@FIELD_SETTINGS
@given(data=st.data())
def test_any_value_for_any_parameter(served: Served, call: str, data: st.DataObject) -> None:
    """One parameter at a time gets an arbitrary value."""
    instance_id = served.instance_id
    base = dict(CALLS[call])
    if call in ("get_current_metric_data", "get_metric_data"):
        base["InstanceId"] = instance_id
        names = [*base, "MaxResults", "Groupings", "SortCriteria"]
        if call == "get_current_metric_data":
            names.append("Filters.RoutingProfiles")
    else:
        names = list(base)
    name = data.draw(st.sampled_from(names), label="parameter")
    value = data.draw(VALUES, label="value")
    if name.startswith("Filters."):
        base["Filters"] = {**base["Filters"], name.split(".", 1)[1]: value}
    else:
        base[name] = value
    _call(served, call, base)


@pytest.mark.parametrize("call", ["get_current_metric_data", "get_metric_data"])
@FIELD_SETTINGS
@given(name=st.text(min_size=1, max_size=12), value=st.text(min_size=6, max_size=20))
def test_an_unknown_name_never_repeats_its_value(
    served: Served, call: str, name: str, value: str
) -> None:
    """Whatever the unknown name, the error names it and does not repeat the value."""
    kwargs = {**CALLS[call], "InstanceId": served.instance_id}
    if name in kwargs or name == "NextToken":
        return

    async def run() -> None:
        with pytest.raises(InvalidRequestError) as info:
            await getattr(served.cm.boto, call)(**kwargs, **{name: value})
        assert info.value.field == name
        assert value not in str(info.value).replace(name, "")

    served.portal.call(run)
