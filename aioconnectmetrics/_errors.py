"""The errors of aioconnectmetrics: one root, structured context, built-ins as second base.

::

    ConnectMetricsError
    ├── InvalidRequestError (also ValueError)   bad input, raised before any network call
    ├── ConfigurationError                      no credentials, no region, unusable config
    │   └── InvalidSettingError (also ValueError) a constructor setting out of range
    ├── ClientClosedError (also RuntimeError)   a call on a client that is not open
    ├── BackendUnavailableError                 a shared backend (Redis) cannot be reached
    ├── ServiceError                            the service answered with an error
    │   ├── ThrottledError                      429 ThrottlingException, after our retries
    │   ├── ResourceNotFoundError               unknown instance (or resource)
    │   ├── AccessDeniedError                   403: the credentials lack a permission
    │   ├── ServiceRejectedError                InvalidParameter/InvalidRequest from the service
    │   └── ServiceUnavailableError             InternalServiceException and other 5xx
    ├── ConnectionFailedError                   no answer: connection refused, dropped, timed out
    ├── PaginationError                         a batch never got a consistent chain of pages
    ├── SnapshotSpreadError                     batches could not be brought within max_spread
    ├── DeadlineExceededError (also TimeoutError) the call's overall deadline passed
    └── PartialResultError                      some batches failed; carries what succeeded

`PartialResultError` carries a result, so it is defined with results (`_result.py`);
this module is at the bottom of the package and imports nothing of it. botocore and
aiohttp errors never reach users raw: they are translated at the boundary
(`_transport.py`) and chained with ``raise ... from``.
"""

from __future__ import annotations

from typing import Any


class ConnectMetricsError(Exception):
    """The root of every error this library raises."""


class _BadValueError(Exception):
    """A value refused: which field, the value given, and what is allowed."""

    def __init__(self, field: str, value: Any, allowed: str, *, echo: bool = True) -> None:
        self.field = field
        # A value given under a name we do not know is not repeated (not even here): it
        # may be a secret passed by mistake, and errors end up in logs.
        self.value = value if echo else None
        self.allowed = allowed
        shown = repr(value) if echo else "a value (not repeated: the name is unknown)"
        super().__init__(f"{field}: got {shown}; {allowed}")


class InvalidRequestError(_BadValueError, ConnectMetricsError, ValueError):
    """Bad input to a call: which field, the value given, and what is allowed.

    Raised before any network call.
    """


class ConfigurationError(ConnectMetricsError):
    """The client cannot be set up or sign requests: no credentials, no region, ..."""


class InvalidSettingError(_BadValueError, ConfigurationError, ValueError):
    """A setting given to a constructor (`ConnectMetrics`, a policy, a limiter) is refused.

    Attributes ``field``, ``value`` and ``allowed``, as `InvalidRequestError`'s. Raised
    when the object is built, before anything runs.
    """


class ClientClosedError(ConnectMetricsError, RuntimeError):
    """A call on a `ConnectMetrics` that is not open (use ``async with``)."""

    def __init__(self) -> None:
        super().__init__("ConnectMetrics is not open: use 'async with ConnectMetrics(...)'")


class BackendUnavailableError(ConnectMetricsError):
    """A shared backend (Redis) could not be reached in time, and no fallback is allowed."""


class ServiceError(ConnectMetricsError):
    """The service answered with an error.

    Attributes:
        code: the AWS error code (``ThrottlingException``, ...).
        operation: the API operation (``GetCurrentMetricData``, ...).
        status: the HTTP status, when known.
        message: the service's message.
    """

    def __init__(self, code: str, operation: str, status: int | None, message: str) -> None:
        self.code = code
        self.operation = operation
        self.status = status
        self.message = message
        super().__init__(f"{operation} failed with {code} (HTTP {status}): {message}")


class ThrottledError(ServiceError):
    """The service throttled us (429) more often than the retry policy allows."""


class ResourceNotFoundError(ServiceError):
    """The instance (or another resource named in the request) does not exist."""


class AccessDeniedError(ServiceError):
    """403 ``AccessDeniedException``: the credentials' policy lacks the operation's action."""


class ServiceRejectedError(ServiceError):
    """The service rejected the request's parameters (a rule we could not check locally)."""


class ServiceUnavailableError(ServiceError):
    """An internal error of the service (500 ``InternalServiceException`` or another 5xx)."""


class ConnectionFailedError(ConnectMetricsError):
    """No answer from the service: the connection failed, dropped or timed out."""

    def __init__(self, operation: str, detail: str) -> None:
        self.operation = operation
        self.detail = detail
        super().__init__(f"{operation}: no answer from the service ({detail})")


class PaginationError(ConnectMetricsError):
    """A batch restarted its page chain too often (token rejected or snapshot changed)."""

    def __init__(self, batch: int, restarts: int, reason: str) -> None:
        self.batch = batch
        self.restarts = restarts
        self.reason = reason
        super().__init__(f"batch {batch}: gave up after {restarts} restarts ({reason})")


class SnapshotSpreadError(ConnectMetricsError):
    """The batches' snapshots stayed further apart than the caller's ``max_spread``."""

    def __init__(self, spread_seconds: float, max_spread_seconds: float) -> None:
        self.spread_seconds = spread_seconds
        self.max_spread_seconds = max_spread_seconds
        super().__init__(
            f"batch snapshots are {spread_seconds:g} s apart, more than max_spread "
            f"{max_spread_seconds:g} s, after refetching the older batches"
        )


class DeadlineExceededError(ConnectMetricsError, TimeoutError):
    """The whole call (every batch, page and retry) took longer than its deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        super().__init__(f"the call did not finish within its deadline of {deadline:g} s")
