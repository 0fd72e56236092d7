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
import ssl
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, cast

from moto.connect import urls as moto_connect_urls
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from moto.sts import urls as moto_sts_urls
from moto.sts.responses import TokenResponse
from werkzeug.serving import make_server
from werkzeug.wsgi import LimitedStream

from ._answers import Answering, answer_sts, handshake_delay, respond
from ._faults import CREDENTIAL, ServiceError, error_response
from ._tls import Certificate

_ROUTES = {
    ("POST", "metrics/current"): "GetCurrentMetricData",
    ("POST", "metrics/historical"): "GetMetricData",
    ("POST", "metrics/data"): "GetMetricDataV2",
    ("POST", "metrics/userdata"): "GetCurrentUserData",
    ("GET", "queues-summary"): "ListQueues",
    ("GET", "routing-profiles-summary"): "ListRoutingProfiles",
    ("GET", "users-summary"): "ListUsers",
    ("POST", "search-routing-profiles"): "SearchRoutingProfiles",
}
#: Routes that name their instance in the body (GetMetricDataV2: ResourceArn; searches:
#: InstanceId), not the path.
_BODY_INSTANCE = frozenset({"metrics/data", "search-routing-profiles"})
_PATH = re.compile(
    r"^/(metrics/current|metrics/historical|metrics/userdata|queues-summary"
    r"|routing-profiles-summary|users-summary)/(?P<instance>[^/]+)$"
    # These name their instance in the body (`_BODY_INSTANCE`), not the path.
    r"|^/(metrics/data|search-routing-profiles)$"
)

#: Seconds between the server thread's looks for a stop request (`shut_down` waits for one).
SHUTDOWN_POLL = 0.02
# Fakes by server port: moto's URL table is process-wide, so one route serves every
# running fake and finds its own by the port the request arrived on.
_RUNNING: dict[int, Answering] = {}
_RUNNING_LOCK = threading.Lock()


class _Empty:
    """What werkzeug's after-response drain reads: nothing (see `_KeepAliveHandler`)."""

    def read(self, size: int = -1) -> bytes:
        return b""

    def readline(self, size: int = -1) -> bytes:
        return b""


_EMPTY = _Empty()


class _KeepAliveHandler(MotoRequestHandler):
    """HTTP/1.1 keep-alive, as the real service keeps its connections open.

    werkzeug's development server closes every connection after one response: after
    the application it reads whatever the socket still holds, which on a kept
    connection would swallow the client's next request. Here the application reads the
    body through a stream limited to ``Content-Length``, what it leaves unread is read to
    that length after the response, and werkzeug's own drain sees an empty stream, so
    the next request starts where it should. A request body without a length (chunked)
    still closes its connection. Clients then reuse connections as they do with the
    service, and `FakeConnect(connection_setup=...)` charges a new connection's first
    request, as the service's TLS handshake does.
    """

    _body: LimitedStream | None = None
    _socket_file: Any = None
    #: Whether the request being answered leaves its connection fit for the next one.
    _keep = False
    #: A TLS handshake that failed (the client went away): nothing to serve.
    _unusable = False

    def setup(self) -> None:
        # With TLS, the handshake runs here, in the connection's own thread (handshakes
        # in parallel, as the service's are), answered as late as the fake's set-up.
        if isinstance(self.request, ssl.SSLSocket):
            fake = _RUNNING.get(self.server.server_address[1])
            delay = handshake_delay(fake) if fake is not None else 0.0
            if delay > 0:
                time.sleep(delay)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self._unusable = True
        super().setup()

    def handle(self) -> None:
        if not self._unusable:
            super().handle()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "")
        self._body = None
        if length.isdigit() and not chunked:
            self._body = LimitedStream(self._socket_file, int(length))
            environ["wsgi.input"] = self._body
        # A body of unknown length cannot be read to its end: that connection closes.
        self._keep = self._body is not None or (
            not chunked and environ["REQUEST_METHOD"] in ("GET", "HEAD", "DELETE")
        )
        return environ

    def run_wsgi(self) -> None:
        self._socket_file, self.rfile = self.rfile, cast(Any, _EMPTY)
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._socket_file
            keep, self._keep = self._keep, False  # what comes next is not this request
        if self._body is not None and keep:
            self._body.exhaust()  # what the application left unread

    def send_header(self, keyword: str, value: str) -> None:
        closing = keyword.lower() == "connection" and value.lower() == "close"
        if closing and self._keep:
            return  # keep the connection for the client's next request
        super().send_header(keyword, value)


