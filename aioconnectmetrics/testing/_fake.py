"""`FakeConnect`: moto's server with our Amazon Connect metrics operations over real HTTP."""

from __future__ import annotations

import collections
import contextlib
import functools
import math
import random
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import anyio.to_thread
from aiobotocore.config import AioConfig
from moto.connect.models import connect_backends

from .._client import ConnectMetrics
from .._transport import new_session
from ._accounts import FakeCredentials, dummy_keys
from ._faults import FaultRule
from ._layouts import departments, spread
from ._quota import OtherConsumer
from ._records import ManualClock, PopulatedCentre, RecordedRequest
from ._server import Listener
from ._service import DEFAULT_QUOTAS, ConnectService
from ._sim import Contact, ContactCentre, WaitingContacts

_ACCOUNT_ID = "123456789012"


class FakeConnect:
    """A fake Amazon Connect service on loopback, reached over real HTTP.

    Use as ``with FakeConnect() as fake:`` or ``async with FakeConnect() as fake:``.

    Args:
        seed: makes every simulated value deterministic.
        clock: seconds since the epoch; inject a `ManualClock` to drive token expiry,
            snapshots and quotas.
        snapshot_interval: the real-time snapshot advances this often (seconds).
        quotas: operation -> (rate per second, burst); ``None`` switches quotas off.
        latency: seconds added to every response, or a (low, high) range.
        connection_setup: seconds by which each new connection's first request reaches
            the service late, or a (low, high) range: the TLS handshake of the real
            service (one or two round trips), paid before the request is admitted, so
            the service's quota bucket sees it that much later than it was sent. With
            `tls`, the server answers each handshake that late, so the client sees the
            set-up where a real client does (opening the connection); without, the
            first request on a connection waits inside the server.
        tls: serve HTTPS with a self-signed certificate made on start; clients verify
            it against `ca_bundle` (`client` and `metrics_client` do).
        omit_empty_rows: leave out of real-time and historical answers the rows with no
            data for the asked metrics (every value null or 0), as the reference
            describes ("MetricResult list is empty: the request cannot find any data");
            by default every row of the asked dimensions is answered.
        region_name: the region of instances that `add_instance` creates.
        host, port: where to listen (default 127.0.0.1 and a free port).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
        snapshot_interval: float = 15.0,
        quotas: Mapping[str, tuple[float, int]] | None = DEFAULT_QUOTAS,
        latency: float | tuple[float, float] = 0.0,
        connection_setup: float | tuple[float, float] = 0.0,
        omit_empty_rows: bool = False,
        tls: bool = False,
        region_name: str = "us-east-1",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.seed = seed
        self.clock: Callable[[], float] = clock or time.time
        self.region_name = region_name
        self.latency = latency
        self.connection_setup = connection_setup
        self.tls = tls
        self.service = ConnectService(
            account_id=_ACCOUNT_ID,
            clock=self.clock,
            snapshot_interval=snapshot_interval,
            quotas=quotas,
            seed=seed,
            omit_empty_rows=omit_empty_rows,
        )
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()  # had a first request
        #: STS ``GetCallerIdentity`` requests answered (see `add_account`).
        self.sts_calls = 0
        #: Connections that paid `connection_setup` (with `tls`: handshakes answered).
        self.connections_set_up = 0
        self._setup_rng = random.Random(f"setup:{seed}")
        self.requests: list[RecordedRequest] = []
        self._hooks: list[Callable[[str, Mapping[str, Any]], None]] = []
        self._latency_rng = random.Random(f"latency:{seed}")
        self._listener = Listener(host, port, tls=tls)

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the server (`host`, `port`: by default 127.0.0.1 and a free port)."""
        self._listener.open(self)

    def stop(self) -> None:
        """Stop the server and remove what this fake created in moto."""
        if not self._listener.close():
            return
        backend = self._moto_backend()
        for instance_id in list(self.service.instances):
            with contextlib.suppress(Exception):
                backend.delete_instance(instance_id)

    def __enter__(self) -> FakeConnect:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeConnect:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    @property
    def endpoint_url(self) -> str:
        """The URL to give aiobotocore or boto3 as ``endpoint_url``."""
        return self._listener.endpoint_url

    @property
    def ca_bundle(self) -> str | None:
        """With `tls`, the certificate to verify the fake against (``verify=``); else None."""
        return self._listener.ca_bundle

    def client(
        self, *, region_name: str | None = None, access_key: str = "testing", **config: Any
    ) -> Any:
        """An aiobotocore Connect client for this fake: ``async with fake.client() as c:``.

        Dummy credentials (``access_key`` selects the quota bucket, like an account),
        botocore's retries set to one attempt; ``config`` goes to `AioConfig`.
        """
        config.setdefault("retries", {"total_max_attempts": 1})
        return new_session().create_client(
            "connect",
            region_name=region_name or self.region_name,
            endpoint_url=self.endpoint_url,
            **dummy_keys(access_key),
            verify=self.ca_bundle,
            config=AioConfig(**config),
        )

    def metrics_client(self, instance_id: str | None = None, **kwargs: Any) -> ConnectMetrics:
        """A `ConnectMetrics` for this fake (dummy credentials, the fake's clock).

        ``async with fake.metrics_client(instance_id) as cm:``; `kwargs` go to
        `ConnectMetrics`. ``credentials``: a `FakeCredentials` (`user_credentials`,
        `role_credentials`) to sign with; else ``access_key`` (a dummy key, an account
        of its own) picks the quota bucket.
        """
        credentials: FakeCredentials | None = kwargs.pop("credentials", None)
        access_key = kwargs.pop("access_key", "testing")
        kwargs.setdefault("region_name", self.region_name)
        kwargs.setdefault("clock", self.clock)
        if isinstance(kwargs["clock"], ManualClock):  # what follows a question waits on it
            kwargs.setdefault("sleep", kwargs["clock"].sleep)
        if self.tls:
            kwargs.setdefault("verify", self.ca_bundle)
        keys = credentials.as_kwargs() if credentials is not None else dummy_keys(access_key)
        return ConnectMetrics(instance_id, endpoint_url=self.endpoint_url, **keys, **kwargs)

    # -- accounts and keys -------------------------------------------------------------
    def add_account(self, account_id: str | None = None) -> str:
        """A new AWS account (12 digits; made up unless given): keys in it share its quota.

        Make keys in it with `user_credentials` and `role_credentials`. STS
        ``GetCallerIdentity`` names the account and principal of each, and checks the
        signature of every request made with them.
        """
        return self.service.accounts.add(account_id)

    def user_credentials(self, account_id: str, user_name: str = "fake-user") -> FakeCredentials:
        """A new access key of IAM user `user_name` in the account (no session token)."""
        return self.service.accounts.user(account_id, user_name)

    def role_credentials(
        self, account_id: str, role_name: str, session_name: str = "session"
    ) -> FakeCredentials:
        """New temporary credentials of a session of role `role_name` in the account.

        As ``AssumeRole`` gives them (key, secret, session token); every session of one
        role is the same principal, ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``.
        """
        return self.service.accounts.role_session(account_id, role_name, session_name)

    # -- seeding ---------------------------------------------------------------------
    def _moto_backend(self, region_name: str | None = None) -> Any:
        return connect_backends[_ACCOUNT_ID][region_name or self.region_name]

    def add_instance(
        self, *, alias: str | None = None, simulate: bool = True, traffic: float = 1.0
    ) -> str:
        """Create an instance through moto's own CreateInstance and return its ID.

        ``simulate=False``: nothing generated, only what a test sets; `traffic` scales
        the generated contacts (1.0: about two per queue and channel every 5 minutes).
        """
        created = self._moto_backend().create_instance(
            identity_management_type="CONNECT_MANAGED",
            inbound_calls_enabled=True,
            outbound_calls_enabled=True,
            instance_alias=alias,
        )
        with self.service.lock:
            self.service.add_instance(
                created["Id"], created["Arn"], self.region_name, simulate=simulate, traffic=traffic
            )
        return str(created["Id"])

    def centre(self, instance_id: str) -> ContactCentre:
        """The simulated state of an instance (read it for ground truth)."""
        return self.service.instances[instance_id][1]

    def add_queues(
        self,
        instance_id: str,
        n: int,
        *,
        queue_type: str = "STANDARD",
        channels: Iterable[str] | None = None,
    ) -> list[str]:
        """Add `n` queues and return their IDs (channels seeded unless given)."""
        if queue_type not in ("STANDARD", "AGENT"):
            raise ValueError(f"queue_type must be STANDARD or AGENT, got {queue_type!r}")
        chosen = list(channels) if channels is not None else None
        with self.service.lock:
            add = functools.partial(self.centre(instance_id).add_queue, created_at=self.clock())
            return [add(queue_type=queue_type, channels=chosen).id for _ in range(n)]

    def add_routing_profile(
        self,
        instance_id: str,
        queue_ids: Sequence[str],
        *,
        concurrency: Mapping[str, int] | None = None,
    ) -> str:
        """Add a routing profile serving `queue_ids`; returns its ID."""
        with self.service.lock:
            add = self.centre(instance_id).add_routing_profile
            return add(queue_ids, concurrency=concurrency, created_at=self.clock()).id

    def set_routing_profile_queues(
        self, instance_id: str, routing_profile_id: str, queue_ids: Sequence[str]
    ) -> None:
        """Replace the queues a routing profile serves.

        On the service: AssociateRoutingProfileQueues, DisassociateRoutingProfileQueues.
        The profile's ``LastModifiedTime`` (ListRoutingProfiles) becomes the fake's now.
        """
        with self.service.lock:
            self.centre(instance_id).set_profile_queues(
                routing_profile_id, queue_ids, at=self.clock()
            )

    def add_agents(
        self, instance_id: str, routing_profile_id: str, n: int, *, agent_queues: bool = False
    ) -> list[str]:
        """Add `n` agents to a routing profile (each with its own AGENT queue on request)."""
        with self.service.lock:
            add = functools.partial(self.centre(instance_id).add_agent, agent_queue=agent_queues)
            return [add(routing_profile_id).id for _ in range(n)]

    def populate(
        self,
        instance_id: str,
        *,
        queues: int = 300,
        profiles: int | None = None,
        agents_per_profile: int = 6,
        agent_queues: bool = False,
        layout: str = "spread",
        department_size: int = 50,
    ) -> PopulatedCentre:
        """Build a realistic contact centre: profiles overlap, so agents serve many queues.

        `layout` "spread" (the default): one profile per four queues (or `profiles`),
        each serving a run of neighbouring queues plus two from anywhere, so profiles
        link queues across the whole centre. "departments": queues in departments of
        `department_size`, each with one profile per 12 of its queues (at least one),
        serving 40% of the department's queues (every queue served by one at least),
        none outside it: profiles link queues only within a department.
        """
        if layout == "spread":
            return spread(
                self, instance_id, queues, profiles=profiles, agents=agents_per_profile,
                agent_queues=agent_queues,
            )  # fmt: skip
        if layout == "departments":
            return departments(
                self, instance_id, queues, size=department_size, agents=agents_per_profile,
                agent_queues=agent_queues,
            )  # fmt: skip
        raise ValueError(f"layout must be 'spread' or 'departments', got {layout!r}")

    # -- setting exact state ---------------------------------------------------------
    def set_waiting(
        self,
        instance_id: str,
        queue_id: str,
        channel: str,
        *,
        in_queue: int,
        oldest_age: float = 0.0,
        scheduled: int = 0,
        estimated_wait: float | None = None,
    ) -> None:
        """Fix the contacts waiting in a queue on a channel (for every later snapshot)."""
        waiting = WaitingContacts(in_queue, float(oldest_age), scheduled, estimated_wait)
        with self.service.lock:
            self.centre(instance_id).set_waiting(queue_id, channel, waiting)

    def set_agent_status(
        self, instance_id: str, agent_id: str, status: str, *, channel: str | None = None
    ) -> None:
        """Fix an agent's status (and, for ON_CONTACT, the channel of its contact)."""
        with self.service.lock:
            self.centre(instance_id).set_status(agent_id, status, channel)

    def add_contact(
        self, instance_id: str, queue_id: str, channel: str, at: datetime | float, **fields: Any
    ) -> Contact:
        """Add one historical contact enqueued at `at`; `fields` as in `Contact`."""
        when = at.timestamp() if isinstance(at, datetime) else float(at)
        contact = Contact(queue_id=queue_id, channel=channel, enqueued_at=when, **fields)
        with self.service.lock:
            self.centre(instance_id).contacts.append(contact)
        return contact

    def snapshot_time(self) -> float:
        """The `DataSnapshotTime` (epoch seconds) a real-time request would get now."""
        return self.service.snapshot_index(self.clock()) * self.service.snapshot_interval

    # -- other callers of the same quota ----------------------------------------------
    def add_other_consumer(
        self,
        rate: float,
        *,
        burst: int = 1,
        access_key: str = "testing",
        region_name: str | None = None,
        operation: str = "GetCurrentMetricData",
        start: float | None = None,
        stop: float | None = None,
        delay: float = 0.0,
        duration: float | None = None,
    ) -> OtherConsumer:
        """Another caller spends part of an account's quota, unseen by the client under test.

        `rate` requests per second of `operation` under `access_key` (the account) in
        `region_name`: steady (``burst=1``) or `burst` at once every ``burst / rate`` s,
        from one period after `start` (default: the account's first request of
        `operation`, or now if made) until `stop` (default: never; the fake's clock),
        shifted by `delay` and bounded by `duration` (seconds). It retries what it finds
        empty as soon as a token is there: it leaves exactly ``quota - rate``. Returns
        the consumer (`admitted`, `throttled`); `remove_other_consumer` stops it.
        """
        consumer = OtherConsumer(
            rate, burst, math.nan if start is None else start, math.inf if stop is None else stop,
            delay=delay, duration=math.inf if duration is None else duration,
        )  # fmt: skip
        with self.service.lock:
            self.service.add_other(
                consumer, operation, access_key, region_name or self.region_name
            )
        return consumer

    def remove_other_consumer(self, consumer: OtherConsumer) -> None:
        """Stop another consumer (what it already spent stays spent)."""
        with self.service.lock:
            now = self.clock()
            consumer.stop = min(consumer.stop, now)

    # -- faults and the request log ----------------------------------------------------
    def inject_fault(
        self,
        kind: str = "error",
        *,
        probability: float = 1.0,
        operation: str | None = None,
        when: Callable[[Mapping[str, Any]], bool] | None = None,
        at: Iterable[int] | None = None,
    ) -> FaultRule:
        """Answer matching requests with a fault.

        Kinds: "error" (500 InternalServiceException), "throttle" (429
        ThrottlingException), "drop" (the connection closes with no answer), "expire"
        (400 InvalidParameterException, the answer to a NextToken that cannot be used),
        "denied" (403 AccessDeniedException, as for a role without the permission),
        "drift" (the page's DataSnapshotTime is one snapshot later than its chain's, as if
        the service's snapshot moved on mid-chain). `at` picks exact request numbers (1-based,
        counted per operation); `when` looks at the request parameters; `probability`
        draws from the fake's seeded generator. Returns the rule, for `remove_fault`.
        """
        rule = FaultRule(kind, probability, operation, when, None if at is None else frozenset(at))
        with self.service.lock:
            self.service.faults.append(rule)
        return rule

    def remove_fault(self, rule: FaultRule) -> None:
        """Stop injecting one fault."""
        with self.service.lock:
            self.service.faults.remove(rule)

    def clear_faults(self) -> None:
        """Stop injecting every fault."""
        with self.service.lock:
            self.service.faults.clear()

    def add_hook(self, hook: Callable[[str, Mapping[str, Any]], None]) -> None:
        """Call `hook(operation, params)` as each request arrives (in the server thread).

        For tests that act at an exact point, such as moving a `ManualClock` on.
        """
        self._hooks.append(hook)

    def counts(self) -> collections.Counter[tuple[str, int]]:
        """Requests received, by (operation, HTTP status)."""
        with self.service.lock:
            return collections.Counter((r.operation, r.status) for r in self.requests)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self.service.lock:
            self.requests.clear()
