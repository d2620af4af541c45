"""The stages of one monitoring pass, as plain functions.

`flows/monitor.py` wraps each stage in a Prefect task; tests and the CLI can call
them directly. Every stage is bounded and failure-isolated: a broken source or
page is reported and the pass goes on.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from newswatch.config import Config, SourceConfig, Topic
from newswatch.embed import Embedder
from newswatch.health import health_notices
from newswatch.http import Fetcher, FetchError
from newswatch.models import Article, Decision, FeedItem
from newswatch.sources import SOURCE_KINDS
from newswatch.store import Store, text_hash, utcnow
from newswatch.stories import StoryIndex, document_vector
from newswatch.urls import canonical_url

log = logging.getLogger("newswatch.pipeline")
_STATS_LOCK = threading.Lock()


@dataclass
class PassStats:
    """What a pass did, for the closing summary, the pass record and the Prefect artifact."""

    sources_polled: int = 0
    sources_failed: list[tuple[str, str]] = field(default_factory=list)
    sources_not_modified: int = 0
    items_listed: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    extraction_fallbacks: int = 0
    fetch_failures: int = 0
    passages_embedded: int = 0
    matches: int = 0
    alerts_queued: int = 0
    followups_queued: int = 0
    alerts_sent: int = 0
    alerts_pending: int = 0
    alerts_held: int = 0  # waiting for their topic's digest period
    delivery_problem: str = ""
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # stage time spent in the background, beside other stages (not part of the pass's sum)
    overlapped: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str, beside: bool = False):
        """Add the block's time to `stage`; `beside`: it runs in another thread, beside the
        stages on the pass's path, so it goes to `overlapped`, not into their sum."""
        into = self.overlapped if beside else self.timings
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with _STATS_LOCK:
                into[stage] = into.get(stage, 0.0) + time.perf_counter() - t0

    def take_polls(self, polls: Sequence[SourcePoll]) -> None:
        self.sources_polled = len(polls)
        for p in polls:
            if p.error:
                self.sources_failed.append((p.source.name, p.error))
            self.items_listed += len(p.items)
            self.sources_not_modified += int(p.not_modified)

    def take_delivery(self, report) -> None:  # noqa: ANN001 - delivery.DeliveryReport
        """Fold the outbox delivery into the pass summary (one line when something is stuck)."""
        self.alerts_sent = report.sent
        self.alerts_pending = report.pending
        self.alerts_held = report.held
        if report.pending or report.failed:
            failed = f", {report.failed} failed permanently" if report.failed else ""
            self.delivery_problem = (
                f"{report.pending} alert(s) queued for the next pass{failed}: {report.problem}"
            )

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["sources_failed"] = [list(x) for x in self.sources_failed]
        d["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        d["overlapped"] = {k: round(v, 3) for k, v in self.overlapped.items()}
        return d

    def summary_line(self) -> str:
        failed = len(self.sources_failed)
        line = (
            f"sources polled: {self.sources_polled} ({failed} failed), "
            f"new articles: {self.new_articles}, matches: {self.matches}, "
            f"alerts: {self.alerts_queued} new + {self.followups_queued} follow-ups, "
            f"delivered: {self.alerts_sent}"
        )
        if self.alerts_pending:
            line += f", queued for retry: {self.alerts_pending}"
        if self.alerts_held:
            line += f", held for digest: {self.alerts_held}"
        return line


# -- polling ------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcePoll:
    source: SourceConfig
    items: tuple[FeedItem, ...] = ()
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


def shard_sources(sources: Sequence[SourceConfig], shard: str | None) -> list[SourceConfig]:
    """Sources of shard `i/n` (stable by name), so several workers share the polling."""
    if not shard:
        return list(sources)
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        i, n = -1, 0
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"shard must be i/n with 0 <= i < n, got {shard!r}")
    import zlib

    return [s for s in sources if zlib.crc32(s.name.encode()) % n == i]


def poll_one(source: SourceConfig, fetcher: Fetcher, state: dict | None) -> SourcePoll:
    try:
        src = SOURCE_KINDS[source.kind](source)
        state = state or {}
        res = src.poll(fetcher, etag=state.get("etag"), last_modified=state.get("last_modified"))
    except Exception as exc:  # one broken source never stops the run
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        return SourcePoll(source, error=f"{source.url}: {reason}")
    return SourcePoll(
        source,
        items=tuple(res.items),
        not_modified=res.not_modified,
        etag=res.etag,
        last_modified=res.last_modified,
    )