class _KeepAliveMotoServer(ThreadedMotoServer):
    """moto's threaded server with `_KeepAliveHandler`, and TLS if given a context.

    Accepted connections are wrapped without a handshake: each runs its own in its
    thread (`_KeepAliveHandler.setup`), so one slow handshake holds up no other.
    """

    def __init__(self, *args: Any, tls: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tls = tls

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=_KeepAliveHandler
        )
        if self._tls is not None:
            self._server.socket = self._tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server_ready_event.set()
        # socketserver looks for a shutdown between polls: at its default 0.5 s, stopping
        # a fake took half a second (most of a short test's time).
        self._server.serve_forever(poll_interval=SHUTDOWN_POLL)


def serve(
    fake: Answering, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> tuple[Any, int]:
    """Start a server for `fake` (port 0: a free one): the server, and its port.

    `tls`: serve HTTPS with this context (each handshake in its connection's thread).

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
    server = _KeepAliveMotoServer(ip_address=host, port=port, verbose=False, tls=tls)
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
    """Add our operations to moto's Connect URL table (before a server builds its app).

    STS goes through `_dispatch_sts` too: a fake answers ``GetCallerIdentity`` from its
    accounts, and leaves everything else (and other servers' requests) to moto.
    """
    moto_sts_urls.url_paths["{0}/$"] = _dispatch_sts
    for _, path in _ROUTES:
        if path in _BODY_INSTANCE:
            moto_connect_urls.url_paths["{0}/" + path + "$"] = _dispatch
        else:
            moto_connect_urls.url_paths["{0}/" + path + "/(?P<InstanceId>[^/]+)$"] = _dispatch


def _fake_of(request: Any) -> Answering | None:
    """The running fake a request arrived at (by the server's port), or None."""
    port = int(request.environ.get("SERVER_PORT", 0))
    with _RUNNING_LOCK:
        return _RUNNING.get(port)


def _dispatch(
    request: Any, full_url: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], str]:
    fake = _fake_of(request)
    if fake is None:
        return error_response(
            ServiceError(503, "ServiceUnavailableException", "no fake on this port")
        )
    return handle_http(fake, request)


def _dispatch_sts(
    request: Any, full_url: str, headers: Mapping[str, str]
) -> tuple[int, dict[str, str], str]:
    fake = _fake_of(request)
    answer = answer_sts(fake, request) if fake is not None else None
    if answer is not None:
        return answer
    return cast(
        tuple[int, dict[str, str], str], TokenResponse.dispatch(request, full_url, headers)
    )


def handle_http(fake: Answering, request: Any) -> tuple[int, dict[str, str], str]:
    """One HTTP request: the operation from its route, the caller from its signature."""
    match = _PATH.match(request.path)
    route = (match.group(1) or match.group(3)) if match else None
    operation = _ROUTES.get((request.method, route or ""))
    if match is None or operation is None:
        return error_response(ServiceError(404, "UnknownOperationException", "Unknown operation"))
    instance_id = match.group("instance") or ""  # `_BODY_INSTANCE`: by the service
    credential = CREDENTIAL.search(request.headers.get("Authorization", ""))
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
    connection = request.environ.get("werkzeug.socket")
    status, headers, body, code = respond(
        fake,
        operation,
        instance_id,
        region=region,
        access_key=access_key,
        params=params,
        connection=connection,
    )
    # As the service does: every answer names its request (botocore's RequestId).
    headers = {**headers, "x-amzn-RequestId": str(uuid.uuid4())}
    if code == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    return status, headers, body


class Listener:
    """Where a fake listens: its server, its port and, with TLS, its certificate."""

    def __init__(self, host: str, port: int, *, tls: bool) -> None:
        self.host, self.wanted_port, self.tls = host, port, tls
        self.server: Any = None
        self.port: int | None = None
        self.certificate: Certificate | None = None

    def open(self, fake: Answering) -> None:
        """Serve `fake` (a new certificate first, with TLS)."""
        if self.server is not None:
            raise RuntimeError("FakeConnect is already running")
        context = None
        if self.tls:
            self.certificate = Certificate()
            context = self.certificate.server_context()
        try:
            self.server, self.port = serve(fake, self.host, self.wanted_port, context)
        except BaseException:
            self._remove_certificate()
            raise

    def close(self) -> bool:
        """Stop serving; whether it was serving."""
        if self.server is None:
            return False
        shut_down(self.server, self.port)
        self.server, self.port = None, None
        self._remove_certificate()
        return True

    def _remove_certificate(self) -> None:
        if self.certificate is not None:
            self.certificate.remove()
            self.certificate = None

    @property
    def endpoint_url(self) -> str:
        """The URL clients reach the fake at."""
        if self.port is None:
            raise RuntimeError("FakeConnect is not running")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def ca_bundle(self) -> str | None:
        """With TLS, the certificate's file; else None."""
        if self.port is None:
            raise RuntimeError("FakeConnect is not running")
        return self.certificate.ca_bundle if self.certificate is not None else None
