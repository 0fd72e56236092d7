"""A fake's answers over HTTP, in the server's threads: set-up, quota, faults, the log.

`respond` admits a request under the account's quota, injects the fault it draws, waits
the latency and records it; `answer_sts` is the fake's STS ``GetCallerIdentity``;
`handshake_delay` the set-up of a new TLS connection. `_server.py` calls them.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from ._accounts import caller_identity_xml, signature_matches, sts_error_xml
from ._faults import CREDENTIAL, ServiceError, delay, error_response
from ._records import RecordedRequest
from ._service import ConnectService


class Answering(Protocol):
    """What answering needs of a fake (`FakeConnect` has it): its state and the log."""

    service: ConnectService
    clock: Callable[[], float]
    region_name: str
    tls: bool
    latency: float | tuple[float, float]
    connection_setup: float | tuple[float, float]
    connections_set_up: int
    sts_calls: int
    requests: list[RecordedRequest]
    _connections: weakref.WeakSet[Any]
    _hooks: list[Callable[[str, Mapping[str, Any]], None]]
    _setup_rng: random.Random
    _latency_rng: random.Random


def respond(
    fake: Answering,
    operation: str,
    instance_id: str,
    *,
    region: str,
    access_key: str,
    params: dict[str, Any],
    connection: object = None,
) -> tuple[int, dict[str, str], str, str | None]:
    """One request's answer: status, headers, body, error code (``"drop"``: close)."""
    if connection is not None and fake.connection_setup and not fake.tls:
        with fake.service.lock:
            new = connection not in fake._connections
            fake._connections.add(connection)
            fake.connections_set_up += new
            seconds = draw(fake.connection_setup, fake._setup_rng) if new else 0.0
        # The handshake comes before the request reaches the service (and its quota).
        delay(seconds, fake._setup_rng)
    for hook in list(fake._hooks):
        hook(operation, params)
    with fake.service.lock:
        arrived = fake.clock()
    try:
        with fake.service.lock:
            fake.service.admit(operation, access_key, region)
            fault = fake.service.pick_fault(operation, params)
        delay(fake.latency, fake._latency_rng)
        with fake.service.lock:
            body = fake.service.handle(operation, instance_id, region, params, fault=fault)
        status, headers, text = 200, {"Content-Type": "application/json"}, json.dumps(body)
        code = None
    except ServiceError as exc:
        status, headers, text = error_response(exc)
        code = "drop" if exc.dropped else exc.code
    error = None if status == 200 else code
    record = RecordedRequest(
        operation, instance_id, params, status, error, arrived, access_key, region
    )
    with fake.service.lock:
        fake.requests.append(record)
    return status, headers, text, code


def answer_sts(fake: Answering, request: Any) -> tuple[int, dict[str, str], str] | None:
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
    credential = CREDENTIAL.search(request.headers.get("Authorization", ""))
    if credential is None:
        body = sts_error_xml(
            "MissingAuthenticationToken", "Request is missing a signature", request_id
        )
        return 403, headers, body
    access_key = credential.group(1)
    with fake.service.lock:
        fake.sts_calls += 1
    known = fake.service.accounts.get(access_key)
    if known is None:
        account = f"{int(hashlib.sha256(access_key.encode()).hexdigest(), 16) % 10**12:012d}"
        who = {
            "account": account,
            "arn": f"arn:aws:iam::{account}:user/{access_key}",
            "user_id": "AIDA" + access_key.upper()[:16],
        }
    elif not signature_matches(known, request):
        message = "The request signature we calculated does not match the signature you provided."
        return 403, headers, sts_error_xml("SignatureDoesNotMatch", message, request_id)
    else:
        who = {"account": known.account, "arn": known.arn, "user_id": known.user_id}
    return 200, headers, caller_identity_xml(who, request_id)


def handshake_delay(fake: Answering) -> float:
    """A new TLS connection: its set-up time (counted in `connections_set_up`)."""
    with fake.service.lock:
        fake.connections_set_up += 1
        return draw(fake.connection_setup, fake._setup_rng) if fake.connection_setup else 0.0


def draw(seconds: float | tuple[float, float], rng: random.Random) -> float:
    """A fixed delay, or one drawn from a (low, high) range."""
    return rng.uniform(*seconds) if isinstance(seconds, tuple) else seconds