def poll_sources(
    sources: Sequence[SourceConfig], fetcher: Fetcher, store: Store, max_workers: int
) -> list[SourcePoll]:
    states = store.source_states()
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(sources) or 1))) as pool:
        return list(pool.map(lambda s: poll_one(s, fetcher, states.get(s.name)), sources))


def new_items(polls: Iterable[SourcePoll], store: Store) -> list[FeedItem]:
    """Items not seen before (by listed or canonical URL), first listing wins."""
    items: dict[str, FeedItem] = {}
    for p in polls:
        for it in p.items:
            items.setdefault(canonical_url(it.url), it)
    seen = store.seen(list(items) + [it.url for it in items.values()])
    return [it for c, it in items.items() if c not in seen and it.url not in seen]


# -- fetch + extract ----------------------------------------------------------------

# trafilatura is pure Python + lxml: threads serialise on the GIL, so big batches are
# extracted in a small process pool (started once per process, like the model); small
# batches stay in the fetch threads, where a pool's start-up would cost more than it saves.
MIN_ITEMS_FOR_PROCESSES = 16
CHUNK_SIZE = 200  # items fetched, extracted, embedded and stored together (bounded memory)
# NEWSWATCH_PREFETCH=1: fetch and extract chunk k+1 (I/O, worker processes) while chunk k is
# embedded and scored. Opt-in: on 2 cores it was not shown to help, and it keeps two
# chunks in memory at once (see README, Throughput).
PREFETCH = os.environ.get("NEWSWATCH_PREFETCH", "0") == "1"
_POOL_LOCK = threading.Lock()
_EXTRACT_POOL: ProcessPoolExecutor | None = None


def extraction_pool() -> ProcessPoolExecutor | None:
    """The process-wide extraction pool, or None on a single core."""
    global _EXTRACT_POOL
    workers = min(2, os.cpu_count() or 1)
    if workers < 2:
        return None
    with _POOL_LOCK:
        if _EXTRACT_POOL is None:
            # forkserver, not fork: this process has torch and Prefect threads running.
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["newswatch.extract"])
            _EXTRACT_POOL = ProcessPoolExecutor(workers, mp_context=ctx)
        return _EXTRACT_POOL


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool (a worker died) so the next use starts a fresh one."""
    global _EXTRACT_POOL
    with _POOL_LOCK:
        if _EXTRACT_POOL is pool:
            _EXTRACT_POOL = None
    pool.shutdown(wait=False, cancel_futures=True)


def warm_up_extraction(processes: bool = True) -> None:
    """Pay extraction's start-up (imports, language model, pool workers) before a pass."""
    from newswatch.extract import warm_up

    warm_up()
    pool = extraction_pool() if processes else None
    if pool is not None:
        list(pool.map(_noop, range(pool._max_workers)))


def _noop(_i: int) -> None:
    return None


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
    pool: ProcessPoolExecutor | None = None,
) -> tuple[Article, str]:
    """(article, problem) where problem is '' or why the page could not be used."""
    from newswatch.extract import extract_or_fallback

    html, final_url, problem = fetch_page(item, fetcher)
    args = (item, html, final_url, min_text_chars, utcnow())
    if pool is not None and html:
        try:
            article, failed = pool.submit(extract_or_fallback, *args).result()
            return article, problem or failed
        except BrokenProcessPool:
            _discard_pool(pool)
    article, failed = extract_or_fallback(*args)
    return article, problem or failed


def fetch_articles(
    items: Sequence[FeedItem], fetcher: Fetcher, min_text_chars: int, max_workers: int
) -> list[tuple[Article, str]]:
    if not items:
        return []
    pool = extraction_pool() if len(items) >= MIN_ITEMS_FOR_PROCESSES else None
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
    import ctypes
    import gc

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
    fetched: Sequence[tuple[Article, str]], stats: PassStats, per_source: dict[str, list[int]]
) -> list[Article]:
    """Count fallbacks and failures per source; return the articles with something to analyse."""
    articles = []
    for article, problem in fetched:
        counts = per_source.setdefault(article.source, [0, 0])
        counts[0] += 1
        if article.extraction != "page":
            stats.extraction_fallbacks += 1
            counts[1] += 1
        if problem:
            stats.fetch_failures += 1
            log.info("page fallback to feed summary: %s", problem)
        if article.text or article.title:
            articles.append(article)
    return articles


