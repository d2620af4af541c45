"""RSS 0.9x/2.0, RDF (RSS 1.0) and Atom feeds, via feedparser's forgiving parser."""

from __future__ import annotations

import calendar
import io
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from newswatch.http import Fetcher, FetchResult
from newswatch.models import FeedItem
from newswatch.sources.base import (
    Source,
    SourceError,
    strip_html,
)

_WHERE = re.compile(r"^<unknown>:(\d+):(\d+):\s*")


def _describe(exc: BaseException | None) -> str:
    """feedparser's bozo exception as one readable line."""
    if exc is None:
        return "unknown problem"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _WHERE.sub(lambda m: f"line {m.group(1)}, column {m.group(2)}: ", text)


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(entry, key)  # plain lookup: skips feedparser's deprecated key aliasing
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_link(entry: Any, base_url: str) -> str | None:
    candidates = [entry.get("link")]
    candidates += [
        link.get("href")
        for link in entry.get("links", [])
        if link.get("rel", "alternate") == "alternate"
    ]
    if entry.get("guidislink") or str(entry.get("id", "")).startswith(("http://", "https://")):
        candidates.append(entry.get("id"))
    for raw in candidates:
        if not raw or not isinstance(raw, str):
            continue
        url = urljoin(base_url, raw.strip())
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname:
            return url
    return None


def _entry_summary(entry: Any) -> str:
    summary = entry.get("summary") or ""
    for content in entry.get("content", []) or []:
        value = content.get("value") or ""
        if len(value) > len(summary):
            summary = value
    return summary


def parse_feed(content: bytes, base_url: str, source_name: str) -> tuple[list[FeedItem], list[str]]:
    """Items a feed lists, recovering what it can from broken XML.

    Raises SourceError when the document is not a feed or nothing is usable.
    """
    # A file-like object: given bytes or str, feedparser may treat them as a path or URL.
    parsed = feedparser.parse(
        io.BytesIO(content),
        # application/xml: let the document's own XML declaration pick the charset.
        response_headers={"content-location": base_url, "content-type": "application/xml"},
        sanitize_html=True,
    )
    warnings: list[str] = []
    problem = _describe(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries = parsed.get("entries", [])
    if not entries:
        if problem and not parsed.get("version"):
            raise SourceError(base_url, f"not a feed: {problem}")
        if problem and not isinstance(
            parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
        ):
            raise SourceError(base_url, f"malformed feed, no recoverable items: {problem}")
        if not parsed.get("version"):
            raise SourceError(base_url, "not a feed: no RSS, RDF or Atom root element")
        return [], [f"{base_url}: feed lists no items"]
    if problem:
        warnings.append(
            f"{base_url}: recovered {len(entries)} entries from a broken feed: {problem}"
        )
    items: list[FeedItem] = []
    missing = 0
    for entry in entries:
        url = _entry_link(entry, base_url)
        if url is None:
            missing += 1
            continue
        items.append(
            FeedItem(
                url=url,
                source=source_name,
                title=strip_html(entry.get("title")),
                summary=strip_html(_entry_summary(entry)),
                published=_entry_date(entry),
            )
        )
    if missing:
        warnings.append(f"{base_url}: skipped {missing} entries without an http(s) link")
    if not items:
        raise SourceError(base_url, f"{len(entries)} entries but none has an http(s) link")
    return items, warnings


class FeedSource(Source):
    kind = "feed"
    truncatable = True

    def items_from(self, result: FetchResult, fetcher: Fetcher) -> tuple[list[FeedItem], list[str]]:
        return parse_feed(result.content, result.url, self.config.name)
