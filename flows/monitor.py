"""The monitoring pass as a Prefect flow: poll, fetch, analyse, record, deliver."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch import pipeline
from newswatch.config import Config, load_config
from newswatch.delivery import DeliveryReport, deliver_pending, send_notices
from newswatch.http import Fetcher
from newswatch.notify import build_notifier
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


@task(name="fetch-articles-ahead", cache_policy=NO_CACHE)
def fetch_articles_ahead(items, fetcher: Fetcher, config: Config, stats: pipeline.PassStats):
    with stats.timed("fetch+extract", beside=True):
        return fetch_articles.fn(items, fetcher, config)


def fetched_chunks(items, fetcher: Fetcher, config: Config, stats: pipeline.PassStats):
    """(chunk, fetched articles) in order. With pipeline.PREFETCH, chunk k+1 is fetched and
    extracted in the background (fetch threads, extraction processes) while the caller
    embeds and scores chunk k; the "fetch+extract" stage is then the time spent waiting."""
    if not pipeline.PREFETCH:
        for chunk in pipeline.chunks(items):
            with stats.timed("fetch+extract"):
                fetched = fetch_articles(chunk, fetcher, config)
            yield chunk, fetched
        return
    pending = None  # (chunk, its fetch running in the background)
    for chunk in [*pipeline.chunks(items), None]:
        ahead = None
        if chunk is not None:
            ahead = (chunk, fetch_articles_ahead.submit(chunk, fetcher, config, stats))
        if pending is not None:
            with stats.timed("fetch+extract"):
                fetched = pending[1].result()
            yield pending[0], fetched
        pending = ahead


@task(name="analyse", cache_policy=NO_CACHE)
def analyse(articles, config: Config, stats: pipeline.PassStats):
    return pipeline.analyse(articles, scorer_for(config), embedder_for(config), stats)


@task(name="record-and-enqueue", cache_policy=NO_CACHE)
def record(analysed, config: Config, store: Store, stats: pipeline.PassStats):
    pipeline.record_and_enqueue(analysed, config.topics, store, config, stats)


@task(name="deliver", cache_policy=NO_CACHE)
def deliver(store: Store, notifier, config: Config) -> DeliveryReport:
    return deliver_pending(store, notifier, config.topics)


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
        stats.take_polls(polls)
        for name, error in stats.sources_failed:
            log.warning("source %s failed: %s", name, error)
        with stats.timed("store"):
            items = pipeline.new_items(polls, store)
        per_source: dict[str, list[int]] = {}
        seen: dict[str, str] = {}
        # Chunks bound memory (only extracted text is kept) and keep encode batches large.
        for chunk, fetched in fetched_chunks(items, fetcher, config, stats):
            articles = pipeline.tally_fetched(fetched, stats, per_source)
            with stats.timed("store"):
                articles, _unchanged = pipeline.drop_known(articles, store, seen)
            analysed = analyse(articles, config, stats)
            with stats.timed("store"):
                record(analysed, config, store, stats)
                store.mark_seen((it.url, pipeline.canonical_url(it.url)) for it in chunk)
        with stats.timed("store"):
            stats.notices = pipeline.record_source_health(polls, items, per_source, store, config)
        with stats.timed("alert"):
            for problem in send_notices(
                notifier, config.settings.slack.default_channel, stats.notices
            ):
                log.warning(problem)
            report = deliver(store, notifier, config)
        stats.take_delivery(report)
        if stats.delivery_problem:
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