def record_source_health(
    polls: Sequence[SourcePoll],
    items: Sequence[FeedItem],
    per_source: dict[str, list[int]],
    store: Store,
    config: Config,
) -> list[str]:
    """Store every source's poll outcome in one transaction; return the notices it raises."""
    new_by_source: dict[str, int] = {}
    for it in items:
        new_by_source[it.source] = new_by_source.get(it.source, 0) + 1
    store.record_polls(
        [
            dict(
                name=p.source.name,
                ok=p.error is None,
                error=p.error,
                items=len(p.items),
                new_items=new_by_source.get(p.source.name, 0),
                etag=p.etag,
                last_modified=p.last_modified,
                not_modified=p.not_modified,
            )
            for p in polls
        ]
    )
    for name, (total, failed) in per_source.items():
        store.record_extraction(name, total, failed)
    return health_notices(store, [p.source.name for p in polls], config.settings.health)


# -- embed + detect -----------------------------------------------------------------


@dataclass(frozen=True)
class Analysed:
    article: Article
    vector: np.ndarray  # document vector for story clustering
    decisions: dict[str, Decision]


def analyse(
    articles: Sequence[Article], scorer, embedder: Embedder, stats: PassStats
) -> list[Analysed]:
    """Embed every passage of the batch in ONE encode call, then run every topic's detectors."""
    docs = scorer.documents([(a.canonical_url, a.title, a.text) for a in articles])
    flat = [p for d in docs for p in d.passages]
    with stats.timed("embed"):
        matrix = embedder.encode(flat)
    stats.passages_embedded += len(flat)
    vectors, i = [], 0
    for d in docs:
        vectors.append(matrix[i : i + len(d.passages)])
        i += len(d.passages)
    with stats.timed("detect"):
        decisions = scorer.score(docs, vectors)
    return [
        Analysed(a, document_vector(v), dec)
        for a, v, dec in zip(articles, vectors, decisions, strict=True)
    ]


# -- record + enqueue ----------------------------------------------------------------


def alert_payload(topic: Topic, article: Article, decision: Decision) -> dict:
    return {
        "topic_name": topic.name,
        "title": article.title,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "score": round(float(decision.score), 4),
        "evidence": decision.evidence,
        "detector": decision.detector,
        "example": decision.example,
        "highlight": list(decision.details.get("highlight", ())),
        "extraction": article.extraction,
    }


def record_and_enqueue(
    analysed: Sequence[Analysed],
    topics: Sequence[Topic],
    store: Store,
    config: Config,
    stats: PassStats,
) -> None:
    """Store articles into stories and write one outbox row per new (topic, article) match."""
    st = config.settings.stories
    urls, stories, matrix = store.recent_embeddings(utcnow() - timedelta(hours=st.window_hours))
    index = StoryIndex(urls, stories, matrix, st.similarity)
    known = store.get_articles([a.article.canonical_url for a in analysed])
    by_id = {t.id: t for t in topics}
    default_channel = config.settings.slack.default_channel
    rows = []
    for item in analysed:
        prior = known.get(item.article.canonical_url)
        if prior is not None:
            story_id = prior.story_id
        else:
            story_id, _ = index.assign(item.article.canonical_url, item.vector)
        rows.append((item.article, story_id, item.vector))
    outcomes = store.upsert_articles(rows)
    for item, (art, story_id, _vec), outcome in zip(analysed, rows, outcomes, strict=True):
        if outcome == "new":
            stats.new_articles += 1
        elif outcome == "updated":
            stats.updated_articles += 1
        else:
            continue  # unchanged, or a concurrent pass stored it first: it owns the alerts
        for topic_id, decision in item.decisions.items():
            if not decision.matched:
                continue
            stats.matches += 1
            topic = by_id[topic_id]
            queued = store.enqueue_alert(
                topic_id=topic_id,
                story_id=story_id,
                article_url=art.canonical_url,
                channel=topic.channel or default_channel,
                delivery=topic.delivery,
                score=float(decision.score),
                payload=alert_payload(topic, art, decision),
            )
            if queued is None:
                continue
            if queued[1] == "lead":
                stats.alerts_queued += 1
            else:
                stats.followups_queued += 1


def since_to_datetime(since: str | None) -> datetime | None:
    """Parse '7d', '12h', '30m' (relative to now) or an ISO date."""
    if not since:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if since[-1] in units and since[:-1].replace(".", "", 1).isdigit():
        return utcnow() - timedelta(**{units[since[-1]]: float(since[:-1])})
    dt = datetime.fromisoformat(since)
    return dt if dt.tzinfo else dt.replace(tzinfo=utcnow().tzinfo)
