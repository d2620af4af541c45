"""Fetch and extract new articles, in bounded chunks, skipping texts already stored."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from newswatch.clock import utcnow
from newswatch.extract_pool import ExtractionPool
from newswatch.http import Fetcher, FetchError
from newswatch.keys import text_hash
from newswatch.models import Article, FeedItem
from newswatch.pass_.stats import PassStats, SourceTally
from newswatch.store import Store

log = logging.getLogger("newswatch.pass")

# trafilatura is pure Python + lxml: threads serialise on the GIL, so big batches are
# extracted in a small process pool (started once per process, like the model); small
# batches stay in the fetch threads, where a pool's start-up would cost more than it saves.
MIN_ITEMS_FOR_PROCESSES = 16
CHUNK_SIZE = 200  # items fetched, extracted, embedded and stored together (bounded memory)
# NEWSWATCH_PREFETCH=1: fetch and extract chunk k+1 (I/O, worker processes) while chunk k is
# embedded and scored. Opt-in: on 2 cores it was not shown to help, and it keeps two
# chunks in memory at once (see README, Throughput).
PREFETCH = os.environ.get("NEWSWATCH_PREFETCH", "0") == "1"


def fetch_page(item: FeedItem, fetcher: Fetcher) -> tuple[str | None, str | None, str]:
    """(html, final url, problem) where problem is '' or why the page could not be fetched."""
    try:
        res = fetcher.get(item.url)
    except FetchError as exc:
        return None, None, f"{item.url}: {exc.reason}"
    return res.text, res.url, ""


def fetch_article(
    item: FeedItem,
    fetcher: Fetcher,
    min_text_chars: int,
    pool: ExtractionPool | None = None,
) -> tuple[Article, str]:
    """(article, problem) where problem is '' or why the page could not be used."""
    from newswatch.extract import extract_or_fallback  # trafilatura: only when there is work

    html, final_url, problem = fetch_page(item, fetcher)
    args = (item, html, final_url, min_text_chars, utcnow())
    workers = pool.get() if pool is not None and html else None
    if workers is not None:
        try:
            article, failed = workers.submit(extract_or_fallback, *args).result()
            return article, problem or failed
        except BrokenProcessPool:
            pool.discard(workers)
    article, failed = extract_or_fallback(*args)
    return article, problem or failed


def fetch_articles(
    items: Sequence[FeedItem],
    fetcher: Fetcher,
    min_text_chars: int,
    max_workers: int,
    pool: ExtractionPool | None = None,
) -> list[tuple[Article, str]]:
    """Fetch and extract `items`; a big batch is extracted in `pool`'s worker processes."""
    if not items:
        return []
    pool = pool if len(items) >= MIN_ITEMS_FOR_PROCESSES else None
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as threads:
        return list(threads.map(lambda it: fetch_article(it, fetcher, min_text_chars, pool), items))


def chunks(items: Sequence[FeedItem], size: int = CHUNK_SIZE) -> Iterator[Sequence[FeedItem]]:
    """Consecutive chunks; between two, memory the last one freed goes back to the OS."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
        release_memory()


def release_memory() -> None:
    """Return freed heap to the OS: glibc keeps a chunk's pages, HTML and activations
    mapped otherwise, so RSS would ratchet up with every chunk of a large pass."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def drop_known(
    articles: Sequence[Article], store: Store, seen: dict[str, str]
) -> tuple[list[Article], int]:
    """Articles worth embedding: not stored, nor earlier in this pass, with the same text.

    A new listed URL often resolves to a stored article (tracking parameters, a
    redirect): when its text is unchanged the store would skip it anyway, so its
    embedding would be wasted. Returns (kept, how many were dropped).
    """
    stored = store.get_text_hashes([a.canonical_url for a in articles])
    kept = []
    for a in articles:
        h = text_hash(a.title, a.text)
        if h in (seen.get(a.canonical_url), stored.get(a.canonical_url)):
            continue
        seen[a.canonical_url] = h
        kept.append(a)
    return kept, len(articles) - len(kept)


def tally_fetched(
    fetched: Sequence[tuple[Article, str]], stats: PassStats, per_source: dict[str, SourceTally]
) -> list[Article]:
    """Count fallbacks and failures per source; return the articles with something to analyse."""
    articles = []
    for article, problem in fetched:
        tally = per_source.setdefault(article.source, SourceTally())
        tally.articles += 1
        if article.extraction != "page":
            stats.extraction_fallbacks += 1
            tally.fallbacks += 1
        if problem:
            stats.fetch_failures += 1
            log.info("page fallback to feed summary: %s", problem)
        if article.text or article.title:
            articles.append(article)
    return articles
