"""A real threaded HTTP server on 127.0.0.1 for tests (stdlib only).

Tests talk to it over loopback so the real Fetcher code path (sockets,
redirects, timeouts, streaming limits) is exercised, not a mock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


@dataclass(frozen=True)
class RequestInfo:
    """One request as the server saw it."""

    method: str
    path: str  # path including the query string
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lname = name.lower()
        for k, v in self.headers.items():
            if k.lower() == lname:
                return v
        return None


Body = bytes | Iterable[bytes]
# A handler may return an iterable of chunks as the body: they are written and flushed one
# by one (no Content-Length, connection closed after), for slow or endless responses.
Handler = Callable[[RequestInfo], tuple[int, dict[str, str], Body]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: Site

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        """A client that hangs up (a timeout, a size cap) is expected here, not an error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
        pass

    def _serve(self, send_body: bool) -> None:
        info = RequestInfo(self.command, self.path, dict(self.headers.items()))
        site = self.server.site
        site._record(info)
        status, headers, body = site._respond(info)
        try:
            self.send_response(status)
            lower = {k.lower() for k in headers}
            for k, v in headers.items():
                self.send_header(k, v)
            streamed = not isinstance(body, bytes | bytearray)
            if streamed:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "content-length" not in lower and "transfer-encoding" not in lower:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and status not in (204, 304):
                for chunk in [body] if not streamed else body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)


class Site:
    """Serve static and dynamic responses; record every request in arrival order."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[RequestInfo] = []
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.site = self
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        """Serve a fixed response at `path` (matched with or without its query string)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": content_type, **(headers or {})}
        self.add_handler(path, lambda _info: (status, dict(hdrs), data))

    def add_handler(self, path: str, fn: Handler) -> None:
        """Serve `fn(request)` at `path`: for 304 logic, 429-then-200, slow bodies, redirects."""
        with self._lock:
            self._routes[path] = fn

    def requests_for(self, path: str) -> list[RequestInfo]:
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path == path or r.path == path]

    def _record(self, info: RequestInfo) -> None:
        with self._lock:
            self.requests.append(info)

    def _respond(self, info: RequestInfo) -> tuple[int, dict[str, str], Body]:
        with self._lock:
            fn = self._routes.get(info.path) or self._routes.get(urlsplit(info.path).path)
        if fn is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        try:
            return fn(info)
        except Exception as exc:  # a broken test handler should show up as a 500, not a hang
            return 500, {"Content-Type": "text/plain"}, f"handler error: {exc!r}".encode()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    try:
        yield s
    finally:
        s.close()
