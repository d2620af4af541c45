"""`newswatch label --url`: a story an analyst found elsewhere, fetched, stored and labelled.

The page is fetched and extracted as a pass would (the config's network settings,
trafilatura), stored as an article (so a later pass that lists it does not alert on
it again) and labelled under its canonical URL. It is stored without an embedding:
it never joins a story, and `backtest` and `label --review` still read it.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from newswatch.clock import utcnow
from newswatch.models import Article, FeedItem, Label
from newswatch.schema import Config
from newswatch.store import Store


def fetch_article(config: Config, url: str) -> Article:
    """Fetch and extract `url`; raises FetchError (with the reason) when it cannot be read."""
    from newswatch.extract import extract_article
    from newswatch.http import Fetcher

    fetcher = Fetcher(config.settings.network)
    try:
        res = fetcher.get(url, trusted=True)  # the analyst typed it: like `explain --url`
    finally:
        fetcher.close()
    item = FeedItem(url=url, source=urlsplit(res.url or url).hostname or "url")
    return extract_article(item, res.text, res.url, config.settings.min_text_chars, utcnow())


def label_url(
    store: Store, config: Config, url: str, topic_id: str, value: int, who: str
) -> Article:
    """Fetch, store and label one page; returns the stored article."""
    article = fetch_article(config, url)
    known = store.get_articles([article.canonical_url]).get(article.canonical_url)
    key = article.canonical_url
    story_id = known.story_id if known else uuid.uuid5(uuid.NAMESPACE_URL, key).hex
    store.upsert_article(article, story_id, known.embedding if known else None)
    label = Label(topic_id, article.canonical_url, value, "cli", who, utcnow())
    store.put_labels([(label, article.title, article.text)])
    return article
