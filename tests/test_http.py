"""Fetcher and URL safety against a real loopback server."""

from __future__ import annotations

import gzip
import threading
from typing import TYPE_CHECKING

import pytest

from newswatch.http import Fetcher, FetchError, UnsafeURLError, decode_text, parse_retry_after
from newswatch.schema import NetworkSettings
from newswatch.urls import canonical_url, check_public_url

if TYPE_CHECKING:
    from site_server import RequestInfo, Site


def make_fetcher(**overrides) -> tuple[Fetcher, list[float]]:
    """A fetcher whose sleeps are recorded instead of waited."""
    slept: list[float] = []
    opts = {"timeout_seconds": 2.0, "retries": 0, "respect_robots_txt": False, **overrides}
    return Fetcher(NetworkSettings(**opts), sleep=slept.append), slept


def test_get_sends_user_agent_and_decodes(site: Site) -> None:
    site.add("/a", "<p>héllo</p>")
    fetcher, _ = make_fetcher()
    result = fetcher.get(site.url("/a"), trusted=True)
    assert result.status == 200 and result.text == "<p>héllo</p>"
    assert result.url == site.url("/a")
    assert site.requests[0].header("User-Agent").startswith("newswatch/")
    fetcher.close()


def test_conditional_get_304(site: Site) -> None:
    def handler(req: RequestInfo):
        if req.header("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}, b"feed"

    site.add_handler("/feed", handler)
    fetcher, _ = make_fetcher()
    first = fetcher.get(site.url("/feed"), trusted=True)
    assert first.etag == '"v1"' and not first.not_modified and first.content == b"feed"
    second = fetcher.get(
        site.url("/feed"), trusted=True, etag=first.etag, last_modified=first.last_modified
    )
    assert second.not_modified and second.status == 304 and second.content == b""
    assert second.etag == '"v1"' and second.last_modified == first.last_modified
    sent = site.requests[-1]
    assert sent.header("If-None-Match") == '"v1"'
    assert sent.header("If-Modified-Since") == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_429_retry_after_then_success(site: Site) -> None:
    calls = []

    def handler(_req: RequestInfo):
        calls.append(1)
        if len(calls) == 1:
            return 429, {"Retry-After": "7"}, b"slow down"
        return 200, {}, b"ok"

    site.add_handler("/x", handler)
    fetcher, slept = make_fetcher(retries=2)
    assert fetcher.get(site.url("/x"), trusted=True).content == b"ok"
    assert slept == [7.0]


def test_retry_after_is_capped_and_5xx_gives_up(site: Site) -> None:
    site.add("/down", "no", status=503, headers={"Retry-After": "86400"})
    fetcher, slept = make_fetcher(retries=2, max_retry_after_seconds=30)
    with pytest.raises(FetchError) as err:
        fetcher.get(site.url("/down"), trusted=True)
    assert err.value.transient and "HTTP 503" in err.value.reason
    assert slept == [30, 30] and len(site.requests) == 3


def test_404_is_permanent(site: Site) -> None:
    fetcher, slept = make_fetcher(retries=3)
    with pytest.raises(FetchError) as err:
        fetcher.get(site.url("/missing"), trusted=True)
    assert not err.value.transient and "HTTP 404" in str(err.value) and slept == []


def test_slow_response_times_out(site: Site) -> None:
    release = threading.Event()

    def handler(_req: RequestInfo):
        release.wait(10)
        return 200, {}, b"late"

    site.add_handler("/slow", handler)
    fetcher, _ = make_fetcher(timeout_seconds=0.3)
    try:
        with pytest.raises(FetchError) as err:
            fetcher.get(site.url("/slow"), trusted=True)
    finally:
        release.set()
    assert err.value.transient and "timed out after 0.3s" in err.value.reason


def test_trickling_body_hits_total_deadline(site: Site) -> None:
    release = threading.Event()

    def trickle():
        while not release.is_set():
            yield b"x" * 10
            release.wait(0.02)

    site.add_handler("/trickle", lambda _req: (200, {}, trickle()))
    fetcher, _ = make_fetcher(timeout_seconds=0.4)
    try:
        with pytest.raises(FetchError) as err:
            fetcher.get(site.url("/trickle"), trusted=True)
    finally:
        release.set()
    assert "deadline" in err.value.reason


def test_oversized_response_refused(site: Site) -> None:
    site.add("/big", b"x" * 5000)
    fetcher, _ = make_fetcher(max_response_bytes=1024)
    with pytest.raises(FetchError, match="too large"):
        fetcher.get(site.url("/big"), trusted=True)
    # No Content-Length: the limit holds while streaming.
    site.add_handler("/big2", lambda _req: (200, {}, iter([b"y" * 800] * 5)))
    with pytest.raises(FetchError, match="larger than limit"):
        fetcher.get(site.url("/big2"), trusted=True)


def test_decompressed_size_limited(site: Site) -> None:
    bomb = gzip.compress(b"\0" * 200_000)
    site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    fetcher, _ = make_fetcher(max_response_bytes=10_000)
    assert len(bomb) < 10_000
    with pytest.raises(FetchError, match="larger than limit"):
        fetcher.get(site.url("/bomb"), trusted=True)


def test_redirect_to_loopback_refused(site: Site) -> None:
    site.add("/go", "", status=302, headers={"Location": "http://127.0.0.1:9/admin"})
    fetcher, _ = make_fetcher()
    with pytest.raises(UnsafeURLError) as err:
        fetcher.get(site.url("/go"), trusted=True)
    assert "redirect to http://127.0.0.1:9/admin refused" in err.value.reason
    assert "loopback" in err.value.reason
    assert [r.path for r in site.requests] == ["/go"]


def test_redirect_followed_when_private_allowed(site: Site) -> None:
    site.add("/old", "", status=301, headers={"Location": "/new?utm_source=x"})
    site.add("/new", "moved here")
    fetcher, _ = make_fetcher(allow_private_addresses=True)
    result = fetcher.get(site.url("/old"))
    assert result.text == "moved here" and result.url == site.url("/new?utm_source=x")


def test_redirect_loop_bounded(site: Site) -> None:
    site.add("/loop", "", status=302, headers={"Location": "/loop"})
    fetcher, _ = make_fetcher(allow_private_addresses=True, max_redirects=3)
    with pytest.raises(FetchError, match="too many redirects"):
        fetcher.get(site.url("/loop"))
    assert len(site.requests) == 4


def test_redirect_to_file_scheme_refused(site: Site) -> None:
    site.add("/f", "", status=302, headers={"Location": "file:///etc/passwd"})
    fetcher, _ = make_fetcher(allow_private_addresses=True)
    with pytest.raises(UnsafeURLError, match="scheme 'file' not allowed"):
        fetcher.get(site.url("/f"))


def test_untrusted_loopback_refused_without_connecting(site: Site) -> None:
    fetcher, _ = make_fetcher()
    with pytest.raises(UnsafeURLError, match="loopback"):
        fetcher.get(site.url("/a"))
    assert site.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost/",
    ],
)
def test_check_public_url_refuses(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_public_url(url, allow_private=False)


def test_check_public_url_allows() -> None:
    check_public_url("http://93.184.215.14/x", allow_private=False)
    check_public_url("http://127.0.0.1/x", allow_private=True)
    with pytest.raises(UnsafeURLError):
        check_public_url("file:///etc/passwd", allow_private=True)


def test_robots_disallow_respected_and_cached(site: Site) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/private/page", "secret")
    site.add("/public", "hello")
    fetcher, _ = make_fetcher(respect_robots_txt=True)
    with pytest.raises(FetchError, match="robots.txt"):
        fetcher.get(site.url("/private/page"), trusted=True)
    assert fetcher.get(site.url("/public"), trusted=True).text == "hello"
    assert [r.path for r in site.requests] == ["/robots.txt", "/public"]


def test_robots_unreachable_means_allowed(site: Site) -> None:
    site.add("/robots.txt", "oops", status=500)
    site.add("/page", "hello")
    fetcher, _ = make_fetcher(respect_robots_txt=True)
    assert fetcher.get(site.url("/page"), trusted=True).text == "hello"


def test_per_host_delay(site: Site) -> None:
    site.add("/p", "x")
    fetcher, slept = make_fetcher(per_host_delay_seconds=5)
    fetcher.get(site.url("/p"), trusted=True)
    fetcher.get(site.url("/p"), trusted=True)
    assert len(slept) == 1 and 4 < slept[0] <= 5


def test_concurrent_gets_share_one_session(site: Site) -> None:
    for i in range(20):
        site.add(f"/c{i}", f"body {i}")
    fetcher, _ = make_fetcher(max_workers=8)
    out: dict[int, str] = {}

    def work(i: int) -> None:
        out[i] = fetcher.get(site.url(f"/c{i}"), trusted=True).text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {i: f"body {i}" for i in range(20)}


def test_mislabelled_charset_detected(site: Site) -> None:
    page = "<html><body><p>Ça coûte très cher à Zürich, dit-il.</p></body></html>"
    site.add("/latin", page.encode("cp1252"), content_type="text/html; charset=utf-8")
    fetcher, _ = make_fetcher()
    assert "Ça coûte très cher à Zürich" in fetcher.get(site.url("/latin"), trusted=True).text
    assert decode_text("Привет мир, как дела?".encode("koi8-r"), "text/html; charset=koi8-r")[
        :6
    ] == ("Привет")
    assert decode_text("naïve".encode(), "text/html; charset=iso-8859-1") == "naïve"


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert parse_retry_after("soon") is None


def test_canonical_url() -> None:
    url = "HTTPS://Example.COM:443/news/story-1?id=5&utm_source=rss&utm_medium=feed&fbclid=z#top"
    assert canonical_url(url) == "https://example.com/news/story-1?id=5"
    assert canonical_url("http://example.com") == "http://example.com/"
    html = '<html><head><link rel="canonical" href="/news/story-1"></head></html>'
    assert canonical_url("https://m.example.com/amp/story-1?utm_campaign=x", html) == (
        "https://m.example.com/news/story-1"
    )
    absolute = '<link href="https://www.example.com/a/b?utm_term=q" rel="canonical"/>'
    assert (
        canonical_url("https://example.com/a/b?page=1", absolute) == "https://www.example.com/a/b"
    )
    # Cross-site or non-http canonicals are ignored.
    evil = '<link rel="canonical" href="https://other.org/stolen">'
    assert canonical_url("https://example.com/x", evil) == "https://example.com/x"
    js = '<link rel="canonical" href="javascript:alert(1)">'
    assert canonical_url("https://example.com/x", js) == "https://example.com/x"


class TricklingServer:
    """A raw socket server that sends its status line and headers one byte at a time."""

    def __init__(self, interval: float = 0.5) -> None:
        import socket

        self.interval = interval
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n" + b"X-Pad: a\r\n" * 999
        with conn:
            conn.recv(65536)
            for byte in head:
                if self.stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_server_trickling_its_headers_is_cut_off_at_the_total_deadline() -> None:
    import time

    server = TricklingServer(interval=0.5)
    fetcher, _ = make_fetcher(timeout_seconds=1.5)
    try:
        t0 = time.monotonic()
        with pytest.raises(FetchError) as err:
            fetcher.get(server.url, trusted=True)
        took = time.monotonic() - t0
    finally:
        server.close()
        fetcher.close()
    assert took < 5, took  # each byte comes well within the per-read timeout: only a total cuts
    assert err.value.transient and "network.timeout_seconds" in err.value.reason
