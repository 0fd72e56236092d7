"""The fake service: instances, quotas, faults, tokens, and each request to its handler.

`ConnectService.handle` takes the parsed request (operation, instance, parameters) and
returns a JSON body, or raises `ServiceError`, which becomes the error response botocore
expects for the service's rest-json protocol. What the fake does not simulate is declined
first (`_coverage.py`); the operations are answered by `_metrics.py`, `_userdata.py` and
`_listings.py`.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ._accounts import Accounts
from ._coverage import decline_unsimulated
from ._faults import FAULTS, FaultRule, ServiceError, invalid
from ._listings import LISTINGS, listing
from ._metrics import Ask, current, historical
from ._metrics_v2 import instance_of_arn, metric_data_v2
from ._quota import OtherConsumer, TokenBucket
from ._sim import ContactCentre
from ._tokens import Chain, Tokens, digest
from ._userdata import get_current_user_data

#: Default quotas: operation -> (requests per second, burst).
DEFAULT_QUOTAS: Mapping[str, tuple[float, int]] = {
    "GetCurrentMetricData": (5.0, 8),
    "GetMetricData": (5.0, 8),
    "GetMetricDataV2": (10.0, 10),
    "GetCurrentUserData": (2.0, 5),
    "ListQueues": (2.0, 5),
    "ListRoutingProfiles": (2.0, 5),
    "ListUsers": (2.0, 5),
    "SearchRoutingProfiles": (2.0, 5),
}


class ConnectService:
    """The service behind the HTTP routes: state, quotas, tokens and faults."""

    def __init__(
        self,
        *,
        account_id: str,
        clock: Callable[[], float],
        snapshot_interval: float,
        quotas: Mapping[str, tuple[float, int]] | None,
        seed: int,
        omit_empty_rows: bool = False,
    ) -> None:
        self.account_id = account_id
        self.seed = seed
        self.clock = clock
        self.snapshot_interval = snapshot_interval
        #: Leave out rows with no data for the asked metrics (see `FakeConnect`).
        self.omit_empty_rows = omit_empty_rows
        self.quotas = dict(quotas) if quotas is not None else None
        self.instances: dict[str, tuple[str, ContactCentre]] = {}
        self.lock = threading.RLock()
        self.faults: list[FaultRule] = []
        self._fault_rng = random.Random(f"faults:{seed}")
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        #: Other consumers that start with their account's first request.
        self.waiting_others: dict[tuple[str, str, str], list[OtherConsumer]] = {}
        #: The live pagination tokens, each bound to its operation and instance.
        self.tokens = Tokens()
        self._numbers: dict[str, int] = {}
        #: Accounts and the keys in them: a quota is an account's, whichever key spends it.
        self.accounts = Accounts()

    # -- admission: quotas and faults --------------------------------------------------

    def add_instance(
        self, instance_id: str, arn: str, region: str, *, simulate: bool, traffic: float
    ) -> ContactCentre:
        """A new instance's contact centre (seeded by the fake's seed and its ordinal)."""
        centre = ContactCentre(
            instance_id,
            arn,
            seed=self.seed,
            ordinal=len(self.instances),
            simulate=simulate,
            traffic=traffic,
        )
        self.instances[instance_id] = (region, centre)
        return centre

    def admit(self, operation: str, access_key: str, region: str) -> None:
        """Charge the quota for one request; raise `ThrottlingException` when empty."""
        if self.quotas is None or operation not in self.quotas:
            return
        now = self.clock()
        if not self.bucket(operation, access_key, region, now).take(now):
            raise ServiceError(429, "ThrottlingException", "Rate exceeded")

    def bucket(self, operation: str, access_key: str, region: str, now: float) -> TokenBucket:
        """The quota bucket of (account, region, operation), made full on first use."""
        assert self.quotas is not None
        rate, burst = self.quotas[operation]
        key = (self.accounts.account_of(access_key), region, operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst, float(burst), now)
            for other in self.waiting_others.pop(key, []):
                other.begin(now)
                bucket.others.append(other)
        return bucket

    def add_other(
        self, other: OtherConsumer, operation: str, access_key: str, region: str
    ) -> None:
        """Let `other` spend (account, region, operation)'s quota from its first use on.

        With a `start` of its own, it starts then instead.
        """
        if self.quotas is None or operation not in self.quotas:
            raise ValueError(f"operation {operation!r} has no quota in this fake")
        key = (self.accounts.account_of(access_key), region, operation)
        bucket = self._buckets.get(key)
        if bucket is None and math.isnan(other.start):
            self.waiting_others.setdefault(key, []).append(other)
            return
        if bucket is None:
            bucket = self.bucket(operation, access_key, region, self.clock())
        other.begin(other.start if not math.isnan(other.start) else self.clock())
        bucket.others.append(other)

    def pick_fault(self, operation: str, params: Mapping[str, Any]) -> str | None:
        """The kind of fault to inject into this request, if any."""
        number = self._numbers[operation] = self._numbers.get(operation, 0) + 1
        for rule in self.faults:
            if rule.applies(operation, params, number, self._fault_rng.random()):
                return rule.kind
        return None

    def snapshot_index(self, now: float) -> int:
        """The index of the real-time snapshot current at `now`."""
        return math.floor(now / self.snapshot_interval)

    # -- requests ------------------------------------------------------------------------
    def centre(self, instance_id: str, region: str) -> ContactCentre:
        """The instance's simulated state, or `ResourceNotFoundException`."""
        entry = self.instances.get(instance_id)
        if entry is None or entry[0] != region:
            raise ServiceError(
                404, "ResourceNotFoundException", f"Instance {instance_id} not found"
            )
        return entry[1]

    def handle(
        self,
        operation: str,
        instance_id: str,
        region: str,
        params: dict[str, Any],
        *,
        fault: str | None = None,
    ) -> dict[str, Any]:
        """Answer one request (already admitted), or fail it with the injected `fault`."""
        if fault in FAULTS:
            raise FAULTS[fault]
        if operation == "GetMetricDataV2":
            instance_id = instance_of_arn(params, region)
        elif operation == "SearchRoutingProfiles":
            instance_id = str(params.get("InstanceId", ""))
        if not re.fullmatch(r"[A-Za-z0-9-]{1,100}", instance_id):
            raise invalid(f"Invalid InstanceId: {instance_id!r}")
        centre = self.centre(instance_id, region)
        decline_unsimulated(operation, params)
        now = self.clock()
        self.tokens.expire(now)
        tokens = self.tokens.scoped(operation, instance_id)
        if operation in LISTINGS:
            return listing(tokens, operation, centre, params, now, region=region)
        token = params.get("NextToken")
        if token is not None:
            body = tokens.next_page(token, params, now)
            if fault == "drift" and "DataSnapshotTime" in body:
                body["DataSnapshotTime"] += self.snapshot_interval
            return body
        if operation == "GetMetricDataV2":
            results = metric_data_v2(
                centre,
                params,
                now,
                lambda value, kind: self.resource_id(centre, region, value, kind),
            )
            return tokens.first_page(Chain(digest(params), results, {}), params, now)
        if operation == "GetCurrentUserData":
            return get_current_user_data(
                tokens,
                centre,
                params,
                now,
                snapshot=self.snapshot_index(now),
                snapshot_interval=self.snapshot_interval,
                resource_id=lambda value, kind: self.resource_id(centre, region, value, kind),
            )
        ask = Ask(
            centre,
            params,
            now,
            self.snapshot_index(now),
            self.snapshot_interval,
            lambda value, kind: self.resource_id(centre, region, value, kind),
        )
        results, extra = (current if operation == "GetCurrentMetricData" else historical)(ask)
        if self.omit_empty_rows:
            results = [row for row in results if has_data(row)]
            if "ApproximateTotalCount" in extra:
                extra = {**extra, "ApproximateTotalCount": len(results)}
        body = tokens.first_page(Chain(digest(params), results, extra), params, now)
        if fault == "drift" and "DataSnapshotTime" in body:
            body["DataSnapshotTime"] += self.snapshot_interval
        return body

    def resource_id(self, centre: ContactCentre, region: str, value: str, kind: str) -> str:
        """The ID of a resource given by ID or by an ARN of this instance."""
        if not value.startswith("arn:"):
            return value
        prefix = (
            f"arn:aws:connect:{region}:{self.account_id}:instance/{centre.instance_id}/{kind}/"
        )
        if not value.startswith(prefix):
            raise invalid(f"{kind} ARN {value} does not belong to instance {centre.instance_id}")
        return value[len(prefix) :]


def has_data(row: Mapping[str, Any]) -> bool:
    """Whether a result row has data for any asked metric: a value neither null nor 0."""
    return any(collection.get("Value") for collection in row["Collections"])
