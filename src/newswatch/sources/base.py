"""What every source kind shares: the Source interface, its result and its error."""

from __future__ import annotations

import html
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

from newswatch.http import Fetcher, FetchError, FetchResult
from newswatch.models import FeedItem
from newswatch.schema import SourceConfig
from newswatch.urls import UnsafeURLError, URLProblem


class SourceError(URLProblem):
    """A source's document was fetched but yielded nothing usable."""


@dataclass(frozen=True)
class PollResult:
    items: tuple[FeedItem, ...]
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    warnings: tuple[str, ...] = ()
    degraded: str | None = None  # read only in part (e.g. cut at the size limit)


class Source(ABC):
    """One configured source; poll() raises only SourceError or FetchError.

    `poll` is the same for every kind (conditional GET of the configured URL,
    dedupe, unsafe-link filter, newest first, capped); a kind only says how a
    fetched document turns into items.
    """

    kind: ClassVar[str]
    # the document's beginning is usable alone (a feed lists its newest items first)
    truncatable: ClassVar[bool] = False

    def __init__(self, config: SourceConfig):
        self.config = config

    @abstractmethod
    def items_from(self, result: FetchResult, fetcher: Fetcher) -> tuple[list[FeedItem], list[str]]:
        """(items, warnings) listed by the fetched document; may fetch more (child sitemaps)."""

    def poll(
        self, fetcher: Fetcher, etag: str | None = None, last_modified: str | None = None
    ) -> PollResult:
        result = fetcher.get(
            self.config.url,
            trusted=True,
            etag=etag,
            last_modified=last_modified,
            truncate=self.truncatable,
        )
        if result.not_modified:
            return PollResult((), result.etag, result.last_modified, True, ())
        items, warnings = self.items_from(result, fetcher)
        unique = list({item.url: item for item in reversed(items)}.values())[::-1]
        kept = newest_first(safe_items(fetcher, unique, warnings), self.config.max_items)
        degraded = None
        if result.truncated:
            limit = len(result.content)
            degraded = (
                f"larger than network.max_response_bytes ({limit} bytes): read its first "
                f"{limit} bytes ({len(items)} items); raise network.max_response_bytes to "
                "read it whole"
            )
            warnings.append(degraded)
        # a cut document's validators would mark the whole of it as seen: keep none
        etag_, modified = (None, None) if result.truncated else (result.etag, result.last_modified)
        return PollResult(tuple(kept), etag_, modified, False, tuple(warnings), degraded)


def safe_items(fetcher: Fetcher, items: list[FeedItem], warnings: list[str]) -> list[FeedItem]:
    """Drop items whose URL a response taught us but that point at internal hosts."""
    kept: list[FeedItem] = []
    for item in items:
        try:
            fetcher.check_url(item.url)
        except UnsafeURLError as exc:
            warnings.append(f"skipped item: {exc}")
            continue
        except FetchError:
            pass  # unresolvable now: the article fetch re-checks and reports it
        kept.append(item)
    return kept


def newest_first(items: list[FeedItem], limit: int) -> list[FeedItem]:
    """Undated items keep their listed order after the dated ones."""
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(enumerate(items), key=lambda p: (p[1].published or floor, -p[0]), reverse=True)
    return [item for _, item in ranked[:limit]]


def as_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


_DROP_BLOCKS = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.I | re.S)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/blockquote|/tr)\b[^>]*>", re.I)
_TAGS = re.compile(r"<!--.*?-->|<[^>]*>", re.S)


def strip_html(fragment: str | None) -> str:
    """Plain text of an HTML snippet (feed summaries, titles): paragraphs kept as lines."""
    if not fragment:
        return ""
    text = fragment
    if "<" in text:
        text = _DROP_BLOCKS.sub(" ", text)
        text = _BREAKS.sub("\n", text)
        text = _TAGS.sub(" ", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


_URL_DATES = (
    re.compile(r"(?<!\d)(20\d\d|19\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(20\d\d|19\d\d)(\d\d)(\d\d)(?!\d)"),
    re.compile(r"(?<!\d)(20\d\d|19\d\d)[/_-](\d{1,2})(?![\d])()"),
)


def date_from_url(url: str) -> datetime | None:
    """A publication date spelled in a URL path (/2024/05/12/, 20240512, 2024-05)."""
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        for m in pattern.finditer(path):
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
            try:
                return datetime(year, month, day, tzinfo=UTC)
            except ValueError:
                continue
    return None


def parse_w3c_datetime(value: str | None) -> datetime | None:
    """Sitemap/HTML dates: W3C/ISO 8601 forms, naive values taken as UTC."""
    if not value:
        return None
    value = value.strip()
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    m = re.match(r"(\d{4})-(\d\d)(?:-(\d\d))?", value)
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1), tzinfo=UTC)
        except ValueError:
            return None
    return None
