"""The store: the single source of truth for seen articles, stories, alerts and sources.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (production), same
code. Uniqueness lives in the database, not in memory, so overlapping passes,
several workers and crashes stay correct:
- an article is one row per canonical URL;
- a story leads to at most one alert per topic (`story_alerts` primary key), and so
  does an event, outlets' write-ups of one happening (`event_alerts`);
- an outbox row is claimed by a compare-and-swap UPDATE (plus `FOR UPDATE SKIP
  LOCKED` on PostgreSQL), so only one process ever sends it.
"""

from __future__ import annotations

from newswatch.store.articles import ArticleStore, StoredArticle
from newswatch.store.errors import StoreUnavailable, describe_store_error
from newswatch.store.events import EventStore, StoredMember
from newswatch.store.faults import FaultStore
from newswatch.store.labels import LabelStore, ReactionAlert
from newswatch.store.leases import process_token
from newswatch.store.outbox import OutboxRow, OutboxStore
from newswatch.store.refetch import RefetchStore
from newswatch.store.sources import SourceStore


class Store(
    ArticleStore, OutboxStore, EventStore, SourceStore, FaultStore, RefetchStore, LabelStore
):
    """All persistent state of newswatch behind one small API."""


__all__ = [
    "OutboxRow",
    "ReactionAlert",
    "Store",
    "StoreUnavailable",
    "StoredArticle",
    "StoredMember",
    "describe_store_error",
    "process_token",
]
