"""The fast paths of a pass keep the slow paths' semantics.

Bulk article writes give the same 'new'/'updated'/'unchanged' outcomes as one
write per article (SQLite and PostgreSQL); the extraction process pool gives the
same articles as extraction in the fetch threads; unchanged re-listings are not
re-embedded.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from newswatch.extract_pool import ExtractionPool
from newswatch.http import Fetcher
from newswatch.models import Article, FeedItem
from newswatch.pass_ import fetch as pipeline
from newswatch.schema import NetworkSettings
from newswatch.store import Store


def _article(url: str, text: str = "Body text.") -> Article:
    return Article(url=url, canonical_url=url, source="Wire", title="T", text=text)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    try:
        yield s
    finally:
        s.close()


def test_bulk_upsert_outcomes_match_one_by_one_in_caller_order(store):
    vec = np.ones(4, dtype=np.float32)
    b, a = _article("https://x.example/b"), _article("https://x.example/a")
    assert store.upsert_articles([(b, "s1", vec), (a, "s2", vec)]) == ["new", "new"]
    rows = [(a, "s2", vec), (replace(b, text="Changed."), "s1", vec), (b, "s1", vec)]
    assert store.upsert_articles(rows) == ["unchanged", "updated", "updated"]
    assert store.upsert_article(b, "s1", vec) == "unchanged"


def test_drop_known_skips_stored_and_repeated_unchanged_articles(store):
    vec = np.ones(4, dtype=np.float32)
    stored = _article("https://x.example/stored")
    store.upsert_article(stored, "s1", vec)
    fresh = _article("https://x.example/fresh")
    edited = replace(stored, text="A correction.")
    batch = [stored, fresh, fresh, edited]
    kept, dropped = pipeline.drop_known(batch, store, {})
    assert kept == [fresh, edited] and dropped == 2


def test_process_pool_extraction_equals_thread_extraction(site):
    html = (
        "<html><head><title>Summit opens in Geneva</title></head><body><article>"
        + "<p>Leaders met in Geneva on Monday for talks on trade and security. </p>" * 12
        + "</article></body></html>"
    )
    site.add("/a.html", html)
    items = [
        FeedItem(url=site.url(f"/a.html?n={i}"), source="Wire", title=f"Item {i}")
        for i in range(pipeline.MIN_ITEMS_FOR_PROCESSES)
    ]
    items.append(FeedItem(url=site.url("/missing.html"), source="Wire", summary="Feed text."))
    net = NetworkSettings(allow_private_addresses=True, respect_robots_txt=False, retries=0)
    pool = ExtractionPool(workers=2)
    try:
        with Fetcher(net) as fetcher:
            pooled = pipeline.fetch_articles(items, fetcher, 100, max_workers=4, pool=pool)
            inline = [pipeline.fetch_article(it, fetcher, 100) for it in items]
        assert pool.started  # the batch really went through worker processes
    finally:
        pool.shutdown()
    strip = [(replace(a, fetched_at=None), p) for a, p in pooled]
    assert strip == [(replace(a, fetched_at=None), p) for a, p in inline]
    assert pooled[0][0].title == "Summit opens in Geneva" and pooled[-1][1]
