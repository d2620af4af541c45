"""Article extraction on self-written pages (real trafilatura, no network)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.extract import clean_text, extract_article
from newswatch.models import FeedItem

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
SHARED = Path(
    os.environ.get("NEWSWATCH_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
URL = "https://www.monitor.example.com/World/2015/0128/kim-moscow-visit?utm_source=rss#top"
BOILERPLATE = (
    "Subscribe to continue",
    "free articles",
    "Dear Reader",
    "donation",
    "independent journalism",
    "newsletter",
    "inbox",
)


def item(**kw) -> FeedItem:
    return FeedItem(**{"url": URL, "source": "monitor", "title": "Feed title", **kw})


def test_paywalled_page_keeps_story_drops_boilerplate() -> None:
    html = (FIXTURES / "paywalled.html").read_text(encoding="utf-8")
    fetched = datetime(2024, 1, 1, tzinfo=UTC)
    article = extract_article(item(summary="Short teaser."), html, URL, fetched_at=fetched)
    assert article.extraction == "page"
    assert "first foreign visit since taking power" in article.text
    assert "natural gas and transport projects" in article.text
    for phrase in BOILERPLATE:
        assert phrase.lower() not in article.text.lower(), phrase
    assert article.title == "Kim to make first foreign trip to Moscow"
    assert article.published == datetime(2015, 1, 28, 9, 15, tzinfo=UTC)
    assert article.language == "en"
    assert (
        article.canonical_url == "https://www.monitor.example.com/World/2015/0128/kim-moscow-visit"
    )
    assert article.url == URL and article.fetched_at == fetched and article.source == "monitor"


def test_paywalled_page_falls_back_to_longer_summary() -> None:
    html = (FIXTURES / "paywalled.html").read_text(encoding="utf-8")
    summary = (
        "<p>" + "The full wire story as the feed carries it, with every detail. " * 30 + "</p>"
    )
    article = extract_article(item(summary=summary), html, URL)
    assert article.extraction == "summary" and article.text.startswith("The full wire story")
    assert "<p>" not in article.text


def test_short_page_falls_back_to_feed_summary() -> None:
    html = (FIXTURES / "short.html").read_text(encoding="utf-8")
    summary = (
        "<p>Le président a confirmé mercredi sa première visite à l'étranger, à Moscou, en mai.</p>"
    )
    published = datetime(2024, 5, 12, 10, tzinfo=UTC)
    article = extract_article(
        item(summary=summary, published=published), html, URL, min_text_chars=400
    )
    assert article.extraction == "summary"
    assert article.text.startswith("Le président a confirmé")
    assert article.language == "fr" and article.published == published
    assert article.title == "Brief"


def test_missing_page_uses_summary_and_feed_title() -> None:
    article = extract_article(
        item(summary="Quelque chose s'est passé à Berlin hier soir."), None, None
    )
    assert article.extraction == "summary" and article.title == "Feed title"
    assert article.url == URL
    assert (
        article.canonical_url == "https://www.monitor.example.com/World/2015/0128/kim-moscow-visit"
    )


def test_garbage_html_never_raises() -> None:
    for html in (
        "",
        "<<<>>>",
        "\x00\x01binary",
        "<html><body></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><a/>",
    ):
        article = extract_article(item(summary="fallback text"), html, URL)
        assert article.text == "fallback text"


def test_clean_text_keeps_story_mentions_of_subscriptions() -> None:
    text = (
        "You've read 1 of 3 free articles this month.\n"
        "The minister said subscriptions to the bond rose sharply after the donation scandal.\n"
        "Officials will meet again next week."
    )
    cleaned, hit = clean_text(text)
    assert hit and cleaned.startswith("The minister said subscriptions")
    assert cleaned.endswith("next week.")


@pytest.mark.skipif(not (SHARED / "seed").exists(), reason=f"shared data not found at {SHARED}")
def test_seed_article_boilerplate_removed() -> None:
    text = (SHARED / "seed" / "csmonitor-2015-01-28-kim-russia-visit.txt").read_text(
        encoding="utf-8"
    )
    cleaned, _ = clean_text(text)
    assert "Kim's father was invited" in cleaned
    assert "Dear Reader" not in cleaned and "free articles" not in cleaned
    assert "subscribe to the Monitor" not in cleaned
