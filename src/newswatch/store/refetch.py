"""Pages that failed and stand in as their feed summary: fetched again, a bounded few times.

A 5xx or a timeout on one pass must not leave an article judged on its summary for
ever: it is due again on the next pass, then after 3 and 12 hours; after three
failed retries it stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update

from newswatch.models import FeedItem
from newswatch.store.base import StoreBase, _aware
from newswatch.store.tables import articles

# delay before retry n (1-based): the next pass, then 3 h, then 12 h (~a day in all)
RETRY_DELAYS = (timedelta(0), timedelta(hours=3), timedelta(hours=12))


class RefetchStore(StoreBase):
    def due_refetches(self, now: datetime, limit: int = 200) -> list[FeedItem]:
        """Stored fallback articles whose page is due to be fetched again (oldest due first)."""
        cols = (
            articles.c.url,
            articles.c.source,
            articles.c.title,
            articles.c.text,
            articles.c.published,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*cols)
                .where(and_(articles.c.refetch_at.is_not(None), articles.c.refetch_at <= now))
                .order_by(articles.c.refetch_at)
                .limit(limit)
            ).all()
        return [
            FeedItem(
                url=r.url,
                source=r.source,
                title=r.title,
                summary=r.text,
                published=_aware(r.published),
            )
            for r in rows
        ]

    def note_fetches(self, failed: Iterable[str], fetched: Iterable[str], now: datetime) -> None:
        """After a chunk: failed pages are scheduled again (bounded), fetched ones are done."""
        failed, fetched = sorted(set(failed)), sorted(set(fetched))
        with self.engine.begin() as conn:
            if fetched:
                conn.execute(
                    update(articles)
                    .where(articles.c.canonical_url.in_(fetched))
                    .values(refetch_at=None)
                )
            for url in failed:
                tries = conn.execute(
                    select(articles.c.refetch_tries).where(articles.c.canonical_url == url)
                ).scalar()
                if tries is None:
                    continue  # not stored (nothing to analyse)
                tries += 1
                due = now + RETRY_DELAYS[tries - 1] if tries <= len(RETRY_DELAYS) else None
                conn.execute(
                    update(articles)
                    .where(articles.c.canonical_url == url)
                    .values(refetch_tries=tries, refetch_at=due)
                )
