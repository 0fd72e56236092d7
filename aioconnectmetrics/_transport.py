"""The transport: the one place that calls aiobotocore, and maps its errors to ours.

`ClientCaller` makes one HTTP attempt per call on a Connect client and translates
botocore's exceptions into the library's (chained with ``raise ... from``), as
httpcore's ``map_exceptions`` does: nothing of botocore's reaches a caller raw.
Everything above this module talks to a `Caller`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol, cast

import botocore.exceptions
import botocore.loaders
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session

from ._errors import (
    AccessDeniedError,
    ConfigurationError,
    ConnectionFailedError,
    ConnectMetricsError,
    ResourceNotFoundError,
    ServiceError,
    ServiceRejectedError,
    ServiceUnavailableError,
    ThrottledError,
)


class ConnectClient(Protocol):
    """What the library uses of an aiobotocore Connect client."""

    meta: Any

    async def get_current_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """GetCurrentMetricData."""

    async def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """GetMetricData."""

    async def get_metric_data_v2(self, **kwargs: Any) -> dict[str, Any]:
        """GetMetricDataV2."""

    async def get_current_user_data(self, **kwargs: Any) -> dict[str, Any]:
        """GetCurrentUserData."""

    async def list_queues(self, **kwargs: Any) -> dict[str, Any]:
        """ListQueues."""

    async def list_routing_profiles(self, **kwargs: Any) -> dict[str, Any]:
        """ListRoutingProfiles."""

    async def list_users(self, **kwargs: Any) -> dict[str, Any]:
        """ListUsers."""

    async def search_routing_profiles(self, **kwargs: Any) -> dict[str, Any]:
        """SearchRoutingProfiles."""


_METHODS = {
    "GetCurrentMetricData": "get_current_metric_data",
    "GetMetricData": "get_metric_data",
    "GetMetricDataV2": "get_metric_data_v2",
    "GetCurrentUserData": "get_current_user_data",
    "ListQueues": "list_queues",
    "ListRoutingProfiles": "list_routing_profiles",
    "ListUsers": "list_users",
    "SearchRoutingProfiles": "search_routing_profiles",
}
_BY_CODE: Mapping[str, type[ServiceError]] = {
    "ThrottlingException": ThrottledError,
    "TooManyRequestsException": ThrottledError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "AccessDeniedException": AccessDeniedError,
    "InvalidParameterException": ServiceRejectedError,
    "InvalidRequestException": ServiceRejectedError,
    "InternalServiceException": ServiceUnavailableError,
}


#: botocore's errors of credentials and configuration: the client cannot sign, or its
#: credentials could not be had (a role or process refresh failed, an SSO token
#: expired). Each is a `ConfigurationError`: no retry mends it.
CREDENTIAL_ERRORS: tuple[type[Exception], ...] = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.NoRegionError,
    botocore.exceptions.CredentialRetrievalError,
    botocore.exceptions.RefreshWithMFAUnsupportedError,
    botocore.exceptions.TokenRetrievalError,
    botocore.exceptions.SSOError,  # UnauthorizedSSOTokenError, SSOTokenLoadError
    botocore.exceptions.ProfileNotFound,
    botocore.exceptions.InvalidConfigError,
    botocore.exceptions.MetadataRetrievalError,
)


@contextlib.contextmanager
def credentials_translated(operation: str) -> Iterator[None]:
    """Map botocore's credential and configuration errors to `ConfigurationError`, chained."""
    try:
        yield
    except CREDENTIAL_ERRORS as exc:
        raise ConfigurationError(f"{operation}: {exc}") from exc


class Caller(Protocol):
    """Makes one API call: operation name and parameters in, parsed response out."""

    def __call__(self, operation: str, params: Mapping[str, Any]) -> Awaitable[dict[str, Any]]:
        """Call `operation`; raise a `ConnectMetricsError` on failure."""


def translate_client_error(operation: str, exc: botocore.exceptions.ClientError) -> ServiceError:
    """Our error for a botocore `ClientError`, by AWS error code and HTTP status."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    kind = _BY_CODE.get(code)
    if kind is None:
        if status == 429:
            kind = ThrottledError
        elif isinstance(status, int) and status >= 500:
            kind = ServiceUnavailableError
        else:
            kind = ServiceError
    return kind(code, operation, status, str(error.get("Message", "")))


class ClientCaller:
    """One HTTP attempt per call on an aiobotocore Connect client; errors translated.

    `on_call` (optional) is told of every attempt: operation, and the error or None.
    """

    def __init__(
        self,
        client: ConnectClient,
        *,
        on_call: Callable[[str, ConnectMetricsError | None], None] | None = None,
    ) -> None:
        self._client = client
        self._on_call = on_call

    async def __call__(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Make the call."""
        method = getattr(self._client, _METHODS[operation])
        error: ConnectMetricsError | None = None
        try:
            response: dict[str, Any] = await method(**params)
        except botocore.exceptions.ClientError as exc:
            error = translate_client_error(operation, exc)
            raise error from exc
        except (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError) as exc:
            error = ConnectionFailedError(operation, type(exc).__name__)
            raise error from exc
        except CREDENTIAL_ERRORS as exc:
            error = ConfigurationError(f"{operation}: {exc}")
            raise error from exc
        finally:
            if self._on_call is not None:
                self._on_call(operation, error)
        return response


#: botocore's loaders of its JSON data (service models, endpoints, partitions), by data
#: path, shared by the sessions this package makes: a new session otherwise parses the
#: same megabytes again (some 100 ms of every client opened). A loader only reads files
#: and caches what it read, so it belongs to no event loop and no credentials.
_LOADERS: dict[str, botocore.loaders.Loader] = {}
_LOADERS_LOCK = threading.Lock()


def new_session() -> AioSession:
    """A new aiobotocore session (the standard AWS chain), its data loaded once a process."""
    session = get_session()
    path = str(session.get_config_variable("data_path") or "")
    with _LOADERS_LOCK:
        loader = _LOADERS.get(path)
        if loader is None:
            loader = _LOADERS[path] = session.get_component("data_loader")
    session.register_component("data_loader", loader)
    return session


@contextlib.asynccontextmanager
async def open_client(
    session: AioSession | None, *, max_pool_connections: int, **kwargs: bool | str | None
) -> AsyncIterator[ConnectClient]:
    """A new aiobotocore Connect client with botocore's retries off (one attempt each).

    `kwargs` (region, endpoint, credentials) left None are not passed: the standard
    AWS chain supplies them. A missing region or profile is a `ConfigurationError`.
    """
    config = AioConfig(
        retries={"total_max_attempts": 1}, max_pool_connections=max_pool_connections
    )
    given = {k: v for k, v in kwargs.items() if v is not None}
    async with contextlib.AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(
                (session or new_session()).create_client("connect", config=config, **given)
            )
        except CREDENTIAL_ERRORS as exc:
            raise ConfigurationError(str(exc)) from exc
        yield cast(ConnectClient, client)
