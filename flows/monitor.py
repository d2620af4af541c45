"""The monitoring pass as a Prefect flow: poll, fetch, analyse, record, deliver."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch import pipeline
from newswatch.config import Config, load_config
from newswatch.delivery import DeliveryReport, deliver_pending
from newswatch.health import health_notices
from newswatch.http import Fetcher
from newswatch.notify import build_notifier
from newswatch.notify.base import DeliveryError
from newswatch.notify.blocks import notice_message
from newswatch.report import pass_markdown
from newswatch.runtime import embedder_for, scorer_for
from newswatch.store import Store


@task(name="poll-sources", cache_policy=NO_CACHE)
def poll_sources(config: Config, fetcher: Fetcher, store: Store, shard: str | None):
    sources = pipeline.shard_sources(config.sources, shard)
    return pipeline.poll_sources(sources, fetcher, store, config.settings.network.max_workers)


@task(name="fetch-articles", cache_policy=NO_CACHE)
def fetch_articles(items, fetcher: Fetcher, config: Config):
    n = config.settings.network
    return pipeline.fetch_articles(items, fetcher, config.settings.min_text_chars, n.max_workers)


@task(name="analyse", cache_policy=NO_CACHE)
def analyse(articles, config: Config, stats: pipeline.PassStats):
    return pipeline.analyse(articles, scorer_for(config), embedder_for(config), stats)


@task(name="record-and-enqueue", cache_policy=NO_CACHE)
def record(analysed, config: Config, store: Store, stats: pipeline.PassStats):
    pipeline.record_and_enqueue(analysed, config.topics, store, config, stats)


@task(name="deliver", cache_policy=NO_CACHE)
def deliver(store: Store, notifier, config: Config) -> DeliveryReport:
    return deliver_pending(store, notifier, config.topics)


def tally_fetched(fetched, stats: pipeline.PassStats, per_source: dict[str, list[int]], log):
    """Count fallbacks and failures per source; the articles with something to analyse."""
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


@flow(name="newswatch-pass", log_prints=False)
def monitor_pass(
    config_dir: str | None = None,
    shard: str | None = None,
    alerts_jsonl: str | None = None,
) -> dict:
    """One pass over every (or this shard's) source; returns the pass summary."""
    log = get_run_logger()
    stats = pipeline.PassStats()
    with stats.timed("setup"):
        config = load_config(config_dir)
        store = Store(config.settings.store.url)
        fetcher = Fetcher(config.settings.network)
        notifier = build_notifier(config.settings.slack, alerts_jsonl=alerts_jsonl)
        pass_id = store.start_pass()
    try:
        with stats.timed("poll"):
            polls = poll_sources(config, fetcher, store, shard)
        stats.sources_polled = len(polls)
        for p in polls:
            if p.error:
                stats.sources_failed.append((p.source.name, p.error))
                log.warning("source %s failed: %s", p.source.name, p.error)
            stats.items_listed += len(p.items)
            stats.sources_not_modified += int(p.not_modified)
        with stats.timed("store"):
            items = pipeline.new_items(polls, store)
        per_source: dict[str, list[int]] = {}
        seen: dict[str, str] = {}
        # Chunks bound memory (only extracted text is kept) and keep encode batches large.
        for chunk in pipeline.chunks(items):
            with stats.timed("fetch+extract"):
                fetched = fetch_articles(chunk, fetcher, config)
            articles = tally_fetched(fetched, stats, per_source, log)
            with stats.timed("store"):
                articles, _unchanged = pipeline.drop_known(articles, store, seen)
            analysed = analyse(articles, config, stats)
            with stats.timed("store"):
                record(analysed, config, store, stats)
                store.mark_seen((it.url, pipeline.canonical_url(it.url)) for it in chunk)
        with stats.timed("store"):
            new_by_source = {}
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
            stats.notices = health_notices(
                store, [p.source.name for p in polls], config.settings.health
            )
        with stats.timed("alert"):
            for text in stats.notices:
                try:
                    notifier.send(notice_message(config.settings.slack.default_channel, text))
                except DeliveryError as exc:
                    log.warning("could not send notice (%s): %s", exc.reason, text)
            report = deliver(store, notifier, config)
        stats.alerts_sent = report.sent
        stats.alerts_pending = report.pending
        stats.alerts_held = report.held
        if report.pending or report.failed:
            stats.delivery_problem = (
                f"{report.pending} alert(s) queued for the next pass"
                + (f", {report.failed} failed permanently" if report.failed else "")
                + f": {report.problem}"
            )
            log.warning(stats.delivery_problem)
        log.info(stats.summary_line())
        summary = stats.as_dict()
        store.finish_pass(pass_id, summary)
        try:
            create_markdown_artifact(
                key="newswatch-pass", markdown=pass_markdown(stats), description="newswatch pass"
            )
        except Exception as exc:  # an artifact is a nicety; never fail a pass for it
            log.debug("artifact not written: %s", exc)
        return summary
    finally:
        fetcher.close()
        store.close()
