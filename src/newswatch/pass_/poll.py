"""Poll every source (one broken source never stops the pass) and record their health."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from newswatch.health import health_notices
from newswatch.http import Fetcher
from newswatch.models import FeedItem
from newswatch.pass_.stats import PassStats, SourceTally
from newswatch.schema import Config, SourceConfig
from newswatch.sources import SOURCE_KINDS
from newswatch.store import Store
from newswatch.urls import canonical_url


@dataclass(frozen=True)
class SourcePoll:
    source: SourceConfig
    items: tuple[FeedItem, ...] = ()
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    degraded: str | None = None  # polled only in part: why, and the setting to change


def tally_polls(stats: PassStats, polls: Sequence[SourcePoll]) -> None:
    """Fold the polls into the pass summary."""
    stats.sources_polled = len(polls)
    for p in polls:
        if p.error:
            stats.sources_failed.append((p.source.name, p.error))
        if p.degraded:
            stats.sources_degraded.append((p.source.name, p.degraded))
        stats.items_listed += len(p.items)
        stats.sources_not_modified += int(p.not_modified)


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
        degraded=res.degraded,
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


def record_source_health(
    polls: Sequence[SourcePoll],
    items: Sequence[FeedItem],
    per_source: dict[str, SourceTally],
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
                degraded=p.degraded,
            )
            for p in polls
        ]
    )
    for name, tally in per_source.items():
        store.record_extraction(name, tally.articles, tally.fallbacks)
    return health_notices(store, [p.source.name for p in polls], config.settings.health)
