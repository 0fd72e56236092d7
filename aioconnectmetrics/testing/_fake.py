"""`FakeConnect`: moto's server with our Amazon Connect metrics operations over real HTTP."""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import math
import random
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from moto.connect.models import connect_backends

from .._catalog import CHANNELS
from .._client import ConnectMetrics
from ._accounts import FakeCredentials, caller_identity_xml, signature_matches, sts_error_xml
from ._faults import FAULT_KINDS, FaultRule, ServiceError, delay
from ._quota import OtherConsumer
from ._records import PopulatedCentre, RecordedRequest
from ._server import _CREDENTIAL, error_response, serve, shut_down
from ._service import DEFAULT_QUOTAS, ConnectService
from ._sim import AGENT_STATUSES, Contact, ContactCentre, WaitingContacts
from ._tls import Certificate

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
        self._host, self._wanted_port = host, port
        self.clock: Callable[[], float] = clock or time.time
        self.region_name = region_name
        self.latency = latency
        self.connection_setup = connection_setup
        self.tls = tls
        self._certificate: Certificate | None = None
        self.service = ConnectService(
            account_id=_ACCOUNT_ID,
            clock=self.clock,
            snapshot_interval=snapshot_interval,
            quotas=quotas,
            seed=seed,
            omit_empty_rows=omit_empty_rows,
        )
        #: The connections (sockets) that have had their first request.
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        #: STS ``GetCallerIdentity`` requests answered (see `add_account`).
        self.sts_calls = 0
        #: How many connections paid the set-up time (with `connection_setup` on), or
        #: with `tls`, how many handshakes the server answered.
        self.connections_set_up = 0
        self._setup_rng = random.Random(f"setup:{seed}")
        self.requests: list[RecordedRequest] = []
        self._hooks: list[Callable[[str, Mapping[str, Any]], None]] = []
        self._latency_rng = random.Random(f"latency:{seed}")
        self._server: Any = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the server (`host`, `port`: by default 127.0.0.1 and a free port)."""
        if self._server is not None:
            raise RuntimeError("FakeConnect is already running")
        context = None
        if self.tls:
            self._certificate = Certificate()
            context = self._certificate.server_context()
        try:
            self._server, self._port = serve(self, self._host, self._wanted_port, context)
        except BaseException:
            self._remove_certificate()
            raise

    def stop(self) -> None:
        """Stop the server and remove what this fake created in moto."""
        if self._server is None:
            return
        shut_down(self._server, self._port)
        self._server = None
        self._port = None
        self._remove_certificate()
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

    def _remove_certificate(self) -> None:
        if self._certificate is not None:
            self._certificate.remove()
            self._certificate = None

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
        if self._port is None:
            raise RuntimeError("FakeConnect is not running")
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host  # noqa: S104
        return f"{'https' if self.tls else 'http'}://{host}:{self._port}"

    @property
    def ca_bundle(self) -> str | None:
        """With `tls`, the certificate to verify the fake against (``verify=``); else None."""
        if self._port is None:
            raise RuntimeError("FakeConnect is not running")
        return self._certificate.ca_bundle if self._certificate is not None else None

    def client(
        self, *, region_name: str | None = None, access_key: str = "testing", **config: Any
    ) -> Any:
        """An aiobotocore Connect client for this fake: ``async with fake.client() as c:``.

        Dummy credentials (``access_key`` selects the quota bucket, like an account),
        botocore's retries set to one attempt; ``config`` goes to `AioConfig`.
        """
        config.setdefault("retries", {"total_max_attempts": 1})
        return get_session().create_client(
            "connect",
            region_name=region_name or self.region_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key="testing-secret",  # noqa: S106 - a dummy for the fake
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
        if self.tls:
            kwargs.setdefault("verify", self.ca_bundle)
        keys: dict[str, Any] = (
            credentials.as_kwargs()
            if credentials is not None
            else {
                "aws_access_key_id": access_key,
                "aws_secret_access_key": "testing-secret",
            }
        )
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
            centre = ContactCentre(
                created["Id"],
                created["Arn"],
                seed=self.seed,
                ordinal=len(self.service.instances),
                simulate=simulate,
                traffic=traffic,
            )
            self.service.instances[created["Id"]] = (self.region_name, centre)
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
            centre = self.centre(instance_id)
            return [
                centre.add_queue(
                    queue_type=queue_type, channels=chosen, created_at=self.clock()
                ).id
                for _ in range(n)
            ]

    def add_routing_profile(
        self,
        instance_id: str,
        queue_ids: Sequence[str],
        *,
        concurrency: Mapping[str, int] | None = None,
    ) -> str:
        """Add a routing profile serving `queue_ids`; returns its ID."""
        with self.service.lock:
            centre = self.centre(instance_id)
            return centre.add_routing_profile(
                queue_ids, concurrency=concurrency, created_at=self.clock()
            ).id

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
            centre = self.centre(instance_id)
            return [
                centre.add_agent(routing_profile_id, agent_queue=agent_queues).id for _ in range(n)
            ]

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
        if layout not in ("spread", "departments"):
            raise ValueError(f"layout must be 'spread' or 'departments', got {layout!r}")
        if layout == "departments":
            return self._departments(
                instance_id, queues, department_size, agents_per_profile, agent_queues
            )
        queue_ids = self.add_queues(instance_id, queues)
        rng = random.Random(f"populate:{self.seed}:{self.centre(instance_id).ordinal}")
        profile_ids, agent_ids = [], []
        for index in range(profiles if profiles is not None else max(1, queues // 4)):
            # Each profile serves a run of neighbouring queues plus a few from anywhere.
            base = (index * 4) % max(1, len(queue_ids))
            served = {queue_ids[(base + k) % len(queue_ids)] for k in range(4)}
            served.update(rng.sample(queue_ids, min(2, len(queue_ids))))
            concurrency = {"VOICE": 1, "CHAT": 3} | ({"TASK": 2} if rng.random() < 0.4 else {})
            rp_id = self.add_routing_profile(instance_id, sorted(served), concurrency=concurrency)
            profile_ids.append(rp_id)
            agent_ids += self.add_agents(
                instance_id, rp_id, agents_per_profile, agent_queues=agent_queues
            )
        return PopulatedCentre(instance_id, tuple(queue_ids), tuple(profile_ids), tuple(agent_ids))

    def _departments(
        self,
        instance_id: str,
        queues: int,
        size: int,
        agents_per_profile: int,
        agent_queues: bool,
    ) -> PopulatedCentre:
        if size < 1:
            raise ValueError(f"department_size must be a whole number >= 1, got {size!r}")
        queue_ids = self.add_queues(instance_id, queues)
        rng = random.Random(f"departments:{self.seed}:{self.centre(instance_id).ordinal}")
        profile_ids, agent_ids = [], []
        for start in range(0, len(queue_ids), size):
            department = queue_ids[start : start + size]
            count = max(1, len(department) // 12)
            served: list[set[str]] = [
                set(rng.sample(department, max(1, round(0.4 * len(department)))))
                for _ in range(count)
            ]
            for queue_id in department:
                if not any(queue_id in mine for mine in served):
                    rng.choice(served).add(queue_id)
            for mine in served:
                concurrency = {"VOICE": 1, "CHAT": 3} | ({"TASK": 2} if rng.random() < 0.4 else {})
                rp_id = self.add_routing_profile(
                    instance_id, sorted(mine, key=department.index), concurrency=concurrency
                )
                profile_ids.append(rp_id)
                agent_ids += self.add_agents(
                    instance_id, rp_id, agents_per_profile, agent_queues=agent_queues
                )
        return PopulatedCentre(instance_id, tuple(queue_ids), tuple(profile_ids), tuple(agent_ids))

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
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        with self.service.lock:
            self.centre(instance_id).waiting_overrides[(queue_id, channel)] = WaitingContacts(
                in_queue, float(oldest_age), scheduled, estimated_wait
            )

    def set_agent_status(
        self, instance_id: str, agent_id: str, status: str, *, channel: str | None = None
    ) -> None:
        """Fix an agent's status (and, for ON_CONTACT, the channel of its contact)."""
        if status not in AGENT_STATUSES:
            raise ValueError(f"status must be one of {AGENT_STATUSES}, got {status!r}")
        with self.service.lock:
            centre = self.centre(instance_id)
            if status == "ON_CONTACT" and channel is None:
                channel = centre.agent_channels(centre.agents[agent_id])[0]
            centre.status_overrides[agent_id] = (status, channel)

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
        interval = self.service.snapshot_interval
        return self.service.snapshot_index(self.clock()) * interval

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
        if self.service.quotas is None or operation not in self.service.quotas:
            raise ValueError(f"operation {operation!r} has no quota in this fake")
        consumer = OtherConsumer(
            rate,
            burst,
            math.nan if start is None else start,
            math.inf if stop is None else stop,
            delay=delay,
            duration=math.inf if duration is None else duration,
        )
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
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, got {kind!r}")
        rule = FaultRule(
            kind, probability, operation, when, frozenset(at) if at is not None else None
        )
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

    # -- HTTP (called by `_server.py`, in the server's threads) ------------------------
    def _respond(
        self,
        operation: str,
        instance_id: str,
        region: str,
        access_key: str,
        params: dict[str, Any],
        *,
        connection: object = None,
    ) -> tuple[int, dict[str, str], str, str | None]:
        if connection is not None and self.connection_setup and not self.tls:
            with self.service.lock:
                new = connection not in self._connections
                self._connections.add(connection)
                self.connections_set_up += new
                seconds = _draw(self.connection_setup, self._setup_rng) if new else 0.0
            # The handshake comes before the request reaches the service (and its quota).
            delay(seconds, self._setup_rng)
        for hook in list(self._hooks):
            hook(operation, params)
        with self.service.lock:
            arrived = self.clock()
        try:
            with self.service.lock:
                self.service.admit(operation, access_key, region)
                fault = self.service.pick_fault(operation, params)
            delay(self.latency, self._latency_rng)
            with self.service.lock:
                body = self.service.handle(operation, instance_id, region, params, fault=fault)
            status, headers, text = 200, {"Content-Type": "application/json"}, json.dumps(body)
            code = None
        except ServiceError as exc:
            status, headers, text = error_response(exc)
            code = "drop" if exc.dropped else exc.code
        error = None if status == 200 else code
        record = RecordedRequest(
            operation, instance_id, params, status, error, arrived, access_key, region
        )
        with self.service.lock:
            self.requests.append(record)
        return status, headers, text, code

    def _sts(self, request: Any) -> tuple[int, dict[str, str], str] | None:
        """STS ``GetCallerIdentity`` from the fake's accounts; anything else is moto's.

        A key the fake made is checked (its signature and session token): a wrong
        secret gets ``SignatureDoesNotMatch``. A key it did not make is an account of
        its own, answered unchecked (the fake cannot know its secret), with a made-up
        12-digit account and a user named after the key.
        """
        form = parse_qs((request.get_data() or b"").decode())
        if form.get("Action") != ["GetCallerIdentity"]:
            return None
        request_id = str(uuid.uuid4())
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
        credential = _CREDENTIAL.search(request.headers.get("Authorization", ""))
        if credential is None:
            body = sts_error_xml(
                "MissingAuthenticationToken", "Request is missing a signature", request_id
            )
            return 403, headers, body
        access_key = credential.group(1)
        with self.service.lock:
            self.sts_calls += 1
        known = self.service.accounts.get(access_key)
        if known is None:
            account = f"{int(hashlib.sha256(access_key.encode()).hexdigest(), 16) % 10**12:012d}"
            who = {
                "account": account,
                "arn": f"arn:aws:iam::{account}:user/{access_key}",
                "user_id": "AIDA" + access_key.upper()[:16],
            }
        elif not signature_matches(known, request):
            message = (
                "The request signature we calculated does not match the signature you provided."
            )
            return 403, headers, sts_error_xml("SignatureDoesNotMatch", message, request_id)
        else:
            who = {"account": known.account, "arn": known.arn, "user_id": known.user_id}
        return 200, headers, caller_identity_xml(who, request_id)

    def _handshake_delay(self) -> float:
        """A new TLS connection: its set-up time (counted in `connections_set_up`)."""
        with self.service.lock:
            self.connections_set_up += 1
            return _draw(self.connection_setup, self._setup_rng) if self.connection_setup else 0.0


def _draw(seconds: float | tuple[float, float], rng: random.Random) -> float:
    """A fixed delay, or one drawn from a (low, high) range."""
    return rng.uniform(*seconds) if isinstance(seconds, tuple) else seconds
