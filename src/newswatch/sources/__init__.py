"""Source kinds: where article URLs come from. One module per kind, one line here each."""

from __future__ import annotations

from newswatch.sources.base import PollResult, Source, SourceError
from newswatch.sources.feed import FeedSource
from newswatch.sources.page import PageSource
from newswatch.sources.sitemap import SitemapSource

SOURCE_KINDS: dict[str, type[Source]] = {
    FeedSource.kind: FeedSource,
    SitemapSource.kind: SitemapSource,
    PageSource.kind: PageSource,
}

__all__ = ["SOURCE_KINDS", "PollResult", "Source", "SourceError", "make_source"]


def make_source(config) -> Source:  # noqa: ANN001 - SourceConfig; avoids a config import cycle
    """The Source for a config entry (kinds are validated when the config loads)."""
    return SOURCE_KINDS[config.kind](config)
