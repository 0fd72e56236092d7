"""The fake service's errors, the faults a test can inject, and the network's delay."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

#: The access key and region of a request, from its SigV4 ``Authorization`` header.
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")


class ServiceError(Exception):
    """An error response of the service: HTTP status, AWS error code and message."""

    def __init__(self, status: int, code: str, message: str, *, dropped: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        #: The HTTP layer closes the connection instead of answering.
        self.dropped = dropped


#: The one answer to a token that cannot be used, whatever the reason. The API reference
#: lists no error for an expired token; it says the token "expires after 5 minutes" and
#: that later requests "must use the same request parameters". A token that no longer
#: works is a parameter that is not valid: InvalidParameterException, "One or more of
#: the specified parameters are not valid". One answer for every reason (expired,
#: forged, issued for other parameters, another operation or another instance), so a
#: client cannot tell them apart and must treat them alike: start the chain again.
TOKEN_REJECTED = ServiceError(
    400,
    "InvalidParameterException",
    "The NextToken is not valid: tokens live 300 seconds and are good only for the "
    "request that issued them",
)

FAULTS = {
    "error": ServiceError(500, "InternalServiceException", "Injected internal error"),
    "throttle": ServiceError(429, "ThrottlingException", "Rate exceeded"),
    "drop": ServiceError(500, "InternalServiceException", "Connection dropped", dropped=True),
    "expire": TOKEN_REJECTED,
    "denied": ServiceError(
        403, "AccessDeniedException", "You do not have sufficient access to perform this action."
    ),
}
#: Fault kinds: the errors above, and "drift", a page whose snapshot moved on.
FAULT_KINDS = (*FAULTS, "drift")


def delay(latency: float | tuple[float, float], rng: random.Random) -> None:
    """The network's delay: the server thread sleeps `latency` (or a draw from a range)."""
    seconds = rng.uniform(*latency) if isinstance(latency, tuple) else latency
    if seconds > 0:
        time.sleep(seconds)


def invalid(message: str) -> ServiceError:
    """A 400 InvalidParameterException with `message`."""
    return ServiceError(400, "InvalidParameterException", message)


@attrs.frozen
class FaultRule:
    """A fault to inject; see `FakeConnect.inject_fault` for the kinds."""

    kind: str
    probability: float = 1.0
    operation: str | None = None
    when: Callable[[Mapping[str, Any]], bool] | None = None
    at: frozenset[int] | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, got {self.kind!r}")

    def applies(self, operation: str, params: Mapping[str, Any], number: int, draw: float) -> bool:
        """Whether this rule fires for request `number` (1-based, per operation)."""
        if self.operation is not None and self.operation != operation:
            return False
        if self.at is not None and number not in self.at:
            return False
        if self.when is not None and not self.when(params):
            return False
        return draw < self.probability


def error_response(exc: ServiceError) -> tuple[int, dict[str, str], str]:
    """The rest-json error response botocore expects."""
    body = json.dumps({"message": exc.message, "Message": exc.message})
    return exc.status, {"x-amzn-ErrorType": exc.code, "Content-Type": "application/json"}, body
