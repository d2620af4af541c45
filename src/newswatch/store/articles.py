"""Articles, the URLs already seen, and the stories they belong to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from newswatch.clock import utcnow
from newswatch.keys import text_hash
from newswatch.models import Article
from newswatch.store.base import StoreBase, _aware, _insert_ignore, in_chunks
from newswatch.store.tables import articles, seen_urls


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    story_id: str
    embedding: np.ndarray | None
    text_hash: str


class ArticleStore(StoreBase):
    def seen(self, urls: Iterable[str]) -> set[str]:
        """The subset of `urls` already seen (as a listed URL or a canonical URL)."""
        urls = list(urls)
        with self.engine.connect() as conn:
            found = set(
                in_chunks(
                    conn, urls, lambda c: select(seen_urls.c.url).where(seen_urls.c.url.in_(c))
                )
            )
            found.update(
                in_chunks(
                    conn,
                    urls,
                    lambda c: select(articles.c.canonical_url).where(
                        articles.c.canonical_url.in_(c)
                    ),
                )
            )
        return {row[0] for row in found}

    def mark_seen(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember listed URLs (and what they resolved to) so they are not fetched again."""
        now = utcnow()
        todo = dict(pairs)
        with self.engine.begin() as conn:
            known = in_chunks(
                conn, list(todo), lambda c: select(seen_urls.c.url).where(seen_urls.c.url.in_(c))
            )
            for (url,) in list(known):
                todo.pop(url, None)
            for url, canonical in todo.items():
                _insert_ignore(conn, seen_urls, url=url, canonical_url=canonical, seen_at=now)

    def get_text_hashes(self, canonical_urls: Sequence[str]) -> dict[str, str]:
        """canonical url -> text hash of the stored articles among `canonical_urls`."""
        cols = (articles.c.canonical_url, articles.c.text_hash)
        with self.engine.connect() as conn:
            rows = in_chunks(
                conn, canonical_urls, lambda c: select(*cols).where(articles.c.canonical_url.in_(c))
            )
            return {u: h for u, h in rows}

    def get_articles(self, canonical_urls: Sequence[str]) -> dict[str, StoredArticle]:
        with self.engine.connect() as conn:
            rows = in_chunks(
                conn,
                canonical_urls,
                lambda c: select(articles).where(articles.c.canonical_url.in_(c)),
            )
            return {r.canonical_url: self._stored(r) for r in rows}

    @staticmethod
    def _stored(r) -> StoredArticle:
        emb = np.frombuffer(r.embedding, dtype=np.float32) if r.embedding else None
        return StoredArticle(
            article=Article(
                url=r.url,
                canonical_url=r.canonical_url,
                source=r.source,
                title=r.title,
                text=r.text,
                published=_aware(r.published),
                language=r.language,
                fetched_at=_aware(r.fetched_at),
                extraction=r.extraction,
            ),
            story_id=r.story_id,
            embedding=emb,
            text_hash=r.text_hash,
        )

    def recent_embeddings(self, since: datetime) -> tuple[list[str], list[str], np.ndarray]:
        """(canonical urls, story ids, matrix) of articles fetched since `since`."""
        urls: list[str] = []
        stories: list[str] = []
        vecs: list[np.ndarray] = []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles.c.canonical_url, articles.c.story_id, articles.c.embedding).where(
                    and_(articles.c.fetched_at >= since, articles.c.embedding.is_not(None))
                )
            )
            for url, story, emb in rows:
                urls.append(url)
                stories.append(story)
                vecs.append(np.frombuffer(emb, dtype=np.float32))
        matrix = np.vstack(vecs) if vecs else np.zeros((0, 0), dtype=np.float32)
        return urls, stories, matrix

    def upsert_article(self, article: Article, story_id: str, embedding: np.ndarray | None) -> str:
        """Insert or update one article; returns 'new', 'updated' or 'unchanged'."""
        return self.upsert_articles([(article, story_id, embedding)])[0]

    def upsert_articles(
        self, rows: Sequence[tuple[Article, str, np.ndarray | None]], conn: Connection | None = None
    ) -> list[str]:
        """Insert or update articles in ONE transaction; per row 'new', 'updated' or 'unchanged'.

        One commit per pass chunk instead of one per article (each commit is an fsync).
        Each insert still loses gracefully to a concurrent twin (savepoint + unique key).
        With `conn` the rows join the caller's transaction (the pass commits a chunk's
        articles together with the alerts they make).
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.upsert_articles(rows, own)
        now = utcnow()
        # Rows in key order: two overlapping passes then lock keys in the same order
        # (no deadlock on PostgreSQL); outcomes are returned in the caller's order.
        order = sorted(range(len(rows)), key=lambda i: rows[i][0].canonical_url)
        outcomes = [""] * len(rows)
        for i in order:
            article, story_id, embedding = rows[i]
            outcomes[i] = self._upsert(conn, article, story_id, embedding, now)
        return outcomes

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction for several store calls that must commit together (or not at all)."""
        return self.engine.begin()

    @staticmethod
    def _upsert(conn, article: Article, story_id: str, embedding, now: datetime) -> str:
        h = text_hash(article.title, article.text)
        values = dict(
            url=article.url,
            source=article.source,
            title=article.title,
            text=article.text,
            text_hash=h,
            published=article.published,
            language=article.language,
            extraction=article.extraction,
            updated_at=now,
            embedding=embedding.astype(np.float32).tobytes() if embedding is not None else None,
        )
        old = conn.execute(
            select(articles.c.text_hash).where(articles.c.canonical_url == article.canonical_url)
        ).scalar()
        if old is None:
            inserted = _insert_ignore(
                conn,
                articles,
                canonical_url=article.canonical_url,
                story_id=story_id,
                fetched_at=article.fetched_at or now,
                **values,
            )
            return "new" if inserted else "unchanged"  # else another pass just stored it
        if old == h:
            return "unchanged"
        conn.execute(
            update(articles)
            .where(articles.c.canonical_url == article.canonical_url)
            .values(**values)
        )
        return "updated"

    def iter_articles(self, since: datetime | None = None) -> Iterable[StoredArticle]:
        q = select(articles).order_by(articles.c.fetched_at)
        if since is not None:
            q = q.where(articles.c.fetched_at >= since)
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                yield self._stored(r)

    def story_sources(self, story_id: str, exclude_url: str | None = None) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(articles.c.source, articles.c.canonical_url)
                .where(articles.c.story_id == story_id)
                .order_by(articles.c.fetched_at)
            )
            return list(dict.fromkeys(s for s, u in rows if u != exclude_url))
