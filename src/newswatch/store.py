"""The store: the single source of truth for seen articles, stories, alerts and sources.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (production), same
code. Uniqueness lives in the database, not in memory, so overlapping passes,
several workers and crashes stay correct:
- an article is one row per canonical URL;
- a story leads to at most one alert per topic (`story_alerts` primary key);
- an outbox row is claimed by a compare-and-swap UPDATE (plus `FOR UPDATE SKIP
  LOCKED` on PostgreSQL), so only one process ever sends it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from newswatch.models import Article

SCHEMA_VERSION = 1

metadata = MetaData()

schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("canonical_url", String(2048), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("source", String(255), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("text_hash", String(64), nullable=False),
    Column("published", DateTime(timezone=True)),
    Column("language", String(16)),
    Column("extraction", String(16), nullable=False, default="page"),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("story_id", String(64), nullable=False, index=True),
    Column("embedding", LargeBinary),
)

seen_urls = Table(
    "seen_urls",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("canonical_url", String(2048), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

story_alerts = Table(
    "story_alerts",
    metadata,
    Column("topic_id", String(128), primary_key=True),
    Column("story_id", String(64), primary_key=True),
    Column("lead_alert_id", String(64), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("topic_id", String(128), nullable=False, index=True),
    Column("story_id", String(64), nullable=False),
    Column("article_url", String(2048), nullable=False),
    Column("kind", String(16), nullable=False),  # lead | followup
    Column("lead_alert_id", String(64)),
    Column("channel", String(255), nullable=False),
    Column("delivery", String(16), nullable=False, default="immediate"),
    Column("status", String(16), nullable=False, index=True),  # pending|sending|sent|failed
    Column("score", Float, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("claimed_by", String(255)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("slack_channel", String(64)),
    Column("slack_ts", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

source_state = Table(
    "source_state",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_attempt", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("last_new_item_at", DateTime(timezone=True)),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("items_last_poll", Integer, nullable=False, default=0),
    Column("articles_total", Integer, nullable=False, default=0),
    Column("extraction_failures", Integer, nullable=False, default=0),
    Column("broken", Boolean, nullable=False, default=False),
)

passes = Table(
    "passes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("summary", JSON),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _insert_ignore(conn, table: Table, **values) -> bool:
    """INSERT that loses gracefully to a concurrent twin; True when this call inserted."""
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def text_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def alert_id(topic_id: str, story_id: str, article_url: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{topic_id}|{story_id}|{article_url}").hex


def process_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claim_is_dead(claimed_by: str | None) -> bool:
    """A claim by a process on this host that no longer exists can be taken over at once."""
    if not claimed_by:
        return True
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid_text) != os.getpid() and _is_zombie(int(pid_text))


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return False


@dataclass(frozen=True)
class StoredArticle:
    article: Article
    story_id: str
    embedding: np.ndarray | None
    text_hash: str


@dataclass(frozen=True)
class OutboxRow:
    id: str
    topic_id: str
    story_id: str
    article_url: str
    kind: str
    lead_alert_id: str | None
    channel: str
    delivery: str
    status: str
    score: float
    payload: dict
    attempts: int
    claimed_by: str | None
    created_at: datetime


def _row_to_outbox(r) -> OutboxRow:
    return OutboxRow(
        id=r.id,
        topic_id=r.topic_id,
        story_id=r.story_id,
        article_url=r.article_url,
        kind=r.kind,
        lead_alert_id=r.lead_alert_id,
        channel=r.channel,
        delivery=r.delivery,
        status=r.status,
        score=r.score,
        payload=r.payload if isinstance(r.payload, dict) else json.loads(r.payload),
        attempts=r.attempts,
        claimed_by=r.claimed_by,
        created_at=_aware(r.created_at),
    )


class Store:
    """All persistent state of newswatch behind one small API."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
                # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs:
                # take control so a transaction (and its savepoints) is one atomic unit.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn):  # noqa: ANN001
                # IMMEDIATE: take the write lock up front, so two passes never both read
                # "no lead yet" and then race to write (SQLite has no row locks).
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        if create:
            self.migrate()

    # -- schema -----------------------------------------------------------------
    def migrate(self) -> None:
        """Create the schema, or check the stored version; a versioned table keeps it honest."""
        with self.engine.begin() as conn:
            if self.is_postgres:
                # serialise concurrent first starts of several workers
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74657)")
            metadata.create_all(conn)
            version = conn.execute(select(schema_info.c.version)).scalar()
            if version is None:
                _insert_ignore(conn, schema_info, id=1, version=SCHEMA_VERSION)
            elif version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"store {self.url} has schema version {version}, newer than this "
                    f"newswatch ({SCHEMA_VERSION}); upgrade newswatch"
                )

    def close(self) -> None:
        self.engine.dispose()

    # -- articles ----------------------------------------------------------------
    def seen(self, urls: Iterable[str]) -> set[str]:
        """The subset of `urls` already seen (as a listed URL or a canonical URL)."""
        urls = list(dict.fromkeys(urls))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(urls), 500):
                chunk = urls[i : i + 500]
                found.update(
                    conn.execute(
                        select(seen_urls.c.url).where(seen_urls.c.url.in_(chunk))
                    ).scalars()
                )
                found.update(
                    conn.execute(
                        select(articles.c.canonical_url).where(articles.c.canonical_url.in_(chunk))
                    ).scalars()
                )
        return found

    def mark_seen(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember listed URLs (and what they resolved to) so they are not fetched again."""
        now = utcnow()
        todo = dict(pairs)
        with self.engine.begin() as conn:
            urls = list(todo)
            for i in range(0, len(urls), 500):
                chunk = urls[i : i + 500]
                known = conn.execute(select(seen_urls.c.url).where(seen_urls.c.url.in_(chunk)))
                for url in known.scalars():
                    todo.pop(url, None)
            for url, canonical in todo.items():
                _insert_ignore(conn, seen_urls, url=url, canonical_url=canonical, seen_at=now)

    def get_text_hashes(self, canonical_urls: Sequence[str]) -> dict[str, str]:
        """canonical url -> text hash of the stored articles among `canonical_urls`."""
        urls = list(dict.fromkeys(canonical_urls))
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(urls), 500):
                rows = conn.execute(
                    select(articles.c.canonical_url, articles.c.text_hash).where(
                        articles.c.canonical_url.in_(urls[i : i + 500])
                    )
                )
                out.update((u, h) for u, h in rows)
        return out

    def get_articles(self, canonical_urls: Sequence[str]) -> dict[str, StoredArticle]:
        out: dict[str, StoredArticle] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(canonical_urls), 500):
                rows = conn.execute(
                    select(articles).where(
                        articles.c.canonical_url.in_(list(canonical_urls[i : i + 500]))
                    )
                )
                for r in rows:
                    out[r.canonical_url] = self._stored(r)
        return out

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

    def upsert_articles(self, rows: Sequence[tuple[Article, str, np.ndarray | None]]) -> list[str]:
        """Insert or update articles in ONE transaction; per row 'new', 'updated' or 'unchanged'.

        One commit per pass chunk instead of one per article (each commit is an fsync).
        Each insert still loses gracefully to a concurrent twin (savepoint + unique key).
        """
        now = utcnow()
        # Rows in key order: two overlapping passes then lock keys in the same order
        # (no deadlock on PostgreSQL); outcomes are returned in the caller's order.
        order = sorted(range(len(rows)), key=lambda i: rows[i][0].canonical_url)
        outcomes = [""] * len(rows)
        with self.engine.begin() as conn:
            for i in order:
                article, story_id, embedding = rows[i]
                outcomes[i] = self._upsert(conn, article, story_id, embedding, now)
        return outcomes

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

    # -- alerts / outbox ------------------------------------------------------------
    def enqueue_alert(
        self,
        *,
        topic_id: str,
        story_id: str,
        article_url: str,
        channel: str,
        delivery: str,
        score: float,
        payload: dict,
    ) -> tuple[str, str] | None:
        """Write an alert to the outbox before anything is sent.

        Returns (alert id, kind) where kind is 'lead' for the first alert of a
        (topic, story) and 'followup' after; None when this article already has
        an alert for the topic (a re-run, a concurrent pass, an updated page).
        """
        aid = alert_id(topic_id, story_id, article_url)
        now = utcnow()
        with self.engine.begin() as conn:
            if conn.execute(select(alerts.c.id).where(alerts.c.id == aid)).first():
                return None
            kind, lead = "lead", None
            if not _insert_ignore(
                conn, story_alerts, topic_id=topic_id, story_id=story_id, lead_alert_id=aid
            ):
                kind = "followup"
                lead = conn.execute(
                    select(story_alerts.c.lead_alert_id).where(
                        and_(
                            story_alerts.c.topic_id == topic_id,
                            story_alerts.c.story_id == story_id,
                        )
                    )
                ).scalar()
            if not _insert_ignore(
                conn,
                alerts,
                id=aid,
                topic_id=topic_id,
                story_id=story_id,
                article_url=article_url,
                kind=kind,
                lead_alert_id=lead,
                channel=channel,
                delivery=delivery,
                status="pending",
                score=score,
                payload=payload,
                attempts=0,
                created_at=now,
            ):
                return None
        return aid, kind

    def pending_alerts(self, stale_after: timedelta = timedelta(minutes=10)) -> list[OutboxRow]:
        """Alerts to (re)try: pending ones, and 'sending' ones whose sender died or timed out."""
        cutoff = utcnow() - stale_after
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(alerts)
                .where(alerts.c.status.in_(("pending", "sending")))
                .order_by(alerts.c.created_at, alerts.c.id)
            ).all()
        out = []
        for r in rows:
            if r.status == "sending" and not (
                _claim_is_dead(r.claimed_by) or (_aware(r.claimed_at) or cutoff) <= cutoff
            ):
                continue
            out.append(_row_to_outbox(r))
        return out

    def claim_alert(self, row: OutboxRow, token: str) -> bool:
        """Atomically take one outbox row for sending; False if someone else has it."""
        with self.engine.begin() as conn:
            q = select(alerts.c.id).where(
                and_(alerts.c.id == row.id, alerts.c.status == row.status)
            )
            if row.status == "sending":
                q = q.where(alerts.c.claimed_by == row.claimed_by)
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            if conn.execute(q).first() is None:
                return False
            cond = and_(alerts.c.id == row.id, alerts.c.status == row.status)
            if row.status == "sending":
                cond = and_(cond, alerts.c.claimed_by == row.claimed_by)
            res = conn.execute(
                update(alerts)
                .where(cond)
                .values(
                    status="sending",
                    claimed_by=token,
                    claimed_at=utcnow(),
                    attempts=alerts.c.attempts + 1,
                )
            )
            return res.rowcount == 1

    def mark_sent(self, alert_id_: str, slack_channel: str, slack_ts: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id_)
                .values(
                    status="sent",
                    slack_channel=slack_channel,
                    slack_ts=slack_ts,
                    sent_at=utcnow(),
                    last_error=None,
                    claimed_by=None,
                )
            )

    def release_alert(self, alert_id_: str, error: str, *, permanent: bool = False) -> None:
        """Give an alert back to the outbox after a failed send (or fail it for good)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id_)
                .values(
                    status="failed" if permanent else "pending",
                    last_error=error[:2000],
                    claimed_by=None,
                )
            )

    def alert_delivery(self, alert_id_: str) -> tuple[str | None, str | None, str]:
        """(slack channel, ts, status) of an alert: a follow-up threads under its lead's ts."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(alerts.c.slack_channel, alerts.c.slack_ts, alerts.c.status).where(
                    alerts.c.id == alert_id_
                )
            ).first()
        return (r.slack_channel, r.slack_ts, r.status) if r else (None, None, "missing")

    def alerts_for(self, since: datetime | None = None) -> list[OutboxRow]:
        q = select(alerts).order_by(alerts.c.created_at)
        if since is not None:
            q = q.where(alerts.c.created_at >= since)
        with self.engine.connect() as conn:
            return [_row_to_outbox(r) for r in conn.execute(q)]

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alerts.c.status, func.count()).group_by(alerts.c.status))
            return {s: int(n) for s, n in rows}

    # -- sources ----------------------------------------------------------------------
    def source_states(self) -> dict[str, dict]:
        with self.engine.connect() as conn:
            return {r.name: dict(r._mapping) for r in conn.execute(select(source_state))}

    def _ensure_source(self, conn, name: str) -> None:
        if not conn.execute(select(source_state.c.name).where(source_state.c.name == name)).first():
            _insert_ignore(conn, source_state, name=name, consecutive_failures=0)

    def record_poll(self, name: str, **outcome) -> dict:
        """Update one source's health after a poll (see `_record_poll`); returns the new state."""
        self.record_polls([{"name": name, **outcome}])
        with self.engine.connect() as conn:
            row = conn.execute(select(source_state).where(source_state.c.name == name)).first()
            return dict(row._mapping)

    def record_polls(self, polls: Sequence[dict]) -> None:
        """`record_poll` for every source of a pass in ONE transaction (one commit, not 100)."""
        now = utcnow()
        with self.engine.begin() as conn:
            for poll in sorted(polls, key=lambda p: p["name"]):  # stable lock order
                self._record_poll(conn, now=now, **poll)

    def _record_poll(
        self,
        conn,
        name: str,
        now: datetime,
        *,
        ok: bool,
        error: str | None = None,
        items: int = 0,
        new_items: int = 0,
        etag: str | None = None,
        last_modified: str | None = None,
        not_modified: bool = False,
    ) -> None:
        self._ensure_source(conn, name)
        values: dict = {"last_attempt": now}
        if ok:
            values.update(last_success=now, consecutive_failures=0, last_error=None)
            if not not_modified:
                values.update(items_last_poll=items, etag=etag, last_modified=last_modified)
            if new_items:
                values["last_new_item_at"] = now
        else:
            values.update(
                consecutive_failures=source_state.c.consecutive_failures + 1,
                last_error=(error or "")[:2000],
            )
        conn.execute(update(source_state).where(source_state.c.name == name).values(**values))

    def record_extraction(self, name: str, total: int, failures: int) -> None:
        with self.engine.begin() as conn:
            self._ensure_source(conn, name)
            conn.execute(
                update(source_state)
                .where(source_state.c.name == name)
                .values(
                    articles_total=source_state.c.articles_total + total,
                    extraction_failures=source_state.c.extraction_failures + failures,
                )
            )

    def set_source_broken(self, name: str, broken: bool) -> bool:
        """Flip the broken flag; True only for the one caller that changed it (one notice)."""
        with self.engine.begin() as conn:
            self._ensure_source(conn, name)
            res = conn.execute(
                update(source_state)
                .where(and_(source_state.c.name == name, source_state.c.broken == (not broken)))
                .values(broken=broken)
            )
            return res.rowcount == 1

    # -- passes -----------------------------------------------------------------------
    def start_pass(self) -> str:
        pid = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(insert(passes).values(id=pid, started_at=utcnow()))
        return pid

    def finish_pass(self, pass_id: str, summary: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(passes)
                .where(passes.c.id == pass_id)
                .values(finished_at=utcnow(), summary=summary)
            )

    def last_passes(self, n: int = 5) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(passes).order_by(passes.c.started_at.desc()).limit(n))
            return [dict(r._mapping) for r in rows]


__all__ = ["Store", "StoredArticle", "OutboxRow", "alert_id", "process_token", "utcnow"]
