"""Source kinds: pure parsers on fixtures and shared real feeds; polls against a loopback site."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from newswatch.http import Fetcher, FetchError
from newswatch.schema import NetworkSettings, SourceConfig
from newswatch.sources import SOURCE_KINDS, SourceError
from newswatch.sources.feed import parse_feed
from newswatch.sources.page import discover_links, looks_like_article
from newswatch.sources.sitemap import parse_sitemap

if TYPE_CHECKING:
    from site_server import RequestInfo, Site


FIXTURES = Path(__file__).parent / "fixtures" / "sources"
SHARED = Path(
    os.environ.get("NEWSWATCH_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
FEEDS = SHARED / "feeds"
needs_feeds = pytest.mark.skipif(
    not (FEEDS / "MANIFEST.json").exists(),
    reason=f"shared feed data not found at {FEEDS} (set NEWSWATCH_SHARED_DATA)",
)


def fixture(name: str, base: str = "") -> bytes:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", base).encode("utf-8")


def manifest() -> dict[str, dict]:
    if not (FEEDS / "MANIFEST.json").exists():
        return {}
    return {e["file"]: e for e in json.loads((FEEDS / "MANIFEST.json").read_text())}


def fetcher(**overrides) -> Fetcher:
    opts = {"allow_private_addresses": True, "respect_robots_txt": False, "retries": 0}
    return Fetcher(NetworkSettings(**{**opts, **overrides}), sleep=lambda _s: None)


# -- feeds: pure parsing ------------------------------------------------------------------


def test_rss2_fixture() -> None:
    items, warnings = parse_feed(fixture("rss2.xml"), "https://news.example.com/rss", "ex")
    assert [i.title for i in items] == [
        "Leader confirms first foreign visit",
        "Sanctions tightened on exports",
    ]
    first, second = items
    assert first.url.startswith("https://news.example.com/world/2024/05/12/leader-confirms-visit")
    assert first.summary == "The leader will travel to Moscow in May."
    assert first.published == datetime(2024, 5, 12, 14, 40, 25, tzinfo=UTC)
    assert second.url == "https://news.example.com/world/2024/05/11/sanctions-tightened"
    assert "chip exports" in second.summary  # the fuller content:encoded wins
    assert second.published == datetime(2024, 5, 11, 7, 0, tzinfo=UTC)
    assert any("1 entries without an http(s) link" in w for w in warnings)


def test_atom_fixture() -> None:
    items, warnings = parse_feed(fixture("atom.xml"), "https://nachrichten.example.de/atom", "de")
    assert len(items) == 2 and not warnings
    assert items[0].title == "Gipfel in Berlin beendet"
    assert items[0].published == datetime(2024, 5, 12, 16, 30, 2, tzinfo=UTC)
    assert items[1].summary == "Inhalt des zweiten Artikels."


def test_rdf_fixture() -> None:
    items, _ = parse_feed(fixture("rdf.xml"), "https://tech.example.org/rss", "tech")
    assert [i.title for i in items] == ["Café opens on the moon", "Second story"]
    assert items[0].summary == "An unusual café is open."


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a feed"),
        (b"<html><body><p>Hello</p></body></html>", "not a feed"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title',
            "no recoverable|none has an http",
        ),
    ],
)
def test_unusable_feeds_raise_source_error(content: bytes, reason: str) -> None:
    with pytest.raises(SourceError, match=reason) as err:
        parse_feed(content, "https://x.example/feed", "x")
    assert err.value.url == "https://x.example/feed"


def test_feed_parser_never_reads_a_path_or_url() -> None:
    # Bytes that look like a path or URL must be parsed as a document, never opened.
    for content in (b"/etc/passwd", b"http://127.0.0.1:9/feed"):
        with pytest.raises(SourceError):
            parse_feed(content, "https://x.example/feed", "x")


@needs_feeds
@pytest.mark.parametrize("name", sorted(f for f in manifest() if f.startswith("news/")))
def test_shared_news_feeds_parse(name: str) -> None:
    entry = manifest()[name]
    items, _ = parse_feed((FEEDS / name).read_bytes(), f"https://feeds.example/{name}", "shared")
    assert len(items) == entry["items"], name
    assert all(i.title and i.url.startswith(("http://", "https://")) for i in items)


@needs_feeds
@pytest.mark.parametrize("name", sorted(f for f in manifest() if f.startswith("malformed/")))
def test_shared_malformed_feeds_recover_or_explain(name: str) -> None:
    try:
        items, warnings = parse_feed(
            (FEEDS / name).read_bytes(), f"https://feeds.example/{name}", "x"
        )
    except SourceError as exc:
        assert exc.reason and "\n" not in exc.reason and exc.url.endswith(name)
        return
    assert all(i.url.startswith(("http://", "https://")) for i in items)
    if not manifest()[name]["wellformed"] and items:
        assert any("broken feed" in w or "declared as" in w for w in warnings), warnings


@needs_feeds
def test_shared_malformed_recovers_real_items() -> None:
    items, warnings = parse_feed(
        (FEEDS / "malformed/feeder__rss_theguardian.xml").read_bytes(), "https://g.example/", "g"
    )
    assert len(items) == 54 and any("line 35" in w for w in warnings)


# -- sitemaps -----------------------------------------------------------------------------


def test_news_sitemap_parse() -> None:
    doc = parse_sitemap(fixture("news_sitemap.xml", "https://ex.com"), "https://ex.com/s.xml", "ex")
    by_url = {i.url: i for i in doc.items}
    assert len(doc.items) == 3 and not doc.children
    newest = by_url["https://ex.com/world/2024/05/12/newest-story"]
    assert newest.title == "The newest story"
    assert newest.published == datetime(2024, 5, 12, 8, 30, tzinfo=UTC)
    assert by_url["https://ex.com/world/plain-entry-with-lastmod"].published == datetime(
        2024, 5, 11, tzinfo=UTC
    )
    assert any("without an http(s) <loc>" in w for w in doc.warnings)


def test_sitemap_index_parse_and_gzip() -> None:
    raw = gzip.compress(fixture("sitemap_index.xml", "https://ex.com"))
    doc = parse_sitemap(raw, "https://ex.com/index.xml.gz", "ex")
    assert [u for u, _ in doc.children][:2] == [
        "https://ex.com/sitemaps/2024-04.xml",
        "https://ex.com/sitemaps/news.xml",
    ]


def test_sitemap_rejects_non_sitemaps_and_entities() -> None:
    with pytest.raises(SourceError, match="not a sitemap"):
        parse_sitemap(b"<rss><channel/></rss>", "https://ex.com/s.xml", "ex")
    with pytest.raises(SourceError, match="not XML"):
        parse_sitemap(b"", "https://ex.com/s.xml", "ex")
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://ex.com/a/&x;</loc></url></urlset>"
    )
    doc = parse_sitemap(xxe, "https://ex.com/s.xml", "ex")
    assert all("root:" not in i.url for i in doc.items)


def test_sitemap_poll_follows_index_newest_first(site: Site) -> None:
    site.add(
        "/sitemap.xml", fixture("sitemap_index.xml", site.base_url), content_type="application/xml"
    )
    site.add(
        "/sitemaps/news.xml",
        fixture("news_sitemap.xml", site.base_url),
        content_type="application/xml",
    )
    site.add(
        "/sitemaps/2024-04.xml",
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{site.base_url}'
        "/world/2024/04/02/april-story</loc></url></urlset>",
        content_type="application/xml",
    )
    source = SOURCE_KINDS["sitemap"](
        SourceConfig(name="ex", url=site.url("/sitemap.xml"), kind="sitemap")
    )
    result = source.poll(fetcher())
    assert [i.url.removeprefix(site.base_url) for i in result.items] == [
        "/world/2024/05/12/newest-story",
        "/world/plain-entry-with-lastmod",
        "/world/2024/05/10/older-story",
        "/world/2024/04/02/april-story",
    ]
    paths = [r.path for r in site.requests]
    assert paths == [
        "/sitemap.xml",
        "/sitemaps/news.xml",
        "/sitemaps/missing.xml",
        "/sitemaps/2024-04.xml",
    ]
    assert any("missing.xml" in w and "HTTP 404" in w for w in result.warnings)


def test_sitemap_children_are_safety_checked(site: Site) -> None:
    site.add(
        "/sitemap.xml", fixture("sitemap_index.xml", site.base_url), content_type="application/xml"
    )
    source = SOURCE_KINDS["sitemap"](
        SourceConfig(name="ex", url=site.url("/sitemap.xml"), kind="sitemap")
    )
    with pytest.raises(SourceError, match="no child sitemap could be read.*loopback"):
        source.poll(fetcher(allow_private_addresses=False))
    assert [r.path for r in site.requests] == ["/sitemap.xml"]


# -- section pages ------------------------------------------------------------------------


def test_discover_links_on_section_page() -> None:
    html = (FIXTURES / "section.html").read_text(encoding="utf-8")
    items, _ = discover_links(html, "https://www.example.com/world", "ex")
    assert [(i.url, i.title) for i in items] == [
        (
            "https://www.example.com/world/2024/05/12/leader-confirms-first-foreign-visit",
            "Leader confirms first foreign visit",
        ),
        ("https://www.example.com/news/world-68123456", "Sanctions tightened on chip exports"),
        (
            "https://www.example.com/business/markets-rally-as-inflation-cools.html",
            "Markets rally as inflation cools",
        ),
    ]
    assert items[0].published == datetime(2024, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ex.com/2024/05/12/kim-visits-moscow", True),
        ("https://ex.com/news/uk-politics-68123456", True),
        ("https://ex.com/politics/budget-vote-delayed-again", True),
        ("https://ex.com/world", False),
        ("https://ex.com/world/europe", False),
        ("https://ex.com/tag/north-korea-nuclear-tests", False),
        ("https://ex.com/author/jane-doe-smith", False),
        ("https://ex.com/world/page/2", False),
        ("https://ex.com/media/big-photo-of-the-day.jpg", False),
    ],
)
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url) is expected


def test_page_without_articles_raises() -> None:
    with pytest.raises(SourceError, match="no article links"):
        discover_links(
            "<html><body><a href='/world'>World</a></body></html>", "https://ex.com/", "ex"
        )


def test_page_poll_drops_internal_links_when_private_not_allowed(site: Site) -> None:
    # The section page is trusted (from sources.yaml); the links it lists are not.
    html = (FIXTURES / "section.html").read_text(encoding="utf-8")
    site.add("/world", html)
    source = SOURCE_KINDS["page"](SourceConfig(name="ex", url=site.url("/world"), kind="page"))
    allowed = source.poll(fetcher())
    assert [i.url for i in allowed.items] == [
        site.url("/world/2024/05/12/leader-confirms-first-foreign-visit"),
        site.url("/business/markets-rally-as-inflation-cools.html"),
    ]  # www.example.com is another site than 127.0.0.1
    refused = source.poll(fetcher(allow_private_addresses=False))
    assert refused.items == () and any("loopback" in w for w in refused.warnings)


# -- feed polls ---------------------------------------------------------------------------


def test_feed_poll_conditional_get(site: Site) -> None:
    body = fixture("rss2.xml")

    def handler(req: RequestInfo):
        if req.header("If-None-Match") == '"abc"':
            return 304, {"ETag": '"abc"'}, b""
        return 200, {"ETag": '"abc"', "Content-Type": "application/rss+xml"}, body

    site.add_handler("/rss", handler)
    source = SOURCE_KINDS["feed"](SourceConfig(name="ex", url=site.url("/rss")))
    f = fetcher(allow_private_addresses=False)  # feed URL itself is trusted
    first = source.poll(f)
    assert first.etag == '"abc"' and not first.not_modified
    # The relative link resolves onto the (loopback) feed host: learned, so refused.
    assert [i.title for i in first.items] == ["Leader confirms first foreign visit"]
    assert any("sanctions-tightened" in w and "loopback" in w for w in first.warnings)
    again = source.poll(f, etag=first.etag)
    assert again.not_modified and again.items == () and again.etag == '"abc"'


def test_feed_poll_errors_are_source_or_fetch_errors(site: Site) -> None:
    site.add("/notfeed", "<html><body>hello</body></html>")
    source = SOURCE_KINDS["feed"](SourceConfig(name="ex", url=site.url("/notfeed")))
    with pytest.raises(SourceError, match="not a feed"):
        source.poll(fetcher())
    gone = SOURCE_KINDS["feed"](SourceConfig(name="ex", url=site.url("/gone")))
    with pytest.raises(FetchError, match="HTTP 404"):
        gone.poll(fetcher())
