"""Canonical URLs (one identity per story) and URL safety (no SSRF via feeds).

The fetch errors live here rather than in `http` because URL safety needs them
and `http` needs URL safety; `newswatch.http` re-exports them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html


class URLProblem(Exception):
    """Something went wrong with one URL: `reason` is one line, `transient` says retry later."""

    def __init__(self, url: str, reason: str, transient: bool = False):
        self.url = url
        self.reason = reason
        self.transient = transient
        super().__init__(f"{url}: {reason}")


class FetchError(URLProblem):
    """A URL could not be fetched."""


class UnsafeURLError(FetchError):
    """Refused before connecting: bad scheme or a host on a private/internal network."""


# Query parameters that only track the click, never select content.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "_hs", "ns_", "at_", "oly_")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "_ga",
        "_gl",
        "ocid",
        "cmpid",
        "cmp",
        "smid",
        "smtyp",
        "s_cid",
        "ito",
        "taid",
        "ref_src",
        "ref_url",
        "rss",
        "share",
        "sr_share",
        "spm",
        "wt_mc",
        "wt.mc_id",
        "xtor",
        "icid",
    }
)
_METADATA_IPS = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "gob"})


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_PARAMS or low.startswith(_TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Lower-case scheme/host, drop default port, fragment and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = (
        parts.port
        if parts.port and (scheme, parts.port) not in (("http", 80), ("https", 443))
        else None
    )
    netloc = host + (f":{port}" if port else "")
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def site_of(host: str) -> str:
    """Approximate registrable domain ("news.bbc.co.uk" -> "bbc.co.uk") for same-site tests."""
    host = host.lower().rstrip(".").removeprefix("www.")
    labels = host.split(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(a: str, b: str) -> bool:
    return site_of(urlsplit(a).hostname or "") == site_of(urlsplit(b).hostname or "")


_CANONICAL_RE = re.compile(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", re.IGNORECASE)


def find_canonical(html: str, base_url: str) -> str | None:
    """The page's <link rel=canonical> resolved against base_url, if http(s) and same site."""
    if not html or "canonical" not in html.lower():
        return None
    match = _CANONICAL_RE.search(html)
    if not match:
        return None
    try:
        link = lxml_html.fragment_fromstring(match.group(0))
    except Exception:  # lxml raises several types on junk markup
        return None
    href = (link.get("href") or "").strip()
    if not href:
        return None
    resolved = urljoin(base_url, href)
    if urlsplit(resolved).scheme.lower() not in ("http", "https"):
        return None
    # A cross-site canonical could let any page claim another publisher's story.
    if not same_site(resolved, base_url):
        return None
    return resolved


def canonical_url(url: str, html: str | None = None) -> str:
    """One stable identity for a story URL: rel=canonical if trustworthy, then normalised."""
    if html:
        found = find_canonical(html, url)
        if found:
            url = found
    return normalize_url(url)


def _blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in _METADATA_IPS:
        return "cloud metadata address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private:
        return "private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "reserved address"
    return None


def check_public_url(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs and, unless allow_private, hosts resolving to internal addresses.

    Every address the name resolves to must be public, so a DNS answer mixing a
    public and an internal address cannot smuggle a request inside.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(url, f"scheme {scheme or '(none)'!r} not allowed, only http(s)")
    host = parts.hostname
    if not host:
        raise UnsafeURLError(url, "URL has no host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURLError(url, f"bad port: {exc}") from None
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve host {host!r}: {exc}", transient=True) from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        reason = _blocked_reason(ip)
        if reason:
            raise UnsafeURLError(url, f"host {host!r} resolves to {ip} ({reason}); refused")
