"""News sitemaps and sitemap indexes (Google News sitemap extension understood)."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newswatch.http import Fetcher, FetchError, FetchResult
from newswatch.models import FeedItem
from newswatch.sources.base import (
    Source,
    SourceError,
    date_from_url,
    parse_w3c_datetime,
    strip_html,
)

MAX_CHILD_SITEMAPS = 5  # newest child sitemaps read per poll
MAX_DEPTH = 2  # index -> index -> urlset at most
MAX_DECOMPRESSED_BYTES = 50_000_000


@dataclass
class SitemapDoc:
    """One parsed sitemap file: article entries, or child sitemaps (for an index)."""

    items: list[FeedItem] = field(default_factory=list)
    children: list[tuple[str, datetime | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(node: etree._Element, name: str) -> str | None:
    for child in node.iter():
        if child is not node and _local(child.tag) == name:
            text = (child.text or "").strip()
            if text:
                return text
    return None


def _gunzip(content: bytes, url: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as fh:
            data = fh.read(MAX_DECOMPRESSED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SourceError(url, f"bad gzip sitemap: {exc}") from None
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise SourceError(url, f"sitemap larger than {MAX_DECOMPRESSED_BYTES} bytes uncompressed")
    return data


def _http_url(base_url: str, loc: str | None) -> str | None:
    if not loc:
        return None
    url = urljoin(base_url, loc.strip())
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def parse_sitemap(content: bytes, base_url: str, source_name: str) -> SitemapDoc:
    """Entries of a <urlset> or children of a <sitemapindex>; SourceError if neither."""
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, base_url)
    # No entities, no network, no DTD: a sitemap is untrusted input.
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(base_url, f"not XML: {exc}") from None
    if root is None:
        raise SourceError(base_url, "not XML: empty or unparseable document")
    doc = SitemapDoc()
    if parser.error_log:
        first = parser.error_log[0]
        doc.warnings.append(
            f"{base_url}: recovered from broken XML: line {first.line}: {first.message}"
        )
    kind = _local(root.tag)
    if kind == "sitemapindex":
        for node in root:
            if _local(node.tag) != "sitemap":
                continue
            url = _http_url(base_url, _child_text(node, "loc"))
            if url:
                lastmod = parse_w3c_datetime(_child_text(node, "lastmod")) or date_from_url(url)
                doc.children.append((url, lastmod))
        return doc
    if kind != "urlset":
        raise SourceError(base_url, f"not a sitemap: root element is <{kind or '?'}>")
    seen: set[str] = set()
    skipped = 0
    for node in root:
        if _local(node.tag) != "url":
            continue
        url = _http_url(base_url, _child_text(node, "loc"))
        if url is None:
            skipped += 1
            continue
        if url in seen:
            continue
        seen.add(url)
        published = (
            parse_w3c_datetime(_child_text(node, "publication_date"))
            or parse_w3c_datetime(_child_text(node, "lastmod"))
            or date_from_url(url)
        )
        doc.items.append(
            FeedItem(
                url=url,
                source=source_name,
                title=strip_html(_child_text(node, "title")),
                published=published,
            )
        )
    if skipped:
        doc.warnings.append(f"{base_url}: skipped {skipped} entries without an http(s) <loc>")
    return doc


def _newest_children(children: list[tuple[str, datetime | None]]) -> list[str]:
    dated = sorted((c for c in children if c[1]), key=lambda c: c[1], reverse=True)
    return [u for u, _ in dated] + [u for u, d in children if d is None]


class SitemapSource(Source):
    kind = "sitemap"

    def items_from(self, result: FetchResult, fetcher: Fetcher) -> tuple[list[FeedItem], list[str]]:
        root = parse_sitemap(result.content, result.url, self.config.name)
        items, warnings = list(root.items), list(root.warnings)
        queue = [(url, 1) for url in _newest_children(root.children)]
        read, failures = 0, []
        while queue and read < MAX_CHILD_SITEMAPS:
            url, depth = queue.pop(0)
            read += 1
            try:
                child = fetcher.get(url)  # learned from a response: safety-checked
                doc = parse_sitemap(child.content, child.url, self.config.name)
            except (FetchError, SourceError) as exc:
                failures.append(str(exc))
                warnings.append(f"child sitemap skipped: {exc}")
                continue
            items.extend(doc.items)
            warnings.extend(doc.warnings)
            if depth < MAX_DEPTH:
                queue.extend((u, depth + 1) for u in _newest_children(doc.children))
                queue.sort(key=lambda q: q[1])  # breadth first keeps the newest at each level
        if root.children and not items and failures and len(failures) == read:
            raise SourceError(
                self.config.url, f"no child sitemap could be read; first: {failures[0]}"
            )
        return items, warnings
