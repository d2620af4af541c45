"""One monitoring pass, top to bottom, as plain Python (no Prefect needed).

poll sources -> new items -> per chunk: fetch + extract -> drop texts already stored ->
analyse (one encode, every topic) -> record articles + queue alerts -> mark items seen;
then record source health, send notices and deliver the outbox.

`flows/monitor.py` runs the same pass with each stage wrapped in a Prefect task: it hands
`run_pass` a `Stages` whose callables are tasks. Tests call `run_pass` directly.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from newswatch.clock import utcnow
from newswatch.delivery import deliver_pending, send_notices
from newswatch.http import Fetcher
from newswatch.labels import sync_reactions
from newswatch.models import Article, FeedItem
from newswatch.notify import build_notifier
from newswatch.pass_ import fetch as fetch_stage
from newswatch.pass_.analyse import Analysed, analyse
from newswatch.pass_.enqueue import record_and_enqueue
from newswatch.pass_.fetch import drop_known, fetch_articles, tally_fetched
from newswatch.pass_.poll import (
    SourcePoll,
    new_items,
    poll_sources,
    record_source_health,
    shard_sources,
    tally_polls,
)
from newswatch.pass_.stats import PassStats, SourceTally
from newswatch.runtime import EXTRACTION_POOL, embedder_for, scorer_for
from newswatch.schema import Config
from newswatch.store import Store
from newswatch.store.errors import is_store_error, unavailable
from newswatch.urls import canonical_url

__all__ = ["PassStats", "Stages", "run_pass"]

log = logging.getLogger("newswatch.pass")


@dataclass(frozen=True)
class Stages:
    """The pass's stages; the Prefect flow passes task-wrapped versions of the same functions."""

    poll: Callable[..., list[SourcePoll]] = poll_sources
    fetch: Callable[..., list[tuple[Article, str]]] = fetch_articles
    analyse: Callable[..., list[Analysed]] = analyse
    record: Callable[..., None] = record_and_enqueue
    deliver: Callable[..., Any] = deliver_pending


PLAIN = Stages()


def run_pass(
    config: Config,
    *,
    shard: str | None = None,
    alerts_jsonl: str | None = None,
    stages: Stages = PLAIN,
    logger: logging.Logger | logging.LoggerAdapter = log,
    prefetch: bool | None = None,
) -> PassStats:
    """One pass over every (or this shard's) source; the summary is also stored."""
    stats = PassStats()
    with stats.timed("setup"):
        store = Store(config.settings.store.url)
        fetcher = Fetcher(config.settings.network)
        notifier = build_notifier(config.settings.slack, alerts_jsonl=alerts_jsonl)
        pass_id = store.start_pass()
    try:
        with stats.timed("poll"):
            sources = shard_sources(config.sources, shard)
            polls = stages.poll(sources, fetcher, store, config.settings.network.max_workers)
        tally_polls(stats, polls)
        for name, error in stats.sources_failed:
            logger.warning("source %s failed: %s", name, error)
        for name, why in stats.sources_degraded:
            logger.warning("source %s degraded: %s", name, why)
        with stats.timed("store"):
            items = new_items(polls, store)
            items = items + _due_refetches(store, items)
        if not config.topics:
            # Nothing would judge them: leave them unseen so topics added later see them.
            logger.warning("no enabled topic: %d new item(s) left for a later pass", len(items))
            items = []
        per_source: dict[str, SourceTally] = {}
        seen: dict[str, str] = {}
        ahead = fetch_stage.PREFETCH if prefetch is None else prefetch
        # Chunks bound memory (only extracted text is kept) and keep encode batches large.
        for chunk, fetched in _fetched_chunks(items, fetcher, config, stats, stages, ahead):
            articles = tally_fetched(fetched, stats, per_source)
            with stats.timed("store"):
                articles, _unchanged = drop_known(articles, store, seen)
            if articles:  # the model and the topics' detectors load on the first article
                analysed = stages.analyse(articles, scorer_for(config), embedder_for(config), stats)
                with stats.timed("store"):
                    stages.record(analysed, config.topics, store, config, stats)
            with stats.timed("store"):
                store.mark_seen((it.url, canonical_url(it.url)) for it in chunk)
                store.note_fetches(
                    (a.canonical_url for a, problem in fetched if problem),
                    (a.canonical_url for a, problem in fetched if not problem),
                    utcnow(),
                )
        with stats.timed("store"):
            stats.notices = record_source_health(polls, items, per_source, store, config)
        with stats.timed("alert"):
            default_channel = config.settings.slack.default_channel
            for problem in send_notices(notifier, default_channel, stats.notices):
                logger.warning(problem)
            report = stages.deliver(
                store,
                notifier,
                config.topics,
                default_channel=default_channel,
                expire_after_days=config.settings.slack.expire_after_days,
            )
        stats.take_delivery(report)
        if stats.delivery_problem:
            logger.warning(stats.delivery_problem)
        for text in report.unsent_notices:  # Slack could not take them: the log carries them
            logger.warning("newswatch notice: %s", text)
        sync_reactions(store, notifier, config.settings, logger, shard)  # reactions -> labels
        logger.info(stats.summary_line())
        store.finish_pass(pass_id, stats.as_dict())
        return stats
    except Exception as exc:
        if is_store_error(exc):  # the database went away: one clear reason, the outbox
            raise unavailable(exc, config.settings.store.url) from exc  # keeps what's queued
        raise
    finally:
        fetcher.close()
        store.close()


def _due_refetches(store: Store, items: Sequence[FeedItem]) -> list[FeedItem]:
    """Stored articles whose page failed before and is due again, not already listed."""
    listed = {canonical_url(it.url) for it in items} | {it.url for it in items}
    return [
        it
        for it in store.due_refetches(utcnow())
        if it.url not in listed and canonical_url(it.url) not in listed
    ]


def _fetched_chunks(
    items: Sequence[FeedItem],
    fetcher: Fetcher,
    config: Config,
    stats: PassStats,
    stages: Stages,
    prefetch: bool,
) -> Iterator[tuple[Sequence[FeedItem], list[tuple[Article, str]]]]:
    """(chunk, fetched articles) in order. With prefetch, chunk k+1 is fetched and extracted
    in a background thread while the caller embeds and scores chunk k; the "fetch+extract"
    stage is then the time spent waiting for it."""
    n = config.settings.network

    def fetch(chunk: Sequence[FeedItem]) -> list[tuple[Article, str]]:
        return stages.fetch(
            chunk, fetcher, config.settings.min_text_chars, n.max_workers, EXTRACTION_POOL
        )

    if not prefetch:
        for chunk in fetch_stage.chunks(items):
            with stats.timed("fetch+extract"):
                fetched = fetch(chunk)
            yield chunk, fetched
        return

    def fetch_beside(chunk: Sequence[FeedItem]) -> list[tuple[Article, str]]:
        with stats.timed("fetch+extract", beside=True):
            return fetch(chunk)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="newswatch-prefetch") as bg:
        pending: tuple[Sequence[FeedItem], Future] | None = None
        for chunk in [*fetch_stage.chunks(items), None]:
            ahead = None
            if chunk is not None:  # the copied context keeps a Prefect run's context
                ctx = contextvars.copy_context()
                ahead = (chunk, bg.submit(ctx.run, fetch_beside, chunk))
            if pending is not None:
                with stats.timed("fetch+extract"):
                    fetched = pending[1].result()
                yield pending[0], fetched
            pending = ahead
