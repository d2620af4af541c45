"""The one way newswatch talks to the web: safe, bounded, polite HTTP GETs.

Redirects are followed by hand so every hop is checked against private
addresses; bodies are streamed so size and time limits hold even against a
hostile or broken server; one Session is shared by all worker threads.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from newswatch.charsets import decode_text
from newswatch.http_deadline import DeadlineAdapter, deadline
from newswatch.schema import NetworkSettings
from newswatch.urls import FetchError, UnsafeURLError, check_public_url

__all__ = ["FetchError", "FetchResult", "Fetcher", "HTTPStatusError", "UnsafeURLError"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_CHUNK = 64 * 1024
_ROBOTS_TTL_SECONDS = 3600.0
_BACKOFF_BASE_SECONDS = 0.5
_SAFE_HOST_TTL_SECONDS = 300.0


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    content: bytes
    text: str  # decoded; charset sniffed when the label is wrong
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    truncated: bool = False  # cut at network.max_response_bytes (only when asked for)


class _Truncated(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, content: bytes):
        self.content = content


class HTTPStatusError(FetchError):
    """The server answered with an error status (kept for retry decisions)."""

    def __init__(self, url: str, status: int, reason: str, retry_after: float | None = None):
        super().__init__(url, reason, transient=status in _TRANSIENT_STATUSES or status >= 500)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _HostState:
    def __init__(self, max_connections: int):
        self.semaphore = threading.BoundedSemaphore(max_connections)
        self.lock = threading.Lock()
        self.next_time = 0.0


class Fetcher:
    """Thread-safe HTTP client with SSRF checks, limits, retries, politeness and robots.txt.

    `sleep` and `clock` are injectable so tests of Retry-After and per-host
    delays need not wait for real.
    """

    def __init__(
        self,
        network: NetworkSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.network = network
        self._sleep = sleep
        self._clock = clock
        session = requests.Session()
        # No env proxies or .netrc: what we connect to must be exactly what we checked.
        session.trust_env = False
        adapter = DeadlineAdapter(
            pool_connections=32, pool_maxsize=max(4, network.max_workers), max_retries=0
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update(
            {
                "User-Agent": network.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                "application/rss+xml,application/atom+xml,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            }
        )
        self._session = session
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._safe_hosts: dict[str, float] = {}
        self._truncate = threading.local()  # this thread's get() accepts a cut body

    # -- public -----------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        trusted: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
        truncate: bool = False,
    ) -> FetchResult:
        """GET with retries on transient failures; raise FetchError with one clear reason.

        `truncate`: a body over network.max_response_bytes is cut there (`truncated`)
        instead of refused, for formats whose beginning is usable on its own (feeds).
        """
        attempts = self.network.retries + 1
        self._truncate.value = truncate
        for attempt in range(attempts):
            try:
                return self._get_once(url, trusted, etag, last_modified, robots=True)
            except FetchError as exc:
                if not exc.transient or attempt == attempts - 1:
                    raise
                wait = getattr(exc, "retry_after", None)
                if wait is None:
                    wait = _BACKOFF_BASE_SECONDS * (2**attempt) * (1 + random.random() / 2)
                self._sleep(min(wait, self.network.max_retry_after_seconds))
        raise AssertionError("unreachable")  # pragma: no cover

    def check_url(self, url: str) -> None:
        """Raise UnsafeURLError unless `url` may be fetched untrusted (cached per host)."""
        if self.network.allow_private_addresses:
            check_public_url(url, allow_private=True)
            return
        parts = urlsplit(url)
        key = f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"
        now = self._clock()
        with self._lock:
            if self._safe_hosts.get(key, 0.0) > now:
                return
        check_public_url(url, allow_private=False)
        with self._lock:
            self._safe_hosts[key] = now + _SAFE_HOST_TTL_SECONDS

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one attempt: redirects by hand -----------------------------------------------

    def _get_once(
        self,
        url: str,
        trusted: bool,
        etag: str | None,
        last_modified: str | None,
        robots: bool,
    ) -> FetchResult:
        if trusted:
            check_public_url(url, allow_private=True)  # still refuse file:// and friends
        else:
            self.check_url(url)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.network.max_redirects + 1):
            if robots and self.network.respect_robots_txt and not self._robots_allow(current):
                raise FetchError(current, "disallowed by robots.txt")
            result = self._exchange(current, headers)
            if isinstance(result, FetchResult):
                return self._finish(result, etag, last_modified)
            target = urljoin(current, result)
            try:
                self.check_url(target)
            except UnsafeURLError as exc:
                raise UnsafeURLError(url, f"redirect to {target} refused: {exc.reason}") from None
            current = target
        raise FetchError(url, f"too many redirects (more than {self.network.max_redirects})")

    @staticmethod
    def _finish(result: FetchResult, etag: str | None, last_modified: str | None) -> FetchResult:
        if not result.not_modified:
            return result
        return FetchResult(
            url=result.url,
            status=result.status,
            content=b"",
            text="",
            headers=result.headers,
            etag=result.etag or etag,
            last_modified=result.last_modified or last_modified,
            not_modified=True,
        )

    def _host_state(self, netloc: str) -> _HostState:
        with self._lock:
            state = self._hosts.get(netloc)
            if state is None:
                state = _HostState(self.network.max_connections_per_host)
                self._hosts[netloc] = state
            return state

    def _exchange(self, url: str, headers: dict[str, str]) -> FetchResult | str:
        """One request under the host's politeness limits: a result, or a redirect Location."""
        state = self._host_state(urlsplit(url).netloc.lower())
        with state.semaphore:
            with state.lock:
                now = self._clock()
                wait = state.next_time - now
                state.next_time = max(now, state.next_time) + self.network.per_host_delay_seconds
            if wait > 0:
                self._sleep(wait)
            return self._request(url, headers)

    def _request(self, url: str, headers: dict[str, str]) -> FetchResult | str:
        """One exchange within `timeout_seconds` in total (connect, headers and body)."""
        timeout = self.network.timeout_seconds
        with deadline(timeout) as watch:
            try:
                return self._request_within(url, headers, time.monotonic() + timeout)
            except FetchError:
                if watch.expired:
                    raise FetchError(
                        url,
                        f"timed out after {timeout:g}s: no complete response within the "
                        "deadline (network.timeout_seconds covers connecting, the status "
                        "line, headers and body)",
                        transient=True,
                    ) from None
                raise

    def _request_within(
        self, url: str, headers: dict[str, str], deadline: float
    ) -> FetchResult | str:
        timeout = self.network.timeout_seconds
        try:
            resp = self._session.get(
                url, headers=headers, stream=True, allow_redirects=False, timeout=(timeout, timeout)
            )
        except requests.Timeout:
            raise FetchError(url, f"timed out after {timeout:g}s", transient=True) from None
        except requests.ConnectionError as exc:
            raise FetchError(url, f"connection failed: {_short(exc)}", transient=True) from None
        except requests.RequestException as exc:
            raise FetchError(url, f"request failed: {_short(exc)}") from None
        with resp:
            status = resp.status_code
            if status in _REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise FetchError(url, f"HTTP {status} redirect without a Location header")
                return location
            if status >= 400:
                raise HTTPStatusError(
                    url,
                    status,
                    f"HTTP {status} {resp.reason or ''}".strip(),
                    retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                )
            hdrs = CaseInsensitiveDict(resp.headers)
            etag = resp.headers.get("ETag")
            last_modified = resp.headers.get("Last-Modified")
            if status == 304:
                return FetchResult(url, 304, b"", "", hdrs, etag, last_modified, True)
            truncated = False
            try:
                content = self._read_body(url, resp, deadline)
            except _Truncated as cut:
                content, truncated = cut.content, True
        text = decode_text(content, resp.headers.get("Content-Type"))
        return FetchResult(url, status, content, text, hdrs, etag, last_modified, False, truncated)

    def _read_body(self, url: str, resp: requests.Response, deadline: float) -> bytes:
        limit = self.network.max_response_bytes
        cut = getattr(self._truncate, "value", False)
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and not cut:
            raise FetchError(
                url,
                f"response too large: {declared} bytes > limit of {limit} "
                "(raise network.max_response_bytes to accept it)",
            )
        body = bytearray()
        try:
            while True:
                # read1 returns whatever has arrived (decompressed, at most _CHUNK bytes),
                # so a trickling server cannot hold us past the deadline.
                chunk = resp.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > limit:
                    if cut:
                        raise _Truncated(bytes(body[:limit]))
                    raise FetchError(
                        url,
                        f"response larger than limit of {limit} bytes; refused "
                        "(raise network.max_response_bytes to accept it)",
                    )
                if time.monotonic() > deadline:
                    raise FetchError(
                        url,
                        f"read deadline of {self.network.timeout_seconds:g}s exceeded",
                        transient=True,
                    )
        except urllib3.exceptions.DecodeError as exc:
            raise FetchError(url, f"cannot decompress response: {_short(exc)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if "timed out" in str(exc).lower():
                reason = f"timed out after {self.network.timeout_seconds:g}s reading response"
                raise FetchError(url, reason, transient=True) from None
            raise FetchError(url, f"connection broken: {_short(exc)}", transient=True) from None
        return bytes(body)

    # -- robots.txt ---------------------------------------------------------------------

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt fetch per origin even with many threads
            expires, parser = self._robots.get(origin, (0.0, None))
            if expires <= self._clock():
                parser = self._load_robots(origin)
                self._robots[origin] = (self._clock() + _ROBOTS_TTL_SECONDS, parser)
        return parser is None or parser.can_fetch(self.network.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """Parsed robots.txt, or None (= allow all) when missing or unreachable."""
        try:
            # The origin already passed the checks for the URL being fetched.
            result = self._get_once(origin + "/robots.txt", True, None, None, robots=False)
        except FetchError:
            return None
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(result.text.splitlines())
        return parser


def _short(exc: BaseException) -> str:
    """Innermost, first-line message of a requests/urllib3 exception chain."""
    inner: BaseException = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    reason = getattr(inner, "reason", None)
    if isinstance(reason, BaseException):
        inner = reason
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    return text[:200]
