"""The fake's HTTP layer: moto's threaded server, with routes for the metrics operations.

moto's URL table is process-wide, so one route serves every running fake, which finds
its own by the port a request arrived on. The operation comes from the route, the caller
(access key, region) from the request's SigV4 signature.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from moto.connect import urls as moto_connect_urls
from moto.server import ThreadedMotoServer

from ._faults import ServiceError


class Responder(Protocol):
    """What the HTTP layer needs of a fake: its default region, and its answers."""

    region_name: str

    def _respond(
        self,
        operation: str,
        instance_id: str,
        region: str,
        access_key: str,
        params: dict[str, Any],
    ) -> tuple[int, dict[str, str], str, str | None]:
        """Status, headers, body, and the error code (``"drop"``: close the connection)."""


_ROUTES = {
    ("POST", "metrics/current"): "GetCurrentMetricData",
    ("POST", "metrics/historical"): "GetMetricData",
    ("POST", "metrics/data"): "GetMetricDataV2",
    ("POST", "metrics/userdata"): "GetCurrentUserData",
    ("GET", "queues-summary"): "ListQueues",
    ("GET", "routing-profiles-summary"): "ListRoutingProfiles",
    ("GET", "users-summary"): "ListUsers",
}
_PATH = re.compile(
    r"^/(metrics/current|metrics/historical|metrics/userdata|queues-summary"
    r"|routing-profiles-summary|users-summary)/(?P<instance>[^/]+)$"
    # GetMetricDataV2 names its instance in the body (ResourceArn), not the path.
    r"|^/(metrics/data)$"
)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")

# Fakes by server port: moto's URL table is process-wide, so one route serves every
# running fake and finds its own by the port the request arrived on.
_RUNNING: dict[int, Responder] = {}
_RUNNING_LOCK = threading.Lock()


def serve(fake: Responder, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, int]:
    """Start a server for `fake` (port 0: a free one): the server, and its port.

    A port already taken is an `OSError` here (moto's server would wait forever).
    """
    if port:
        with socket.socket() as probe:
            probe.bind((host, port))
    _install_routes()
    # werkzeug logs every request at INFO; keep test output for what matters.
    werkzeug_log = logging.getLogger("werkzeug")
    if werkzeug_log.level == logging.NOTSET:
        werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    port = int(server.get_host_and_port()[1])
    with _RUNNING_LOCK:
        _RUNNING[port] = fake
    return server, port


def shut_down(server: Any, port: int | None) -> None:
    """Stop `server`, and forget its fake."""
    with _RUNNING_LOCK:
        _RUNNING.pop(port or 0, None)
    server.stop()


def _install_routes() -> None:
    """Add our operations to moto's Connect URL table (before a server builds its app)."""
    for _, path in _ROUTES:
        if path == "metrics/data":
            moto_connect_urls.url_paths["{0}/" + path + "$"] = _dispatch
        else:
            moto_connect_urls.url_paths["{0}/" + path + "/(?P<InstanceId>[^/]+)$"] = _dispatch


def _dispatch(
    request: Any, full_url: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], str]:
    port = int(request.environ.get("SERVER_PORT", 0))
    with _RUNNING_LOCK:
        fake = _RUNNING.get(port)
    if fake is None:
        return error_response(
            ServiceError(503, "ServiceUnavailableException", "no fake on this port")
        )
    return handle_http(fake, request)


def error_response(exc: ServiceError) -> tuple[int, dict[str, str], str]:
    """The rest-json error response botocore expects."""
    body = json.dumps({"message": exc.message, "Message": exc.message})
    return exc.status, {"x-amzn-ErrorType": exc.code, "Content-Type": "application/json"}, body


def handle_http(fake: Responder, request: Any) -> tuple[int, dict[str, str], str]:
    """One HTTP request: the operation from its route, the caller from its signature."""
    match = _PATH.match(request.path)
    route = (match.group(1) or match.group(3)) if match else None
    operation = _ROUTES.get((request.method, route or ""))
    if match is None or operation is None:
        return error_response(ServiceError(404, "UnknownOperationException", "Unknown operation"))
    instance_id = match.group("instance") or ""  # V2: from ResourceArn, by the service
    credential = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    access_key, region = credential.groups() if credential else ("anonymous", fake.region_name)
    if request.method == "GET":  # the listings: their parameters are in the query string
        params: dict[str, Any] = {"QueueTypes": request.args.getlist("queueTypes") or None}
        if "maxResults" in request.args:
            params["MaxResults"] = int(request.args["maxResults"])
        if "nextToken" in request.args:
            params["NextToken"] = request.args["nextToken"]
        params = {k: v for k, v in params.items() if v is not None}
    else:
        params = json.loads(request.get_data() or b"{}")
    status, headers, body, code = fake._respond(operation, instance_id, region, access_key, params)
    # As the service does: every answer names its request (botocore's RequestId).
    headers = {**headers, "x-amzn-RequestId": str(uuid.uuid4())}
    if code == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    return status, headers, body
