"""A total deadline for one HTTP exchange: connect, status line, headers and body.

requests' timeouts bound each socket read, so a server that trickles its status
line or headers one byte at a time never trips them. A timer shuts the socket
down when the exchange's deadline passes; the blocked read then fails at once.
Connections are taken from urllib3 pools subclassed only to tell the timer which
socket the current request uses.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Watch:
    """The connection one request uses, and whether its deadline fired."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.expired = False
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:
            self.expired = True
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    def _get_conn(self, timeout: float | None = None):  # type: ignore[override]
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.conn = conn
        return conn


class _HTTPPool(_Watched, HTTPConnectionPool):
    pass


class _HTTPSPool(_Watched, HTTPSConnectionPool):
    pass


class DeadlineAdapter(HTTPAdapter):
    """HTTPAdapter whose pools report each request's connection to its Watch."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


@contextlib.contextmanager
def deadline(seconds: float):
    """Within the block, this thread's request is cut off `seconds` from now."""
    watch = Watch()
    _current.watch = watch
    timer = threading.Timer(max(0.0, seconds), watch.fire)
    timer.daemon = True
    timer.start()
    try:
        yield watch
    finally:
        with watch._lock:  # a late timer must not cut a connection back in the pool
            watch.conn = None
        timer.cancel()
        _current.watch = None
