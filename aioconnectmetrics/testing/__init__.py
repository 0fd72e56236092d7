"""A fake Amazon Connect service for tests: moto's server plus the metrics operations.

Clients reach it over real HTTP (``endpoint_url``), so request signing, serialisation and
response parsing are the real aiobotocore code. See ``docs/testing.md``.
"""

from ._accounts import FakeCredentials
from ._fake import FakeConnect
from ._faults import FaultRule
from ._quota import OtherConsumer
from ._records import ManualClock, PopulatedCentre, RecordedRequest
from ._service import DEFAULT_QUOTAS
from ._sim import AGENT_STATUSES, Contact, ContactCentre

__all__ = [
    "AGENT_STATUSES",
    "DEFAULT_QUOTAS",
    "Contact",
    "ContactCentre",
    "FakeConnect",
    "FakeCredentials",
    "FaultRule",
    "ManualClock",
    "OtherConsumer",
    "PopulatedCentre",
    "RecordedRequest",
]
