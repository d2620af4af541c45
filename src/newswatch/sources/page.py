"""A section or front page whose article links are discovered by URL and layout heuristics."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from newswatch.http import Fetcher, FetchResult
from newswatch.models import FeedItem
from newswatch.sources.base import (
    Source,
    SourceError,
    date_from_url,
)
from newswatch.urls import normalize_url, site_of

# Path segments that mark navigation, listings or service pages, never an article.
NON_ARTICLE_SEGMENTS = frozenset(
    [
        "tag",
        "tags",
        "topic",
        "topics",
        "author",
        "authors",
        "byline",
        "category",
        "categories",
        "section",
        "sections",
        "search",
        "login",
        "logout",
        "signin",
        "sign-in",
        "signup",
        "sign-up",
        "register",
        "subscribe",
        "subscription",
        "subscriptions",
        "newsletter",
        "newsletters",
        "account",
        "accounts",
        "profile",
        "profiles",
        "user",
        "users",
        "about",
        "about-us",
        "contact",
        "contact-us",
        "privacy",
        "privacy-policy",
        "terms",
        "terms-of-use",
        "terms-of-service",
        "cookies",
        "cookie-policy",
        "help",
        "faq",
        "feed",
        "feeds",
        "rss",
        "atom",
        "jobs",
        "careers",
        "advertise",
        "advertising",
        "shop",
        "store",
        "donate",
        "donations",
        "archive",
        "archives",
        "sitemap",
        "page",
        "index",
        "corrections",
        "imprint",
        "impressum",
    ]
)
NON_ARTICLE_EXTENSIONS = [
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".svg",
    ".webp",
    ".ico",
    ".pdf",
    ".css",
    ".js",
    ".json",
    ".xml",
    ".rss",
    ".atom",
    ".zip",
    ".gz",
    ".mp3",
    ".mp4",
    ".m4a",
    ".mov",
    ".avi",
    ".webm",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".epub",
]
_SKIP_ANCESTORS = frozenset({"nav", "footer", "menu"})
_SKIP_REL = frozenset({"tag", "author", "category", "next", "prev"})
_ID_RUN = re.compile(r"\d{5,}")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)


def _in_chrome(anchor: lxml_html.HtmlElement) -> bool:
    """Inside site chrome (nav/footer/menus, or a header outside any <article>)."""
    in_article = False
    for el in anchor.iterancestors():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "article":
            in_article = True
        if tag in _SKIP_ANCESTORS or (el.get("role") or "").lower() == "navigation":
            return True
        if tag == "header" and not in_article:
            return True
    return False


def looks_like_article(url: str, anchor_text: str = "") -> bool:
    """URL-shape heuristics: dated paths, long slugs, numeric ids; never nav/listing pages."""
    parts = urlsplit(url)
    path = parts.path.lower()
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    if any(s in NON_ARTICLE_SEGMENTS for s in segments):
        return False
    if path.endswith(tuple(NON_ARTICLE_EXTENSIONS)):
        return False
    if re.search(r"(^|&)(page|p|s|q|query|search)=", parts.query.lower()):
        return False
    last = re.sub(r"\.(s?html?|php|aspx?|cms)$", "", segments[-1])
    slug_words = [w for w in re.split(r"[-_+]", last) if _WORDS.search(w)]
    if len(slug_words) >= 3:
        return True
    if date_from_url(url) and (len(segments) >= 3 or len(slug_words) >= 2):
        return True
    if any(_ID_RUN.search(s) for s in segments) and (len(segments) >= 2 or slug_words):
        return True
    # Short URL with a headline-like anchor: e.g. /world/abc123 linked as a full sentence.
    return len(segments) >= 2 and len(anchor_text.split()) >= 5 and len(last) >= 6


def _anchor_title(anchor: lxml_html.HtmlElement) -> str:
    text = " ".join(anchor.text_content().split())
    if not text:
        text = anchor.get("title") or anchor.get("aria-label") or ""
        if not text:
            img = anchor.find(".//img")
            text = img.get("alt", "") if img is not None else ""
    return " ".join(text.split())


def discover_links(html: str, base_url: str, source_name: str) -> tuple[list[FeedItem], list[str]]:
    """Article links on a section/front page, in page order, deduplicated.

    Raises SourceError when the page has no link that looks like an article.
    """
    try:
        doc = lxml_html.document_fromstring(_XML_DECL.sub("", html) or "<html></html>")
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise SourceError(base_url, f"not an HTML page: {exc}") from None
    base_el = doc.find(".//base[@href]")
    base = urljoin(base_url, base_el.get("href")) if base_el is not None else base_url
    page_site = site_of(urlsplit(base_url).hostname or "")
    page_self = normalize_url(base_url)
    titles: dict[str, str] = {}
    order: list[str] = []
    examined = 0
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        examined += 1
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if site_of(parts.hostname) != page_site:
            continue
        if set((anchor.get("rel") or "").lower().split()) & _SKIP_REL:
            continue
        url = normalize_url(url)
        if url == page_self or _in_chrome(anchor):
            continue
        title = _anchor_title(anchor)
        if not looks_like_article(url, title):
            continue
        if url not in titles:
            order.append(url)
            titles[url] = title
        elif len(title) > len(titles[url]):
            titles[url] = title  # image link first, headline link second: keep the headline
    if not order:
        raise SourceError(base_url, f"no article links found among {examined} links on the page")
    items = [
        FeedItem(url=u, source=source_name, title=titles[u], published=date_from_url(u))
        for u in order
    ]
    return items, []


class PageSource(Source):
    kind = "page"

    def items_from(self, result: FetchResult, fetcher: Fetcher) -> tuple[list[FeedItem], list[str]]:
        return discover_links(result.text, result.url, self.config.name)
